/**
 * The default `netseg reach` view folds the pod-to-pod matrix into workload pairs. On random clusters, every
 * row is checked against the per-pod matrix: "allowed" ports are allowed for EVERY pod pair, "partial" counts
 * are exact, and every allowed pod pair is covered by some row. It never claims more or less than the pods.
 */
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { buildCluster, computeMatrix } from '../../src/reach';
import { type Connection, type Relation, aggregate, mergeRanges, sourcesOf, workloadOf } from '../../src/cli/reach-render';
import { world } from '../fixtures/reach-world';

/** "80-82/TCP" → ["80/TCP", "81/TCP", "82/TCP"]. */
function expand(range: string): string[] {
  const [ports, protocol] = range.split('/');
  const [a, b] = (ports ?? '').split('-').map(Number);
  return Array.from({ length: (b ?? (a as number)) - (a as number) + 1 }, (_, k) => `${(a as number) + k}/${protocol}`);
}

describe('reach: the per-workload view agrees with the per-pod matrix', () => {
  // 'all': every allowed pair; 'policy' (--only-isolated): the allowed pairs whose destination is isolated for
  // ingress or whose source is isolated for egress.
  for (const relation of ['all', 'policy'] as const) it(`claims a port allowed only when every pod pair is, counts partial pairs exactly, and misses no allowed pair (${relation} pairs)`, () => checkRelation(relation));
});

function checkRelation(relation: Relation): void {
  fc.assert(
    fc.property(world, (w) => {
      const c = buildCluster(w);
      const agg = aggregate(c, relation);
      const decided = (s: number, d: number): boolean => relation === 'all' || (c.ingressOf[d] ?? []).length > 0 || (c.egressOf[s] ?? []).length > 0;
      // The truth: (source workload, destination workload, port) → [allowed pairs, pairs].
      const truth = new Map<string, [number, number]>();
      const m = computeMatrix(c);
      const names = c.pods.map(workloadOf);
      for (const col of m.columns) {
        for (let s = 0; s < c.pods.length; s++) {
          if (s === col.to) continue;
          const k = `${names[s]} ${names[col.to]} ${col.port.port}/${col.port.protocol}`;
          const t = truth.get(k) ?? [0, 0];
          t[0] += decided(s, col.to) ? (col.allowed[s] ?? 0) : 0;
          t[1]++;
          truth.set(k, t);
        }
      }
      const rows: Connection[] = [];
      agg.forEachDestination((r) => rows.push(...r));
      const covered = new Set<string>();
      for (const row of rows) {
        // The structured sources say the same as the text, without its ambiguity.
        assert.deepEqual(
          sourcesOf(row).map((r) => (r.kind === 'all' ? '*' : r.kind === 'namespace' ? `${r.namespace}/*` : agg.workloads[r.index]?.name)),
          row.from,
        );
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
}

describe('reach: workload names and port ranges', () => {
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
