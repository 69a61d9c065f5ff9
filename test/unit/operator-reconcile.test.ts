/**
 * reconcile() and the sweep against an in-memory FakeKube, for the edge cases that are hard to provoke on a
 * real apiserver (failing lists, failing writes). Assertions are on the resulting state, not on call sequences.
 */
import { strict as assert } from 'assert';
import winston from 'winston';
import type { SegmentationIntent } from '../../src/intent/types';
import type { KubeObject, NetworkPolicy } from '../../src/model/kubernetes';
import { ApiError } from '../../src/kube/errors';
import { reconcile } from '../../src/operator/reconcile';
import { NotSyncedError, PolicyStore } from '../../src/operator/store';
import type { PolicyReader } from '../../src/operator/store';
import { MANAGED_SELECTOR } from '../../src/operator/ownership';
import { resyncAndSweep } from '../../src/operator/sweep';
import type { SweepApi } from '../../src/operator/sweep';
import { FakeKube } from './fake-kube';
import { overPolicyBudget } from '../fixtures/intents/hostile';
import { type ClusterObjects, indexObjects } from '../../src/resolve';

const log = winston.createLogger({ silent: true });

const spec = (n: number, extra: Partial<SegmentationIntent['spec']> = {}): SegmentationIntent['spec'] => ({
  workloads: Array.from({ length: n }, (_, i) => ({ name: `w${i}`, selector: { matchLabels: { app: `w${i}` } } })),
  flows: n > 1 ? [{ from: 'w0', to: 'w1' }] : [],
  ...extra,
});

function deps(kube: FakeKube, policies: PolicyReader = kube, objects: ClusterObjects = indexObjects([])): Parameters<typeof reconcile>[1] {
  return { kube, policies, objects, now: () => new Date('2026-01-01T00:00:00Z'), log };
}

const API_SERVICE: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] } };

/** A watch-fed store that has listed the fake apiserver once, at this moment (and lags from then on). */
function listedStore(k: FakeKube): PolicyStore {
  const store = new PolicyStore();
  store.replace(JSON.parse(JSON.stringify([...k.policies.values()])) as KubeObject[]);
  return store;
}

