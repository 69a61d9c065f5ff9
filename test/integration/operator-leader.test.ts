/**
 * Two operators with leader election on a Lease: only the holder writes; a standby takes over when the leader
 * stops (released lease: at once) or dies (expired lease: within 15 s); a watch cut off from the apiserver
 * reconnects and catches up.
 */
import { setTimeout as sleep } from 'timers/promises';
import { strict as assert } from 'assert';
import type { Cluster } from './cluster';
import { eventually, freshNamespace, useCluster } from './cluster';
import type { CountedOperator, Proxy } from './operator.support';
import { ClusterView, MANAGED, assertMatches, expectedPolicies, intent, proxyTo, readyOf, runOperator, shopSpec } from './operator.support'

describe('operator leader election and reconnects (integration)', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let view: ClusterView;
  let ns: { name: string; cleanup: () => Promise<void> };
  const running: CountedOperator[] = [];
  const proxies: Proxy[] = [];

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    view = new ClusterView(cluster.kc);
  });

  beforeEach(async () => {
    ns = await freshNamespace(cluster, 'opl');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((o) => o.stop().catch(() => undefined)));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await ns.cleanup();
  });

  async function candidate(kc = cluster.kc, identity: string, extra = {}): Promise<CountedOperator> {
    const op = await runOperator(kc, [ns.name], { leaderElect: true, leaseNamespace: ns.name, leaseName: 'netseg-operator', identity, resyncMs: 60_000, ...extra });
    running.push(op);
    return op;
  }

  async function converged(name: string): Promise<void> {
    await eventually(async () => {
      const stored = await view.getIntent(ns.name, name);
      assertMatches(await view.policies(ns.name, `${MANAGED},netseg.io/intent=${name}`), expectedPolicies(stored));
      assert.equal(readyOf(stored).status, 'True');
      assert.equal(stored.status?.observedGeneration, stored.metadata.generation);
    }, 30_000);
  }

  const nonLeaseWrites = (op: CountedOperator): string[] => op.writes.filter((w) => !w.includes('Lease'));

  it('lets only the leader write, and the standby takes over at once when the leader stops', async () => {
    const a = await candidate(cluster.kc, 'a');
    await eventually(() => assert.ok(a.isLeader()));
    const b = await candidate(cluster.kc, 'b');
    await eventually(() => assert.ok(b.isReady(), 'a standby is ready once it knows the leader'));
    await view.createIntent(intent(ns.name, 'shop', shopSpec(3)));
    await converged('shop');
    assert.ok(!b.isLeader());
    assert.deepEqual(nonLeaseWrites(b), []);
    assert.ok(nonLeaseWrites(a).length > 0);

    const t0 = Date.now();
    await a.stop();
    running.splice(running.indexOf(a), 1);
    await eventually(() => assert.ok(b.isLeader()), 15_000, 100);
    const tookOverMs = Date.now() - t0;
    assert.ok(tookOverMs < 5_000, `released lease taken over after ${tookOverMs} ms`);
    await view.updateSpec(ns.name, 'shop', shopSpec(2));
    await converged('shop');
    assert.ok(nonLeaseWrites(b).length > 0);
  });

  it('a standby takes over within 15 s when the leader dies without releasing, and the dead leader stops writing', async () => {
    const px = await proxyTo(cluster.kc);
    proxies.push(px);
    const a = await candidate(px.kc, 'a');
    await eventually(() => assert.ok(a.isLeader()));
    const b = await candidate(cluster.kc, 'b');
    await eventually(() => assert.ok(b.isReady()));
    await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
    await converged('shop');

    const t0 = Date.now();
    px.cut(); // a is cut off from the apiserver: it can't renew, nor release
    await eventually(() => assert.ok(b.isLeader()), 15_000, 100);
    const tookOverMs = Date.now() - t0;
    assert.ok(tookOverMs <= 15_000, `took over after ${tookOverMs} ms`);
    await eventually(() => assert.ok(!a.isLeader(), 'the old leader deposes itself after the renew deadline'), 15_000);
    const aWrites = nonLeaseWrites(a).length;
    px.restore();
    await view.updateSpec(ns.name, 'shop', shopSpec(3));
    await converged('shop');
    await sleep(1_000);
    assert.equal(nonLeaseWrites(a).length, aWrites, 'the deposed leader wrote after losing the lease');
  });

  it('reconnects its watches after losing the apiserver, and catches up on what happened meanwhile', async () => {
    const px = await proxyTo(cluster.kc);
    proxies.push(px);
    // A long resync: only the watches can notice the changes below in time.
    const op = await runOperator(px.kc, [ns.name], { resyncMs: 10 * 60_000 });
    running.push(op);
    await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
    await converged('shop');

    px.cut();
    await sleep(3_000); // watches fail and back off; lists fail too
    // Changes while the operator is blind: a policy deleted by hand, a new intent.
    const victim = (await view.policyNames(ns.name, MANAGED))[0] ?? '';
    await view.net.deleteNamespacedNetworkPolicy(victim, ns.name);
    await view.createIntent(intent(ns.name, 'late', shopSpec(2)));
    px.restore();

    await converged('shop');
    await converged('late');
    assert.ok((await view.policyNames(ns.name, MANAGED)).includes(victim));
  });
});
