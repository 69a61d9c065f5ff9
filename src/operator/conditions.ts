/**
 * Pure metav1.Condition bookkeeping. `lastTransitionTime` moves only when a condition's status flips, so a
 * reconcile that finds nothing new produces an identical status and the status write is skipped.
 */
import type { Condition } from '../model/kubernetes';
import { canonicalJSON } from '../compile';
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
