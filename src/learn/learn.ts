/**
 * learnIntents(): observed flows (tallied, src/flows) and the cluster input in, one DryRun SegmentationIntent per
 * namespace that sent or received traffic out, each valid by construction (validated and compiled here before it
 * is returned). Pure and deterministic: the same flows, in any order, give byte-identical intents.
 *
 * The promise (API.md): compiled in the same cluster, the learned intents allow every observed flow and open no
 * (source workload, destination workload, port, protocol) that was not observed. Hence:
 * - workloads and peers select exactly their pods among every pod known of the namespace (./selectors.ts);
 * - a flow names one port and protocol as observed, never a range or "all ports";
 * - allowDNS is false: DNS that was observed is a flow like any other.
 * What cannot be learned without breaking the promise (a pod whose labels nobody gave, a Service whose pods are
 * unknown, an address-to-address flow) is left out and reported, with how many connections it had.
 */
import { compileChecked } from '../compile';
import { byString, canonicalSelector } from '../compile/canonical';
import type { FlowTally, ObservedPod } from '../flows';
import { LIMITS } from '../intent/limits';
import { formatCidr, parseCidr } from '../intent/syntax';
import { API_VERSION, type Direction, KIND, type SegmentationIntent } from '../intent/types';
import { formatIssue, validateIntent } from '../intent/validate';
import type { ContainerPort, KubeObject, LabelSelector, OwnerReference, Pod, Protocol } from '../model/kubernetes';
import { matchesSelector } from '../reach/selector';
import { NameAllocator } from './names';
import { OwnerIndex, type WorkloadRef, workloadId, workloadOf } from './owners';
import { exclude, sharedLabels } from './selectors';
import { serviceBackends, servicesByName } from './services';

export const LEARNED_INTENT_NAME = 'learned';
/** NetworkPolicy peers name the namespace by this label, which the apiserver sets on every namespace. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface LearnInput {
  readonly tally: FlowTally;
  /** The cluster input: its Pods, and every other object (owners, Services). */
  readonly pods: readonly Pod[];
  readonly objects: readonly KubeObject[];
  readonly directions: readonly Direction[];
}

export interface LearnedIntent {
  readonly intent: SegmentationIntent;
  /** counts[i][j]: connections observed for spec.flows[i].ports[j]. */
  readonly counts: readonly (readonly number[])[];
}

export interface LearnResult {
  readonly intents: readonly LearnedIntent[];
  /** What was left out, each with its connections, and why. */
  readonly warnings: readonly string[];
  /** Learned intents that fail validation or compilation: a bug of learn, never printed as intents. */
  readonly errors: readonly string[];
  /** Each pod key ("namespace/name") the learning saw, with the id of its workload ("ns/Kind/name"). */
  readonly workloadOfPod: ReadonlyMap<string, string>;
  readonly connections: number;
  readonly learnedConnections: number;
}

interface PodFacts {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** undefined: nobody said (a netseg-format flow naming a pod that the cluster input lacks). */
  readonly labels: Readonly<Record<string, string>> | undefined;
  readonly ownerReferences?: readonly OwnerReference[];
  readonly reported?: ObservedPod['owner'];
  readonly ips: readonly string[];
  readonly ports: readonly ContainerPort[];
}

/** One side of a resolved flow: a workload (by id) or an address outside the cluster. */
type Side = { readonly kind: 'workload'; readonly id: string } | { readonly kind: 'ip'; readonly ip: string };

interface Workload {
  readonly ref: WorkloadRef;
  readonly id: string;
  readonly pods: PodFacts[];
  selector?: LabelSelector;
}

