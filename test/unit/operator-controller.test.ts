/**
 * Controllers over the shared cache (src/operator/controller.ts): a watch event passes the predicates, is mapped
 * to keys, and the keys land on the queue. Fake watch sources; what is asserted is the keys enqueued.
 */
import { strict as assert } from 'assert';
import type { KindSpec } from '../../src/kube/watch';
import type { KubeObject } from '../../src/model/kubernetes';
import { INDEX_NAMESPACE, SharedCache } from '../../src/operator/cache';
import { Controller, UNSYNCED_RETRY_MS, inNamespaces, newlySeen, owner, self, specChanged, viaIndex } from '../../src/operator/controller';
import type { Reconciler } from '../../src/operator/controller';
import { OwnWrites, notEcho } from '../../src/operator/echo';
import { createMetrics } from '../../src/operator/metrics';
import { NotSyncedError } from '../../src/operator/store';
import { WorkQueue } from '../../src/operator/queue';
import { INTENTS, NAMESPACES, POLICIES } from '../../src/operator/operator';
import { ManualTimers, fakeSources, obj, settle, silent } from './fake-source';
import type { FakeSource } from './fake-source';

interface World {
  readonly cache: SharedCache;
  readonly timers: ManualTimers;
  /** The fake apiserver collection behind each informer, by kind and namespace ("" = all). */
  source(kind: KindSpec, namespace?: string): FakeSource;
  readonly sources: FakeSource[];
}

function world(): World {
  const { sources, sourceFor } = fakeSources();
  const timers = new ManualTimers();
  const cache = new SharedCache(sourceFor, { log: silent, timers });
  const source = (kind: KindSpec, namespace?: string): FakeSource => {
    const s = sources.find((x) => x.target.kind === kind.kind && x.target.namespace === namespace);
    if (!s) throw new Error(`no source for ${kind.kind} in ${namespace ?? 'all'}`);
    return s;
  };
  return { cache, timers, source, sources };
}

const idle: Reconciler = async () => ({ result: 'reconciled' });

function controller(w: World, reconcile: Reconciler = idle): Controller {
  const metrics = createMetrics({ queueDepth: () => 0, policiesManaged: () => 0 });
  return new Controller('test', w.cache, reconcile, { log: silent, metrics, workers: 1, queue: new WorkQueue({ timers: w.timers }) });
}

/** Takes every key waiting on the queue (without reconciling), sorted. */
async function drain(q: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.len() > 0) {
    const k = await q.get();
    if (k === undefined) break;
    keys.push(k);
    q.done(k);
  }
  return keys.sort();
}

async function started(w: World): Promise<void> {
  w.cache.start();
  await w.timers.run();
}

function policy(ns: string, name: string, intent: string, rv?: string): KubeObject {
  const p = obj(ns, name, { owner: intent, labels: { 'app.kubernetes.io/managed-by': 'netseg-operator', 'netseg.io/intent': intent } });
  if (rv && p.metadata) p.metadata.resourceVersion = rv;
  return p;
}

