/**
 * Pure: what the intent's status and transition Events should be after a reconcile. Messages are deterministic
 * (no times, sorted names) so that an unchanged world yields a byte-equal status and no write.
 */
import type { SegmentationIntentStatus } from '../intent/types';
import { conditionsFor, findCondition, setCondition } from './conditions';
import { ConditionType, EventReason, Reason } from './reasons';

/** Ingress backends that open nothing (status.uncoveredBackends), on outcomes that resolved the intent. */
interface Resolved {
  readonly uncoveredBackends?: readonly string[];
}

export type Outcome =
  | ({ readonly kind: 'Reconciled'; readonly policies: readonly string[]; readonly conflicts: readonly string[]; readonly flows: number; readonly workloads: number } & Resolved)
  | ({ readonly kind: 'DryRun'; readonly policies: readonly string[]; readonly conflicts: readonly string[]; readonly flows: number; readonly workloads: number; readonly wouldChange: string } & Resolved)
  | { readonly kind: 'InvalidSpec'; readonly kept: readonly string[]; readonly issues: string }
  /** A reference did not resolve (object missing, no selector, port not on the Service): what it owns is kept. */
  | { readonly kind: 'UnresolvedReference'; readonly kept: readonly string[]; readonly issues: string }
  /** `existing`: what the intent owns after a write failed part-way, when known; else the last status stands. */
  | { readonly kind: 'ApiError'; readonly message: string; readonly existing?: readonly string[] };

export interface StatusEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

function policiesOf(o: Outcome, prev: SegmentationIntentStatus | undefined): string[] {
  switch (o.kind) {
    case 'Reconciled':
    case 'DryRun':
      return [...o.policies].sort();
    case 'InvalidSpec':
    case 'UnresolvedReference':
      return [...o.kept].sort();
    case 'ApiError':
      return [...(o.existing ?? prev?.policies ?? [])].sort();
  }
}

/**
 * The flow and workload counts (printer columns) say what the policies in place enforce: an invalid spec changes
 * nothing in the cluster and an API error knows nothing new, so both keep the last ones (0 if nothing ever applied).
 */
function countsOf(o: Outcome, prev: SegmentationIntentStatus | undefined): { flows: number; workloads: number } {
  return o.kind === 'ApiError' || o.kind === 'InvalidSpec' || o.kind === 'UnresolvedReference' ? { flows: prev?.flows ?? 0, workloads: prev?.workloads ?? 0 } : { flows: o.flows, workloads: o.workloads };
}

/**
 * Ready as it must read while a newer generation is being applied: Unknown, Reconciling. Only needed when Ready
 * is True for an older generation (a False one already says "not there"); undefined otherwise. Degraded and
 * the rest stay: the policies in place are still those of the generation Ready spoke of.
 */
export function reconcilingStatus(prev: SegmentationIntentStatus | undefined, at: { now: Date; generation?: number }): SegmentationIntentStatus | undefined {
  const ready = findCondition(prev?.conditions, ConditionType.Ready);
  if (!prev || ready?.status !== 'True' || at.generation === undefined || prev.observedGeneration === at.generation) return undefined;
  const message = `applying generation ${at.generation}; the policies of generation ${prev.observedGeneration ?? '?'} stay in place until then`;
  return { ...prev, conditions: setCondition(prev.conditions, { type: ConditionType.Ready, status: 'Unknown', reason: Reason.Reconciling, message }, { now: at.now, generation: prev.observedGeneration }) };
}

/** Known only when the intent resolved; otherwise the last list stands (its Ingresses may not have changed). */
function uncoveredOf(o: Outcome, prev: SegmentationIntentStatus | undefined): string[] {
  if (o.kind === 'Reconciled' || o.kind === 'DryRun') return [...(o.uncoveredBackends ?? [])].sort();
  return [...(prev?.uncoveredBackends ?? [])];
}

/** A Warning when the list of uncovered Ingress backends changes to a non-empty one. */
export function uncoveredEvent(prev: SegmentationIntentStatus | undefined, next: SegmentationIntentStatus): StatusEvent | undefined {
  const before = (prev?.uncoveredBackends ?? []).join(',');
  const after = next.uncoveredBackends ?? [];
  if (after.length === 0 || after.join(',') === before) return undefined;
  return { type: 'Warning', reason: EventReason.UncoveredBackends, message: `Ingress backends no workload's service covers open nothing: ${after.join(', ')}` };
}

export function nextStatus(prev: SegmentationIntentStatus | undefined, o: Outcome, at: { now: Date; generation?: number }): SegmentationIntentStatus {
  const summary = (p: readonly string[], flows: number): string => `${p.length} NetworkPolicies enforce ${flows} flows`;
  const [ready, degraded] = conditionsFor(o.kind === 'Reconciled' ? { ...o, summary: summary(o.policies, o.flows) } : o, 'intent');
  let conditions = setCondition(prev?.conditions, ready, at);
  conditions = setCondition(conditions, degraded, at);
  const status: SegmentationIntentStatus = { conditions, policies: policiesOf(o, prev), ...countsOf(o, prev) };
  const uncovered = uncoveredOf(o, prev);
  if (uncovered.length > 0) status.uncoveredBackends = uncovered;
  // An API error says nothing about the current generation: keep the generation last fully observed.
  const observed = o.kind === 'ApiError' ? prev?.observedGeneration : at.generation;
  if (observed !== undefined) status.observedGeneration = observed;
  return status;
}

/** A Warning (or the DryRun notice) when the Ready condition changes reason or the spec changes, not every pass. */
export function transitionEvent(prev: SegmentationIntentStatus | undefined, next: SegmentationIntentStatus): StatusEvent | undefined {
  const before = findCondition(prev?.conditions, ConditionType.Ready);
  const after = findCondition(next.conditions, ConditionType.Ready);
  if (!after || after.reason === Reason.Reconciled) return undefined;
  const changed = !before || before.reason !== after.reason || before.message !== after.message;
  if (!changed) return undefined;
  return { type: after.reason === Reason.DryRun ? 'Normal' : 'Warning', reason: after.reason, message: after.message };
}
