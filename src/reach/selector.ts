/**
 * metav1.LabelSelector matching, as the apiserver does it: matchLabels and matchExpressions are ANDed,
 * an empty selector ({}) matches everything. "A null label selector matches no objects" is the caller's
 * business: NetworkPolicy gives absence its own meanings (own namespace, all pods), so callers decide.
 */
import type { LabelSelector, LabelSelectorRequirement } from '../model/kubernetes';
import { hasLabel, labelValue } from '../model/labels';

export type Labels = Readonly<Record<string, string>>;

export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labelValue(labels, key) !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => matchesRequirement(req, labels));
}

function matchesRequirement(req: LabelSelectorRequirement, labels: Labels): boolean {
  const has = hasLabel(labels, req.key);
  const value = labelValue(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(value as string);
    // NotIn and DoesNotExist match objects that lack the key: that is the documented set-based meaning.
    case 'NotIn':
      return !has || !values.includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      // An unknown operator is rejected by the apiserver; match nothing rather than widen a policy.
      return false;
  }
}

/** A stable text key for a selector, so that identical selectors are evaluated once per cluster. */
export function selectorKey(selector: LabelSelector): string {
  const labels = Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const exprs = (selector.matchExpressions ?? []).map((e) => [e.key, e.operator, [...(e.values ?? [])].sort()]);
  return JSON.stringify([labels, exprs]);
}
