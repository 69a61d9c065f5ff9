/**
 * Pure: a ClusterSegmentationIntent's status after a reconcile (API.md: namespaces, policies, Ready/Degraded,
 * the first 20 conflicts, observedGeneration) and the Event of a Ready transition. Deterministic messages (no
 * times, sorted names), so an unchanged world gives an equal status and no write. The conditions are built by
 * the intents' own builder (./conditions.ts conditionsFor).
 */
import type { Condition } from '../model/kubernetes';
import { canonicalJSON } from '../compile';
import type { ClusterSegmentationIntentStatus } from '../intent/baseline';
import { MAX_REPORTED_CONFLICTS } from '../intent/baseline';
import { conditionsFor, setCondition } from './conditions';
import { transitionEvent } from './status';
import type { StatusEvent } from './status';

export type BaselineOutcome =
  | { readonly kind: 'Reconciled'; readonly namespaces: number; readonly policies: number; readonly conflicts: readonly string[] }
  | { readonly kind: 'DryRun'; readonly namespaces: number; readonly policies: number; readonly conflicts: readonly string[]; readonly wouldChange: string }
  | { readonly kind: 'InvalidSpec'; readonly namespaces: number; readonly kept: number; readonly issues: string }
  /** A `service`/`workloadRef` peer did not resolve: every policy it owns is kept. */
  | { readonly kind: 'UnresolvedReference'; readonly namespaces: number; readonly kept: number; readonly issues: string }
  | { readonly kind: 'ApiError'; readonly message: string };

export function nextBaselineStatus(
  prev: ClusterSegmentationIntentStatus | undefined,
  o: BaselineOutcome,
  at: { now: Date; generation?: number },
): ClusterSegmentationIntentStatus {
  const summary = o.kind === 'Reconciled' ? `${o.policies} NetworkPolicies in ${o.namespaces} namespaces` : '';
  const [ready, degraded] = conditionsFor(o.kind === 'Reconciled' ? { ...o, summary } : o, 'baseline');
  const conditions = setCondition(setCondition(prev?.conditions, ready, at), degraded, at);
  if (o.kind === 'ApiError') return afterApiError(prev, conditions);
  const status: ClusterSegmentationIntentStatus = { conditions };
  status.namespaces = o.namespaces;
  const kept = o.kind === 'InvalidSpec' || o.kind === 'UnresolvedReference';
  status.policies = kept ? o.kept : o.policies;
  const conflicts = kept ? [] : [...o.conflicts].sort().slice(0, MAX_REPORTED_CONFLICTS);
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
