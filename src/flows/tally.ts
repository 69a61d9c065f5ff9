/**
 * Counts observed connections per (source, destination, port, protocol), pure and order-independent: the same
 * records in any order give the same counts and the same endpoint descriptions.
 *
 * A connection counts once however many records show it (its packets, or its two ends: Hubble reports a pod-to-pod
 * connection at the source's and at the destination's node): records that carry the connection's identity (both
 * addresses, both ports, protocol) are deduplicated by it, within their (source, destination, port, protocol)
 * group, so a hash collision can only merge two connections of one group, never lose a group. Memory: one number
 * per distinct connection (a 52-bit hash), bounded by MAX_TRACKED_CONNECTIONS; past it, further records of
 * unseen connections still count but are no longer deduplicated, and `saturated` says so.
 */
import { byString, canonicalJSON } from '../compile/canonical';
import type { Protocol } from '../model/kubernetes';
import type { ObservedDestination, ObservedSource, Observation } from './types';

export const MAX_TRACKED_CONNECTIONS = 4_000_000;
/**
 * Distinct (source, destination, port, protocol) groups and endpoints kept at most: a hostile file naming a new
 * pod on every line would otherwise grow memory with the file. Past it, records of new groups are counted in
 * `overflow`, and the commands refuse to answer (a flow left out would break learn's promise).
 */
export const MAX_GROUPS = 1_000_000;

export interface TalliedFlow {
  /** Endpoint keys: "namespace/pod", an IP address, or "svc:namespace/name". */
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** Distinct connections observed. */
  readonly count: number;
}

interface Group {
  count: number;
  readonly seen: Set<number>;
}

export class FlowTally {
  private readonly groups = new Map<string, Group>();
  private readonly endpoints = new Map<string, { readonly json: string; readonly endpoint: ObservedSource | ObservedDestination }>();
  private tracked = 0;
  saturated = false;
  /** Records of groups past the limit: not kept, so the tally is incomplete when this is not 0. */
  overflow = 0;

  constructor(private readonly maxGroups: number = MAX_GROUPS) {}

  add(o: Observation): void {
    const from = endpointKey(o.from);
    const to = endpointKey(o.to);
    const key = `${from}\n${to}\n${o.port}\n${o.protocol}`;
    let group = this.groups.get(key);
    if (!group && (this.groups.size >= this.maxGroups || this.endpoints.size >= 2 * this.maxGroups)) {
      this.overflow++;
      return;
    }
    this.describe(from, o.from);
    this.describe(to, o.to);
    if (!group) {
      group = { count: 0, seen: new Set() };
      this.groups.set(key, group);
    }
    if (o.connection === undefined) {
      group.count++;
      return;
    }
    const h = hash52(o.connection);
    if (group.seen.has(h)) return;
    group.count++;
    if (this.tracked < MAX_TRACKED_CONNECTIONS) {
      group.seen.add(h);
      this.tracked++;
    } else this.saturated = true;
  }

  /** Every group, sorted by source, destination, protocol, port. */
  flows(): TalliedFlow[] {
    const out: TalliedFlow[] = [];
    for (const [key, g] of this.groups) {
      const [from, to, port, protocol] = key.split('\n') as [string, string, string, Protocol];
      out.push({ from, to, port: Number(port), protocol, count: g.count });
    }
    return out.sort((a, b) => byString(a.from, b.from) || byString(a.to, b.to) || byString(a.protocol, b.protocol) || a.port - b.port);
  }

  /** What the flows said about each endpoint; of differing descriptions, the fullest (then the first in text order). */
  endpoint(key: string): ObservedSource | ObservedDestination | undefined {
    return this.endpoints.get(key)?.endpoint;
  }

  endpointKeys(): string[] {
    return [...this.endpoints.keys()].sort(byString);
  }

  private describe(key: string, e: ObservedSource | ObservedDestination): void {
    const known = this.endpoints.get(key);
    // Most records repeat what is known: compare the cheap facts first, and the canonical text only on a difference.
    if (known && (richness(known.endpoint) > richness(e) || same(known.endpoint, e))) return;
    const json = canonicalJSON(e);
    if (!known || richness(e) > richness(known.endpoint) || json < known.json) this.endpoints.set(key, { json, endpoint: e });
  }
}

export function endpointKey(e: ObservedSource | ObservedDestination): string {
  switch (e.kind) {
    case 'pod':
      return `${e.namespace}/${e.name}`;
    case 'ip':
      return e.ip;
    case 'service':
      return `svc:${e.namespace}/${e.name}`;
  }
}

function same(a: ObservedSource | ObservedDestination, b: ObservedSource | ObservedDestination): boolean {
  if (a.kind === 'ip' || b.kind === 'ip') return a.kind === b.kind && a.ip === b.ip;
  if (a.kind !== 'pod' || b.kind !== 'pod') return a.kind === b.kind && canonicalJSON(a) === canonicalJSON(b);
  if (a.ip !== b.ip || a.owner?.kind !== b.owner?.kind || a.owner?.name !== b.owner?.name) return false;
  if (a.labels === undefined || b.labels === undefined) return a.labels === b.labels;
  const ka = Object.keys(a.labels);
  if (ka.length !== Object.keys(b.labels).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b.labels, k) && (b.labels as Record<string, string>)[k] === (a.labels as Record<string, string>)[k]);
}

function richness(e: ObservedSource | ObservedDestination): number {
  if (e.kind !== 'pod') return 0;
  return (e.labels ? 2 : 0) + (e.owner ? 1 : 0) + (e.ip ? 0.5 : 0);
}

/** Two 32-bit FNV-1a hashes folded into 52 bits: exact in a double, distinct for practical purposes. */
export function hash52(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
}
