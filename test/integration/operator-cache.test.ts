/**
 * Reconcile's gather reads the watch-fed policy store, not the apiserver: once synced, no reconcile lists
 * anything, yet drift is still seen and restored. And every list the store and the sweep rely on is complete:
 * all pages, not just the first.
 */
import { setTimeout as sleep } from 'timers/promises';
import { strict as assert } from 'assert';
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from './cluster';
import { eventually, freshNamespace, useCluster } from './cluster';
import { Kube, KIND_POLICY } from '../../src/kube/client';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, assertMatches, expectedPolicies, intent, readyOf, runOperator, shopSpec } from './operator.support'

describe('operator policy cache (integration)', function () {
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
    ns = await freshNamespace(cluster, 'opc');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((o) => o.stop()));
    await ns.cleanup();
  });

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

  const count = async (op: CountedOperator, verb: string): Promise<number> =>
    (await op.metrics.apiRequests.get()).values.filter((v) => v.labels['verb'] === verb).reduce((n, v) => n + v.value, 0);
  const reconciles = async (op: CountedOperator): Promise<number> =>
    (await op.metrics.reconcileTotal.get()).values.reduce((n, v) => n + v.value, 0);

  it('makes no API list per reconcile once synced, and still restores drift and follows edits', async () => {
    // A 10-minute resync: the start-up sweep is the only periodic list within this test.
    const op = await runOperator(cluster.kc, [ns.name], { resyncMs: 10 * 60_000 });
    running.push(op);
    await eventually(() => assert.ok(op.isReady(), 'the watches listed'));
    await view.createIntent(intent(ns.name, 'shop', shopSpec(3)));
    const [first, second] = await converged('shop');
    await sleep(1_000); // the start-up sweep's lists are done by now
    const listsBefore = await count(op, 'list');
    const reconcilesBefore = await reconciles(op);

    await view.net.deleteNamespacedNetworkPolicy(first?.metadata.name ?? '', ns.name);
    const edited = (await view.net.readNamespacedNetworkPolicy(second?.metadata.name ?? '', ns.name)).body;
    edited.spec = { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] };
    await view.net.replaceNamespacedNetworkPolicy(edited.metadata?.name ?? '', ns.name, edited);
    await converged('shop');
    const restored = (await view.policies(ns.name, MANAGED)).find((p) => p.metadata.name === second?.metadata.name);
    assert.deepEqual(restored?.spec, second?.spec);

    await view.updateSpec(ns.name, 'shop', shopSpec(2, { isolation: { directions: ['Ingress', 'Egress'] } }));
    const live = await converged('shop');
    assert.deepEqual(live.map((p) => p.metadata.name).sort(), ['shop.w0.egress', 'shop.w0.ingress', 'shop.w1.egress', 'shop.w1.ingress']);

    assert.ok((await reconciles(op)) >= reconcilesBefore + 3, 'the drift and the edit were reconciled');
    assert.equal(await count(op, 'list'), listsBefore, 'a reconcile listed from the apiserver');
  });

  it('does not reconcile again on the watch echo of its own writes', async () => {
    const op = await runOperator(cluster.kc, [ns.name], { resyncMs: 10 * 60_000 });
    running.push(op);
    await eventually(() => assert.ok(op.isReady()));
    await sleep(1_000); // the start-up resync of an empty namespace is done
    const before = await reconciles(op);
    await view.createIntent(intent(ns.name, 'shop', shopSpec(6)));
    await converged('shop');
    await sleep(1_500); // any echo reconcile would have run by now
    // The intent's ADDED event; its status write changes no generation. Six creates, none echoed.
    assert.equal((await reconciles(op)) - before, 1, `reconciles: ${JSON.stringify((await op.metrics.reconcileTotal.get()).values)}`);
  });

  it('lists every page: more managed policies than one page holds are all seen', async () => {
    const total = 520; // src/kube pages by 500
    const body = (i: number): k8s.V1NetworkPolicy => ({
      metadata: { name: `p${i}`, labels: { 'app.kubernetes.io/managed-by': 'netseg-operator', 'netseg.io/intent': 'ghost' } },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
    for (let i = 0; i < total; i += 40) {
      await Promise.all(Array.from({ length: Math.min(40, total - i) }, (_, j) => view.net.createNamespacedNetworkPolicy(ns.name, body(i + j))));
    }
    const kube = new Kube(cluster.kc);
    assert.equal((await kube.listPolicies(ns.name, MANAGED)).length, total);
    const forWatch = await kube.listForWatch<NetworkPolicy>({ kind: KIND_POLICY, namespace: ns.name, labelSelector: MANAGED });
    assert.equal(forWatch.items.length, total);
    assert.ok(forWatch.resourceVersion);
  });
});
