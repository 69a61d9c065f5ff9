/**
 * The proof behind `netseg verify`. For each intent and each of its workload pods W, in each direction the
 * intent isolates, the connections the cluster's policies allow on W's side must be exactly the intent's flows:
 * - Ingress isolated: every source (each other pod, and representative IPs) → W, on W's ports and the flows'
 *   ports, is admitted by W's ingress iff some flow goes from that source to W on that port.
 * - Egress isolated: W → every destination on its ports is admitted by W's egress iff some flow allows it;
 *   with allowDNS, port 53 (UDP and TCP) is also expected open, and W must reach the cluster DNS pods.
 * Only W's own side is checked: the other side belongs to whoever isolates it. A direction the intent does
 * not isolate is not checked, since the intent promises nothing there.
 * The meaning of a flow is read from the intent here, independently of the compiler, with upstream
 * NetworkPolicy selector semantics (a peer without namespaceSelector is in the intent's namespace).
 */
import type { Endpoint as IntentEndpoint, Flow, FlowPort, ValidIntent } from '../intent/types';
import { type LabelSelector, PROTOCOLS, type Protocol } from '../model/kubernetes';
import { labelValue } from '../model/labels';
import {
  type Address,
  type Cluster,
  type Endpoint,
  type RuleRef,
  type SideVerdict,
  NAMESPACE_NAME_LABEL,
  endpointName,
  evaluate,
  formatAddress,
  lastAddress,
  matchesSelector,
  parseAddress,
  parseCidr,
} from '../reach';
import type { Gap } from './coverage';
import { DNS_LABELS, DNS_NAMESPACE } from './world';

export type Direction = 'Ingress' | 'Egress';

export type Difference =
  | {
      readonly kind: 'missing';
      readonly direction: Direction;
      readonly from: string;
      readonly to: string;
      readonly port: number;
      readonly protocol: Protocol;
      /** The flow (0-based index in spec.flows) that should allow it. */
      readonly flow: number;
    }
  | {
      readonly kind: 'extra';
      readonly direction: Direction;
      readonly from: string;
      readonly to: string;
      readonly port: number;
      readonly protocol: Protocol;
      /** The rules that open it; empty when the pod is not isolated at all in this direction. */
      readonly openedBy: readonly RuleRef[];
      /** True when every opening rule is one of this intent's own policies: then the compiler is wrong. */
      readonly byOwnPolicy: boolean;
    }
  | { readonly kind: 'missing-dns'; readonly from: string; readonly protocol: Protocol }
  | Gap;

export interface IntentReport {
  readonly intent: string;
  readonly workloadPods: number;
  readonly differences: readonly Difference[];
}

export interface VerifyContext {
  readonly cluster: Cluster;
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Ids ("ns/name") of the policies each intent owns, to tell its own rules from others'. */
  readonly ownPolicies: ReadonlySet<string>;
}

const PROBE_PORT = 64999;
/** An address outside every documentation range a test might use, standing for "the internet". */
const OUTSIDE_CANDIDATES = ['198.51.100.200', '192.0.2.200', '100.64.0.200', '2001:db8:ffff::200'];

export function verifyIntent(intent: ValidIntent, ctx: VerifyContext): IntentReport {
  const workloadPods = ctx.cluster.pods
    .map((_, i) => i)
    .filter((i) => intent.workloads.some((w) => endpointHas(ctx, intent, w, { kind: 'pod', index: i })));
  const others = universe(ctx, intent);
  const differences: Difference[] = [];
  for (const w of workloadPods) {
    const self: Endpoint = { kind: 'pod', index: w };
    const ingressPorts = rulePortEdges(ctx.cluster, ctx.cluster.ingressOf[w] ?? [], 'ingress');
    const egressPorts = rulePortEdges(ctx.cluster, ctx.cluster.egressOf[w] ?? [], 'egress');
    for (const x of others) {
      if (x.kind === 'pod' && x.index === w) continue;
      if (intent.directions.includes('Ingress')) differences.push(...compareSide(ctx, intent, { direction: 'Ingress', from: x, to: self, extraPorts: ingressPorts }));
      if (intent.directions.includes('Egress')) differences.push(...compareSide(ctx, intent, { direction: 'Egress', from: self, to: x, extraPorts: egressPorts }));
    }
    if (intent.directions.includes('Egress') && intent.allowDNS) checkDns(ctx, w, differences);
  }
  return { intent: `${intent.namespace}/${intent.name}`, workloadPods: workloadPods.length, differences };
}

type PortKey = `${number}/${Protocol}`;

/**
 * The numeric edges of every rule port of the policies isolating a pod. What a side allows is a union of port
 * intervals, so comparing it with the flows at these edges, the flows' edges (±1) and a probe finds any difference.
 */
