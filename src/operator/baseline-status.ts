/**
 * Pure: a ClusterSegmentationIntent's status after a reconcile (API.md: namespaces, policies, Ready/Degraded,
 * the first 20 conflicts, observedGeneration) and the Event of a Ready transition. Deterministic messages (no
 * times, sorted names), so an unchanged world gives an equal status and no write.
 */
import type { Condition } from '../model/kubernetes';
import { canonicalJSON } from '../compile';
import type { ClusterSegmentationIntentStatus } from '../intent/baseline';
import { MAX_REPORTED_CONFLICTS } from '../intent/baseline';
import { setCondition } from './conditions';
import type { NewCondition } from './conditions';
import { ConditionType, Reason } from './reasons';
import { transitionEvent } from './status';
import type { StatusEvent } from './status';

export type BaselineOutcome =
  | { readonly kind: 'Reconciled'; readonly namespaces: number; readonly policies: number; readonly conflicts: readonly string[] }
  | { readonly kind: 'DryRun'; readonly namespaces: number; readonly policies: number; readonly conflicts: readonly string[]; readonly wouldChange: string }
  | { readonly kind: 'InvalidSpec'; readonly namespaces: number; readonly kept: number; readonly issues: string }
  | { readonly kind: 'ApiError'; readonly message: string };

function conditionsFor(o: BaselineOutcome): [NewCondition, NewCondition] {
  const ready = (status: Condition['status'], reason: string, message: string): NewCondition => ({ type: ConditionType.Ready, status, reason, message });
  const degraded = (status: Condition['status'], reason: string, message: string): NewCondition => ({ type: ConditionType.Degraded, status, reason, message });
  switch (o.kind) {
    case 'Reconciled':
      if (o.conflicts.length > 0) {
        const m = conflictMessage(o.conflicts);
        return [ready('False', Reason.NameConflict, m), degraded('True', Reason.NameConflict, m)];
      }
      return [
        ready('True', Reason.Reconciled, `${o.policies} NetworkPolicies in ${o.namespaces} namespaces`),
        degraded('False', Reason.Reconciled, 'all policies applied'),
      ];
    case 'DryRun':
      return [
        ready('False', Reason.DryRun, `dry run, nothing applied or deleted: ${o.wouldChange}`),
        o.conflicts.length > 0 ? degraded('True', Reason.NameConflict, conflictMessage(o.conflicts)) : degraded('False', Reason.DryRun, 'dry run'),
      ];
    case 'InvalidSpec':
      return [ready('False', Reason.InvalidSpec, `invalid spec, existing policies kept: ${o.issues}`), degraded('True', Reason.InvalidSpec, o.issues)];
    case 'ApiError':
      return [ready('False', Reason.ApiError, o.message), degraded('True', Reason.ApiError, o.message)];
  }
}

function conflictMessage(all: readonly string[]): string {
  const shown = all.slice(0, MAX_REPORTED_CONFLICTS).join(', ');
  const more = all.length > MAX_REPORTED_CONFLICTS ? ` and ${all.length - MAX_REPORTED_CONFLICTS} more` : '';
  return `${all.length} NetworkPolicies exist that this baseline does not own, left untouched: ${shown}${more}`;
}

export function nextBaselineStatus(
  prev: ClusterSegmentationIntentStatus | undefined,
  o: BaselineOutcome,
  at: { now: Date; generation?: number },
): ClusterSegmentationIntentStatus {
  const [ready, degraded] = conditionsFor(o);
  const conditions = setCondition(setCondition(prev?.conditions, ready, at), degraded, at);
  if (o.kind === 'ApiError') return afterApiError(prev, conditions);
  const status: ClusterSegmentationIntentStatus = { conditions };
  status.namespaces = o.namespaces;
  status.policies = o.kind === 'InvalidSpec' ? o.kept : o.policies;
  const conflicts = o.kind === 'InvalidSpec' ? [] : [...o.conflicts].sort().slice(0, MAX_REPORTED_CONFLICTS);
  if (conflicts.length > 0) status.conflicts = conflicts;
  if (at.generation !== undefined) status.observedGeneration = at.generation;
  return status;
}

/** An API error says nothing new about the namespaces or the policies: the last figures stand. */
function afterApiError(prev: ClusterSegmentationIntentStatus | undefined, conditions: Condition[]): ClusterSegmentationIntentStatus {
  const { namespaces, policies, observedGeneration } = prev ?? {};
  return {
    conditions,
    ...(namespaces !== undefined ? { namespaces } : {}),
    ...(policies !== undefined ? { policies } : {}),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
}

export function baselineStatusEqual(a: ClusterSegmentationIntentStatus | undefined, b: ClusterSegmentationIntentStatus | undefined): boolean {
  const canonical = (s: ClusterSegmentationIntentStatus): string =>
    canonicalJSON({ ...s, conditions: [...(s.conditions ?? [])].sort((x, y) => x.type.localeCompare(y.type)) });
  return canonical(a ?? {}) === canonical(b ?? {});
}

/** The Ready condition's transitions, as for intents (./status.ts). */
export function baselineTransitionEvent(prev: ClusterSegmentationIntentStatus | undefined, next: ClusterSegmentationIntentStatus): StatusEvent | undefined {
  return transitionEvent({ conditions: prev?.conditions }, { conditions: next.conditions });
}
