/**
 * Turns "peer P may use ports S" contributions into the fewest rules: ports of the same peer are unioned, then
 * peers with the same port set share one rule. A rule allows peers × ports, so this changes no verdict, and
 * the result does not depend on the order of flows, of names in from/to, or of ports.
 */
import type { NetworkPolicyPeer, NetworkPolicyPort } from '../model/kubernetes';
import type { FlowPort } from '../intent/types';
import type { KeyedPeer } from './peers';
import { CanonicalPorts, canonicalPorts } from './ports';

/** A rule, with the canonical JSON of its parts (compile assembles the spec's JSON from them to hash it). */
export interface Rule {
  readonly peers: NetworkPolicyPeer[];
  readonly peersJSON: string;
  readonly ports?: NetworkPolicyPort[];
  readonly portsJSON?: string;
}

interface Entry {
  /** The canonical ports while every contribution had the same ones (the common case: no merge needed). */
  single: CanonicalPorts | undefined;
  readonly raw: (readonly FlowPort[])[];
}

/**
 * Peers are compared by identity and ordered by rank: the compiler hands out one KeyedPeer per distinct peer
 * JSON, ranked by that JSON, so this is the same as comparing keys, without comparing strings.
 */
export class RuleSet {
  private readonly byPeer = new Map<KeyedPeer, Entry>();

  add(peer: KeyedPeer, ports: readonly FlowPort[], canonical: CanonicalPorts): void {
    const entry = this.byPeer.get(peer);
    if (!entry) {
      this.byPeer.set(peer, { single: canonical, raw: [ports] });
      return;
    }
    if (entry.single !== canonical) entry.single = undefined;
    entry.raw.push(ports);
  }

  rules(): Rule[] {
    if (this.byPeer.size === 1) {
      const [peer, entry] = this.byPeer.entries().next().value as [KeyedPeer, Entry];
      return [toRule({ ports: entry.single ?? canonicalPorts(...entry.raw), peers: [peer] })];
    }
    const groups = new Map<string, { ports: CanonicalPorts; peers: KeyedPeer[] }>();
    for (const [peer, entry] of this.byPeer) {
      const ports = entry.single ?? canonicalPorts(...entry.raw);
      const key = ports.json ?? '';
      const group = groups.get(key);
      if (group) group.peers.push(peer);
      else groups.set(key, { ports, peers: [peer] });
    }
    // Each peer is in exactly one rule, so rules ordered by their first (smallest) peer are totally ordered:
    // ipBlock rules, then other namespaces, then this namespace's workloads.
    const list = [...groups.values()];
    for (const g of list) g.peers.sort((a, b) => a.rank - b.rank);
    list.sort((a, b) => (a.peers[0] as KeyedPeer).rank - (b.peers[0] as KeyedPeer).rank);
    return list.map(toRule);
  }
}

function toRule(g: { ports: CanonicalPorts; peers: KeyedPeer[] }): Rule {
  const peers = g.peers.map((p) => p.peer);
  const peersJSON = g.peers.length === 1 ? `[${(g.peers[0] as KeyedPeer).key}]` : `[${g.peers.map((p) => p.key).join(',')}]`;
  const { list, json } = g.ports;
  return list && json ? { peers, peersJSON, ports: list, portsJSON: json } : { peers, peersJSON };
}
