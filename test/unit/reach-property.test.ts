/**
 * Property tests: on random small clusters, the engine (indexed, with its fast matrix path) agrees with a
 * brute-force evaluator written straight from the documentation, with no precomputation and its own
 * selector, port and CIDR code. If both were written from a wrong reading the table tests catch it; this
 * catches the indexing and the fast path diverging from the plain reading.
 */
import * as assert from 'assert';
import fc from 'fast-check';
import type {
  LabelSelector,
  Namespace,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  Pod,
  Protocol,
} from '../../src/model/kubernetes';
import { buildCluster, computeMatrix, evaluate, forEachEntry, resolveEndpoint } from '../../src/reach';

// ---------------------------------------------------------------------------------------- brute force

interface World {
  readonly namespaces: Namespace[];
  readonly pods: Pod[];
  readonly policies: NetworkPolicy[];
}

type Side = { pod: Pod } | { ip: string };

function selects(sel: LabelSelector, labels: Record<string, string>): boolean {
  const okLabels = Object.keys(sel.matchLabels ?? {}).every((k) => labels[k] === sel.matchLabels?.[k]);
  const okExprs = (sel.matchExpressions ?? []).every((e) => {
    const present = e.key in labels;
    if (e.operator === 'In') return present && (e.values ?? []).includes(labels[e.key] as string);
    if (e.operator === 'NotIn') return !present || !(e.values ?? []).includes(labels[e.key] as string);
    if (e.operator === 'Exists') return present;
    return !present;
  });
  return okLabels && okExprs;
}

function bits(ip: string): string {
  if (ip.includes(':')) throw new Error('the brute force only knows IPv4, and the generator only makes IPv4');
  return ip.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/');
  return bits(ip).slice(0, Number(len)) === bits(net as string).slice(0, Number(len));
}

function nsLabels(w: World, name: string): Record<string, string> {
  const found = w.namespaces.find((n) => n.metadata.name === name);
  return { ...(found?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
}

function peerHas(w: World, policyNs: string, peer: NetworkPolicyPeer, x: Side): boolean {
  if (peer.ipBlock) {
    const ips = 'ip' in x ? [x.ip] : x.pod.status?.podIP ? [x.pod.status.podIP] : [];
    return ips.some((ip) => inCidr(ip, peer.ipBlock!.cidr) && !(peer.ipBlock!.except ?? []).some((e) => inCidr(ip, e)));
  }
  if ('ip' in x) return false;
  const podNs = x.pod.metadata.namespace as string;
  const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, nsLabels(w, podNs)) : podNs === policyNs;
  return nsOk && selects(peer.podSelector ?? {}, x.pod.metadata.labels ?? {});
}

function portHas(p: NetworkPolicyPort, port: number, protocol: Protocol, dst: Side): boolean {
  if ((p.protocol ?? 'TCP') !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'number') return port >= p.port && port <= (p.endPort ?? p.port);
  if ('ip' in dst) return false;
  const declared = (dst.pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  return declared.some((c) => c.name === p.port && (c.protocol ?? 'TCP') === protocol && c.containerPort === port);
}

function sideAllows(w: World, dir: 'Ingress' | 'Egress', subject: Pod, peer: Side, port: number, protocol: Protocol, dst: Side): boolean {
  const ns = subject.metadata.namespace;
  const applying = w.policies.filter((p) => {
    const types = p.spec.policyTypes?.length ? p.spec.policyTypes : (p.spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
    return p.metadata.namespace === ns && selects(p.spec.podSelector, subject.metadata.labels ?? {}) && types.includes(dir);
  });
  if (applying.length === 0) return true;
  return applying.some((p) => {
    const rules = dir === 'Ingress' ? (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })) : (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
    return rules.some(
      (r) =>
        (!r.peers || r.peers.length === 0 || r.peers.some((x) => peerHas(w, p.metadata.namespace as string, x, peer))) &&
        (!r.ports || r.ports.length === 0 || r.ports.some((x) => portHas(x, port, protocol, dst))),
    );
  });
}

function bruteAllowed(w: World, from: Side, to: Side, port: number, protocol: Protocol): boolean {
  if ('pod' in from && 'pod' in to && from.pod === to.pod) return true;
  const ingress = 'ip' in to || sideAllows(w, 'Ingress', to.pod, from, port, protocol, to);
  const egress = 'ip' in from || sideAllows(w, 'Egress', from.pod, to, port, protocol, to);
  return ingress && egress;
}

// ---------------------------------------------------------------------------------------- generators

const KEYS = ['app', 'tier'];
const VALUES = ['a', 'b'];
const NAMESPACES = ['n1', 'n2', 'n3'];
const PORTS = [80, 443, 8080];
const CIDRS = ['10.0.0.0/16', '10.0.1.0/24', '10.0.0.0/8', '192.0.2.0/24', '0.0.0.0/0'];
const EXTERNAL = ['192.0.2.7', '198.51.100.1', '10.0.1.200'];

const labels = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 });
const selector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 1 }),
    matchExpressions: fc.array(
      fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('In' as const, 'NotIn' as const, 'Exists' as const, 'DoesNotExist' as const), values: fc.subarray(VALUES, { minLength: 1 }) }),
      { maxLength: 1 },
    ),
  },
  { requiredKeys: [] },
);
const peer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: selector }),
  fc.record({ namespaceSelector: selector, podSelector: selector }),
  fc.record({ ipBlock: fc.record({ cidr: fc.constantFrom(...CIDRS), except: fc.subarray(['10.0.1.0/25', '10.0.2.0/24']) }) }),
);
const port: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP' as const, 'UDP' as const) }, { requiredKeys: [] }),
  fc.record({ port: fc.constantFrom(...PORTS), protocol: fc.constantFrom('TCP' as const, 'UDP' as const) }, { requiredKeys: ['port'] }),
  fc.record({ port: fc.constant(80), endPort: fc.constantFrom(443, 8080) }),
  fc.record({ port: fc.constantFrom('web', 'dns', 'nope'), protocol: fc.constantFrom('TCP' as const, 'UDP' as const) }, { requiredKeys: ['port'] }),
);
const maybeList = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[] | undefined> => fc.oneof(fc.constant(undefined), fc.array(a, { maxLength: 2 }));
const rule = fc.record({ peers: maybeList(peer), ports: maybeList(port) });
const policy = fc.record({
  ns: fc.constantFrom(...NAMESPACES),
  podSelector: selector,
  policyTypes: fc.constantFrom(undefined, ['Ingress' as const], ['Egress' as const], ['Ingress' as const, 'Egress' as const]),
  ingress: maybeList(rule),
  egress: maybeList(rule),
});
const podArb = fc.record({
  ns: fc.constantFrom(...NAMESPACES),
  labels,
  ports: fc.subarray([
    { containerPort: 80, name: 'web' },
    { containerPort: 443 },
    { containerPort: 8080, name: 'web', protocol: 'UDP' as const },
    { containerPort: 53, name: 'dns', protocol: 'UDP' as const },
  ]),
  ip: fc.constantFrom(undefined, '10.0.0.5', '10.0.1.5', '10.0.2.5', '10.1.0.5'),
});