function rulePortEdges(cluster: Cluster, isolating: readonly number[], dir: 'ingress' | 'egress'): PortKey[] {
  const rules = isolating.flatMap((pi) => {
    const spec = cluster.policies[pi]?.policy.spec;
    return (dir === 'ingress' ? spec?.ingress : spec?.egress) ?? [];
  });
  return rules
    .flatMap((r) => r.ports ?? [])
    .flatMap((p): PortKey[] => {
      if (typeof p.port !== 'number') return [];
      const protocol = p.protocol ?? 'TCP';
      return [`${p.port}/${protocol}`, `${p.endPort ?? p.port}/${protocol}`];
    });
}

/** One direction of one pair to compare: W's ingress (from X) or W's egress (to X). */
interface SideCheck {
  readonly direction: Direction;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly extraPorts: readonly PortKey[];
}

function compareSide(ctx: VerifyContext, intent: ValidIntent, check: SideCheck): Difference[] {
  const { direction, from, to } = check;
  const out: Difference[] = [];
  for (const { port, protocol } of portsToCheck(ctx, intent, to, check.extraPorts)) {
    const verdict = evaluate(ctx.cluster, { from, to, port, protocol });
    const side = direction === 'Ingress' ? verdict.ingress : verdict.egress;
    const flow = expectedFlow(ctx, intent, { from, to, port, protocol });
    const dns = direction === 'Egress' && intent.allowDNS && port === 53 && protocol !== 'SCTP';
    const base = { direction, from: endpointName(ctx.cluster, from), to: endpointName(ctx.cluster, to), port, protocol };
    if (flow !== undefined && !side.allowed) out.push({ kind: 'missing', ...base, flow });
    if (flow === undefined && !dns && side.allowed) {
      const openedBy = openingRules(side);
      out.push({ kind: 'extra', ...base, openedBy, byOwnPolicy: openedBy.length > 0 && openedBy.every((r) => ctx.ownPolicies.has(r.policy)) });
    }
  }
  return out;
}

function openingRules(side: SideVerdict): readonly RuleRef[] {
  return side.kind === 'allowed' ? side.allowedBy : [];
}

function checkDns(ctx: VerifyContext, w: number, out: Difference[]): void {
  const dnsPods = ctx.cluster.pods
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.namespace === DNS_NAMESPACE && Object.entries(DNS_LABELS).every(([k, v]) => labelValue(p.labels, k) === v));
  if (dnsPods.length === 0) return; // no DNS pods in the cluster file: nothing to prove against
  for (const protocol of ['UDP', 'TCP'] as const) {
    const ok = dnsPods.some(({ i }) => evaluate(ctx.cluster, { from: { kind: 'pod', index: w }, to: { kind: 'pod', index: i }, port: 53, protocol }).egress.allowed);
    if (!ok) out.push({ kind: 'missing-dns', from: ctx.cluster.pods[w]?.key ?? '', protocol });
  }
}

/** Every pod, plus one address inside each ipBlock peer, one inside each of its excepts, and one outside all. */
function universe(ctx: VerifyContext, intent: ValidIntent): Endpoint[] {
  const pods: Endpoint[] = ctx.cluster.pods.map((_, index) => ({ kind: 'pod', index }));
  const ips = new Set<string>();
  for (const peer of intent.peers) {
    if (peer.kind !== 'ip-peer') continue;
    const inside = insideAddress(peer.ipBlock.cidr, peer.ipBlock.except ?? []);
    if (inside) ips.add(inside);
    for (const e of peer.ipBlock.except ?? []) {
      const c = parseCidr(e);
      if (c) ips.add(formatAddress(lastAddress(c)));
    }
  }
  const outside = OUTSIDE_CANDIDATES.find((ip) => !intent.peers.some((p) => p.kind === 'ip-peer' && ipIn(ip, p.ipBlock.cidr, p.ipBlock.except ?? [])));
  if (outside) ips.add(outside);
  return [...pods, ...[...ips].filter((ip) => !ctx.cluster.podByIp.has(ip)).map((ip): Endpoint => ({ kind: 'ip', ip }))];
}

/** An address inside the CIDR and outside every except: the CIDR's edges, then the neighbours of each except. */
export function insideAddress(cidrText: string, except: readonly string[]): string | undefined {
  const cidr = parseCidr(cidrText);
  if (!cidr) return undefined;
  const candidates: Address[] = [lastAddress(cidr), { family: cidr.family, value: cidr.network }];
  for (const e of except.map(parseCidr)) {
    if (!e) continue;
    candidates.push({ family: e.family, value: e.network - 1n }, { family: e.family, value: lastAddress(e).value + 1n });
  }
  const hit = candidates.find((a) => ipIn(formatAddress(a), cidrText, except));
  return hit ? formatAddress(hit) : undefined;
}

