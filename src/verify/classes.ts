/**
 * verify's proof at cluster scale (issue 18): the same comparison as one `evaluate` per (workload pod W, other
 * endpoint X, port), without asking it for every triple. Everything a verdict and the intent's expectation read
 * about a triple is:
 * - about W: the policies isolating it (per direction), its declared ports, and which intent endpoints name it;
 * - about X: for each rule of those policies, whether the rule's peers match X (the engine's rule.pods bytes and
 *   ipBlocks), which intent endpoints name X, and (as a destination) the ports its containers declare;
 * - the port.
 * So W's with equal facts form a class, and, per class of W, the X's with equal facts form classes (a partition
 * refined by one byte array per rule, the engine's own column data); one representative pair per pair of classes
 * is evaluated by the engine on every port worth checking, and stands exactly for every member pair (a pod and
 * itself excepted: classes are refined by "is in this class of W", so that pair is always identifiable).
 * The result is a list of difference sets: every (w, x, port) of workloadPods × others × ports, w ≠ x, differs
 * in the same way. test/unit/verify-property.test.ts checks that, expanded, they are exactly the per-pair answer.
 */
import type { ValidIntent } from '../intent/types';
import { type Endpoint, type RuleModel, type RuleRef, evaluate, ipBlockContains, parseAddress, rulePortsMatch } from '../reach';
import { IntentMembers, clusterFacts } from './members';
import {
  type Direction,
  type PortProbe,
  type VerifyContext,
  byOwnPolicy,
  flowOnPort,
  flowsBetween,
  isDnsProbe,
  portsToCheck,
  representativeIps,
  rulePortEdges,
} from './probes';
import type { Protocol } from '../model/kubernetes';

/** How every member of a set differs from the intent. */
export type SetVerdict =
  /** Denied on W's side, but the flow (0-based index in spec.flows) allows it. */
  | { readonly kind: 'missing'; readonly flow: number }
  /** Allowed on W's side by these rules (none: W is not isolated in this direction), but no flow allows it. */
  | { readonly kind: 'extra'; readonly openedBy: readonly RuleRef[]; readonly byOwnPolicy: boolean };

export type DifferenceSet = SetVerdict & {
  readonly direction: Direction;
  /** The intent's workload pods on their side (the destination for Ingress, the source for Egress), by index. */
  readonly workloadPods: readonly number[];
  /** The other side: pods of the cluster (by index, ascending) and addresses outside it. */
  readonly otherPods: Int32Array;
  readonly otherIps: readonly string[];
  /** Sorted by protocol, then port. */
  readonly ports: readonly PortProbe[];
  /** Ordered (workload pod, other endpoint) pairs: workloadPods × others, without a pod and itself. */
  readonly pairs: number;
};

export interface MissingDns {
  readonly pod: number;
  readonly protocol: Protocol;
}

export interface Proof {
  readonly workloadPods: readonly number[];
  readonly sets: readonly DifferenceSet[];
  readonly missingDns: readonly MissingDns[];
}

export function proveIntent(intent: ValidIntent, ctx: VerifyContext): Proof {
  const { cluster } = ctx;
  const facts = clusterFacts(cluster);
  const members = new IntentMembers(ctx, intent);
  const n = cluster.pods.length;
  const ips = representativeIps(ctx, intent);
  const addresses = ips.map(parseAddress);
  const isWorkload = new Uint8Array(n);
  for (const w of intent.workloads) for (const i of members.podsOf(w)) isWorkload[i] = 1;
  const workloadPods: number[] = [];
  isWorkload.forEach((b, i) => b === 1 && workloadPods.push(i));

  // The facts about X that do not depend on W: the intent endpoints that name it, and as a destination (egress)
  // the ports it declares. Each address is a class of its own.
  const base = (direction: Direction): Partition => {
    const p = new Partition(n + ips.length);
    const sig = direction === 'Egress' ? facts.portSignature : undefined;
    for (let x = 0; x < n; x++) p.classOf[x] = sig ? (sig[x] as number) : 0;
    for (let j = 0; j < ips.length; j++) p.classOf[n + j] = facts.portSignatures + j;
    p.count = facts.portSignatures + ips.length;
    for (const e of members.endpoints) p.refineSparse(members.podsOf(e));
    return p;
  };
  const bases = new Map(intent.directions.map((d) => [d, base(d)]));
  // Refined again for each class of W, in place: one buffer for all (there are thousands of classes of W).
  const work = new Partition(n + ips.length);

  const sets: DifferenceSet[] = [];
  const missingDns: MissingDns[] = [];
  for (const ws of workloadClasses(ctx, workloadPods, members)) {
    const inW = new Uint8Array(n);
    for (const w of ws) inW[w] = 1;
    for (const [direction, b] of bases) {
      work.copyFrom(b);
      work.refineSparse(ws);
      sets.push(...compareSide({ ctx, intent, members, ips, addresses, ws, inW, others: work }, direction));
    }
    if (intent.directions.includes('Egress') && intent.allowDNS) missingDns.push(...checkDns(ctx, ws));
  }
  return { workloadPods, sets, missingDns };
}

