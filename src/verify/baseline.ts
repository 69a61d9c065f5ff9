/**
 * The proof behind `netseg verify` for a ClusterSegmentationIntent: in every selected namespace of the input,
 * each pod's isolated sides, under the baseline's OWN policies, allow exactly what the baseline says, read here
 * from the baseline (never from the compiler): its flows into / out of `namespace`, same-namespace traffic with
 * allowSameNamespace, DNS, and the far ends of its flows that live in selected namespaces ("never cuts its own
 * flows"). Intents add on top (policies are a union), so other policies are left out of this proof: the
 * baseline's own must be exact by themselves.
 */
import type { ValidBaseline } from '../intent/baseline';
import type { ValidIntent } from '../intent/types';
import { PROTOCOLS, type NetworkPolicy, type Protocol } from '../model/kubernetes';
import { labelValue } from '../model/labels';
import { NAMESPACE_NAME_LABEL, buildCluster, endpointName, evaluate, matchesSelector, policyId } from '../reach';
import type { ClusterInput, Endpoint } from '../reach';
import { type Difference, type IntentReport, type VerifyContext } from './check';
import { endpointHas, flowPortMatches, insideAddress } from './probes';
import { DNS_LABELS, DNS_NAMESPACE } from './world';

const PROBE_PORT = 64999;
const OUTSIDE = '198.51.100.200';
/** Expected verdicts that no flow index stands for. */
const SAME_NAMESPACE = -1;
const DNS = -2;

type Direction = 'Ingress' | 'Egress';

export function verifyBaseline(b: ValidBaseline, policies: readonly NetworkPolicy[], world: ClusterInput): IntentReport {
  const cluster = buildCluster({ namespaces: world.namespaces, pods: world.pods, policies });
  const namespaceLabels = new Map(world.namespaces.map((n) => [n.metadata.name ?? '', { ...(n.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: n.metadata.name ?? '' }]));
  const ctx: VerifyContext = { cluster, namespaceLabels, ownPolicies: new Set(policies.map(policyId)) };
  const selected = (ns: string): boolean => matchesSelector(b.namespaceSelector, namespaceLabels.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns });
  const pods = cluster.pods.map((p, index) => ({ p, index })).filter(({ p }) => namespaceLabels.has(p.namespace) && selected(p.namespace));
  const others = universe(b, cluster.pods.length);
  const differences: Difference[] = [];
  for (const { index } of pods) {
    const self: Endpoint = { kind: 'pod', index };
    for (const x of others) {
      if (x.kind === 'pod' && x.index === index) continue;
      for (const direction of b.directions) {
        const [from, to] = direction === 'Ingress' ? [x, self] : [self, x];
        differences.push(...compare(ctx, b, { direction, from, to, selected }));
      }
    }
  }
  return { intent: `ClusterSegmentationIntent ${b.name}`, workloadPods: pods.length, differences };
}

function universe(b: ValidBaseline, podCount: number): Endpoint[] {
  const out: Endpoint[] = Array.from({ length: podCount }, (_, index) => ({ kind: 'pod' as const, index }));
  const ips = new Set<string>([OUTSIDE]);
  for (const p of b.peers) {
    if (p.kind !== 'ip-peer') continue;
    const inside = insideAddress(p.ipBlock.cidr, p.ipBlock.except ?? []);
    if (inside) ips.add(inside);
  }
  return [...out, ...[...ips].map((ip): Endpoint => ({ kind: 'ip', ip }))];
}

interface Check {
  readonly direction: Direction;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly selected: (ns: string) => boolean;
}

function compare(ctx: VerifyContext, b: ValidBaseline, c: Check): Difference[] {
  const out: Difference[] = [];
  for (const { port, protocol } of portsToCheck(ctx, b, c.to)) {
    const verdict = evaluate(ctx.cluster, { from: c.from, to: c.to, port, protocol });
    const side = c.direction === 'Ingress' ? verdict.ingress : verdict.egress;
    const expected = expect(ctx, b, c, { port, protocol });
    const base = { direction: c.direction, from: endpointName(ctx.cluster, c.from), to: endpointName(ctx.cluster, c.to), port, protocol };
    if (expected !== undefined && !side.allowed) out.push({ kind: 'missing', ...base, flow: expected });
    if (expected === undefined && side.allowed) {
      const openedBy = side.kind === 'allowed' ? side.allowedBy : [];
      out.push({ kind: 'extra', ...base, openedBy, byOwnPolicy: openedBy.length > 0 });
    }
  }
  return out;
}

