/**
 * The breaks a security review found, on the real control plane: each test failed on the code before the fix.
 *  - the orphan sweep mapped a policy to an intent by its (shortened) label value, so an intent named after
 *    another's shortened value made every resync delete the first intent's policies;
 *  - `<intent>-<workload>-ingress` was ambiguous, so one intent's name could take another's policy name and
 *    leave its workload unisolated (NameConflict, decided by creation order);
 *  - a watch that keeps failing (here: RBAC without `watch`) left /readyz at 200.
 * Plus the move to the new names: no moment without a policy.
 */
import { setTimeout as sleep } from 'timers/promises';
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as http from 'http';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './cluster';
import { eventually, freshNamespace, serviceAccountKubeConfig, useCluster } from './cluster';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, intent, readyOf, runOperator, shopSpec } from './operator.support'

/** The `netseg.io/intent` value the code before the fix gave a name over 63 characters: a public function. */
function oldLabelValue(name: string): string {
  const head = name.slice(0, 54).replace(/[-.]+$/, '');
  return `${head}-${crypto.createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

describe('ownership and names under attack (integration)', function () {
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
    ns = await freshNamespace(cluster, 'own');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((o) => o.stop()));
    await ns.cleanup();
  });

  async function ready(name: string): Promise<void> {
    await eventually(async () => assert.equal(readyOf(await view.getIntent(ns.name, name)).reason, 'Reconciled'), 30_000);
  }

  it('never sweeps the policies of an intent whose shortened label value another intent is named after (10 resyncs, 0 deletes)', async () => {
    const long = `payments-${'x'.repeat(70)}`;
    const impostor = oldLabelValue(long);
    assert.equal(impostor.length, 63);
    const op = await runOperator(cluster.kc, [ns.name], { resyncMs: 1_000 });
    running.push(op);
    await view.createIntent(intent(ns.name, long, shopSpec(2)));
    await view.createIntent(intent(ns.name, impostor, shopSpec(2)));
    await ready(long);
    await ready(impostor);
    const before = op.writes.length;
    await sleep(11_000); // ≥ 10 resyncs and sweeps
    const deletes = op.writes.slice(before).filter((w) => w.startsWith('delete NetworkPolicy'));
    assert.deepEqual(deletes, [], 'the sweep deleted policies of a live intent');
    assert.deepEqual(op.writes.slice(before).filter((w) => w.startsWith('create NetworkPolicy')), [], 'and re-created them');
    const owners = new Set((await view.policies(ns.name, MANAGED)).map((p) => p.metadata.ownerReferences?.[0]?.name));
    assert.deepEqual([...owners].sort(), [long, impostor].sort());
  });

  it('gives intents a-b (workload c) and a (workload b-c) policies of their own: both isolated, no NameConflict', async () => {
    running.push(await runOperator(cluster.kc, [ns.name]));
    const one = { workloads: [{ name: 'c', selector: { matchLabels: { app: 'one' } } }], flows: [] };
    const two = { workloads: [{ name: 'b-c', selector: { matchLabels: { app: 'two' } } }], flows: [] };
    await view.createIntent(intent(ns.name, 'a-b', one));
    await view.createIntent(intent(ns.name, 'a', two));
    await ready('a-b');
    await ready('a');
    const live = await view.policies(ns.name, MANAGED);
    const selecting = (app: string): string[] => live.filter((p) => p.spec.podSelector.matchLabels?.['app'] === app).map((p) => p.metadata.name ?? '');
    assert.deepEqual(selecting('one'), ['a-b.c.ingress']);
    assert.deepEqual(selecting('two'), ['a.b-c.ingress']);
  });

  it('moves policies of the old names to the new ones with no moment without a policy for a workload', async () => {
    const created = await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
    const owner = { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', name: 'shop', uid: created.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
    // What the operator before the rename left: the same specs under `<intent>-<workload>-ingress`.
    for (const w of ['w0', 'w1']) {
      const spec = { podSelector: { matchLabels: { app: w } }, policyTypes: ['Ingress'] };
      const labels = { 'app.kubernetes.io/managed-by': 'netseg-operator', 'netseg.io/intent': 'shop' };
      await view.net.createNamespacedNetworkPolicy(ns.name, { metadata: { name: `shop-${w}-ingress`, labels, ownerReferences: [owner] }, spec } as k8s.V1NetworkPolicy);
    }
    const listed = await view.net.listNamespacedNetworkPolicy(ns.name);
    const seen = new Map<string, NetworkPolicy>(listed.body.items.map((p) => [p.metadata?.name ?? '', p as unknown as NetworkPolicy]));
    const gaps: string[] = [];
    const watch = await new k8s.Watch(cluster.kc).watch(
      `/apis/networking.k8s.io/v1/namespaces/${ns.name}/networkpolicies`,
      { resourceVersion: listed.body.metadata?.resourceVersion },
      (type: string, obj: NetworkPolicy) => {
        if (type === 'DELETED') seen.delete(obj.metadata.name ?? '');
        else seen.set(obj.metadata.name ?? '', obj);
        for (const app of ['w0', 'w1']) {
          if (![...seen.values()].some((p) => p.spec.podSelector.matchLabels?.['app'] === app)) gaps.push(`${type} ${obj.metadata.name}: no policy selects ${app}`);
        }
      },
      () => undefined,
    );
    try {
      running.push(await runOperator(cluster.kc, [ns.name]));
      await ready('shop');
      await eventually(async () => assert.deepEqual((await view.policies(ns.name, MANAGED)).map((p) => p.metadata.name).sort(), ['shop.w0.ingress', 'shop.w1.ingress']));
      await sleep(500); // the last events reach the watch
      assert.deepEqual(gaps, []);
    } finally {
      (watch as { abort(): void }).abort();
    }
  });

  it('reports not ready on /readyz while a watch keeps failing, here because RBAC grants list but not watch', async () => {
    const rbac = cluster.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedServiceAccount(ns.name, { metadata: { name: 'no-watch' } });
    const rules: k8s.V1PolicyRule[] = [
      { apiGroups: ['netseg.io'], resources: ['segmentationintents'], verbs: ['get', 'list'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
    ];
    await rbac.createNamespacedRole(ns.name, { metadata: { name: 'no-watch' }, rules });
    await rbac.createNamespacedRoleBinding(ns.name, {
      metadata: { name: 'no-watch' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'no-watch' },
      subjects: [{ kind: 'ServiceAccount', name: 'no-watch', namespace: ns.name }],
    });
    const kc = await serviceAccountKubeConfig(cluster.kc, ns.name, 'no-watch');
    const op = await runOperator(kc, [ns.name], { watchUnhealthyAfterMs: 3_000 });
    running.push(op);
    // The lists succeed (so the caches count as listed, which alone made /readyz 200 before); the intent watch
    // is refused on every try, and past the threshold the operator must say it is not ready.
    await eventually(() => assert.ok(op.requests.includes('list SegmentationIntent 200') && op.requests.includes('list NetworkPolicy 200'), op.requests.join(', ')));
    await sleep(4_000);
    assert.equal(await readyz(op.metricsPort), 503);
    await sleep(1_000);
    assert.equal(await readyz(op.metricsPort), 503, 'and stays not ready');
  });
});

function readyz(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/readyz' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}
