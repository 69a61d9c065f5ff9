/**
 * Pure metav1.Condition bookkeeping. `lastTransitionTime` moves only when a condition's status flips, so a
 * reconcile that finds nothing new produces an identical status and the status write is skipped.
 */
import type { Condition } from '../model/kubernetes';
import type { SegmentationIntentStatus } from '../intent/types';

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

/** Key-order- and condition-order-independent equality, so a status read back from the apiserver compares equal. */
export function statusEqual(a: SegmentationIntentStatus | undefined, b: SegmentationIntentStatus | undefined): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function canonical(s: SegmentationIntentStatus): string {
  const conditions = [...(s.conditions ?? [])]
    .sort((x, y) => x.type.localeCompare(y.type))
    .map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration ?? null, c.lastTransitionTime]);
  return JSON.stringify([s.observedGeneration ?? null, conditions, [...(s.policies ?? [])].sort(), s.flows ?? null]);
}