export function learnIntents(input: LearnInput): LearnResult {
  const ctx = new Context(input);
  const flows = ctx.resolveFlows();
  const used = new Set(flows.flatMap((f) => [f.from, f.to]).flatMap((s) => (s.kind === 'workload' ? [s.id] : [])));
  for (const id of [...used].sort(byString)) ctx.select(id);
  const learnable = flows.filter((f) => ctx.selectable(f.from) && ctx.selectable(f.to));
  const intents: LearnedIntent[] = [];
  const errors: string[] = [];
  for (const ns of namespacesOf(learnable, ctx)) {
    for (const built of ctx.intentsFor(ns, learnable.filter((f) => ctx.namespaceOf(f.from) === ns || ctx.namespaceOf(f.to) === ns))) {
      const problems = check(built.intent);
      if (problems.length > 0) errors.push(...problems);
      else intents.push(built);
    }
  }
  ctx.reportUnselectable(flows);
  const sum = (list: readonly { count: number }[]): number => list.reduce((a, f) => a + f.count, 0);
  return {
    intents,
    warnings: ctx.warnings,
    errors,
    workloadOfPod: new Map([...ctx.pods.values()].map((p) => [p.key, ctx.workloadIdOf(p)])),
    connections: sum(input.tally.flows()),
    learnedConnections: sum(ctx.origins.filter((o) => o.sides.every((s) => ctx.selectable(s)))),
  };
}

function namespacesOf(flows: readonly ResolvedFlow[], ctx: Context): string[] {
  const out = new Set<string>();
  for (const f of flows) for (const s of [f.from, f.to]) if (s.kind === 'workload') out.add(ctx.namespaceOf(s) as string);
  return [...out].sort(byString);
}

function check(intent: SegmentationIntent): string[] {
  const where = `learned SegmentationIntent ${intent.metadata.namespace ?? ''}/${intent.metadata.name ?? ''}`;
  const v = validateIntent(intent);
  if (!v.ok) return v.issues.map((i) => `${where}: ${formatIssue(i)}`);
  const c = compileChecked(v.intent);
  return c.ok ? [] : c.issues.map((i) => `${where}: ${formatIssue(i)}`);
}

interface ResolvedFlow {
  readonly from: Side;
  readonly to: Side;
  readonly port: number;
  readonly protocol: Protocol;
  count: number;
}

class Context {
  readonly pods = new Map<string, PodFacts>();
  private readonly byIp = new Map<string, string>();
  private readonly owners: OwnerIndex;
  private readonly workloads = new Map<string, Workload>();
  private readonly podWorkload = new Map<string, string>();
  private readonly unselectable = new Map<string, string>();
  private readonly services: ReadonlyMap<string, KubeObject>;
  readonly warnings: string[] = [];
  private readonly skipped = new Map<string, number>();
  /** Each tallied flow that resolved, with the sides it resolved to: learned when they all are. */
  readonly origins: { readonly count: number; readonly sides: readonly Side[] }[] = [];

  constructor(private readonly input: LearnInput) {
    this.owners = new OwnerIndex(input.objects);
    this.services = servicesByName(input.objects);
    for (const pod of input.pods) this.addClusterPod(pod);
    // Pods the flows name that the cluster input lacks: known by what the flows say about them.
    for (const key of input.tally.endpointKeys()) {
      const e = input.tally.endpoint(key);
      if (e?.kind !== 'pod' || this.pods.has(key)) continue;
      this.pods.set(key, { key, namespace: e.namespace, name: e.name, labels: e.labels, reported: e.owner, ips: e.ip ? [e.ip] : [], ports: [] });
      if (e.ip && !this.byIp.has(e.ip)) this.byIp.set(e.ip, key);
    }
    for (const p of [...this.pods.values()].sort((a, b) => byString(a.key, b.key))) {
      const ref = workloadOf({ namespace: p.namespace, name: p.name, labels: p.labels, ownerReferences: p.ownerReferences, reported: p.reported }, this.owners);
      const id = workloadId(ref);
      this.podWorkload.set(p.key, id);
      const w = this.workloads.get(id) ?? { ref, id, pods: [] };
      w.pods.push(p);
      this.workloads.set(id, w);
    }
  }

