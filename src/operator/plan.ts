/**
 * The pure heart of reconcile: desired policies (compile's output) against the policies the apiserver holds
 * with this intent's labels → what to create, update and delete. No I/O, no clock.
 *
 * Ownership is our managed-by label AND a controller ownerReference to the intent's uid: a policy owned by
 * another uid (an older incarnation of a same-named intent, another intent whose label value happens to be the
 * same, or a copy) is not ours to change; kube-controller-manager's GC or the sweep removes it, and until then
 * its name is a conflict. The intent label is never a proof: whoever names an intent chooses its value.
 */
import type { NetworkPolicy, ObjectMeta } from '../model/kubernetes';
import { belongsTo, isManaged } from '../compile/ownership';
import { SPEC_HASH_ANNOTATION, controllerUid, specHash } from './ownership';
import type { LivePolicy } from './store';

export interface IntentRef {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export interface PolicyUpdate {
  readonly desired: NetworkPolicy;
  readonly current: LivePolicy;
  /** The intent asks for what we wrote before, yet the object differs: someone edited it. */
  readonly drift: boolean;
}

export interface Plan {
  readonly create: readonly NetworkPolicy[];
  readonly update: readonly PolicyUpdate[];
  readonly delete: readonly LivePolicy[];
  /** Desired names held by a policy we don't own: never touched. */
  readonly conflicts: readonly string[];
  readonly unchanged: readonly string[];
}

/** The one ownership predicate (src/compile/ownership.ts), with the intent's uid: live, so decided by uid alone. */
export function ownedBy(p: { readonly metadata: ObjectMeta }, intent: IntentRef): boolean {
  return belongsTo(p, intent);
}

/**
 * `current` is one namespace's policies (names are unique only within a namespace). `owns` is the owner's
 * ownership predicate: an intent's by default, a baseline's for ClusterSegmentationIntents (baseline-plan.ts).
 */
export function diff(
  desired: readonly NetworkPolicy[],
  current: readonly LivePolicy[],
  intent: IntentRef,
  owns: (p: LivePolicy) => boolean = (p) => ownedBy(p, intent),
): Plan {
  const owned = new Map(current.filter(owns).map((p) => [p.metadata.name ?? '', p]));
  const foreign = new Set(current.filter((p) => !owns(p)).map((p) => p.metadata.name ?? ''));
  const wanted = new Set(desired.map((p) => p.metadata.name ?? ''));
  const plan = { create: [] as NetworkPolicy[], update: [] as PolicyUpdate[], conflicts: [] as string[], unchanged: [] as string[] };
  // Names are injective, so an owned policy whose name is no longer desired is an older form of one that is:
  // it is deleted only after the new one was created (reconcile's order), never before.
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

function classify(d: NetworkPolicy, cur: LivePolicy, plan: { update: PolicyUpdate[]; unchanged: string[] }): void {
  if (upToDate(d, cur)) {
    plan.unchanged.push(d.metadata.name ?? '');
    return;
  }
  plan.update.push({ desired: d, current: cur, drift: isDrift(d, cur) });
}

/** Out of date although it carries the hash of the spec we want: someone edited it (else the intent changed). */
export function isDrift(d: NetworkPolicy, cur: LivePolicy): boolean {
  return cur.metadata.annotations?.[SPEC_HASH_ANNOTATION] === d.metadata.annotations?.[SPEC_HASH_ANNOTATION];
}

/**
 * Equal where we have a say: the spec (by compile's specHash, which normalises what the apiserver drops or
 * defaults), our labels and annotations, our ownerReferences. No raw deep-equal.
 */
export function upToDate(d: NetworkPolicy, cur: LivePolicy): boolean {
  return (
    specHash(d) === cur.specHash &&
    includes(cur.metadata.labels, d.metadata.labels) &&
    includes(cur.metadata.annotations, d.metadata.annotations) &&
    sameOwners(d, cur)
  );
}

function includes(have: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
}

function sameOwners(d: NetworkPolicy, cur: LivePolicy): boolean {
  const key = (p: { readonly metadata: ObjectMeta }): string =>
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
export function updateBody(d: NetworkPolicy, cur: LivePolicy): NetworkPolicy {
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
 * The managed policies no live intent accounts for: their controller is a SegmentationIntent whose uid is not
 * the uid of any live intent of their namespace (deleted, or an older incarnation of a same-named intent).
 * Decided by uid alone: two intents may share an intent label value (a long name is shortened, and anyone may
 * name an intent), so a label maps to no single intent. A policy with no controller, or controlled by something
 * other than a SegmentationIntent, is never an orphan: our label alone doesn't make it ours to delete.
 * Call only with COMPLETE lists: a missing intent would look like a deleted one.
 */
export function orphans<P extends { readonly metadata: ObjectMeta }>(managed: readonly P[], intents: readonly LiveIntent[]): P[] {
  // Indexed by namespace and uid so that a sweep over many policies stays linear; the predicate decides.
  const live = new Map(intents.map((i) => [`${i.namespace}/${i.uid}`, i]));
  return managed.filter((p) => {
    if (!isManaged(p)) return false;
    const uid = controllerUid(p);
    if (uid === undefined) return false;
    const candidate = live.get(`${p.metadata.namespace ?? ''}/${uid}`);
    return candidate === undefined || !belongsTo(p, candidate);
  });
}
