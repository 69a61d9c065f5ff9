/**
 * How the operator recognises its objects. The marks themselves belong to the compiler (src/compile/labels.ts):
 * compile writes them, the operator selects and compares by them, so both read the same constants.
 */
import type { NetworkPolicy, ObjectMeta } from '../model/kubernetes';
import { INTENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, intentLabelValue } from '../compile';
import { KIND } from '../intent/types';

export { INTENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SPEC_HASH_ANNOTATION, intentLabelValue, specHash } from '../compile';

export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** The label selector of one intent's policies. */
export function intentSelector(intentName: string): string {
  return `${MANAGED_SELECTOR},${INTENT_LABEL}=${intentLabelValue(intentName)}`;
}

/**
 * The "ns/name" key of the intent a managed policy belongs to: from its controller ownerReference (exact), else
 * from the intent label (the name itself unless it was shortened; a shortened one maps to no intent, which a
 * reconcile then finds absent: harmless).
 */
export function ownerKey(p: Pick<NetworkPolicy, 'metadata'>): string | undefined {
  const ns = p.metadata.namespace ?? '';
  const ref = (p.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === KIND);
  if (ref) return keyOf(ns, ref.name);
  const label = p.metadata.labels?.[INTENT_LABEL];
  return label ? keyOf(ns, label) : undefined;
}

/**
 * The work-queue key of an object, "namespace/name": the one spelling that the watches, the sweep and the echo
 * filter share, so that their keys for one intent coalesce. parseKey is its inverse.
 */
export function objectKey(o: { readonly metadata?: Pick<ObjectMeta, 'namespace' | 'name'> }): string {
  return keyOf(o.metadata?.namespace ?? '', o.metadata?.name ?? '');
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function parseKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