  private addClusterPod(pod: Pod): void {
    const namespace = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name;
    if (typeof name !== 'string' || name === '') return;
    const key = `${namespace}/${name}`;
    const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p?.ip)].filter((ip): ip is string => typeof ip === 'string' && ip !== '');
    const ports = (pod.spec?.containers ?? []).flatMap((c) => c?.ports ?? []);
    this.pods.set(key, { key, namespace, name, labels: pod.metadata.labels ?? {}, ownerReferences: pod.metadata.ownerReferences, ips, ports });
    for (const ip of ips) this.byIp.set(ip, key);
  }

  workloadIdOf(p: PodFacts): string {
    return this.podWorkload.get(p.key) as string;
  }

  namespaceOf(s: Side): string | undefined {
    return s.kind === 'workload' ? this.workloads.get(s.id)?.ref.namespace : undefined;
  }

  selectable(s: Side): boolean {
    return s.kind === 'ip' || this.workloads.get(s.id)?.selector !== undefined;
  }

  // ------------------------------------------------------------------------------------------ flows

  /** The tally's flows with pods as workloads, pod IPs as pods, Services as their pods; merged per workload pair. */
  resolveFlows(): ResolvedFlow[] {
    const merged = new Map<string, ResolvedFlow>();
    const add = (from: Side, to: Side, port: number, protocol: Protocol, count: number): void => {
      const key = `${sideKey(from)}\n${sideKey(to)}\n${protocol}\n${port}`;
      const known = merged.get(key);
      if (known) known.count += count;
      else merged.set(key, { from, to, port, protocol, count });
    };
    for (const f of this.input.tally.flows()) {
      const from = this.side(f.from);
      if (!from) continue;
      const dst = this.input.tally.endpoint(f.to);
      if (dst?.kind === 'service') {
        const targets = serviceBackends(this.services.get(`${dst.namespace}/${dst.name}`), f.port, f.protocol, this.pods.values());
        if (typeof targets === 'string') this.skip(`Service ${dst.namespace}/${dst.name} port ${f.protocol}/${f.port}: ${targets}`, f.count);
        else {
          // The connection reached one of the Service's pods: it counts once per (workload, port) it may have reached.
          const distinct = new Map(targets.map((t) => [`${this.podWorkload.get(t.pod) as string}\n${t.port}`, t]));
          const sides = [...distinct.values()].map((t) => ({ kind: 'workload', id: this.podWorkload.get(t.pod) as string }) as const);
          [...distinct.values()].forEach((t, i) => add(from, sides[i] as Side, t.port, f.protocol, f.count));
          this.origins.push({ count: f.count, sides: [from, ...sides] });
        }
        continue;
      }
      const to = this.side(f.to);
      if (!to) continue;
      if (from.kind === 'ip' && to.kind === 'ip') {
        this.skip(`${f.from} -> ${f.to}: neither end is a pod of the cluster`, f.count);
        continue;
      }
      add(from, to, f.port, f.protocol, f.count);
      this.origins.push({ count: f.count, sides: [from, to] });
    }
    return [...merged.values()].sort((a, b) => byString(sideKey(a.from), sideKey(b.from)) || byString(sideKey(a.to), sideKey(b.to)) || byString(a.protocol, b.protocol) || a.port - b.port);
  }

  private side(key: string): Side | undefined {
    const e = this.input.tally.endpoint(key);
    if (!e) return undefined;
    if (e.kind === 'pod') return { kind: 'workload', id: this.podWorkload.get(key) as string };
    if (e.kind === 'ip') {
      const pod = this.byIp.get(e.ip);
      return pod ? { kind: 'workload', id: this.podWorkload.get(pod) as string } : { kind: 'ip', ip: e.ip };
    }
    return undefined;
  }

  private skip(what: string, count: number): void {
    this.skipped.set(what, (this.skipped.get(what) ?? 0) + count);
  }

  // -------------------------------------------------------------------------------------- selectors

  select(id: string): void {
    const w = this.workloads.get(id) as Workload;
    const labelled = w.pods.filter((p) => p.labels !== undefined);
    if (labelled.length === 0) {
      this.unselectable.set(id, 'no labels are known for its pods: give the cluster input (-f or --kubeconfig) or flows that carry labels');
      return;
    }
    const own = labelled.map((p) => p.labels as Readonly<Record<string, string>>);
    const objectSelector = this.owners.selectorOf(w.ref);
    const base = objectSelector && own.every((l) => matchesSelector(objectSelector, l)) ? objectSelector : sharedLabels(own);
    if (!base) {
      this.unselectable.set(id, 'its pods share no stable label, so no selector can pick them out of the namespace');
      return;
    }
    const others = [...this.pods.values()]
      .filter((p) => p.namespace === w.ref.namespace && p.labels !== undefined && this.podWorkload.get(p.key) !== id)
      .sort((a, b) => byString(a.key, b.key))
      .map((p) => ({ name: p.key, labels: p.labels as Readonly<Record<string, string>> }));
    const refined = exclude(base, own, others);
    if (refined.ok) w.selector = refined.selector;
    else this.unselectable.set(id, refined.reason);
  }

  reportUnselectable(flows: readonly ResolvedFlow[]): void {
    for (const [id, reason] of [...this.unselectable].sort(([a], [b]) => byString(a, b))) {
      const count = flows.filter((f) => sideKey(f.from) === `w:${id}` || sideKey(f.to) === `w:${id}`).reduce((a, f) => a + f.count, 0);
      this.warnings.push(`workload ${id} (${count} connections) not learned: ${reason}`);
    }
    for (const [what, count] of [...this.skipped].sort(([a], [b]) => byString(a, b))) {
      this.warnings.push(`${what} (${count} connections) not learned`);
    }
  }

  // ---------------------------------------------------------------------------------------- intents

  intentsFor(ns: string, flows: readonly ResolvedFlow[]): LearnedIntent[] {
    const names = this.namesFor(ns, flows);
    // One entry per (from, to), its ports in order, at most LIMITS.portsPerFlow per entry.
    const pairs = new Map<string, { from: Side; to: Side; ports: { port: number; protocol: Protocol; count: number }[] }>();
    for (const f of flows) {
      const key = `${sideKey(f.from)}\n${sideKey(f.to)}`;
      const pair = pairs.get(key) ?? { from: f.from, to: f.to, ports: [] };
      pair.ports.push({ port: f.port, protocol: f.protocol, count: f.count });
      pairs.set(key, pair);
    }
    const entries = [...pairs.values()].flatMap((p) => chunks(p.ports, LIMITS.portsPerFlow).map((ports) => ({ ...p, ports })));
    const out: LearnedIntent[] = [];
    let pack = new Pack();
    for (const e of entries) {
      if (!pack.fits(e.from, e.to, this, ns)) {
        out.push(this.intent(ns, out.length, pack, names));
        pack = new Pack();
      }
      pack.add(e.from, e.to, e.ports, this, ns);
    }
    if (pack.flows.length > 0) out.push(this.intent(ns, out.length, pack, names));
    return out;
  }

  /** Workloads of `ns` first (by id), then peers (by key): the same flows always get the same names. */
  private namesFor(ns: string, flows: readonly ResolvedFlow[]): Map<string, string> {
    const sides = new Map<string, Side>();
    for (const f of flows) for (const s of [f.from, f.to]) sides.set(sideKey(s), s);
    const keys = [...sides.keys()].sort(byString);
    const local = keys.filter((k) => this.namespaceOf(sides.get(k) as Side) === ns);
    const remote = keys.filter((k) => this.namespaceOf(sides.get(k) as Side) !== ns);
    const alloc = new NameAllocator();
    const names = new Map<string, string>();
    for (const k of local) names.set(k, alloc.take((this.workloads.get((sides.get(k) as { id: string }).id) as Workload).ref.name));
    for (const k of remote) {
      const s = sides.get(k) as Side;
      if (s.kind === 'ip') names.set(k, alloc.take(`ip-${s.ip.replace(/[.:]/g, '-')}`));
      else {
        const ref = (this.workloads.get(s.id) as Workload).ref;
        names.set(k, alloc.take(`${ref.namespace}-${ref.name}`));
      }
    }
    return names;
  }

  private intent(ns: string, index: number, pack: Pack, names: ReadonlyMap<string, string>): LearnedIntent {
    const name = (s: Side): string => names.get(sideKey(s)) as string;
    const workloads = [...pack.workloads.values()]
      .map((s) => ({ name: name(s), selector: canonicalSelector((this.workloads.get((s as { id: string }).id) as Workload).selector as LabelSelector) }))
      .sort((a, b) => byString(a.name, b.name));
    const peers = [...pack.peers.values()].map((s) => this.peer(name(s), s)).sort((a, b) => byString(a.name, b.name));
    const ordered = [...pack.flows].sort((a, b) => byString(name(a.from), name(b.from)) || byString(name(a.to), name(b.to)) || a.ports[0]!.port - b.ports[0]!.port);
    const flows = ordered.map((f) => ({ from: name(f.from), to: name(f.to), ports: f.ports.map((p) => ({ port: p.port, protocol: p.protocol })) }));
    const intent: SegmentationIntent = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: index === 0 ? LEARNED_INTENT_NAME : `${LEARNED_INTENT_NAME}-${index + 1}`, namespace: ns },
      spec: {
        enforcement: 'DryRun',
        isolation: { directions: [...this.input.directions], scope: 'Workloads' },
        allowDNS: false,
        workloads,
        ...(peers.length > 0 ? { peers } : {}),
        flows,
      },
    };
    return { intent, counts: ordered.map((f) => f.ports.map((p) => p.count)) };
  }

  private peer(name: string, s: Side): NonNullable<SegmentationIntent['spec']['peers']>[number] {
    if (s.kind === 'ip') {
      const cidr = parseCidr(`${s.ip}/${s.ip.includes(':') ? 128 : 32}`);
      return { name, ipBlock: { cidr: typeof cidr === 'string' ? s.ip : formatCidr(cidr) } };
    }
    const w = this.workloads.get(s.id) as Workload;
    return {
      name,
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: w.ref.namespace } },
      podSelector: canonicalSelector(w.selector as LabelSelector),
    };
  }
}

