/**
 * ClusterSegmentationIntent on the real control plane (kube-apiserver, etcd, kube-controller-manager with its
 * garbage collector): namespaces created later get their policies, label changes add and remove them, hand
 * edits are restored, DryRun writes nothing, an invalid baseline keeps what it owns, deleting the baseline
 * removes everything it made, and 500 namespaces converge with one write per policy.
 * The operator runs with --namespace-selector on this run's label, so nothing else in the shared cluster is
 * touched; the baseline selects `baseline: "yes"` among those.
 */
import { setTimeout as sleep } from 'timers/promises';
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './cluster';
import { eventually, useCluster } from './cluster';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, assertMatches, runOperator } from './operator.support'
import { BaselineView, baseline, expectedBaselinePolicies, readyOfBaseline } from './baseline.support';

const RUN = crypto.randomBytes(3).toString('hex');
const SCOPE_LABEL = `netseg-baseline-test`;
const SCOPE = { [SCOPE_LABEL]: RUN };
const OUT = { ...SCOPE, baseline: 'no' };

const SPEC = {
  namespaceSelector: { matchLabels: { baseline: 'set-per-test' } },
  directions: ['Ingress' as const, 'Egress' as const],
  allowSameNamespace: true,
  peers: [{ name: 'monitoring', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
  flows: [{ from: 'monitoring', to: 'namespace', ports: [{ port: 9090 }] }],
};

describe('ClusterSegmentationIntent (integration)', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let view: ClusterView;
  let bv: BaselineView;
  let op: CountedOperator | undefined;
  const created: string[] = [];
  const baselines: string[] = [];

  async function namespace(prefix: string, labels: Record<string, string>): Promise<string> {
    const name = `${prefix}-${RUN}-${crypto.randomBytes(2).toString('hex')}`;
    await view.core.createNamespace({ metadata: { name, labels } });
    created.push(name);
    return name;
  }

  /** A baseline selecting only the namespaces of this test: `IN` are their labels. */
  async function newBaseline(spec: typeof SPEC | Record<string, unknown> = SPEC): Promise<{ name: string; IN: Record<string, string> }> {
    const name = `base-${RUN}-${crypto.randomBytes(2).toString('hex')}`;
    const IN = { ...SCOPE, baseline: name };
    await bv.create(baseline(name, { ...spec, namespaceSelector: { matchLabels: { baseline: name } } } as never));
    baselines.push(name);
    return { name, IN };
  }

  /** The namespace's baseline policies equal compileBaseline's for the baseline as stored. */
  async function converged(name: string, ns: string, labels: Record<string, string>): Promise<void> {
    await eventually(async () => {
      const stored = await bv.get(name);
      const live = (await view.policies(ns, MANAGED)).filter((p) => p.metadata.labels?.['netseg.io/cluster-intent'] === name);
      assertMatches(live, expectedBaselinePolicies(stored, ns, labels));
    });
  }

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    view = new ClusterView(cluster.kc);
    bv = new BaselineView(cluster.kc);
    op = await runOperator(cluster.kc, [], { namespaceSelector: `${SCOPE_LABEL}=${RUN}`, leaseNamespace: 'default' });
  });

  after(async function () {
    this.timeout(300_000);
    await op?.stop();
    for (const b of baselines) await bv.delete(b);
    await Promise.all(created.map((n) => view.core.deleteNamespace(n).catch(() => undefined)));
  });

  it('gives a namespace created after the baseline its policies, and reports them on the status', async () => {
    const { name, IN } = await newBaseline();
    const ns = await namespace('late', IN);
    await converged(name, ns, IN);
    assert.deepEqual((await view.policyNames(ns, `netseg.io/cluster-intent=${name}`)), [`${name}.cluster-egress`, `${name}.cluster-ingress`]);
    await eventually(async () => {
      const b = await bv.get(name);
      assert.equal(readyOfBaseline(b).status, 'True', JSON.stringify(b.status));
      assert.equal(b.status?.namespaces, 1);
      assert.equal(b.status?.policies, 2);
      assert.equal(b.status?.observedGeneration, b.metadata.generation);
      assert.ok((await bv.reasons(name)).includes('PolicyCreated'));
    });
  });

  it('adds the policies when a label change makes a namespace match, and removes them when it stops matching', async () => {
    const { name, IN } = await newBaseline();
    const ns = await namespace('relabel', OUT);
    await sleep(1_500);
    assert.deepEqual(await view.policyNames(ns, `netseg.io/cluster-intent=${name}`), [], 'not selected: nothing');
    await bv.relabel(ns, IN);
    await converged(name, ns, IN);
    await bv.relabel(ns, OUT);
    await eventually(async () => assert.deepEqual(await view.policyNames(ns, `netseg.io/cluster-intent=${name}`), []));
    await eventually(async () => assert.ok((await bv.reasons(name)).includes('PolicyDeleted')));
  });

  it('restores a hand-edited and a hand-deleted policy, and writes nothing at steady state', async () => {
    const { name, IN } = await newBaseline();
    const ns = await namespace('drift', IN);
    await converged(name, ns, IN);
    const edited = (await view.net.readNamespacedNetworkPolicy(`${name}.cluster-ingress`, ns)).body;
    edited.spec = { ...edited.spec, ingress: [{}] } as k8s.V1NetworkPolicySpec; // allow everything
    await view.net.replaceNamespacedNetworkPolicy(`${name}.cluster-ingress`, ns, edited);
    await view.net.deleteNamespacedNetworkPolicy(`${name}.cluster-egress`, ns);
    await converged(name, ns, IN);
    await eventually(async () => assert.ok((await bv.reasons(name)).includes('DriftCorrected')));
    // Steady state: several resync periods (2 s) pass with no write at all.
    await sleep(1_000);
    const before = op?.writes.length ?? 0;
    await sleep(5_000);
    assert.deepEqual(op?.writes.slice(before), []);
  });

  it('in DryRun writes no policy and reports what it would do', async () => {
    const { name, IN } = await newBaseline({ ...SPEC, enforcement: 'DryRun' });
    const ns = await namespace('dry', IN);
    await eventually(async () => {
      const b = await bv.get(name);
      assert.equal(readyOfBaseline(b).reason, 'DryRun', JSON.stringify(b.status));
      assert.match(readyOfBaseline(b).message ?? '', /would create 2, update 0, delete 0/);
      assert.equal(b.status?.policies, 2);
    });
    assert.deepEqual(await view.policyNames(ns, `netseg.io/cluster-intent=${name}`), []);
  });

  it('keeps every policy it owns when its spec becomes invalid, and says why', async () => {
    const { name, IN } = await newBaseline();
    const ns = await namespace('invalid', IN);
    await converged(name, ns, IN);
    // Peer to peer: the CRD can't see it (from/to are free-form), the operator refuses it.
    await bv.updateSpec(name, { ...SPEC, namespaceSelector: { matchLabels: { baseline: name } }, peers: [...SPEC.peers, { name: 'other', namespaceSelector: {} }], flows: [{ from: 'monitoring', to: 'other' }] } as never);
    await eventually(async () => {
      const b = await bv.get(name);
      assert.equal(readyOfBaseline(b).reason, 'InvalidSpec', JSON.stringify(b.status));
      assert.match(readyOfBaseline(b).message ?? '', /spec\.flows\[0\]: .*does not touch "namespace"/);
    });
    assert.equal((await view.policyNames(ns, `netseg.io/cluster-intent=${name}`)).length, 2);
  });

  it('leaves a same-named policy it does not own untouched and reports the conflict', async () => {
    const name = `conf-${RUN}`;
    const IN = { ...SCOPE, baseline: name };
    const ns = await namespace('conflict', IN);
    await view.net.createNamespacedNetworkPolicy(ns, { metadata: { name: `${name}.cluster-ingress` }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] } });
    baselines.push(name);
    await bv.create(baseline(name, { ...SPEC, namespaceSelector: { matchLabels: { baseline: name } } } as never));
    await eventually(async () => {
      const b = await bv.get(name);
      assert.equal(readyOfBaseline(b).reason, 'NameConflict', JSON.stringify(b.status));
      assert.deepEqual(b.status?.conflicts, [`${ns}/${name}.cluster-ingress`]);
    });
    const foreign = (await view.net.readNamespacedNetworkPolicy(`${name}.cluster-ingress`, ns)).body;
    assert.deepEqual(JSON.parse(JSON.stringify(foreign.spec?.ingress)), [{}], 'never changed');
  });

  it('is removed with everything it made when the baseline is deleted (the garbage collector, operator stopped)', async () => {
    const { name, IN } = await newBaseline();
    const nss = [await namespace('gc', IN), await namespace('gc', IN)];
    for (const ns of nss) await converged(name, ns, IN);
    await op?.stop();
    op = undefined;
    await bv.delete(name);
    await eventually(async () => {
      for (const ns of nss) assert.deepEqual(await view.policyNames(ns, `netseg.io/cluster-intent=${name}`), []);
    }, 60_000);
    op = await runOperator(cluster.kc, [], { namespaceSelector: `${SCOPE_LABEL}=${RUN}`, leaseNamespace: 'default' });
  });

  it('converges 500 new namespaces with one write per policy (and status), then writes nothing', async function () {
    this.timeout(900_000);
    // The other tests resync every 2 s; with --namespace-selector a resync lists each governed namespace, which at
    // 500 namespaces is thousands of requests every 2 s competing with the work measured here: resync rarely.
    await op?.stop();
    op = await runOperator(cluster.kc, [], { namespaceSelector: `${SCOPE_LABEL}=${RUN}`, leaseNamespace: 'default', resyncMs: 600_000 });
    const { name, IN } = await newBaseline({ ...SPEC, flows: [], peers: [] });
    await eventually(async () => assert.equal(readyOfBaseline(await bv.get(name)).status, 'True'));
    const before = op?.writes.length ?? 0;
    const names = Array.from({ length: 500 }, (_, i) => `many-${RUN}-${i}`);
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((n) => core.createNamespace({ metadata: { name: n, labels: IN } })));
    }
    created.push(...names);
    await eventually(async () => {
      const b = await bv.get(name);
      assert.equal(b.status?.namespaces, 500, JSON.stringify(b.status));
      assert.equal(b.status?.policies, 1000);
    }, 600_000, 1_000);
    const writes = (op?.writes ?? []).slice(before);
    const policyWrites = writes.filter((w) => w.startsWith('create NetworkPolicy') || w.startsWith('update NetworkPolicy') || w.startsWith('delete NetworkPolicy'));
    // One create per policy, none sent twice: a pass that runs before the watch showed the previous pass's creates
    // reads them from the store's expectations (src/operator/store.ts), not as missing (which cost a create
    // answered 409 each, a few per 1,000 before).
    assert.equal(policyWrites.length, 1000, `policy writes: ${policyWrites.length} (${[...new Set(policyWrites)].join(', ')})`);
    assert.ok(policyWrites.every((w) => w === 'create NetworkPolicy 201'), [...new Set(policyWrites)].join(', '));
    // Steady state starts once the operator is quiet (a pass queued when the status converged may still update
    // the status); then nothing at all may be written, and nothing in between but the status.
    let quietFrom = op?.writes.length ?? 0;
    for (let i = 0; i < 30; i++) {
      await sleep(2_000);
      const now = op?.writes.length ?? 0;
      if (now === quietFrom) break;
      quietFrom = now;
    }
    const late = (op?.writes ?? []).slice(before + writes.length, quietFrom).filter((w) => !w.startsWith('create Event'));
    assert.ok(late.every((w) => w.startsWith('update ClusterSegmentationIntent')), `after converging: ${late.join(', ')}`);
    const steady = op?.writes.length ?? 0;
    await sleep(5_000);
    assert.deepEqual((op?.writes ?? []).slice(steady).filter((w) => !w.startsWith('create Event')), []);
  });
});