describe('operator reconcile (FakeKube)', () => {
  it('creates the policies, reports Ready, and a second pass writes nothing', async () => {
    const k = new FakeKube();
    k.addIntent(spec(3));
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'reconciled');
    assert.deepEqual(k.names(), ['shop.w0.ingress', 'shop.w1.ingress', 'shop.w2.ingress']);
    assert.equal(k.ready(), 'Reconciled');
    const writes = k.writes;
    await reconcile('shop/shop', deps(k));
    assert.equal(k.writes, writes);
  });

  it('on a new generation writes Ready Unknown/Reconciling before touching a policy, then Ready True', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    const seen: string[] = [];
    const replaceStatus = k.replaceIntentStatus.bind(k);
    const createPolicy = k.createPolicy.bind(k);
    k.replaceIntentStatus = async (i, st) => (seen.push(`status ${st.conditions?.find((c) => c.type === 'Ready')?.reason}`), replaceStatus(i, st));
    k.createPolicy = async (p) => (seen.push(`create ${p.metadata.name}`), createPolicy(p));
    const status = k.intents.get('shop/shop')?.status;
    k.addIntent(spec(3), 2); // a spec edit: the apiserver keeps the status and bumps the generation
    Object.assign(k.intents.get('shop/shop') ?? {}, { status });
    await reconcile('shop/shop', deps(k));
    assert.deepEqual(seen, ['status Reconciling', 'create shop.w2.ingress', 'status Reconciled']);
    assert.equal(k.intents.get('shop/shop')?.status?.observedGeneration, 2);
  });

  it('keeps every owned policy when the intent becomes invalid', async () => {
    const k = new FakeKube();
    k.addIntent(spec(3));
    await reconcile('shop/shop', deps(k));
    const before = JSON.stringify([...k.policies.values()]);
    k.addIntent({ ...spec(1), flows: [{ from: 'w0', to: 'nosuch' }] }, 2);
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'invalid');
    assert.equal(JSON.stringify([...k.policies.values()]), before);
    assert.equal(k.ready(), 'InvalidSpec');
    assert.ok(k.events.includes('InvalidSpec'));
  });

  it('keeps every owned policy when a referenced Service is missing: UnresolvedReference naming field and object, an Event', async () => {
    const k = new FakeKube();
    const withService = { ...spec(1), workloads: [{ name: 'w0', selector: { matchLabels: { app: 'w0' } } }, { name: 'api', service: 'api' }], flows: [{ from: 'w0', to: 'api' }] };
    k.addIntent(withService);
    assert.equal((await reconcile('shop/shop', deps(k, k, indexObjects([API_SERVICE])))).result, 'reconciled');
    const api = k.policies.get('shop/shop.api.ingress');
    assert.deepEqual(api?.spec.ingress?.[0]?.ports, [{ port: 'web', protocol: 'TCP' }], 'the Service port compiles to its targetPort');
    const before = JSON.stringify([...k.policies.values()]);
    assert.equal((await reconcile('shop/shop', deps(k, k, indexObjects([])))).result, 'invalid');
    assert.equal(JSON.stringify([...k.policies.values()]), before, 'nothing deleted or changed');
    const ready = k.intents.get('shop/shop')?.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'UnresolvedReference');
    assert.match(ready?.message ?? '', /spec\.workloads\[1\]\.service: Service shop\/api not found/);
    assert.ok(k.events.includes('UnresolvedReference'));
    assert.equal((await reconcile('shop/shop', deps(k, k, indexObjects([API_SERVICE])))).result, 'reconciled', 'resolves by itself when the object is back');
    assert.equal(k.ready(), 'Reconciled');
  });

  it('puts uncovered Ingress backends on the status, with a Warning Event', async () => {
    const k = new FakeKube();
    const ing: KubeObject = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { namespace: 'shop', name: 'web' }, spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 80 } } } }, { path: '/x', pathType: 'Prefix', backend: { service: { name: 'other', port: { number: 80 } } } }] } }] } };
    k.addIntent({
      workloads: [{ name: 'api', service: 'api' }],
      peers: [{ name: 'nginx', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
      ingressRoutes: [{ from: ['nginx'] }],
    });
    assert.equal((await reconcile('shop/shop', deps(k, k, indexObjects([API_SERVICE, ing])))).result, 'reconciled');
    assert.deepEqual(k.intents.get('shop/shop')?.status?.uncoveredBackends, ['web/other:80']);
    assert.ok(k.events.includes('UncoveredBackends'));
    assert.deepEqual(k.policies.get('shop/shop.api.ingress')?.spec.ingress?.[0]?.ports, [{ port: 'web', protocol: 'TCP' }]);
  });

  it('deletes nothing when the list of owned policies fails', async () => {
    const k = new FakeKube();
    k.addIntent(spec(3));
    await reconcile('shop/shop', deps(k));
    k.addIntent(spec(1), 2);
    k.failLists = true;
    await assert.rejects(reconcile('shop/shop', deps(k)), (e: unknown) => e instanceof ApiError && e.code === 500);
    assert.equal(k.names().length, 3);
    assert.equal(k.ready(), 'ApiError', 'the failure is on the status');
  });

  it('reports a failing write on the status and rethrows it for a retry', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    k.failWrites = true;
    await assert.rejects(reconcile('shop/shop', deps(k)));
    assert.equal(k.ready(), 'ApiError');
    k.failWrites = false;
    await reconcile('shop/shop', deps(k));
    assert.equal(k.ready(), 'Reconciled');
  });

  it('after a delete failed, lists on the status the policies that exist, not those it meant to keep', async () => {
    const k = new FakeKube();
    k.addIntent(spec(3));
    await reconcile('shop/shop', deps(k));
    k.addIntent(spec(3, { workloads: [{ name: 'w0', selector: { matchLabels: { app: 'w0' } } }, { name: 'x', selector: { matchLabels: { app: 'x' } } }], flows: [] }), 2);
    k.failDeletes = true;
    await assert.rejects(reconcile('shop/shop', deps(k)), (e: unknown) => e instanceof ApiError && e.code === 500);
    assert.equal(k.ready(), 'ApiError');
    assert.deepEqual(k.names(), ['shop.w0.ingress', 'shop.w1.ingress', 'shop.w2.ingress', 'shop.x.ingress']);
    assert.deepEqual(k.intents.get('shop/shop')?.status?.policies, k.names(), 'status.policies says what exists');
  });

  it('refuses an intent whose output is over the compile budget: InvalidSpec naming the part, policies kept', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    const before = JSON.stringify([...k.policies.values()]);
    const { peers, flows } = overPolicyBudget('w0');
    k.addIntent({ ...spec(2), peers, flows }, 2);
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'invalid');
    assert.equal(JSON.stringify([...k.policies.values()]), before, 'nothing written');
    const ready = k.intents.get('shop/shop')?.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'InvalidSpec');
    assert.match(ready?.message ?? '', /spec\.workloads\[0\].*shop\.w0\.ingress.*over the 64\.0 KiB limit/);
  });

  it('turns a create that finds a foreign policy into a NameConflict, leaving it as it was', async () => {
    const k = new FakeKube();
    const foreign: NetworkPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'shop.w1.ingress', namespace: 'shop' }, spec: { podSelector: {} } };
    k.policies.set('shop/shop.w1.ingress', foreign);
    k.addIntent(spec(2));
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'conflict');
    assert.deepEqual(k.policies.get('shop/shop.w1.ingress'), foreign);
    assert.equal(k.ready(), 'NameConflict');
    assert.deepEqual(k.intents.get('shop/shop')?.status?.policies, ['shop.w0.ingress']);
  });

  it('writes no policy in DryRun', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2, { enforcement: 'DryRun' }));
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'dryrun');
    assert.deepEqual(k.names(), []);
    assert.deepEqual(k.intents.get('shop/shop')?.status?.policies, ['shop.w0.ingress', 'shop.w1.ingress']);
  });

  it('does nothing for an intent that is gone', async () => {
    const k = new FakeKube();
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'gone');
    assert.equal(k.writes, 0);
  });
});

