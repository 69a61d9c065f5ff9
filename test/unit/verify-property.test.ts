/**
 * Exactness of verify's class-based proof (src/verify/classes.ts, issue 18): on generated intents and clusters,
 * its grouped answer, expanded to one difference per (pod, pod or address, port), is EXACTLY the set the per-pair
 * reference finds (test/fixtures/verify/per-pair-reference.ts: one engine evaluate and one flow reading per
 * triple, as verify worked before). The clusters are made to have classes: several pods share labels, ports and
 * policies, so classes of workload pods and of other pods have many members, and pods of the workloads are also
 * sources and destinations of each other. Other policies (random, in every namespace) open more or isolate; some
 * compiled policies lose a rule, so differences of both kinds occur. fast-check, fixed seed.
 */
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { compile } from '../../src/compile';
import { validateIntent } from '../../src/intent';
import type { ValidIntent } from '../../src/intent/types';
import type { LabelSelector, Namespace, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Pod } from '../../src/model/kubernetes';
import { type Difference, expandReport, proveAll, synthesize } from '../../src/verify';
import { validIntent } from '../fixtures/intents/arbitrary';
import { perPairDifferences } from '../fixtures/verify/per-pair-reference';

const SEED = 18_2026;
const NAMESPACES = ['shop', 'ingress-nginx', 'monitoring', 'kube-system', 'elsewhere'];
const KEYS = ['app', 'tier', 'team'];
const VALUES = ['web', 'api', 'db', 'a'];
const IPS = ['10.1.2.3', '10.2.3.4', '192.168.1.7', '203.0.113.5', '198.51.100.7', '2001:db8::5'];
type ContainerPortSpec = { containerPort: number; protocol: 'TCP' | 'UDP'; name?: string };
const PORT_SETS: ContainerPortSpec[][] = [
  [],
  [{ containerPort: 8080, protocol: 'TCP' }],
  [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 53, protocol: 'UDP', name: 'dns' }],
  [{ containerPort: 50051, protocol: 'TCP', name: 'grpc' }, { containerPort: 9090, protocol: 'TCP', name: 'metrics' }],
];

const labels = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 });
const selector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 1 }),
    matchExpressions: fc.array(fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('In' as const, 'NotIn' as const, 'Exists' as const), values: fc.subarray(VALUES, { minLength: 1 }) }), { maxLength: 1 }),
  },
  { requiredKeys: [] },
);
const peer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: selector }),
  fc.record({ namespaceSelector: selector, podSelector: selector }),
  fc.record({ ipBlock: fc.record({ cidr: fc.constantFrom('10.0.0.0/8', '192.168.0.0/16', '0.0.0.0/0', '203.0.113.0/24'), except: fc.subarray(['10.1.0.0/16', '192.168.1.0/24']) }) }),
);
const port: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP' as const, 'UDP' as const) }),
  fc.record({ port: fc.constantFrom(80, 8080, 53, 50051), protocol: fc.constantFrom('TCP' as const, 'UDP' as const) }),
  fc.record({ port: fc.constant(8000), endPort: fc.constantFrom(8080, 9100) }),
  fc.record({ port: fc.constantFrom('http', 'grpc', 'dns'), protocol: fc.constantFrom('TCP' as const, 'UDP' as const) }),
);
const maybeList = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[] | undefined> => fc.oneof(fc.constant(undefined), fc.array(a, { maxLength: 2 }));
const rule = fc.record({ peers: maybeList(peer), ports: maybeList(port) });
const otherPolicy = fc.record({
  ns: fc.constantFrom(...NAMESPACES),
  podSelector: selector,
  policyTypes: fc.constantFrom(undefined, ['Ingress' as const], ['Egress' as const], ['Ingress' as const, 'Egress' as const]),
  ingress: maybeList(rule),
  egress: maybeList(rule),
});
/** A kind of pod, and how many of it: pods of one kind are alike (a class) unless their IPs differ. */
const podKind = fc.record({
  ns: fc.constantFrom(...NAMESPACES),
  labels,
  ports: fc.constantFrom(...PORT_SETS),
  copies: fc.integer({ min: 1, max: 3 }),
  ips: fc.array(fc.option(fc.constantFrom(...IPS), { nil: undefined }), { minLength: 3, maxLength: 3 }),
});

