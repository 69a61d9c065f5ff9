/**
 * reconcile() and the sweep against an in-memory FakeKube, for the edge cases that are hard to provoke on a
 * real apiserver (failing lists, failing writes). Assertions are on the resulting state, not on call sequences.
 */
import { strict as assert } from 'assert';
import winston from 'winston';
import type { SegmentationIntent, SegmentationIntentStatus } from '../../src/intent/types';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import { ApiError } from '../../src/kube/errors';
import type { EventObject } from '../../src/kube/client';
import { reconcile } from '../../src/operator/reconcile';
import type { KubeApi } from '../../src/operator/reconcile';
import { resyncAndSweep } from '../../src/operator/sweep';

const log = winston.createLogger({ silent: true });

function matches(p: NetworkPolicy, selector: string): boolean {
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return p.metadata.labels?.[k ?? ''] === v;
  });
}

class FakeKube implements KubeApi {
  intents = new Map<string, SegmentationIntent>();
  policies = new Map<string, NetworkPolicy>();
  events: string[] = [];
  writes = 0;
  failLists = false;
  failWrites = false;
  private rv = 1;

  private fail(verb: 'list' | 'create', kind: string): ApiError {
    return new ApiError(500, 'InternalError', { verb, kind }, { detail: 'injected' });
  }

  async getIntent(ns: string, name: string): Promise<SegmentationIntent | undefined> {
    const i = this.intents.get(`${ns}/${name}`);
    return i && (JSON.parse(JSON.stringify(i)) as SegmentationIntent);
  }
  async listIntents(ns?: string): Promise<SegmentationIntent[]> {
    if (this.failLists) throw this.fail('list', 'SegmentationIntent');
    return [...this.intents.values()].filter((i) => !ns || i.metadata.namespace === ns);
  }
  async listPolicies(ns: string | undefined, selector: string): Promise<NetworkPolicy[]> {
    if (this.failLists) throw this.fail('list', 'NetworkPolicy');
    return [...this.policies.values()].filter((p) => (!ns || p.metadata.namespace === ns) && matches(p, selector)).map((p) => JSON.parse(JSON.stringify(p)) as NetworkPolicy);
  }
  private write(): void {
    if (this.failWrites) throw this.fail('create', 'NetworkPolicy');
    this.writes++;
  }
  async createPolicy(p: NetworkPolicy): Promise<void> {
    this.write();
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    if (this.policies.has(key)) throw new ApiError(409, 'AlreadyExists', { verb: 'create', kind: 'NetworkPolicy' }, { detail: 'exists' });
    this.policies.set(key, { ...p, metadata: { ...p.metadata, uid: `u${this.rv}`, resourceVersion: String(this.rv++) } });
  }
  async replacePolicy(p: NetworkPolicy): Promise<void> {
    this.write();
    this.policies.set(`${p.metadata.namespace}/${p.metadata.name}`, { ...p, metadata: { ...p.metadata, resourceVersion: String(this.rv++) } });
  }
  async deletePolicy(p: NetworkPolicy): Promise<void> {
    this.write();
    this.policies.delete(`${p.metadata.namespace}/${p.metadata.name}`);
  }
  async replaceIntentStatus(i: SegmentationIntent, status: SegmentationIntentStatus): Promise<void> {
    this.writes++;
    const key = `${i.metadata.namespace}/${i.metadata.name}`;
    const cur = this.intents.get(key) as SegmentationIntent;
    this.intents.set(key, { ...cur, status });
  }
  async createEvent(e: EventObject): Promise<void> {
    this.events.push(e.reason);
  }

  addIntent(spec: SegmentationIntent['spec'], generation = 1): void {
    this.intents.set('shop/shop', { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'shop', namespace: 'shop', uid: 'uid-1', generation }, spec });
  }
  names(): string[] {
    return [...this.policies.values()].map((p) => p.metadata.name ?? '').sort();
  }
  ready(): string | undefined {
    return this.intents.get('shop/shop')?.status?.conditions?.find((c) => c.type === 'Ready')?.reason;
  }
}

const spec = (n: number, extra: Partial<SegmentationIntent['spec']> = {}): SegmentationIntent['spec'] => ({
  workloads: Array.from({ length: n }, (_, i) => ({ name: `w${i}`, selector: { matchLabels: { app: `w${i}` } } })),
  flows: n > 1 ? [{ from: 'w0', to: 'w1' }] : [],
  ...extra,
});

function deps(kube: FakeKube): Parameters<typeof reconcile>[1] {
  return { kube, now: () => new Date('2026-01-01T00:00:00Z'), log };
}

describe('operator reconcile (FakeKube)', () => {
  it('creates the policies, reports Ready, and a second pass writes nothing', async () => {
    const k = new FakeKube();
    k.addIntent(spec(3));
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'reconciled');
    assert.deepEqual(k.names(), ['shop-w0-ingress', 'shop-w1-ingress', 'shop-w2-ingress']);
    assert.equal(k.ready(), 'Reconciled');
    const writes = k.writes;
    await reconcile('shop/shop', deps(k));
    assert.equal(k.writes, writes);
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

  it('turns a create that finds a foreign policy into a NameConflict, leaving it as it was', async () => {
    const k = new FakeKube();
    const foreign: NetworkPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'shop-w1-ingress', namespace: 'shop' }, spec: { podSelector: {} } };
    k.policies.set('shop/shop-w1-ingress', foreign);
    k.addIntent(spec(2));
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'conflict');
    assert.deepEqual(k.policies.get('shop/shop-w1-ingress'), foreign);
    assert.equal(k.ready(), 'NameConflict');
    assert.deepEqual(k.intents.get('shop/shop')?.status?.policies, ['shop-w0-ingress']);
  });

  it('writes no policy in DryRun', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2, { enforcement: 'DryRun' }));
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'dryrun');
    assert.deepEqual(k.names(), []);
    assert.deepEqual(k.intents.get('shop/shop')?.status?.policies, ['shop-w0-ingress', 'shop-w1-ingress']);
  });

  it('does nothing for an intent that is gone', async () => {
    const k = new FakeKube();
    assert.equal((await reconcile('shop/shop', deps(k))).result, 'gone');
    assert.equal(k.writes, 0);
  });
});

describe('operator sweep (FakeKube)', () => {
  it('deletes the managed policies of a deleted intent', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    k.intents.clear();
    const keys: string[] = [];
    assert.equal(await resyncAndSweep(k, ['shop'], { enqueue: (key) => keys.push(key), log }), 2);
    assert.deepEqual(k.names(), []);
  });

  it('sweeps nothing when a list fails', async () => {
    const k = new FakeKube();
    k.addIntent(spec(2));
    await reconcile('shop/shop', deps(k));
    k.intents.clear();
    k.failLists = true;
    await assert.rejects(resyncAndSweep(k, ['shop'], { enqueue: () => undefined, log }));
    assert.equal(k.names().length, 2);
  });
});
