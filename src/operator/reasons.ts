/**
 * Every machine-readable reason netseg puts on a condition or an Event, in one place: conditions, events,
 * docs and CLI output must agree on the spelling, and a test can enumerate them.
 */
export const Reason = {
  Reconciled: 'Reconciled',
  InvalidSpec: 'InvalidSpec',
  NameConflict: 'NameConflict',
  ApiError: 'ApiError',
  DryRun: 'DryRun',
  /** A Service, workload object or Ingress the intent names can't be resolved: what it owns is kept. */
  UnresolvedReference: 'UnresolvedReference',
  /** Ready Unknown: a newer generation than the one Ready spoke of is being applied (set at a reconcile's start). */
  Reconciling: 'Reconciling',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Event reasons: what was done (Normal) or what went wrong (Warning). */
export const EventReason = {
  PolicyCreated: 'PolicyCreated',
  PolicyUpdated: 'PolicyUpdated',
  PolicyDeleted: 'PolicyDeleted',
  DriftCorrected: 'DriftCorrected',
  InvalidSpec: Reason.InvalidSpec,
  NameConflict: Reason.NameConflict,
  ApiError: Reason.ApiError,
  DryRun: Reason.DryRun,
  UnresolvedReference: Reason.UnresolvedReference,
  /** Ingress backends of spec.ingressRoutes that open nothing (Warning, when the list changes). */
  UncoveredBackends: 'UncoveredBackends',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export const ConditionType = {
  Ready: 'Ready',
  Degraded: 'Degraded',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];
