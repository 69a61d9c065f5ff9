/**
 * Turns "peer P may use ports S" contributions into the fewest rules: ports of the same peer are unioned, then
 * peers with the same port set share one rule. A rule allows peers × ports, so this changes no verdict, and
 * the result does not depend on the order of flows, of names in from/to, or of ports.
 */
import type { FlowPort } from '../intent/types';
import type { KeyedPeer } from './peers';
import { CanonicalPorts, canonicalPorts } from './ports';

/** One rule before it is written out: its peers (in rank order) and their common ports. */
export interface Rule {
  readonly peers: KeyedPeer[];
  readonly ports: CanonicalPorts;
}

/** One flow's say about one peer: the flow's ports as written, and their canonical form. */
interface Contribution {
  readonly peer: KeyedPeer;
  readonly ports: readonly FlowPort[];
  readonly canonical: CanonicalPorts;
}

/**
 * Peers are compared and ordered by rank: the compiler ranks peers by their JSON, equal JSON equal rank, so
 * this is the same as comparing keys, without comparing strings. Contributions
 * are kept in a plain list (a workload has a handful): sorting it by rank groups each peer's contributions and
 * yields the rules already in order, with no map per peer.
 */
export class RuleSet {
  private readonly list: Contribution[] = [];

  add(peer: KeyedPeer, ports: readonly FlowPort[], canonical: CanonicalPorts): void {
    this.list.push({ peer, ports, canonical });
  }

  rules(): Rule[] {
    const list = this.list;
    // Stable sort: a peer's contributions stay in flow order, as the union below expects nothing else.
    if (list.length > 1) list.sort((a, b) => a.peer.rank - b.peer.rank);
    const rules: { peers: KeyedPeer[]; ports: CanonicalPorts }[] = [];
    for (let start = 0; start < list.length; ) {
      const first = list[start] as Contribution;
      let end = start + 1;
      while (end < list.length && (list[end] as Contribution).peer.rank === first.peer.rank) end++;
      const ports = unionOf(list, start, end);
      // Peers of equal rank are equal (same JSON): the first stands for them all.
      // Peers come in rank order, so each rule is created at its smallest peer: rules come out ordered by it
      // (ipBlock rules, then other namespaces, then this namespace's workloads), and their peers sorted.
      const rule = rules.find((r) => r.ports.json === ports.json);
      if (rule) rule.peers.push(first.peer);
      else rules.push({ peers: [first.peer], ports });
      start = end;
    }
    return rules;
  }
}

/** The ports of list[start..end) (one peer's contributions): the common case is one flow, nothing to merge. */
function unionOf(list: readonly Contribution[], start: number, end: number): CanonicalPorts {
  const first = (list[start] as Contribution).canonical;
  let same = true;
  for (let i = start + 1; i < end && same; i++) same = (list[i] as Contribution).canonical === first;
  if (same) return first;
  const raw: (readonly FlowPort[])[] = [];
  for (let i = start; i < end; i++) raw.push((list[i] as Contribution).ports);
  return canonicalPorts(...raw);
}