/** Workload pods with the same isolating policies, declared ports and intent endpoints, in order of their first pod. */
function workloadClasses(ctx: VerifyContext, workloadPods: readonly number[], members: IntentMembers): number[][] {
  const sig = clusterFacts(ctx.cluster).portSignature;
  const named = members.endpoints.map((e) => members.podsOf(e));
  const byKey = new Map<string, number[]>();
  for (const w of workloadPods) {
    const endpoints = named.map((list) => (list.includes(w) ? 1 : 0)).join('');
    const key = `${(ctx.cluster.ingressOf[w] ?? []).join(',')}|${(ctx.cluster.egressOf[w] ?? []).join(',')}|${sig[w]}|${endpoints}`;
    const list = byKey.get(key);
    if (list) list.push(w);
    else byKey.set(key, [w]);
  }
  return [...byKey.values()];
}

interface SideEnv {
  readonly ctx: VerifyContext;
  readonly intent: ValidIntent;
  readonly members: IntentMembers;
  readonly ips: readonly string[];
  readonly addresses: readonly (ReturnType<typeof parseAddress>)[];
  /** One class of workload pods, and a byte per pod for membership. */
  readonly ws: readonly number[];
  readonly inW: Uint8Array;
  /** The other endpoints, partitioned by everything but the rules (and by membership in ws); refined in place. */
  readonly others: Partition;
}

/** A rule of a policy isolating W, in the order `evaluate` lists the rules that admit a connection. */
interface SideRule {
  readonly ref: RuleRef;
  readonly rule: RuleModel;
}

/** The difference sets of one class of W in one direction. */
function compareSide(env: SideEnv, direction: Direction): DifferenceSet[] {
  const { ctx, intent, ips, ws } = env;
  const { cluster } = ctx;
  const n = cluster.pods.length;
  const w0 = ws[0] as number;
  const dir = direction === 'Ingress' ? 'ingress' : 'egress';
  const isolating = (dir === 'ingress' ? cluster.ingressOf : cluster.egressOf)[w0] ?? [];
  const rules: SideRule[] = isolating.flatMap((pi) => {
    const policy = cluster.policies[pi];
    return (policy?.[dir] ?? []).map((rule) => ({ ref: { policy: policy?.id ?? '', rule: rule.index }, rule }));
  });
  const part = env.others;
  refineByRules(part, rules, env.addresses);
  const edges = rulePortEdges(cluster, isolating, dir);
  const self: Endpoint = { kind: 'pod', index: w0 };
  const ingressPorts = direction === 'Ingress' ? portsToCheck(ctx, intent, self, edges) : [];
  const egressPorts = new Map<number, PortProbe[]>();
  const facts = clusterFacts(cluster);
  const merged = new Map<string, { verdict: SetVerdict; ports: PortProbe[]; pods: Int32Array[]; ips: string[]; pairs: number }>();
  for (const cls of part.classes()) {
    const reps = representatives(cls, ws, env.inW, n);
    if (!reps) continue;
    const x: Endpoint = reps.x < n ? { kind: 'pod', index: reps.x } : { kind: 'ip', ip: ips[reps.x - n] as string };
    const w: Endpoint = { kind: 'pod', index: reps.w };
    let ports = ingressPorts;
    if (direction === 'Egress') {
      const sig = x.kind === 'pod' ? (facts.portSignature[x.index] as number) : -1 - (reps.x - n);
      ports = egressPorts.get(sig) ?? portsToCheck(ctx, intent, x, edges);
      egressPorts.set(sig, ports);
    }
    const [from, to] = direction === 'Ingress' ? [x, w] : [w, x];
    const judge = judgeClass(env, direction, { isolated: isolating.length > 0, rules }, { from, to });
    const byVerdict = portsByVerdict(judge, ports);
    const pairs = ws.length * cls.length - (reps.x < n && env.inW[reps.x] === 1 ? cls.length : 0);
    for (const [key, g] of byVerdict) {
      const k = `${key}#${g.ports.map((p) => `${p.port}/${p.protocol}`).join(',')}`;
      let m = merged.get(k);
      if (!m) merged.set(k, (m = { verdict: g.verdict, ports: g.ports, pods: [], ips: [], pairs: 0 }));
      if (reps.x < n) m.pods.push(cls);
      else m.ips.push(...Array.from(cls, (i) => ips[i - n] as string));
      m.pairs += pairs;
    }
  }
  return [...merged.values()].map((m) => ({
    ...m.verdict,
    direction,
    workloadPods: ws,
    otherPods: concat(m.pods),
    otherIps: m.ips,
    ports: [...m.ports].sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.port - b.port)),
    pairs: m.pairs,
  }));
}

