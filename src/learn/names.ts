/**
 * Names of learned workloads and peers: DNS-1123 labels (they become parts of policy names), unique within an
 * intent, readable (the workload's own name; `<namespace>-<workload>` for a peer; `ip-<address>` for an address),
 * and deterministic: candidates are given sorted, and a clash gets `-2`, `-3`… in that order.
 */
import { sha256Hex } from '../compile/hash';

const MAX = 63;

export function labelOf(text: string): string {
  let s = text.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  if (s === '') s = 'x';
  if (s.length <= MAX) return s;
  // Cut long names with a hash of the whole, so that two long names sharing a prefix stay apart.
  return `${s.slice(0, MAX - 9).replace(/-+$/, '')}-${sha256Hex(text).slice(0, 8)}`;
}

export class NameAllocator {
  private readonly taken = new Set<string>();

  /** The base if free, else base-2, base-3…; the result is always a valid DNS-1123 label. */
  take(base: string): string {
    const b = labelOf(base);
    let name = b;
    for (let i = 2; this.taken.has(name); i++) {
      const suffix = `-${i}`;
      name = `${b.slice(0, MAX - suffix.length).replace(/-+$/, '')}${suffix}`;
    }
    this.taken.add(name);
    return name;
  }
}