function portsToCheck(ctx: VerifyContext, b: ValidBaseline, to: Endpoint): { port: number; protocol: Protocol }[] {
  const declared = to.kind === 'pod' ? (ctx.cluster.pods[to.index]?.ports ?? []) : [];
  const keys = [
    ...declared.map((p) => `${p.port}/${p.protocol}`),
    ...b.flows.flatMap((f) => f.ports.flatMap((p) => (typeof p.port === 'number' ? [p.port - 1, p.port, p.endPort ?? p.port, (p.endPort ?? p.port) + 1].map((n) => `${n}/${p.protocol}`) : []))),
    '53/UDP',
    '53/TCP',
    ...PROTOCOLS.map((p) => `${PROBE_PORT}/${p}`),
  ];
  return [...new Set(keys)].sort().flatMap((k) => {
    const [text, protocol] = k.split('/');
    const port = Number(text);
    return port >= 1 && port <= 65535 ? [{ port, protocol: protocol as Protocol }] : [];
  });
}

/** Which part of the baseline allows this side: a flow's index, SAME_NAMESPACE, DNS, or undefined (denied). */
function expect(ctx: VerifyContext, b: ValidBaseline, c: Check, q: { port: number; protocol: Protocol }): number | undefined {
  const self = c.direction === 'Ingress' ? c.to : c.from;
  const other = c.direction === 'Ingress' ? c.from : c.to;
  const me = self.kind === 'pod' ? ctx.cluster.pods[self.index] : undefined;
  if (!me) return undefined;
  const there = other.kind === 'pod' ? ctx.cluster.pods[other.index] : undefined;
  if (there && there.namespace === me.namespace && b.allowSameNamespace) return SAME_NAMESPACE;
  const flow = b.flows.find((f) => portOk(ctx, c, f.ports, q) && (ownSide(ctx, f, c, { me, other }) || farEnd(ctx, f, c, { me, there })));
  if (flow) return flow.index;
  return dnsAllows(b, c, { me, there, ...q }) ? DNS : undefined;
}

type Flow = ValidBaseline['flows'][number];

function portOk(ctx: VerifyContext, c: Check, ports: Flow['ports'], q: { port: number; protocol: Protocol }): boolean {
  const declared = c.to.kind === 'pod' ? (ctx.cluster.pods[c.to.index]?.pod.spec?.containers ?? []).flatMap((x) => x.ports ?? []) : [];
  return ports.length === 0 || ports.some((p) => flowPortMatches(p, q.port, q.protocol, declared));
}

/** The flow's own side: this pod is in `namespace`, the peer is the other end (never in this namespace). */
function ownSide(ctx: VerifyContext, f: Flow, c: Check, x: { me: PodView; other: Endpoint }): boolean {
  const here = { namespace: x.me.namespace } as unknown as ValidIntent;
  return f.direction === c.direction && f.peers.some((p) => endpointHas(ctx, here, p, x.other));
}

/** The far end: this pod is one of the flow's peer, the other end a pod of another selected namespace. */
function farEnd(ctx: VerifyContext, f: Flow, c: Check, x: { me: PodView; there: PodView | undefined }): boolean {
  if (f.direction === c.direction || !x.there || x.there.namespace === x.me.namespace || !c.selected(x.there.namespace)) return false;
  const labels = ctx.namespaceLabels.get(x.me.namespace) ?? {};
  return f.peers.some((p) => p.kind === 'selector-peer' && matchesSelector(p.namespaceSelector, labels) && matchesSelector(p.podSelector ?? {}, x.me.labels));
}

function isDns(p: { namespace: string; labels: Readonly<Record<string, string>> } | undefined): boolean {
  return p !== undefined && p.namespace === DNS_NAMESPACE && Object.entries(DNS_LABELS).every(([k, v]) => labelValue(p.labels, k) === v);
}

type PodView = { namespace: string; labels: Readonly<Record<string, string>> };

function dnsAllows(b: ValidBaseline, c: Check, x: { me: PodView; there: PodView | undefined; port: number; protocol: Protocol }): boolean {
  if (!b.allowDNS || x.port !== 53 || x.protocol === 'SCTP') return false;
  if (c.direction === 'Egress') return isDns(x.there);
  return isDns(x.me) && x.there !== undefined && c.selected(x.there.namespace);
}
