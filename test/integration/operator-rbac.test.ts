/**
 * The operator running as the ServiceAccount of deploy/rbac/ (a real token from the TokenRequest API, with the
 * apiserver's --authorization-mode=RBAC) does its whole main flow: proof that the ClusterRole and the Lease
 * Role grant every verb it uses.
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './cluster';
import { REPO_ROOT, eventually, freshNamespace, kubectl, serviceAccountKubeConfig, useCluster } from './cluster';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, assertMatches, expectedPolicies, intent, readyOf, runOperator, shopSpec } from './operator.support';
import { BaselineView, baseline, expectedBaselinePolicies, readyOfBaseline } from './baseline.support';

describe('operator as its ServiceAccount with deploy/rbac (integration)', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let view: ClusterView;
  let saKc: k8s.KubeConfig;
  let ns: { name: string; cleanup: () => Promise<void> };
  let op: CountedOperator | undefined;
  const leaseName = `netseg-rbac-${crypto.randomBytes(3).toString('hex')}`;

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    view = new ClusterView(cluster.kc);
    await kubectl(cluster, ['apply', '-k', path.join(REPO_ROOT, 'deploy', 'rbac')]);
    saKc = await serviceAccountKubeConfig(cluster.kc, 'netseg-system', 'netseg-operator');
    ns = await freshNamespace(cluster, 'oprbac');
  });

  after(async () => {
    await op?.stop();
    await ns?.cleanup();
    await view?.core.listNamespace().then(() => cluster.kc.makeApiClient(k8s.CoordinationV1Api).deleteNamespacedLease(leaseName, 'netseg-system')).catch(() => undefined);
  });

  it('is denied what the role does not grant (the token really is the ServiceAccount)', async () => {
    const core = saKc.makeApiClient(k8s.CoreV1Api);
    await assert.rejects(core.listNamespacedSecret(ns.name), (e: { statusCode?: number }) => e.statusCode === 403);
  });

  it('creates, restores and removes policies, writes status and events, and holds its Lease', async () => {
    op = await runOperator(saKc, [ns.name], { leaderElect: true, leaseNamespace: 'netseg-system', leaseName, identity: 'rbac-test' });
    await eventually(() => assert.ok(op?.isLeader()));
    await view.createIntent(intent(ns.name, 'shop', shopSpec(3, { isolation: { directions: ['Ingress', 'Egress'] } })));
    const converged = (): Promise<void> =>
      eventually(async () => {
        const stored = await view.getIntent(ns.name, 'shop');
        assertMatches(await view.policies(ns.name, MANAGED), expectedPolicies(stored));
        assert.equal(readyOf(stored).status, 'True', JSON.stringify(stored.status));
      });
    await converged();
    await eventually(async () => assert.ok((await view.reasons(ns.name, 'shop')).includes('PolicyCreated')));
    await view.net.deleteNamespacedNetworkPolicy('shop.w0.ingress', ns.name);
    await view.updateSpec(ns.name, 'shop', shopSpec(2, { isolation: { directions: ['Ingress', 'Egress'] } }));
    await converged();
    const denied = op.writes.filter((w) => w.endsWith(' 403'));
    assert.deepEqual(denied, [], 'a write was forbidden');
    const lease = await cluster.kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease(leaseName, 'netseg-system');
    assert.equal(lease.body.spec?.holderIdentity, 'rbac-test');
  });

  it('keeps a ClusterSegmentationIntent: namespace watch, policies, status and events, nothing forbidden', async () => {
    assert.ok(op, 'the operator of the previous test runs');
    const bv = new BaselineView(cluster.kc);
    const name = `rbac-${crypto.randomBytes(3).toString('hex')}`;
    const selector = { matchLabels: { 'kubernetes.io/metadata.name': ns.name } };
    await bv.create(baseline(name, { namespaceSelector: selector, directions: ['Ingress', 'Egress'] }));
    try {
      await eventually(async () => {
        const stored = await bv.get(name);
        const live = (await view.policies(ns.name, `netseg.io/cluster-intent=${name}`));
        assertMatches(live, expectedBaselinePolicies(stored, ns.name, {}));
        assert.equal(readyOfBaseline(stored).status, 'True', JSON.stringify(stored.status));
        assert.ok((await bv.reasons(name)).includes('PolicyCreated'));
      });
      assert.deepEqual(op?.writes.filter((w) => w.endsWith(' 403')), [], 'a write was forbidden');
      assert.deepEqual(op?.requests.filter((w) => w.endsWith(' 403')), [], 'a read was forbidden');
    } finally {
      await bv.delete(name);
    }
  });
});

