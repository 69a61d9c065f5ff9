/**
 * Pure metav1.Condition bookkeeping. `lastTransitionTime` moves only when a condition's status flips, so a
 * reconcile that finds nothing new produces an identical status and the status write is skipped.
 * conditionsFor() is the one builder of Ready and Degraded, for intents (./status.ts) and baselines
 * (./baseline-status.ts) alike: the same outcome reads the same way on both kinds.
 */
import type { Condition } from '../model/kubernetes';
import { canonicalJSON } from '../compile';
import type { SegmentationIntentStatus } from '../intent/types';
import { MAX_REPORTED_CONFLICTS } from '../intent/baseline';
import { ConditionType, Reason } from './reasons';

export type NewCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

export function setCondition(
  list: readonly Condition[] | undefined,
  next: NewCondition,
  at: { now: Date; generation?: number },
): Condition[] {
  const current = (list ?? []).find((c) => c.type === next.type);
  const lastTransitionTime =
    current && current.status === next.status ? current.lastTransitionTime : at.now.toISOString();
  const merged: Condition = { ...next, lastTransitionTime };
  if (at.generation !== undefined) merged.observedGeneration = at.generation;
  const others = (list ?? []).filter((c) => c.type !== next.type);
  return [...others, merged].sort((a, b) => a.type.localeCompare(b.type));
}

export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return (list ?? []).find((c) => c.type === type);
}

/**
 * Equality of whole statuses, independent of key order and of the order of conditions and policies, so a status
 * read back from the apiserver compares equal. Every field counts: a hand-picked list would miss the next one
 * (it missed `workloads`, leaving the printer column stale).
 */
export function statusEqual(a: SegmentationIntentStatus | undefined, b: SegmentationIntentStatus | undefined): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function canonical(s: SegmentationIntentStatus): string {
  const conditions = [...(s.conditions ?? [])].sort((x, y) => x.type.localeCompare(y.type));
  const normal: Record<string, unknown> = { ...s, conditions, policies: [...(s.policies ?? [])].sort() };
  return canonicalJSON(normal);
}

/** What a reconcile found, as the Ready and Degraded conditions read it. */
export type ConditionOutcome =
  /** `summary`: what the applied policies are (`3 NetworkPolicies enforce 2 flows`). */
  | { readonly kind: 'Reconciled'; readonly conflicts: readonly string[]; readonly summary: string }
  | { readonly kind: 'DryRun'; readonly conflicts: readonly string[]; readonly wouldChange: string }
  | { readonly kind: 'InvalidSpec'; readonly issues: string }
  /** A reference did not resolve: what the owner owns is kept. */
  | { readonly kind: 'UnresolvedReference'; readonly issues: string }
  | { readonly kind: 'ApiError'; readonly message: string };

/** Ready and Degraded after a reconcile; `owner` names the kind in messages ("this intent", "this baseline"). */
export function conditionsFor(o: ConditionOutcome, owner: 'intent' | 'baseline'): [NewCondition, NewCondition] {
  const ready = (status: Condition['status'], reason: string, message: string): NewCondition => ({ type: ConditionType.Ready, status, reason, message });
  const degraded = (status: Condition['status'], reason: string, message: string): NewCondition => ({ type: ConditionType.Degraded, status, reason, message });
  switch (o.kind) {
    case 'Reconciled':
      if (o.conflicts.length > 0) {
        const m = conflictMessage(o.conflicts, owner);
        return [ready('False', Reason.NameConflict, m), degraded('True', Reason.NameConflict, m)];
      }
      return [ready('True', Reason.Reconciled, o.summary), degraded('False', Reason.Reconciled, 'all policies applied')];
    case 'DryRun':
      return [
        ready('False', Reason.DryRun, `dry run, nothing applied or deleted: ${o.wouldChange}`),
        o.conflicts.length > 0 ? degraded('True', Reason.NameConflict, conflictMessage(o.conflicts, owner)) : degraded('False', Reason.DryRun, 'dry run'),
      ];
    case 'InvalidSpec':
      return [ready('False', Reason.InvalidSpec, `invalid spec, existing policies kept: ${o.issues}`), degraded('True', Reason.InvalidSpec, o.issues)];
    case 'UnresolvedReference':
      return [
        ready('False', Reason.UnresolvedReference, `unresolved reference, existing policies kept: ${o.issues}`),
        degraded('True', Reason.UnresolvedReference, o.issues),
      ];
    case 'ApiError':
      return [ready('False', Reason.ApiError, o.message), degraded('True', Reason.ApiError, o.message)];
  }
}

/** The names held by objects the owner does not own: the first MAX_REPORTED_CONFLICTS, sorted, and how many more. */
export function conflictMessage(names: readonly string[], owner: 'intent' | 'baseline'): string {
  const sorted = [...names].sort();
  const shown = sorted.slice(0, MAX_REPORTED_CONFLICTS).join(', ');
  const more = sorted.length > MAX_REPORTED_CONFLICTS ? ` and ${sorted.length - MAX_REPORTED_CONFLICTS} more` : '';
  return `${sorted.length} NetworkPolicies exist that this ${owner} does not own, left untouched: ${shown}${more}`;
}
