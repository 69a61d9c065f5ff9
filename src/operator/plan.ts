/**
 * The pure heart of reconcile: desired policies (compile's output) against the policies the apiserver holds
 * with this intent's labels → what to create, update and delete. No I/O, no clock.
 *
 * Ownership is label AND ownerReference uid: a policy carrying our labels but owned by another uid (an older
 * incarnation of a same-named intent, or a copy) is not ours to change; kube-controller-manager's GC or the
 * sweep removes it, and until then its name is a conflict.
 */
import type { NetworkPolicy } from '../model/kubernetes';
import { INTENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SPEC_HASH_ANNOTATION, intentLabelValue, specHash } from './ownership';

export interface IntentRef {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export interface PolicyUpdate {
  readonly desired: NetworkPolicy;
  readonly current: NetworkPolicy;
  /** The intent asks for what we wrote before, yet the object differs: someone edited it. */
  readonly drift: boolean;
}

export interface Plan {
  readonly create: readonly NetworkPolicy[];
  readonly update: readonly PolicyUpdate[];
  readonly delete: readonly NetworkPolicy[];
  /** Desired names held by a policy we don't own: never touched. */
  readonly conflicts: readonly string[];
  readonly unchanged: readonly string[];
}

export function ownedBy(p: NetworkPolicy, intent: IntentRef): boolean {
  const l = p.metadata.labels ?? {};
  if (l[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE || l[INTENT_LABEL] !== intentLabelValue(intent.name)) return false;
  return (p.metadata.ownerReferences ?? []).some((r) => r.uid === intent.uid && r.controller === true);
}

export function diff(desired: readonly NetworkPolicy[], current: readonly NetworkPolicy[], intent: IntentRef): Plan {
  const owned = new Map(current.filter((p) => ownedBy(p, intent)).map((p) => [p.metadata.name ?? '', p]));
  const foreign = new Set(current.filter((p) => !ownedBy(p, intent)).map((p) => p.metadata.name ?? ''));
  const wanted = new Set(desired.map((p) => p.metadata.name ?? ''));
  const plan = { create: [] as NetworkPolicy[], update: [] as PolicyUpdate[], conflicts: [] as string[], unchanged: [] as string[] };
  for (const d of desired) {
    const name = d.metadata.name ?? '';
    const cur = owned.get(name);
    if (cur) classify(d, cur, plan);
    else if (foreign.has(name)) plan.conflicts.push(name);
    else plan.create.push(d);
  }
  const del = [...owned.values()].filter((p) => !wanted.has(p.metadata.name ?? ''));
  return { ...plan, delete: del, conflicts: plan.conflicts.sort(), unchanged: plan.unchanged.sort() };
}

function classify(d: NetworkPolicy, cur: NetworkPolicy, plan: { update: PolicyUpdate[]; unchanged: string[] }): void {
  if (upToDate(d, cur)) {
    plan.unchanged.push(d.metadata.name ?? '');
    return;
  }
  const sameIntent = cur.metadata.annotations?.[SPEC_HASH_ANNOTATION] === d.metadata.annotations?.[SPEC_HASH_ANNOTATION];
  plan.update.push({ desired: d, current: cur, drift: sameIntent });
}

/**
 * Equal where we have a say: the spec (by compile's specHash, which normalises what the apiserver drops or
 * defaults), our labels and annotations, our ownerReferences. No raw deep-equal.
 */
export function upToDate(d: NetworkPolicy, cur: NetworkPolicy): boolean {
  return (
    specHash(d) === specHash(cur) &&
    includes(cur.metadata.labels, d.metadata.labels) &&
    includes(cur.metadata.annotations, d.metadata.annotations) &&
    sameOwners(d, cur)
  );
}

function includes(have: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
}

function sameOwners(d: NetworkPolicy, cur: NetworkPolicy): boolean {
  const key = (p: NetworkPolicy): string =>
    JSON.stringify(
      (p.metadata.ownerReferences ?? [])
        .map((r) => [r.apiVersion, r.kind, r.name, r.uid, r.controller ?? false, r.blockOwnerDeletion ?? false])
        .sort(),
    );
  return key(d) === key(cur);
}

/**
 * The body to PUT over `cur`: our spec, labels, annotations and ownerReferences; labels and annotations that
 * others added are kept (tools such as kubectl annotate objects); resourceVersion guards against lost updates.
 */
export function updateBody(d: NetworkPolicy, cur: NetworkPolicy): NetworkPolicy {
  return {
    ...d,
    metadata: {
      ...d.metadata,
      resourceVersion: cur.metadata.resourceVersion,
      labels: { ...cur.metadata.labels, ...d.metadata.labels },
      annotations: { ...cur.metadata.annotations, ...d.metadata.annotations },
    },
  };
}

export interface LiveIntent {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/**
 * The managed policies no live intent accounts for: their intent label names no intent of their namespace, or
 * their SegmentationIntent owner is an older incarnation (another uid). A policy controlled by something other
 * than a SegmentationIntent is never an orphan: the label alone doesn't make it ours to delete.
 * Call only with COMPLETE lists: a missing intent would look like a deleted one.
 */
export function orphans(managed: readonly NetworkPolicy[], intents: readonly LiveIntent[]): NetworkPolicy[] {
  const live = new Map<string, LiveIntent>();
  for (const i of intents) live.set(`${i.namespace}/${intentLabelValue(i.name)}`, i);
  return managed.filter((p) => {
    if (p.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return false;
    const controller = (p.metadata.ownerReferences ?? []).find((r) => r.controller);
    if (controller && controller.kind !== 'SegmentationIntent') return false;
    const owner = live.get(`${p.metadata.namespace ?? ''}/${p.metadata.labels?.[INTENT_LABEL] ?? ''}`);
    if (!owner) return true;
    return controller !== undefined && controller.uid !== owner.uid;
  });
}