describe('operator reconcile from the watch-fed store (FakeKube)', () => {
  it('acts on nothing before the store has listed: NotSyncedError, no write, no status', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await assert.rejects(reconcile('shop/shop', deps(k, new PolicyStore())), NotSyncedError);
    assert.equal(k.writes, 0);
    assert.deepEqual(k.names(), []);
    assert.equal(k.ready(), undefined);
  });

  it('treats a create that finds its own policy, not yet in a lagging store, as done and not as a NameConflict', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    const stale = listedStore(k); // listed before the first pass: empty
    await reconcile('shop/shop', deps(k, stale));
    const before = JSON.stringify([...k.policies.values()]);
    const events = k.events.length;
    assert.equal((await reconcile('shop/shop', deps(k, stale))).result, 'reconciled');
    assert.equal(JSON.stringify([...k.policies.values()]), before, 'our policies were left as they are');
    assert.equal(k.ready(), 'Reconciled');
    assert.deepEqual(k.intents.get('shop/shop')?.status?.policies, ['shop.w0.ingress', 'shop.w1.ingress']);
    assert.deepEqual(k.events.slice(events), [], 'nothing was created, restored or in conflict');
  });

  it('brings its own policy up to date when a create finds it edited and missing from a lagging store', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    const stale = listedStore(k);
    await reconcile('shop/shop', deps(k, stale));
    const edited = k.policies.get('shop/shop.w1.ingress') as NetworkPolicy;
    k.policies.set('shop/shop.w1.ingress', { ...edited, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] }, metadata: { ...edited.metadata, resourceVersion: '99' } });
    assert.equal((await reconcile('shop/shop', deps(k, stale))).result, 'reconciled');
    assert.deepEqual(k.policies.get('shop/shop.w1.ingress')?.spec, edited.spec);
    assert.equal(k.ready(), 'Reconciled');
  });

  it('still reports a foreign policy that holds a desired name as a NameConflict', async () => {
    const k = new FakeKube();
    const foreign: NetworkPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'shop.w1.ingress', namespace: 'shop', uid: 'f', labels: { 'app.kubernetes.io/managed-by': 'netseg-operator', 'netseg.io/intent': 'shop' }, ownerReferences: [{ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', name: 'shop', uid: 'another', controller: true }] }, spec: { podSelector: {} } };
    k.addIntent(spec(2));
    const stale = listedStore(k); // does not know the foreign policy either
    k.policies.set('shop/shop.w1.ingress', foreign);
    assert.equal((await reconcile('shop/shop', deps(k, stale))).result, 'conflict');
    assert.deepEqual(k.policies.get('shop/shop.w1.ingress'), foreign);
    assert.equal(k.ready(), 'NameConflict');
  });

  it('refuses an update computed from a stale store (409) and succeeds once the store caught up', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    const stale = listedStore(k);
    const cur = k.policies.get('shop/shop.w1.ingress') as NetworkPolicy;
    k.policies.set('shop/shop.w1.ingress', { ...cur, metadata: { ...cur.metadata, resourceVersion: '98' } }); // someone else wrote
    k.addIntent(spec(2, { flows: [{ from: 'w0', to: 'w1', ports: [{ port: 8080 }] }] }), 2);
    await assert.rejects(reconcile('shop/shop', deps(k, stale)), (e: unknown) => e instanceof ApiError && e.code === 409);
    assert.equal(k.policies.get('shop/shop.w1.ingress')?.metadata.resourceVersion, '98', 'the stale update was not applied');
    assert.equal((await reconcile('shop/shop', deps(k, listedStore(k)))).result, 'reconciled');
    assert.deepEqual(k.policies.get('shop/shop.w1.ingress')?.spec.ingress?.[0]?.ports, [{ port: 8080, protocol: 'TCP' }]);
  });

  it('never deletes a policy re-created under the same name: the uid precondition refuses the stale delete', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    const stale = listedStore(k);
    const cur = k.policies.get('shop/shop.w1.ingress') as NetworkPolicy;
    const recreated = { ...cur, metadata: { ...cur.metadata, uid: 'someone-else', resourceVersion: '97' } };
    k.policies.set('shop/shop.w1.ingress', recreated);
    k.addIntent(spec(1), 2);
    await assert.rejects(reconcile('shop/shop', deps(k, stale)), (e: unknown) => e instanceof ApiError && e.code === 409);
    assert.deepEqual(k.policies.get('shop/shop.w1.ingress'), recreated);
  });
});

