/**
 * What `netseg verify` checks, shared by the proof (./classes.ts) and the per-pair reference that tests it
 * (test/fixtures/verify/per-pair-reference.ts): the other endpoints (every pod and a few representative
 * addresses), the ports worth checking towards a destination, and what the intent's flows say about one
 * connection, read straight from the intent with upstream NetworkPolicy selector semantics.
 */
import type { Endpoint as IntentEndpoint, Flow, FlowPort, ValidIntent } from '../intent/types';
import { type LabelSelector, PROTOCOLS, type Protocol } from '../model/kubernetes';
import {
  type Address,
  type Cluster,
  type Endpoint,
  type RuleRef,
  NAMESPACE_NAME_LABEL,
  formatAddress,
  lastAddress,
  matchesSelector,
  parseAddress,
  parseCidr,
} from '../reach';

export type Direction = 'Ingress' | 'Egress';

export interface VerifyContext {
  readonly cluster: Cluster;
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Ids ("ns/name") of the policies each intent owns, to tell its own rules from others'. */
  readonly ownPolicies: ReadonlySet<string>;
}

/** One port of one protocol, as probed. */
export interface PortProbe {
  readonly port: number;
  readonly protocol: Protocol;
}

const PROBE_PORT = 64999;
/** An address outside every documentation range a test might use, standing for "the internet". */
const OUTSIDE_CANDIDATES = ['198.51.100.200', '192.0.2.200', '100.64.0.200', '2001:db8:ffff::200'];

/** Addresses outside the cluster worth checking: one inside each ipBlock peer, one in each of its excepts, one outside all. */
export function representativeIps(ctx: VerifyContext, intent: ValidIntent): string[] {
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
  return [...ips].filter((ip) => !ctx.cluster.podByIp.has(ip));
}

/** Every pod, plus the representative addresses. */
export function universe(ctx: VerifyContext, intent: ValidIntent): Endpoint[] {
  const pods: Endpoint[] = ctx.cluster.pods.map((_, index) => ({ kind: 'pod', index }));
  return [...pods, ...representativeIps(ctx, intent).map((ip): Endpoint => ({ kind: 'ip', ip }))];
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

type PortKey = `${number}/${Protocol}`;

/**
 * The numeric edges of every rule port of the policies isolating a pod. What a side allows is a union of port
 * intervals, so comparing it with the flows at these edges, the flows' edges (±1) and a probe finds any difference.
 */
export function rulePortEdges(cluster: Cluster, isolating: readonly number[], dir: 'ingress' | 'egress'): PortKey[] {
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

/** The ports worth checking towards a destination: what it declares, the flows' ports and range edges, probes. */
export function portsToCheck(ctx: VerifyContext, intent: ValidIntent, to: Endpoint, extra: readonly PortKey[]): PortProbe[] {
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

/** Whether an intent endpoint names an endpoint of the cluster: endpointHas, or a faster lookup that agrees with it. */
export type Membership = (e: IntentEndpoint, x: Endpoint) => boolean;

export interface Connection {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol: Protocol;
}

/** The first flow (by index) that allows from → to on this port, read straight from the intent. */
export function expectedFlow(ctx: VerifyContext, intent: ValidIntent, has: Membership, c: Connection): number | undefined {
  return flowOnPort(flowsBetween(ctx, intent, has, c.from, c.to), c);
}

/** The flows from → to on some port, with the destination's declared container ports (for named flow ports). */
export interface FlowsBetween {
  readonly flows: readonly Flow[];
  readonly declared: readonly { name?: string; containerPort: number; protocol?: Protocol }[];
}

export function flowsBetween(ctx: VerifyContext, intent: ValidIntent, has: Membership, from: Endpoint, to: Endpoint): FlowsBetween {
  const declared = to.kind === 'pod' ? (ctx.cluster.pods[to.index]?.pod.spec?.containers?.flatMap((c) => c.ports ?? []) ?? []) : [];
  return { flows: intent.flows.filter((f: Flow) => f.from.some((e) => has(e, from)) && f.to.some((e) => has(e, to))), declared };
}

/** The first of these flows (by index) that allows this port. */
export function flowOnPort(between: FlowsBetween, p: PortProbe): number | undefined {
  const flow = between.flows.find((f) => f.ports.length === 0 || f.ports.some((fp) => flowPortMatches(fp, p.port, p.protocol, between.declared)));
  return flow?.index;
}

export function flowPortMatches(p: FlowPort, port: number, protocol: Protocol, declared: readonly { name?: string; containerPort: number; protocol?: Protocol }[]): boolean {
  if (p.protocol !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'number') return port >= p.port && port <= (p.endPort ?? p.port);
  return declared.some((c) => c.name === p.port && (c.protocol ?? 'TCP') === protocol && c.containerPort === port);
}

/** With allowDNS, egress to port 53 (UDP, TCP) is expected open to anywhere: not an extra. */
export function isDnsProbe(intent: ValidIntent, direction: Direction, p: PortProbe): boolean {
  return direction === 'Egress' && intent.allowDNS && p.port === 53 && p.protocol !== 'SCTP';
}

/** Whether every opening rule is one of this intent's own policies: then the compiler is wrong. */
export function byOwnPolicy(ctx: VerifyContext, openedBy: readonly RuleRef[]): boolean {
  return openedBy.length > 0 && openedBy.every((r) => ctx.ownPolicies.has(r.policy));
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

export function nsLabels(ctx: VerifyContext, ns: string): Readonly<Record<string, string>> {
  return ctx.namespaceLabels.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns };
}