const world: fc.Arbitrary<World> = fc
  .record({
    nsLabels: fc.array(labels, { minLength: 3, maxLength: 3 }),
    pods: fc.array(podArb, { minLength: 1, maxLength: 5 }),
    policies: fc.array(policy, { maxLength: 4 }),
  })
  .map(({ nsLabels: nl, pods, policies }) => ({
    namespaces: NAMESPACES.map((name, i) => ({ metadata: { name, labels: nl[i] ?? {} } })),
    pods: pods.map((p, i) => ({
      metadata: { namespace: p.ns, name: `p${i}`, labels: p.labels },
      spec: { containers: [{ ports: p.ports }] },
      ...(p.ip ? { status: { podIP: p.ip } } : {}),
    })),
    policies: policies.map((p, i) => ({
      apiVersion: 'networking.k8s.io/v1' as const,
      kind: 'NetworkPolicy' as const,
      metadata: { namespace: p.ns, name: `np${i}` },
      spec: {
        podSelector: p.podSelector,
        ...(p.policyTypes ? { policyTypes: [...p.policyTypes] } : {}),
        ...(p.ingress ? { ingress: p.ingress.map((r) => ({ ...(r.peers ? { from: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
        ...(p.egress ? { egress: p.egress.map((r) => ({ ...(r.peers ? { to: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
      },
    })),
  }));

// ---------------------------------------------------------------------------------------- properties

function key(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

describe('reach: engine agrees with a brute-force reading of the spec', () => {
  it('evaluate() answers every pod/IP pair on every port and protocol like the brute force', () => {
    fc.assert(
      fc.property(world, (w) => {
        const c = buildCluster(w);
        // Pod IPs may repeat across pods: resolve by name only, so both evaluators see the same endpoint.
        const sides: { side: Side; name: string }[] = [
          ...w.pods.map((p) => ({ side: { pod: p }, name: key(p) })),
          ...EXTERNAL.filter((ip) => !w.pods.some((p) => p.status?.podIP === ip)).map((ip) => ({ side: { ip }, name: ip })),
        ];
        for (const a of sides) {
          for (const b of sides) {
            if ('ip' in a.side && 'ip' in b.side) continue;
            for (const protocol of ['TCP', 'UDP'] as const) {
              for (const n of [53, 80, 443, 444, 8080]) {
                const from = resolveEndpoint(c, a.name);
                const to = resolveEndpoint(c, b.name);
                assert.ok(from && to);
                const got = evaluate(c, { from, to, port: n, protocol }).allowed;
                const want = bruteAllowed(w, a.side, b.side, n, protocol);
                assert.strictEqual(got, want, `${a.name} -> ${b.name} ${protocol}/${n}`);
              }
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the fast matrix equals evaluate() for every pair on every declared port', () => {
    fc.assert(
      fc.property(world, (w) => {
        const c = buildCluster(w);
        let count = 0;
        forEachEntry(computeMatrix(c), (e) => {
          count++;
          const from = resolveEndpoint(c, e.from);
          const to = resolveEndpoint(c, e.to);
          assert.ok(from && to && from.kind === 'pod' && to.kind === 'pod');
          const fromPod = w.pods.find((p) => key(p) === e.from) as Pod;
          const toPod = w.pods.find((p) => key(p) === e.to) as Pod;
          assert.strictEqual(e.allowed, bruteAllowed(w, { pod: fromPod }, { pod: toPod }, e.port, e.protocol), JSON.stringify(e));
        });
        const declared = c.pods.reduce((n, p) => n + p.ports.length, 0);
        assert.strictEqual(count, c.pods.length * declared);
      }),
      { numRuns: 300 },
    );
  });
});
