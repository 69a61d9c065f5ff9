/**
 * How the operator recognises its objects. The marks themselves belong to the compiler (src/compile/labels.ts):
 * compile writes them, the operator selects and compares by them, so both read the same constants.
 */
import type { NetworkPolicy, ObjectMeta } from '../model/kubernetes';
import { INTENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, intentControllerRef } from '../compile';

export { INTENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SPEC_HASH_ANNOTATION, intentLabelValue, specHash } from '../compile';

export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** The uid of an object's controller when that controller is a SegmentationIntent: the proof of ownership. */
export function controllerUid(p: Pick<NetworkPolicy, 'metadata'>): string | undefined {
  return intentControllerRef(p)?.uid || undefined;
}


/**
 * The "ns/name" key of the intent to look at when a managed policy changes: its controller ownerReference's name,
 * else the intent label (a shortened value maps to no intent, which a reconcile then finds absent: harmless).
 * Only a key to enqueue: reconcile decides ownership by uid.
 */
export function ownerKey(p: Pick<NetworkPolicy, 'metadata'>): string | undefined {
  const ns = p.metadata.namespace ?? '';
  const ref = intentControllerRef(p);
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
