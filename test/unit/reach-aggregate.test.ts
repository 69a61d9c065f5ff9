/**
 * The default `netseg reach` view folds the pod-to-pod matrix into workload pairs. On random clusters, every
 * row is checked against the per-pod matrix: "allowed" ports are allowed for EVERY pod pair, "partial" counts
 * are exact, and every allowed pod pair is covered by some row. It never claims more or less than the pods.
 */
import { strict as assert } from 'assert';
import fc from 'fast-check';
import type { NetworkPolicy, Pod } from '../../src/model/kubernetes';
import { buildCluster, computeMatrix } from '../../src/reach';
import { type Connection, aggregate, mergeRanges, workloadOf } from '../../src/cli/reach-render';

const NS = ['n1', 'n2', 'n3'];
const PORTS = [
  { containerPort: 80 },
  { containerPort: 81 },
  { containerPort: 82 },
  { containerPort: 53, protocol: 'UDP' as const },
];

const selector = fc.oneof(
  fc.constant({}),
  fc.record({ matchLabels: fc.record({ app: fc.constantFrom('a', 'b', 'c') }) }),
  fc.record({ matchLabels: fc.record({ tier: fc.constantFrom('x', 'y') }) }),
);
const peer = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: fc.record({ matchLabels: fc.record({ 'kubernetes.io/metadata.name': fc.constantFrom(...NS) }) }), podSelector: selector }),
);
const ports = fc.option(fc.array(fc.oneof(fc.record({ port: fc.constantFrom(80, 81, 82) }), fc.record({ port: fc.constant(80), endPort: fc.constant(81) })), { minLength: 1, maxLength: 2 }), { nil: undefined });
const rule = fc.record({ peers: fc.option(fc.array(peer, { maxLength: 2 }), { nil: undefined }), ports });

const world = fc
  .record({
    pods: fc.array(
      fc.record({ ns: fc.constantFrom(...NS), app: fc.constantFrom('a', 'b', 'c'), tier: fc.constantFrom('x', 'y'), owned: fc.boolean(), ports: fc.subarray(PORTS, { minLength: 1 }) }),
      { minLength: 1, maxLength: 9 },
    ),
    policies: fc.array(fc.record({ ns: fc.constantFrom(...NS), sel: selector, dir: fc.constantFrom('Ingress' as const, 'Egress' as const), rules: fc.array(rule, { maxLength: 2 }) }), { maxLength: 4 }),
  })
  .map(({ pods, policies }) => ({
    namespaces: NS.map((name) => ({ metadata: { name } })),
    pods: pods.map(
      (p, i): Pod => ({
        metadata: {
          namespace: p.ns,
          name: `${p.app}-${i}`,
          labels: { app: p.app, tier: p.tier },
          ...(p.owned ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${p.app}-owner-5d8f9`, uid: 'u', controller: true }] } : {}),
        },
        spec: { containers: [{ name: 'c', ports: p.ports }] },
      }),
    ),
    policies: policies.map(
      (p, i): NetworkPolicy => ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { namespace: p.ns, name: `np${i}` },
        spec: {
          podSelector: p.sel,
          policyTypes: [p.dir],
          [p.dir === 'Ingress' ? 'ingress' : 'egress']: p.rules.map((r) => ({
            ...(r.peers ? { [p.dir === 'Ingress' ? 'from' : 'to']: r.peers } : {}),
            ...(r.ports ? { ports: r.ports } : {}),
          })),
        },
      }),
    ),
  }));

/** "80-82/TCP" → ["80/TCP", "81/TCP", "82/TCP"]. */
function expand(range: string): string[] {
  const [ports, protocol] = range.split('/');
  const [a, b] = (ports ?? '').split('-').map(Number);
  return Array.from({ length: (b ?? (a as number)) - (a as number) + 1 }, (_, k) => `${(a as number) + k}/${protocol}`);
}

describe('reach: the per-workload view agrees with the per-pod matrix', () => {
  it('claims a port allowed only when every pod pair is, counts partial pairs exactly, and misses no allowed pair', () => {
    fc.assert(
      fc.property(world, (w) => {
        const c = buildCluster(w);
        const agg = aggregate(c);
        // The truth: (source workload, destination workload, port) → [allowed pairs, pairs].
        const truth = new Map<string, [number, number]>();
        const m = computeMatrix(c);
        const names = c.pods.map(workloadOf);
        for (const col of m.columns) {
          for (let s = 0; s < c.pods.length; s++) {
            if (s === col.to) continue;
            const k = `${names[s]} ${names[col.to]} ${col.port.port}/${col.port.protocol}`;
            const t = truth.get(k) ?? [0, 0];
            t[0] += col.allowed[s] ?? 0;
            t[1]++;
            truth.set(k, t);
          }
        }
        const rows: Connection[] = [];
        agg.forEachDestination((r) => rows.push(...r));
        const covered = new Set<string>();
        for (const row of rows) {
          for (const from of row.from) assert.ok(agg.workloads.some((x) => from === '*' || from === `${x.namespace}/*` || from === x.name), `row from ${from} names workloads`);
          const sources = agg.workloads.filter((x) => row.from.some((from) => from === '*' || from === `${x.namespace}/*` || from === x.name));
          for (const src of sources) {
            for (const p of row.allowed.flatMap(expand)) {
              const k = `${src.name} ${row.to} ${p}`;
              const t = truth.get(k);
              if (!t) continue; // no pair (a single-pod destination and itself): loopback, always allowed
              assert.equal(t[0], t[1], `${k}: row says allowed, ${t[0]} of ${t[1]} pairs are`);
              covered.add(k);
            }
            for (const part of row.partial) {
              for (const p of expand(part.ports)) {
                const k = `${src.name} ${row.to} ${p}`;
                assert.deepEqual(truth.get(k), [part.pairs, part.of], `${k}: partial counts`);
                assert.ok(part.pairs > 0 && part.pairs < part.of);
                covered.add(k);
              }
            }
          }
        }
        for (const [k, [allowed]] of truth) if (allowed > 0) assert.ok(covered.has(k), `${k}: ${allowed} allowed pairs not shown`);
      }),
      { numRuns: 400 },
    );
  });

  it('names workloads by owner, then app label, then pod; merges consecutive ports per protocol', () => {
    const c = buildCluster({
      namespaces: [],
      pods: [
        { metadata: { namespace: 'a', name: 'web-5d8f9c-x1', labels: { app: 'other' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f9c', uid: 'u', controller: true }] } },
        { metadata: { namespace: 'a', name: 'p', labels: { app: 'api', 'app.kubernetes.io/name': 'apiserver' } } },
        { metadata: { namespace: 'a', name: 'lonely' } },
      ],
      policies: [],
    });
    assert.deepEqual(c.pods.map(workloadOf), ['a/lonely', 'a/apiserver', 'a/web']);
    const p = (port: number, protocol: 'TCP' | 'UDP' = 'TCP'): { port: number; protocol: 'TCP' | 'UDP' } => ({ port, protocol });
    assert.deepEqual(mergeRanges([p(53, 'UDP'), p(54, 'UDP'), p(80), p(81), p(82), p(443)]), ['53-54/UDP', '80-82/TCP', '443/TCP']);
  });
});