/** The sweep's reads as the operator wires them, here over FakeKube: its lists stand for the caches. */
function sweepApi(k: FakeKube, intents: () => Promise<readonly SegmentationIntent[]> = () => k.listIntents('shop')): SweepApi {
  return {
    managed: () => k.listPolicies('shop', MANAGED_SELECTOR),
    intents,
    getIntent: (ns, name) => k.getIntent(ns, name),
    deletePolicy: (p) => k.deletePolicy(p),
  };
}

describe('operator sweep (FakeKube)', () => {
  it('deletes the managed policies of a deleted intent', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    k.intents.clear();
    const keys: string[] = [];
    assert.equal(await resyncAndSweep(sweepApi(k), { enqueue: (key) => keys.push(key), log }), 2);
    assert.deepEqual(k.names(), []);
  });

  it('sweeps nothing when a read fails', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    k.intents.clear();
    k.failLists = true;
    await assert.rejects(resyncAndSweep(sweepApi(k), { enqueue: () => undefined, log }));
    assert.equal(k.names().length, 2);
  });

  it('sweeps nothing whose intent the intent cache has not seen yet but the apiserver has (confirmed by a GET)', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    const keys: string[] = [];
    assert.equal(await resyncAndSweep(sweepApi(k, async () => []), { enqueue: (key) => keys.push(key), log }), 0);
    assert.equal(k.names().length, 2, 'the policies of a live intent stay');
    assert.deepEqual(keys, []);
  });

  it('sweeps the policies of an older incarnation: the GET finds the name with another uid', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    const again = k.intents.get('shop/shop') as SegmentationIntent;
    k.intents.set('shop/shop', { ...again, metadata: { ...again.metadata, uid: 'uid-2' } });
    assert.equal(await resyncAndSweep(sweepApi(k, async () => []), { log }), 2);
    assert.deepEqual(k.names(), []);
  });
});
