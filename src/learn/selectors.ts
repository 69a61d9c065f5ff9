/**
 * One selector per learned workload that selects exactly that workload's pods among every pod known of its
 * namespace (the cluster input's and the flows'): a selector that also matched another workload's pods would
 * isolate them and open them to flows nobody observed. The base is the workload object's `spec.selector`, else
 * the labels its pods share (stable ones only, ./labels.ts); a pod of another workload that the base still
 * matches is excluded with one requirement on a stable label: `key NotIn [its value]` when none of the
 * workload's pods has that value, else `key Exists` when all of them have a key it lacks.
 */
import { LIMITS } from '../intent/limits';
import type { LabelSelector, LabelSelectorRequirement } from '../model/kubernetes';
import { labelValue } from '../model/labels';
import { matchesSelector } from '../reach/selector';
import { byString, canonicalSelector } from '../compile/canonical';
import { stableLabels } from './labels';

type Labels = Readonly<Record<string, string>>;

/** The labels all `pods` share (stable ones), at most LIMITS.matchLabels of them; undefined when none. */
export function sharedLabels(pods: readonly Labels[]): LabelSelector | undefined {
  if (pods.length === 0) return undefined;
  let common = stableLabels(pods[0] as Labels);
  for (const p of pods.slice(1)) {
    const next = new Map<string, string>();
    for (const [k, v] of common) if (labelValue(p, k) === v) next.set(k, v);
    common = next;
  }
  const keys = [...common.keys()].sort(byString).slice(0, LIMITS.matchLabels);
  if (keys.length === 0) return undefined;
  return { matchLabels: Object.fromEntries(keys.map((k) => [k, common.get(k) as string])) };
}

export type Refined = { readonly ok: true; readonly selector: LabelSelector } | { readonly ok: false; readonly reason: string };

/**
 * `base` narrowed until it matches none of `others` (pods of other workloads of the namespace), each given with
 * a name for the message. Every pod of `own` must already match `base`.
 */
export function exclude(base: LabelSelector, own: readonly Labels[], others: readonly { name: string; labels: Labels }[]): Refined {
  const notIn = new Map<string, Set<string>>();
  const exists = new Set<string>();
  const current = (): LabelSelector => build(base, notIn, exists);
  const ownStable = own.map(stableLabels);
  for (const other of others) {
    if (!matchesSelector(current(), other.labels)) continue;
    const otherStable = [...stableLabels(other.labels)].sort(([a], [b]) => byString(a, b));
    const byValue = otherStable.find(([k, v]) => ownStable.every((p) => p.get(k) !== v));
    if (byValue) {
      const set = notIn.get(byValue[0]) ?? new Set<string>();
      set.add(byValue[1]);
      notIn.set(byValue[0], set);
    } else {
      const shared = ownStable.length === 0 ? [] : [...(ownStable[0] as Map<string, string>).keys()].filter((k) => ownStable.every((p) => p.has(k)));
      const byKey = shared.sort(byString).find((k) => labelValue(other.labels, k) === undefined);
      if (!byKey) return { ok: false, reason: `no label tells its pods from pod ${other.name}, which has all their stable labels` };
      exists.add(byKey);
    }
    const sel = current();
    const exprs = sel.matchExpressions ?? [];
    if (exprs.length > LIMITS.matchExpressions || exprs.some((e) => (e.values ?? []).length > LIMITS.expressionValues)) {
      return { ok: false, reason: `telling its pods from the other pods of the namespace needs more than ${LIMITS.matchExpressions} requirements` };
    }
  }
  return { ok: true, selector: current() };
}

function build(base: LabelSelector, notIn: ReadonlyMap<string, ReadonlySet<string>>, exists: ReadonlySet<string>): LabelSelector {
  const added: LabelSelectorRequirement[] = [
    ...[...notIn].map(([key, values]) => ({ key, operator: 'NotIn' as const, values: [...values].sort(byString) })),
    ...[...exists].map((key) => ({ key, operator: 'Exists' as const })),
  ];
  if (added.length === 0) return canonicalSelector(base);
  return canonicalSelector({ ...base, matchExpressions: [...(base.matchExpressions ?? []), ...added] });
}