/** The flows of one intent, and the workloads and peers they name, within LIMITS. */
class Pack {
  readonly workloads = new Map<string, Side>();
  readonly peers = new Map<string, Side>();
  readonly flows: { from: Side; to: Side; ports: { port: number; protocol: Protocol; count: number }[] }[] = [];

  fits(from: Side, to: Side, ctx: Context, ns: string): boolean {
    if (this.flows.length === 0) return true;
    const fresh = [from, to].filter((s, i, all) => all.findIndex((o) => sideKey(o) === sideKey(s)) === i);
    const local = fresh.filter((s) => ctx.namespaceOf(s) === ns && !this.workloads.has(sideKey(s))).length;
    const remote = fresh.filter((s) => ctx.namespaceOf(s) !== ns && !this.peers.has(sideKey(s))).length;
    return this.flows.length < LIMITS.flows && this.workloads.size + local <= LIMITS.workloads && this.peers.size + remote <= LIMITS.peers;
  }

  add(from: Side, to: Side, ports: { port: number; protocol: Protocol; count: number }[], ctx: Context, ns: string): void {
    for (const s of [from, to]) (ctx.namespaceOf(s) === ns ? this.workloads : this.peers).set(sideKey(s), s);
    this.flows.push({ from, to, ports });
  }
}

function sideKey(s: Side): string {
  return s.kind === 'ip' ? `ip:${s.ip}` : `w:${s.id}`;
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