function valid(raw: Record<string, unknown>): ValidIntent {
  const r = validateIntent(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.intent;
}

interface Case {
  readonly intent: ValidIntent;
  readonly policies: NetworkPolicy[];
  readonly cluster: { namespaces: Namespace[]; pods: Pod[]; policies: NetworkPolicy[] };
}

const testCase: fc.Arbitrary<Case> = fc
  .record({ raw: validIntent, kinds: fc.array(podKind, { maxLength: 5 }), others: fc.array(otherPolicy, { maxLength: 4 }), drop: fc.array(fc.boolean(), { maxLength: 6 }), nsLabels: fc.array(labels, { minLength: 5, maxLength: 5 }) })
  .map(({ raw, kinds, others, drop, nsLabels }) => {
    const intent = valid(raw);
    // Every workload and peer gets pods (twice, so that classes have members), then the random kinds.
    const world = synthesize([intent]);
    const twice = world.pods.flatMap((p) => [p, { ...p, metadata: { ...p.metadata, name: `${p.metadata.name}-2` } }]);
    const random: Pod[] = kinds.flatMap((k, i) =>
      Array.from({ length: k.copies }, (_, c): Pod => {
        const ip = k.ips[c];
        return {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `k${i}-${c}`, namespace: k.ns, labels: k.labels },
          spec: { containers: [{ name: 'main', ports: k.ports.map((p) => ({ ...p })) }] },
          ...(ip && k.ns !== intent.namespace ? { status: { podIP: ip } } : {}),
        };
      }),
    );
    const byName = new Map<string, Record<string, string>>(world.namespaces.map((n) => [n.metadata.name ?? '', { ...(n.metadata.labels ?? {}) }]));
    NAMESPACES.forEach((n, i) => byName.set(n, { ...(nsLabels[i] ?? {}), ...(byName.get(n) ?? {}), 'kubernetes.io/metadata.name': n }));
    const namespaces: Namespace[] = [...byName].map(([name, l]) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: l } }));
    // Compiled policies, some losing their first rule (a missing flow), plus other policies (extras, isolation).
    const policies = compile(intent).map((p, i) => (drop[i] ? { ...p, spec: { ...p.spec, ingress: p.spec.ingress?.slice(1), egress: p.spec.egress?.slice(1) } } : p));
    const otherPolicies: NetworkPolicy[] = others.map((o, i) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: o.ns, name: `other-${i}` },
      spec: {
        podSelector: o.podSelector,
        ...(o.policyTypes ? { policyTypes: [...o.policyTypes] } : {}),
        ...(o.ingress ? { ingress: o.ingress.map((r) => ({ ...(r.peers ? { from: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
        ...(o.egress ? { egress: o.egress.map((r) => ({ ...(r.peers ? { to: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
      },
    }));
    return { intent, policies, cluster: { namespaces, pods: [...twice, ...random], policies: otherPolicies } };
  });

const text = (ds: readonly Difference[]): string[] => ds.map((d) => JSON.stringify(d)).sort();

describe('verify: the class-based proof finds exactly what the per-pair reference finds', function () {
  this.timeout(300_000);

  it('on generated intents and clusters with other policies, every per-pod difference and no other', () => {
    let differences = 0;
    let multiMemberSets = 0;
    fc.assert(
      fc.property(testCase, ({ intent, policies, cluster }) => {
        proveAll([{ intent, policies }], cluster, (report, ctx) => {
          const fast = expandReport(report, ctx).differences.filter((d) => d.kind === 'missing' || d.kind === 'extra' || d.kind === 'missing-dns');
          const reference = perPairDifferences(intent, ctx);
          assert.deepEqual(text(fast), text(reference));
          assert.equal(report.count - report.gaps.length, reference.length, 'the count of a grouped report is its number of per-pod differences');
          differences += reference.length;
          multiMemberSets += report.sets.filter((s) => s.workloadPods.length > 1 && s.otherPods.length > 1).length;
        });
      }),
      { seed: SEED, numRuns: 150 },
    );
    // The property means something only if differences (and sets standing for several pairs) occurred.
    assert.ok(differences > 1000, `only ${differences} differences were compared`);
    assert.ok(multiMemberSets > 50, `only ${multiMemberSets} sets had several pods on both sides`);
  });

  it('on synthetic pods (no cluster file), the same', () => {
    fc.assert(
      fc.property(testCase, ({ intent, policies }) => {
        proveAll([{ intent, policies }], undefined, (report, ctx) => {
          assert.deepEqual(text(expandReport(report, ctx).differences), text(perPairDifferences(intent, ctx)));
        });
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});