/** Splits the classes by each distinct peer set of the rules (a rule with no peers matches every endpoint alike). */
function refineByRules(part: Partition, rules: readonly SideRule[], addresses: SideEnv['addresses']): void {
  const refined = new Set<Uint8Array>();
  for (const { rule } of rules) {
    if (rule.allPeers || (refined.has(rule.pods) && rule.ipBlocks.length === 0)) continue;
    refined.add(rule.pods);
    part.refineDense(rule.pods, ipBits(rule, addresses));
  }
}

/** The ports on which the pair differs, grouped by how it differs. */
function portsByVerdict(judge: (p: PortProbe) => SetVerdict | undefined, ports: readonly PortProbe[]): Map<string, { verdict: SetVerdict; ports: PortProbe[] }> {
  const byVerdict = new Map<string, { verdict: SetVerdict; ports: PortProbe[] }>();
  for (const p of ports) {
    const verdict = judge(p);
    if (!verdict) continue;
    const key = verdictKey(verdict);
    const g = byVerdict.get(key);
    if (g) g.ports.push(p);
    else byVerdict.set(key, { verdict, ports: [p] });
  }
  return byVerdict;
}

/**
 * What W's side says against the intent's flows for (from, to) on a port; undefined when they agree. As
 * `evaluate`'s side: not isolated → allowed; else allowed by every rule whose ports match (named ports
 * resolved on the destination) and whose peers match the other end, with the peer half read once per class.
 */
function judgeClass(
  env: SideEnv,
  direction: Direction,
  side: { isolated: boolean; rules: readonly SideRule[] },
  pair: { from: Endpoint; to: Endpoint },
): (p: PortProbe) => SetVerdict | undefined {
  const { ctx, intent } = env;
  const { from, to } = pair;
  const { rules } = side;
  const other = direction === 'Ingress' ? from : to;
  const address = other.kind === 'ip' ? parseAddress(other.ip) : undefined;
  const peerOk = rules.map(({ rule }) => rule.allPeers || (other.kind === 'pod' ? rule.pods[other.index] === 1 : address !== undefined && rule.ipBlocks.some((b) => ipBlockContains(b, address))));
  const named = to.kind === 'pod' ? ctx.cluster.pods[to.index]?.named : undefined;
  const flows = flowsBetween(ctx, intent, env.members.has, from, to);
  return (p) => {
    const openedBy: RuleRef[] = [];
    rules.forEach(({ ref, rule }, i) => {
      if (peerOk[i] && rulePortsMatch(rule, p.port, p.protocol, named)) openedBy.push(ref);
    });
    const allowed = !side.isolated || openedBy.length > 0;
    const flow = flowOnPort(flows, p);
    if (flow !== undefined) return allowed ? undefined : { kind: 'missing', flow };
    if (!allowed || isDnsProbe(intent, direction, p)) return undefined;
    return { kind: 'extra', openedBy, byOwnPolicy: byOwnPolicy(ctx, openedBy) };
  };
}

function verdictKey(v: SetVerdict): string {
  return v.kind === 'missing' ? `m${v.flow}` : `e${v.openedBy.map((r) => `${r.policy}#${r.rule}`).join(' ')}`;
}

