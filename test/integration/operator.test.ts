/**
 * The operator against the real control plane (apiserver + etcd + kube-controller-manager's GC), run in-process
 * in each test's fresh namespace. Assertions are on what the apiserver holds.
 */
import { setTimeout as sleep } from 'timers/promises';
import { strict as assert } from 'assert';
import type { Cluster } from './cluster';
import { eventually, freshNamespace, useCluster } from './cluster';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, assertMatches, expectedPolicies, intent, readyOf, runOperator, shopSpec } from './operator.support'

describe('operator (integration)', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let view: ClusterView;
  let ns: { name: string; cleanup: () => Promise<void> };
  const running: CountedOperator[] = [];

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    view = new ClusterView(cluster.kc);
  });

  beforeEach(async () => {
    ns = await freshNamespace(cluster, 'op');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((o) => o.stop()));
    await ns.cleanup();
  });

  async function operator(extra = {}): Promise<CountedOperator> {
    const op = await runOperator(cluster.kc, [ns.name], extra);
    running.push(op);
    return op;
  }

  async function converged(name: string): Promise<NetworkPolicy[]> {
    return eventually(async () => {
      const stored = await view.getIntent(ns.name, name);
      const live = await view.policies(ns.name, MANAGED);
      assertMatches(live, expectedPolicies(stored));
      assert.equal(readyOf(stored).status, 'True', JSON.stringify(stored.status));
      assert.equal(stored.status?.observedGeneration, stored.metadata.generation);
      return live;
    }, 30_000);
  }

  it('creates the compiled policies, owned by the intent, and reports Ready with an Event', async () => {
    await operator();
    await view.createIntent(intent(ns.name, 'shop', shopSpec(3)));
    const live = await converged('shop');
    assert.equal(live.length, 3);
    const stored = await view.getIntent(ns.name, 'shop');
    assert.deepEqual(stored.status?.policies, live.map((p) => p.metadata.name).sort());
    assert.equal(stored.status?.flows, 2);
    assert.equal(stored.status?.conditions?.find((c) => c.type === 'Degraded')?.status, 'False');
    await eventually(async () => assert.ok((await view.reasons(ns.name, 'shop')).includes('PolicyCreated')));
  });

  it('follows an edit of the intent: new policies appear and stale ones go', async () => {
    await operator();
    await view.createIntent(intent(ns.name, 'shop', shopSpec(3)));
    await converged('shop');
    await view.updateSpec(ns.name, 'shop', shopSpec(2, { isolation: { directions: ['Ingress', 'Egress'] } }));
    const live = await converged('shop');
    assert.deepEqual(live.map((p) => p.metadata.name).sort(), ['shop.w0.egress', 'shop.w0.ingress', 'shop.w1.egress', 'shop.w1.ingress']);
  });

  it('recreates a policy deleted out-of-band and restores one edited by hand', async () => {
    const op = await operator();
    await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
    const [first, second] = await converged('shop');
    await view.net.deleteNamespacedNetworkPolicy(first?.metadata.name ?? '', ns.name);
    const edited = (await view.net.readNamespacedNetworkPolicy(second?.metadata.name ?? '', ns.name)).body;
    edited.spec = { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] }; // allow everything: a security regression
    await view.net.replaceNamespacedNetworkPolicy(edited.metadata?.name ?? '', ns.name, edited);
    await converged('shop');
    const restored = (await view.policies(ns.name, MANAGED)).find((p) => p.metadata.name === second?.metadata.name);
    assert.deepEqual(restored?.spec, second?.spec);
    const drift = await op.metrics.driftCorrections.get();
    assert.ok((drift.values[0]?.value ?? 0) >= 2, `drift corrections: ${JSON.stringify(drift.values)}`);
    await eventually(async () => assert.ok((await view.reasons(ns.name, 'shop')).includes('DriftCorrected')));
  });

  it('never touches a foreign policy with a clashing name and reports NameConflict', async () => {
    const foreign = { metadata: { name: 'shop.w1.ingress', labels: { team: 'ops' } }, spec: { podSelector: { matchLabels: { x: 'y' } }, policyTypes: ['Ingress'] } };
    const created = (await view.net.createNamespacedNetworkPolicy(ns.name, foreign)).body;
    await operator();
    await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
    await eventually(async () => {
      const stored = await view.getIntent(ns.name, 'shop');
      assert.equal(readyOf(stored).reason, 'NameConflict');
      assert.match(readyOf(stored).message ?? '', /shop.w1.ingress/);
      assert.deepEqual(stored.status?.policies, ['shop.w0.ingress']);
    });
    const after = (await view.net.readNamespacedNetworkPolicy('shop.w1.ingress', ns.name)).body;
    assert.equal(after.metadata?.resourceVersion, created.metadata?.resourceVersion, 'the foreign policy was written');
    assert.deepEqual(await view.policyNames(ns.name, MANAGED), ['shop.w0.ingress']);
  });

  it('keeps the policies it owns when an update is invalid, and says InvalidSpec', async () => {
    await operator();
    await view.createIntent(intent(ns.name, 'shop', shopSpec(3)));
    const before = await converged('shop');
    // The CRD accepts a flow to an undeclared name; netseg's validation does not.
    await view.updateSpec(ns.name, 'shop', { ...shopSpec(1), flows: [{ from: 'w0', to: 'nosuch' }] });
    await eventually(async () => {
      const stored = await view.getIntent(ns.name, 'shop');
      assert.equal(readyOf(stored).reason, 'InvalidSpec');
      assert.equal(stored.status?.observedGeneration, 2);
      assert.equal(stored.status?.conditions?.find((c) => c.type === 'Degraded')?.status, 'True');
    });
    await sleep(2_500); // a resync passes too
    const after = await view.policies(ns.name, MANAGED);
    assert.deepEqual(after.map((p) => [p.metadata.name, p.metadata.resourceVersion]), before.map((p) => [p.metadata.name, p.metadata.resourceVersion]));
    await eventually(async () => assert.ok((await view.reasons(ns.name, 'shop')).includes('InvalidSpec')));
  });

  it('in DryRun writes no policy and lists the ones it would own', async () => {
    const op = await operator();
    await view.createIntent(intent(ns.name, 'shop', shopSpec(2, { enforcement: 'DryRun' })));
    await eventually(async () => {
      const stored = await view.getIntent(ns.name, 'shop');
      assert.equal(readyOf(stored).reason, 'DryRun');
      assert.deepEqual(stored.status?.policies, ['shop.w0.ingress', 'shop.w1.ingress']);
      assert.match(readyOf(stored).message ?? '', /would create 2/);
    });
    assert.deepEqual(await view.policyNames(ns.name), []);
    assert.deepEqual(op.writes.filter((w) => w.includes('NetworkPolicy')), []);
  });

  it('switching an enforced intent to DryRun keeps its policies as they are', async () => {
    await operator();
    await view.createIntent(intent(ns.name, 'shop', shopSpec(3)));
    const before = await converged('shop');
    await view.updateSpec(ns.name, 'shop', shopSpec(1, { enforcement: 'DryRun' }));
    await eventually(async () => assert.match(readyOf(await view.getIntent(ns.name, 'shop')).message ?? '', /delete 2/));
    const after = await view.policies(ns.name, MANAGED);
    assert.deepEqual(after.map((p) => p.metadata.resourceVersion), before.map((p) => p.metadata.resourceVersion));
  });

  it('makes zero API writes in steady state, across resyncs', async () => {
    const op = await operator({ resyncMs: 1_000 });
    await view.createIntent(intent(ns.name, 'shop', shopSpec(4, { isolation: { directions: ['Ingress', 'Egress'], scope: 'Namespace' } })));
    const live = await converged('shop');
    await sleep(1_500); // the reconciles triggered by our own writes' watch events
    const intentRv = (await view.getIntent(ns.name, 'shop')).metadata.resourceVersion;
    const writesBefore = op.writes.length;
    const reconcilesBefore = (await op.metrics.reconcileTotal.get()).values.reduce((n, v) => n + v.value, 0);
    await sleep(3_500);
    assert.deepEqual(op.writes.slice(writesBefore), []);
    const reconcilesAfter = (await op.metrics.reconcileTotal.get()).values.reduce((n, v) => n + v.value, 0);
    assert.ok(reconcilesAfter > reconcilesBefore, 'resyncs did run');
    assert.equal((await view.getIntent(ns.name, 'shop')).metadata.resourceVersion, intentRv);
    const now = await view.policies(ns.name, MANAGED);
    assert.deepEqual(now.map((p) => p.metadata.resourceVersion), live.map((p) => p.metadata.resourceVersion));
  });

  it('deleting the intent removes its policies (kube-controller-manager garbage collection)', async () => {
    await operator();
    await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
    await converged('shop');
    await view.deleteIntent(ns.name, 'shop');
    await eventually(async () => assert.deepEqual(await view.policyNames(ns.name, MANAGED), []), 60_000);
  });

  it('never sweeps a policy that carries our labels but no intent controller: a label is no proof of ownership', async () => {
    // A label can be written by anyone, and a policy orphaned with --cascade=orphan keeps its labels: the
    // operator deletes only what a SegmentationIntent uid controls (the code before 0.2 deleted this one).
    const labelled = { metadata: { name: 'ghost.w0.ingress', labels: { 'app.kubernetes.io/managed-by': 'netseg-operator', 'netseg.io/intent': 'ghost' } }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
    await view.net.createNamespacedNetworkPolicy(ns.name, labelled);
    await view.createIntent(intent(ns.name, 'shop', shopSpec(1)));
    const op = await operator();
    await eventually(async () => assert.equal(readyOf(await view.getIntent(ns.name, 'shop')).reason, 'Reconciled'));
    await sleep(4_500); // two resyncs and sweeps (resync 2 s in these tests)
    assert.deepEqual(await view.policyNames(ns.name), ['ghost.w0.ingress', 'shop.w0.ingress']);
    assert.deepEqual(op.writes.filter((w) => w.startsWith('delete NetworkPolicy')), []);
  });

  it('converges with no orphans when stopped mid-way and restarted after the intent changed', async () => {
    const first = await operator({ workers: 1 });
    await view.createIntent(intent(ns.name, 'big', shopSpec(12, { isolation: { directions: ['Ingress', 'Egress'] } })));
    await eventually(async () => assert.ok((await view.policyNames(ns.name, MANAGED)).length > 0), 30_000, 20);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    await view.updateSpec(ns.name, 'big', shopSpec(3));
    await operator();
    const live = await converged('big');
    assert.deepEqual(live.map((p) => p.metadata.name).sort(), ['big.w0.ingress', 'big.w1.ingress', 'big.w2.ingress']);
  });

  it('with --namespace-selector governs exactly the namespaces whose labels match, including ones labelled later', async () => {
    const label = `sel-${ns.name}`;
    await view.core.patchNamespace(ns.name, { metadata: { labels: { 'netseg.io/test-scope': label } } }, undefined, undefined, undefined, undefined, undefined, { headers: { 'Content-Type': 'application/merge-patch+json' } });
    const other = await freshNamespace(cluster, 'op-other');
    try {
      await operator({ namespaces: [], namespaceSelector: `netseg.io/test-scope=${label}` });
      await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
      await view.createIntent(intent(other.name, 'shop', shopSpec(2)));
      await converged('shop');
      await sleep(2_500); // a resync passes
      assert.deepEqual(await view.policyNames(other.name), [], 'an unselected namespace was written');
      await view.core.patchNamespace(other.name, { metadata: { labels: { 'netseg.io/test-scope': label } } }, undefined, undefined, undefined, undefined, undefined, { headers: { 'Content-Type': 'application/merge-patch+json' } });
      await eventually(async () => assert.deepEqual(await view.policyNames(other.name, MANAGED), ['shop.w0.ingress', 'shop.w1.ingress']));
    } finally {
      await other.cleanup();
    }
  });

  it('serves /metrics, /healthz and /readyz', async () => {
    const op = await operator();
    await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
    await converged('shop');
    const get = async (path: string): Promise<{ code: number; body: string }> => {
      const r = await fetch(`http://127.0.0.1:${op.metricsPort}${path}`);
      return { code: r.status, body: await r.text() };
    };
    assert.equal((await get('/healthz')).code, 200);
    await eventually(async () => assert.equal((await get('/readyz')).code, 200));
    const m = (await get('/metrics')).body;
    for (const name of ['netseg_reconcile_total{result="reconciled"}', 'netseg_reconcile_duration_seconds_bucket', 'netseg_queue_depth', 'netseg_drift_corrections_total', 'netseg_api_requests_total{verb="create",code="201"}', 'process_resident_memory_bytes']) {
      assert.ok(m.includes(name), `${name} missing from /metrics`);
    }
    assert.match(m, /netseg_policies_managed 2/);
  });
});
