/**
 * Deterministic policy names: `<intent>-<workload>-ingress|egress` and `<intent>-default-deny` (API.md).
 * Names are kept DNS-1123 labels of at most 63 characters, so that they also fit label values and the
 * `kubectl get` column. A name that would be longer, or that contains "." (legal in an intent name, not in a
 * label), becomes `<head>-<8 hex of sha256(full name)>-<suffix>`: still readable, still stable.
 */
import { shortHash } from './hash';

export const NAME_MAX = 63;

export type PolicyKind = 'ingress' | 'egress' | 'default-deny';

export function policyName(intentName: string, workload: string | undefined, kind: PolicyKind): string {
  const full = workload === undefined ? `${intentName}-${kind}` : `${intentName}-${workload}-${kind}`;
  if (full.length <= NAME_MAX && !full.includes('.')) return full;
  const budget = NAME_MAX - kind.length - 8 - 2;
  const head = full
    .slice(0, full.length - kind.length - 1)
    .replace(/\./g, '-')
    .slice(0, budget)
    .replace(/-+$/, '');
  return `${head}-${shortHash(full)}-${kind}`;
}

/**
 * Makes names unique in first-come order: a later duplicate gets a hash of its name and position. Only a
 * 32-bit hash collision or a workload literally named like a shortened name can cause one.
 */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((name, i) => {
    let candidate = name;
    for (let n = 0; seen.has(candidate); n++) {
      const base = name.slice(0, NAME_MAX - 9).replace(/-+$/, '');
      candidate = `${base}-${shortHash(`${name}#${i}#${n}`)}`;
    }
    seen.add(candidate);
    return candidate;
  });
}