function ipIn(ip: string, cidrText: string, except: readonly string[]): boolean {
  const a = parseAddress(ip);
  const c = parseCidr(cidrText);
  if (!a || !c || !within(a, c)) return false;
  return !except.some((e) => {
    const ec = parseCidr(e);
    return ec !== undefined && within(a, ec);
  });
}

function within(a: Address, c: { family: 4 | 6; prefix: number; network: bigint }): boolean {
  if (a.family !== c.family) return false;
  const shift = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  return a.value >> shift === c.network >> shift;
}

/** The ports worth checking towards a destination: what it declares, the flows' ports and range edges, probes. */
function portsToCheck(ctx: VerifyContext, intent: ValidIntent, to: Endpoint, extra: readonly PortKey[]): { port: number; protocol: Protocol }[] {
  const declared = to.kind === 'pod' ? (ctx.cluster.pods[to.index]?.ports ?? []) : [];
  const keys: string[] = [
    ...extra,
    ...declared.map((p) => `${p.port}/${p.protocol}`),
    ...flowPortEdges(intent),
    ...(intent.allowDNS ? ['53/UDP', '53/TCP'] : []),
    ...PROTOCOLS.map((protocol) => `${PROBE_PORT}/${protocol}`),
  ];
  return [...new Set(keys)].sort().flatMap((k) => {
    const [text, protocol] = k.split('/');
    const port = Number(text);
    return port >= 1 && port <= 65535 ? [{ port, protocol: protocol as Protocol }] : [];
  });
}

/** Each numeric flow port and range edge, and one past each edge, where a wrong range would show. */
function flowPortEdges(intent: ValidIntent): string[] {
  return intent.flows.flatMap((f) =>
    f.ports.flatMap((p) => {
      if (typeof p.port !== 'number') return [];
      const end = p.endPort ?? p.port;
      return [p.port - 1, p.port, end, end + 1].map((n) => `${n}/${p.protocol}`);
    }),
  );
}

interface Connection {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol: Protocol;
}

/** The first flow (by index) that allows from → to on this port, read straight from the intent. */
function expectedFlow(ctx: VerifyContext, intent: ValidIntent, c: Connection): number | undefined {
  const { from, to, port, protocol } = c;
  const named = to.kind === 'pod' ? ctx.cluster.pods[to.index]?.pod.spec?.containers?.flatMap((c) => c.ports ?? []) : [];
  const flow = intent.flows.find(
    (f: Flow) =>
      f.from.some((e) => endpointHas(ctx, intent, e, from)) &&
      f.to.some((e) => endpointHas(ctx, intent, e, to)) &&
      (f.ports.length === 0 || f.ports.some((p) => flowPortMatches(p, port, protocol, named ?? []))),
  );
  return flow?.index;
}

export function flowPortMatches(p: FlowPort, port: number, protocol: Protocol, declared: readonly { name?: string; containerPort: number; protocol?: Protocol }[]): boolean {
  if (p.protocol !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'number') return port >= p.port && port <= (p.endPort ?? p.port);
  return declared.some((c) => c.name === p.port && (c.protocol ?? 'TCP') === protocol && c.containerPort === port);
}

/** Whether an intent endpoint (workload or peer) names this pod or address. */
export function endpointHas(ctx: VerifyContext, intent: ValidIntent, e: IntentEndpoint, x: Endpoint): boolean {
  if (x.kind === 'ip') return e.kind === 'ip-peer' && ipIn(x.ip, e.ipBlock.cidr, e.ipBlock.except ?? []);
  const pod = ctx.cluster.pods[x.index];
  if (!pod) return false;
  if (e.kind === 'ip-peer') return pod.ipTexts.some((ip) => ipIn(ip, e.ipBlock.cidr, e.ipBlock.except ?? []));
  if (e.kind === 'workload') return pod.namespace === intent.namespace && matchesSelector(e.selector, pod.labels);
  // API.md: a peer is "anything outside this namespace"; the intent's own pods are named by its workloads.
  const nsOk = e.namespaceSelector
    ? pod.namespace !== intent.namespace && matchesSelector(e.namespaceSelector, nsLabels(ctx, pod.namespace))
    : pod.namespace === intent.namespace;
  return nsOk && matchesSelector(e.podSelector ?? ({} as LabelSelector), pod.labels);
}

function nsLabels(ctx: VerifyContext, ns: string): Readonly<Record<string, string>> {
  return ctx.namespaceLabels.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns };
}