/** Disjoint classes of pods as one list (class by class, each ascending): a typed array, there may be millions. */
function concat(parts: readonly Int32Array[]): Int32Array {
  if (parts.length === 1) return parts[0] as Int32Array;
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A byte per representative address: inside one of the rule's ipBlocks. */
function ipBits(rule: RuleModel, addresses: SideEnv['addresses']): Uint8Array {
  return Uint8Array.from(addresses, (a) => (a !== undefined && rule.ipBlocks.some((b) => ipBlockContains(b, a)) ? 1 : 0));
}

/**
 * A pair (w, x) standing for the class: any W and any member, except that a pod is never paired with itself.
 * A class is either inside the class of W or outside it (it was refined by it); undefined when it makes no pair.
 */
function representatives(cls: Int32Array, ws: readonly number[], inW: Uint8Array, n: number): { w: number; x: number } | undefined {
  const first = cls[0] as number;
  if (first >= n || inW[first] !== 1) return { w: ws[0] as number, x: first };
  const w = ws[0] as number;
  const other = cls.find((i) => i !== w);
  if (other !== undefined) return { w, x: other };
  const w2 = ws.find((i) => i !== first);
  return w2 === undefined ? undefined : { w: w2, x: first };
}

/** With allowDNS, each workload pod must reach a cluster DNS pod on 53/UDP and 53/TCP (when the cluster has any). */
function checkDns(ctx: VerifyContext, ws: readonly number[]): MissingDns[] {
  const dnsPods = clusterFacts(ctx.cluster).dnsPods;
  if (dnsPods.length === 0) return []; // no DNS pods in the cluster file: nothing to prove against
  const out: MissingDns[] = [];
  for (const w of ws) {
    for (const protocol of ['UDP', 'TCP'] as const) {
      const ok = dnsPods.some((i) => evaluate(ctx.cluster, { from: { kind: 'pod', index: w }, to: { kind: 'pod', index: i }, port: 53, protocol }).egress.allowed);
      if (!ok) out.push({ pod: w, protocol });
    }
  }
  return out;
}

/**
 * A partition of the endpoints 0..size-1 (pods, then addresses) into classes, refined by one fact at a time.
 * Class numbers are only labels: two endpoints are in the same class iff they agreed on every fact so far.
 */
class Partition {
  readonly classOf: Int32Array;
  count = 0;
  /** Scratch for refineDense and classes, kept between calls. */
  private table = new Int32Array(0);
  private starts = new Int32Array(0);
  constructor(size: number) {
    this.classOf = new Int32Array(size);
  }

  copyFrom(other: Partition): void {
    this.classOf.set(other.classOf);
    this.count = other.count;
  }

  /** Splits each class by membership in a list of pods. */
  refineSparse(members: readonly number[]): void {
    const renamed = new Map<number, number>();
    for (const x of members) {
      const old = this.classOf[x] as number;
      let id = renamed.get(old);
      if (id === undefined) renamed.set(old, (id = this.count + renamed.size));
      this.classOf[x] = id;
    }
    this.count += renamed.size;
  }

  /** Splits each class by a byte per pod and a byte per address (the endpoints after the pods). */
  refineDense(pods: Uint8Array, addresses: Uint8Array): void {
    if (this.table.length < this.count * 2) this.table = new Int32Array(this.count * 4);
    const table = this.table;
    table.fill(-1, 0, this.count * 2);
    const classOf = this.classOf;
    const n = pods.length;
    let next = 0;
    for (let x = 0; x < classOf.length; x++) {
      const bit = x < n ? (pods[x] as number) : (addresses[x - n] as number);
      const k = (classOf[x] as number) * 2 + bit;
      let id = table[k] as number;
      if (id < 0) table[k] = id = next++;
      classOf[x] = id;
    }
    this.count = next;
  }

  /** The non-empty classes, each its members in ascending order, as views of one array (a counting sort). */
  classes(): Int32Array[] {
    if (this.starts.length < 2 * this.count + 1) this.starts = new Int32Array(4 * this.count + 2);
    const starts = this.starts.subarray(0, this.count + 1).fill(0);
    const classOf = this.classOf;
    for (let x = 0; x < classOf.length; x++) {
      const c = (classOf[x] as number) + 1;
      starts[c] = (starts[c] as number) + 1;
    }
    for (let c = 0; c < this.count; c++) starts[c + 1] = (starts[c + 1] as number) + (starts[c] as number);
    const order = new Int32Array(classOf.length);
    const at = this.starts.subarray(this.count + 1, 2 * this.count + 1);
    at.set(starts.subarray(0, this.count));
    for (let x = 0; x < classOf.length; x++) {
      const c = classOf[x] as number;
      order[at[c] as number] = x;
      at[c] = (at[c] as number) + 1;
    }
    const out: Int32Array[] = [];
    for (let c = 0; c < this.count; c++) {
      const a = starts[c] as number;
      const b = starts[c + 1] as number;
      if (b > a) out.push(order.subarray(a, b));
    }
    // In order of first member, so that the output does not depend on how classes were numbered.
    return out.sort((p, q) => (p[0] as number) - (q[0] as number));
  }
}
