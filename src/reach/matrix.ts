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
  const n = cluster.pods.length;
  const egress = new EgressIndex(cluster);
  // Pods of one workload share their policies, so their ingress columns repeat: cached under the list of rules
  // that make it (bounded, and cleared when full).
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
  return (d, port) => {
    const ingressRules = ingressRulesFor(cluster, d, port);
    const allowed = egress.column(d, port);
    if (ingressRules !== 'open') and(cached(`i${ingressRules.map((r) => r.id).join(',')}`, () => orColumns(n, ingressRules)), allowed);
    allowed[d] = 1;
    return allowed;
  };
}

/** out[s] &= a[s]. */
function and(a: Uint8Array, out: Uint8Array): void {
  for (let s = 0; s < out.length; s++) out[s] = (out[s] as number) & (a[s] as number);
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

/** Above this many bytes the destination → egress rules index is not transposed, and each destination reads the rules' pod sets instead. */
const TRANSPOSE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The egress side of a column: a 1 for each source whose egress admits (d, port), i.e. the source is not
 * egress-isolated, or a policy selecting it has an egress rule whose peers include d and whose ports match.
 * Built for speed at 10,000 pods and 20,000 policies (issue 18), where a naive loop asks every egress rule about
 * every destination: rules are grouped by their (shared) peer pod set, and the sets are transposed once into a
 * bit per (destination, set), so a destination lists the rules towards it by reading its own row; port matching
 * is decided once per distinct `ports` list per column; a policy's selected pods are written once per column.
 */
class EgressIndex {
  private readonly n: number;
  /** 1 for a pod no egress policy isolates: it sends anywhere. */
  private readonly open: Uint8Array;
  /** Per egress rule: its policy's index, and its distinct `ports` list (-1: every port). */
  private readonly rulePolicy: Int32Array;
  private readonly ruleSig: Int32Array;
  /** One representative rule per distinct `ports` list, to match ports with. */
  private readonly sigRule: RuleModel[] = [];
  /** Distinct peer pod sets and the rules that have each. */
  private readonly sets: Uint8Array[] = [];
  private readonly rulesOfSet: number[][] = [];
  /** Rules without peers: towards every destination. */
  private readonly everywhere: number[] = [];
  /** bits[d * words + (a >>> 5)] bit (a & 31): pod d is in set a. Undefined when too large (then sets are read). */
  private readonly bits: Uint32Array | undefined;
  private readonly words: number;
  /** The pods each policy selects, all in one array (policy pi's are selectedPods[selectedStart[pi] .. selectedStart[pi + 1]]): read for thousands of policies per column, they stay in cache. */
  private readonly selectedStart: Int32Array;
  private readonly selectedPods: Int32Array;
  /** Per column stamps, so that nothing is cleared between columns. */
  private stamp = 0;
  private readonly sigStamp: Int32Array;
  private readonly sigOk: Uint8Array;
  private readonly policyStamp: Int32Array;
  /** The rules towards the last destination asked about. */
  private lastD = -1;
  private readonly towards: Int32Array;
  private towardsCount = 0;

  constructor(private readonly cluster: Cluster) {
    this.n = cluster.pods.length;
    this.open = Uint8Array.from(cluster.pods, (_, i) => ((cluster.egressOf[i] ?? []).length > 0 ? 0 : 1));
    this.selectedStart = new Int32Array(cluster.policies.length + 1);
    cluster.policies.forEach((p, pi) => (this.selectedStart[pi + 1] = (this.selectedStart[pi] as number) + p.selected.length));
    this.selectedPods = new Int32Array(this.selectedStart[cluster.policies.length] as number);
    cluster.policies.forEach((p, pi) => this.selectedPods.set(p.selected, this.selectedStart[pi]));
    const setIds = new Map<Uint8Array, number>();
    const sigIds = new Map<string, number>();
    const policyOf: number[] = [];
    const sigOf: number[] = [];
    cluster.policies.forEach((p, pi) => {
      for (const rule of p.egress ?? []) {
        const r = policyOf.length;
        policyOf.push(pi);
        sigOf.push(this.signature(rule, sigIds));
        if (rule.allPeers) {
          this.everywhere.push(r);
          continue;
        }
        let a = setIds.get(rule.pods);
        if (a === undefined) {
          a = this.sets.length;
          setIds.set(rule.pods, a);
          this.sets.push(rule.pods);
          this.rulesOfSet.push([]);
        }
        this.rulesOfSet[a]?.push(r);
      }
    });
    this.rulePolicy = Int32Array.from(policyOf);
    this.ruleSig = Int32Array.from(sigOf);
    this.sigStamp = new Int32Array(this.sigRule.length);
    this.sigOk = new Uint8Array(this.sigRule.length);
    this.policyStamp = new Int32Array(cluster.policies.length);
    this.towards = new Int32Array(policyOf.length);
    this.words = (this.sets.length + 31) >>> 5;
    this.bits = this.n * this.words * 4 <= TRANSPOSE_LIMIT_BYTES ? this.transpose() : undefined;
  }

  private signature(rule: RuleModel, ids: Map<string, number>): number {
    if (rule.ports === undefined) return -1;
    const key = JSON.stringify(rule.ports);
    let id = ids.get(key);
    if (id === undefined) {
      id = this.sigRule.length;
      ids.set(key, id);
      this.sigRule.push(rule);
    }
    return id;
  }

  private transpose(): Uint32Array {
    const bits = new Uint32Array(this.n * this.words);
    this.sets.forEach((set, a) => setBits(set, bits, this.words, a));
    return bits;
  }

  /** Fills `towards` with the egress rules whose peers include pod d. */
  private rulesTowards(d: number): void {
    const towards = this.towards;
    let count = appendAll(this.everywhere, towards, 0);
    const bits = this.bits;
    if (bits) {
      const base = d * this.words;
      for (let w = 0; w < this.words; w++) {
        let word = bits[base + w] as number;
        while (word !== 0) {
          const bit = 31 - Math.clz32(word & -word);
          word &= word - 1;
          count = appendAll(this.rulesOfSet[(w << 5) + bit] as number[], towards, count);
        }
      }
    } else {
      for (let a = 0; a < this.sets.length; a++) if ((this.sets[a] as Uint8Array)[d] === 1) count = appendAll(this.rulesOfSet[a] as number[], towards, count);
    }
    this.towardsCount = count;
  }

  /** A fresh array: a 1 for each source whose egress admits destination d on this port. */
  column(d: number, port: DeclaredPort): Uint8Array {
    if (d !== this.lastD) {
      this.lastD = d;
      this.rulesTowards(d);
    }
    const named = this.cluster.pods[d]?.named;
    const stamp = ++this.stamp;
    const out = this.open.slice();
    const { towards, ruleSig, rulePolicy, sigStamp, sigOk, policyStamp, selectedStart, selectedPods } = this;
    for (let i = 0; i < this.towardsCount; i++) {
      const r = towards[i] as number;
      const sig = ruleSig[r] as number;
      if (sig >= 0) {
        if (sigStamp[sig] !== stamp) {
          sigStamp[sig] = stamp;
          sigOk[sig] = rulePortsMatch(this.sigRule[sig] as RuleModel, port.port, port.protocol, named) ? 1 : 0;
        }
        if (sigOk[sig] === 0) continue;
      }
      const pi = rulePolicy[r] as number;
      if (policyStamp[pi] === stamp) continue;
      policyStamp[pi] = stamp;
      for (let k = selectedStart[pi] as number, end = selectedStart[pi + 1] as number; k < end; k++) out[selectedPods[k] as number] = 1;
    }
    return out;
  }
}

function appendAll(from: readonly number[], to: Int32Array, at: number): number {
  for (let i = 0; i < from.length; i++) to[at++] = from[i] as number;
  return at;
}

/** Sets bit a of row d for every pod d in the set. Small on purpose: V8 optimizes it alone. */
function setBits(set: Uint8Array, bits: Uint32Array, words: number, a: number): void {
  const w = a >>> 5;
  const mask = 1 << (a & 31);
  for (let d = 0; d < set.length; d++) if (set[d] === 1) bits[d * words + w] = (bits[d * words + w] as number) | mask;
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