describe('operator controller', () => {
  it('enqueues an intent when it appears or its spec or labels change, not when only its status does, nor when it goes', async () => {
    const w = world();
    const c = controller(w).watch({ kind: INTENTS, predicates: [specChanged], keys: self });
    await started(w);
    const src = w.source(INTENTS);
    src.put(obj('a', 'shop'));
    assert.deepEqual(await drain(c.queue), ['a/shop']);
    src.put({ ...obj('a', 'shop'), status: { observedGeneration: 1 } });
    assert.deepEqual(await drain(c.queue), [], 'a status write changes neither generation nor labels');
    src.put(obj('a', 'shop', { generation: 2 }));
    src.put(obj('a', 'web', { labels: { team: 'x' } }));
    assert.deepEqual(await drain(c.queue), ['a/shop', 'a/web']);
    src.put(obj('a', 'web', { labels: { team: 'y' } }));
    assert.deepEqual(await drain(c.queue), ['a/web']);
    src.delete('a', 'shop');
    assert.deepEqual(await drain(c.queue), [], 'a deleted intent leaves its policies to the GC and the sweep');
  });

  it('enqueues the owner intent of a managed policy that changed, but not the echo of our own write', async () => {
    const w = world();
    const writes = new OwnWrites();
    const c = controller(w).watch({ kind: POLICIES, namespaces: ['a'], labelSelector: 'm=n', predicates: [notEcho(writes)], keys: owner });
    await started(w);
    const src = w.source(POLICIES, 'a');
    const ours = policy('a', 'shop.w0.ingress', 'shop');
    writes.begin(ours);
    writes.end(ours, policy('a', 'shop.w0.ingress', 'shop', String(src.rv + 1))); // the version our write got
    src.put(ours);
    assert.deepEqual(await drain(c.queue), [], 'the echo of our create enqueues nothing');
    src.put(policy('a', 'shop.w0.ingress', 'shop')); // someone else's edit
    src.delete('a', 'shop.w0.ingress');
    src.put(policy('a', 'web.w0.ingress', 'web'));
    assert.deepEqual(await drain(c.queue), ['a/shop', 'a/web']);
  });

  it('maps a policy to its controller intent by ownerReference, not by a shortened intent label', async () => {
    const w = world();
    const c = controller(w).watch({ kind: POLICIES, keys: owner });
    await started(w);
    const p = policy('a', 'long.w0.ingress', 'a-very-long-intent-name');
    if (p.metadata?.labels) p.metadata.labels['netseg.io/intent'] = 'a-very-lo-3f2a1b';
    w.source(POLICIES).put(p);
    assert.deepEqual(await drain(c.queue), ['a/a-very-long-intent-name']);
  });

  it('maps a namespace newly matched to every intent in it, through the cache\'s namespace index', async () => {
    const w = world();
    const intentsIn = viaIndex(w.cache, 'SegmentationIntent', INDEX_NAMESPACE, (e) => e.object.metadata?.name ?? '');
    const governed = new Set<string>();
    const c = controller(w)
      .watch({ kind: INTENTS, predicates: [inNamespaces((ns) => governed.has(ns ?? '')), specChanged], keys: self })
      .watch({ kind: NAMESPACES, labelSelector: 'netseg=on', predicates: [newlySeen], keys: intentsIn });
    await started(w);
    w.source(INTENTS).put(obj('a', 'shop'));
    w.source(INTENTS).put(obj('a', 'web'));
    w.source(INTENTS).put(obj('b', 'db'));
    assert.deepEqual(await drain(c.queue), [], 'out of scope: no namespace matched yet');
    governed.add('a');
    w.source(NAMESPACES).put(obj('', 'a'));
    assert.deepEqual(await drain(c.queue), ['a/shop', 'a/web']);
    w.source(NAMESPACES).put(obj('', 'a', { labels: { netseg: 'on', more: 'x' } }));
    assert.deepEqual(await drain(c.queue), [], 'a namespace already matched is no news');
    w.source(NAMESPACES).expire();
    await w.timers.run();
    assert.deepEqual(await drain(c.queue), [], 'nor is it after a relist');
  });

  it('shares one list and watch between controllers of one kind, and each gets the keys', async () => {
    const w = world();
    const one = controller(w).watch({ kind: INTENTS, namespaces: ['a', 'b'], keys: self });
    const two = controller(w).watch({ kind: INTENTS, namespaces: ['a'], predicates: [specChanged], keys: self });
    await started(w);
    assert.equal(w.sources.length, 2, 'one informer per namespace, shared');
    w.source(INTENTS, 'a').put(obj('a', 'shop'));
    w.source(INTENTS, 'b').put(obj('b', 'web'));
    assert.deepEqual(await drain(one.queue), ['a/shop', 'b/web']);
    assert.deepEqual(await drain(two.queue), ['a/shop']);
  });

  it('counts outcomes and retries: a cache not synced yet is looked at again shortly, a failure after backoff', async () => {
    const w = world();
    const runs: string[] = [];
    let fail: Error | undefined = new NotSyncedError('a');
    const metrics = createMetrics({ queueDepth: () => 0, policiesManaged: () => 0 });
    const queue = new WorkQueue({ timers: w.timers, random: () => 0.5 });
    const c = new Controller('test', w.cache, async (key) => {
      runs.push(key);
      if (fail) throw fail;
      return { result: 'reconciled' };
    }, { log: silent, metrics, workers: 2, queue });
    c.start();
    c.enqueue('a/shop');
    await settle();
    fail = new Error('boom');
    await w.timers.run(); // the UNSYNCED_RETRY_MS timer
    fail = undefined;
    await w.timers.run(); // the backoff timer
    await c.stop();
    assert.deepEqual(runs, ['a/shop', 'a/shop', 'a/shop']);
    const counts = Object.fromEntries((await metrics.reconcileTotal.get()).values.map((v) => [v.labels.result, v.value]));
    assert.deepEqual(counts, { unsynced: 1, error: 1, reconciled: 1 });
    assert.equal(UNSYNCED_RETRY_MS, 250);
  });
});
