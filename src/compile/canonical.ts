/**
 * Canonical forms: one spelling for each meaning, so that equal intents give byte-identical policies and the
 * spec hash changes only when the meaning does.
 */
import type { LabelSelector, LabelSelectorRequirement, NetworkPolicy, NetworkPolicySpec } from '../model/kubernetes';
import { sha256Hex } from './hash';

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const byString = compareStrings;

/**
 * Sorted matchLabels, sorted and deduplicated requirements and values; empty parts omitted. Keys are written
 * in sorted order (matchExpressions before matchLabels), so that JSON.stringify of a compiled spec already is
 * its canonicalJSON: compile hashes it without a second normalising walk.
 */
export function canonicalSelector(selector: LabelSelector): LabelSelector {
  const out: LabelSelector = {};
  // Most selectors have no expressions: skip the dedup-and-sort machinery for them (a hot path of compile).
  const list = selector.matchExpressions;
  if (list && list.length > 0) out.matchExpressions = canonicalExpressions(list);
  const labels = selector.matchLabels;
  const keys = labels ? Object.keys(labels).sort(compareStrings) : [];
  // fromEntries defines own keys: assignment would turn a `__proto__` key into a prototype change.
  if (labels && keys.length > 0) out.matchLabels = Object.fromEntries(keys.map((k) => [k, labels[k] as string]));
  return out;
}

function canonicalExpressions(list: readonly LabelSelectorRequirement[]): LabelSelectorRequirement[] {
  const byKey = new Map<string, LabelSelectorRequirement>();
  for (const e of list) {
    const values = e.values && e.values.length > 0 ? [...new Set(e.values)].sort(compareStrings) : undefined;
    const req: LabelSelectorRequirement = values ? { key: e.key, operator: e.operator, values } : { key: e.key, operator: e.operator };
    byKey.set(JSON.stringify(req), req);
  }
  return [...byKey.entries()].sort((a, b) => compareStrings(a[0], b[0])).map(([, req]) => req);
}

/**
 * JSON with object keys sorted at every level, and with what the apiserver drops or defaults normalised away
 * (null, empty lists, empty matchLabels, a port without protocol = TCP): a live object read back from the
 * cluster hashes like the one compiled, unless someone changed what it means.
 */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(normalise(value, ''));
}

/** `listKey` is the key of the list holding `value`: items of a `ports` list are NetworkPolicyPorts. */
function normalise(value: unknown, listKey: string): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, listKey));
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  const withDefaults = listKey === 'ports' && obj['protocol'] === undefined ? { ...obj, protocol: 'TCP' } : obj;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(withDefaults).sort(compareStrings)) {
    const v = withDefaults[k];
    if (!droppedByApiserver(k, v)) out[k] = normalise(v, k);
  }
  return out;
}

function droppedByApiserver(key: string, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return key === 'matchLabels' && typeof value === 'object' && Object.keys(value).length === 0;
}

/**
 * The value of the `netseg.io/spec-hash` annotation: hex sha256 of canonicalJSON(policy.spec). It covers the
 * spec only (selector, policyTypes, rules): metadata (labels, ownerReference, the annotation itself) is checked
 * by the operator directly, and excluding it lets the hash be recomputed from a live object.
 */
export function specHash(policy: { readonly spec: NetworkPolicySpec } | NetworkPolicy): string {
  return sha256Hex(canonicalJSON(policy.spec));
}

