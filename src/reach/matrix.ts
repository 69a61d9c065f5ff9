/**
 * The full pod-to-pod matrix on the destinations' declared ports, computed column by column: for one
 * (destination, port), a byte per source for "ingress admits it" and one for "its egress admits it". That costs
 * O(columns × (rules + pods)) instead of asking `evaluate` for every pair.
 */
import type { Protocol } from '../model/kubernetes';
import type { Cluster, DeclaredPort, PodInfo, RuleModel } from './cluster';
import { rulePortsMatch } from './evaluate';

export interface MatrixColumn {
  readonly to: number;
  readonly port: DeclaredPort;
  /** allowed[s] === 1 when pod s may connect to pod `to` on this port. */
  readonly allowed: Uint8Array;
}

export interface Matrix {
  readonly pods: readonly PodInfo[];
  /** Ordered by destination pod, then port, then protocol. */
  readonly columns: readonly MatrixColumn[];
}

export interface MatrixEntry {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly allowed: boolean;
}

export function computeMatrix(cluster: Cluster): Matrix {
  const column = matrixColumns(cluster);
  const columns: MatrixColumn[] = [];
  cluster.pods.forEach((dst, d) => {
    for (const port of dst.ports) columns.push({ to: d, port, allowed: column(d, port) });
  });
  return { pods: cluster.pods, columns };
}

/**
 * One column at a time, for callers that fold the matrix (per-workload summaries) instead of keeping it:
 * column(d, port)[s] === 1 when pod s may connect to pod d on that port. The returned array is fresh each call.
 */
export function matrixColumns(cluster: Cluster): (d: number, port: DeclaredPort) => Uint8Array {
  const egress: EgressIndex = {
    rules: cluster.policies.flatMap((p) => (p.egress ?? []).map((rule) => ({ rule, selected: p.selected }))).map((r, id) => ({ id, ...r })),
    isolated: Uint8Array.from(cluster.pods, (_, i) => ((cluster.egressOf[i] ?? []).length > 0 ? 1 : 0)),
    open: Uint8Array.from(cluster.pods, (_, i) => ((cluster.egressOf[i] ?? []).length > 0 ? 0 : 1)),
  };
  // The egress rules whose peers include the destination, kept for all the ports of one destination.
  let lastD = -1;
  let towardsD: EgressRule[] = [];
  // Pods of one workload share their policies, so their columns repeat: a side's column is cached under the
  // list of rules that make it (bounded, and cleared when full).
  const cache = new Map<string, Uint8Array>();
  const cached = (key: string, make: () => Uint8Array): Uint8Array => {
    let hit = cache.get(key);
    if (!hit) {
      if (cache.size >= 2048) cache.clear();
      hit = make();
      cache.set(key, hit);
    }
    return hit;
  };
  const n = cluster.pods.length;
  const all = new Uint8Array(n).fill(1);
  const egressPods = egress.rules.map(({ rule }) => (rule.allPeers ? all : rule.pods));
  return (d, port) => {
    const dst = cluster.pods[d] as PodInfo;
    if (d !== lastD) {
      lastD = d;
      towardsD = [];
      // A tight loop over parallel arrays: this runs pods × egress rules times (150 M at 10,000 pods).
      for (let r = 0; r < egressPods.length; r++) {
        if ((egressPods[r] as Uint8Array)[d] === 1) towardsD.push(egress.rules[r] as EgressRule);
      }
    }
    const ingressRules = ingressRulesFor(cluster, d, port);
    const ingress = ingressRules === 'open' ? undefined : cached(`i${ingressRules.map((r) => r.id).join(',')}`, () => orColumns(n, ingressRules));
    const egressRules = towardsD.filter(({ rule }) => rulePortsMatch(rule, port.port, port.protocol, dst.named));
    const egressOk = cached(`e${egressRules.map((r) => r.id).join(',')}`, () => egressColumn(egress, egressRules));
    const allowed = new Uint8Array(n);
    if (ingress) and(ingress, egressOk, allowed);
    else allowed.set(egressOk);
    allowed[d] = 1;
    return allowed;
  };
}

function and(a: Uint8Array, b: Uint8Array, out: Uint8Array): void {
  for (let s = 0; s < out.length; s++) out[s] = (a[s] as number) & (b[s] as number);
}

interface IdRule {
  readonly id: string;
  readonly rule: RuleModel;
}

/** The ingress rules of the policies isolating d that match the port; 'open' when d is not isolated or a rule admits every peer. */
function ingressRulesFor(cluster: Cluster, d: number, port: DeclaredPort): IdRule[] | 'open' {
  const isolating = cluster.ingressOf[d] ?? [];
  if (isolating.length === 0) return 'open';
  const named = cluster.pods[d]?.named;
  const out: IdRule[] = [];
  for (const pi of isolating) {
    for (const rule of cluster.policies[pi]?.ingress ?? []) {
      if (!rulePortsMatch(rule, port.port, port.protocol, named)) continue;
      if (rule.allPeers) return 'open';
      out.push({ id: `${pi}.${rule.index}`, rule });
    }
  }
  return out;
}

function orColumns(n: number, rules: readonly IdRule[]): Uint8Array {
  const out = new Uint8Array(n);
  for (const { rule } of rules) {
    const pods = rule.pods;
    for (let s = 0; s < n; s++) out[s] = (out[s] as number) | (pods[s] as number);
  }
  return out;
}

interface EgressRule {
  readonly id: number;
  readonly rule: RuleModel;
  readonly selected: readonly number[];
}

/** Every egress rule with the pods its policy selects, and which pods are egress-isolated at all. */
interface EgressIndex {
  readonly rules: readonly EgressRule[];
  readonly isolated: Uint8Array;
  /** 1 - isolated: a pod no egress policy isolates sends anywhere. */
  readonly open: Uint8Array;
}

/** A 1 for each source whose egress admits the destination: not egress-isolated, or selected by one of the rules. */
function egressColumn(egress: EgressIndex, rules: readonly EgressRule[]): Uint8Array {
  const out = egress.open.slice();
  for (const { selected } of rules) for (const s of selected) out[s] = 1;
  return out;
}

/** Visits every entry in the order API.md's JSON lists them: source, then destination, then port. */
export function forEachEntry(m: Matrix, visit: (e: MatrixEntry) => void): void {
  const byDst: MatrixColumn[][] = m.pods.map(() => []);
  for (const c of m.columns) byDst[c.to]?.push(c);
  m.pods.forEach((src, s) => {
    byDst.forEach((cols, d) => {
      const to = m.pods[d]?.key ?? '';
      for (const c of cols) {
        visit({ from: src.key, to, port: c.port.port, protocol: c.port.protocol, allowed: c.allowed[s] === 1 });
      }
    });
  });
}
