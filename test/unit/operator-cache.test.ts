/**
 * The shared cache (src/operator/cache.ts) against a fake watch source: list then watch, resume, relist on a
 * gap with the deletions it hid, a failed list that replaces nothing, synced per scope, indexes.
 */
import { strict as assert } from 'assert';
import type { KubeObject } from '../../src/model/kubernetes';
import type { KindSpec, WatchEventType } from '../../src/kube/watch';
import { INDEX_CONTROLLER, INDEX_LABEL, INDEX_NAMESPACE, Informer, SharedCache } from '../../src/operator/cache';
import type { CacheEvent, CacheScope } from '../../src/operator/cache';
import { PolicyStore } from '../../src/operator/store';
import { FakeSource, ManualTimers, fakeSources, obj, silent } from './fake-source';

const POLICIES: KindSpec = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy' };
const INTENTS: KindSpec = { group: 'netseg.io', version: 'v1alpha1', plural: 'segmentationintents', kind: 'SegmentationIntent' };

interface Rig {
  readonly src: FakeSource;
  readonly inf: Informer;
  readonly timers: ManualTimers;
  readonly events: string[];
  readonly sink: { replaces: number; applied: string[] };
}

function rig(initial: KubeObject[] = [], scope: CacheScope = {}): Rig {
  const src = new FakeSource(POLICIES, scope);
  for (const o of initial) src.put(o, false);
  const timers = new ManualTimers();
  const inf = new Informer(src, { log: silent, timers, random: () => 0.5 });
  const events: string[] = [];
  inf.addHandler((e: CacheEvent) => events.push(`${e.type} ${e.object.metadata?.name}`));
  const sink = { replaces: 0, applied: [] as string[] };
  inf.addSink({ replace: () => sink.replaces++, apply: (t: WatchEventType, o: KubeObject) => sink.applied.push(`${t} ${o.metadata?.name}`) });
  return { src, inf, timers, events, sink };
}

const names = (os: KubeObject[]): string[] => os.map((o) => o.metadata?.name ?? '').sort();

describe('operator shared cache', () => {
  it('is synced only after a complete list, and then watches from that list\'s resourceVersion', async () => {
    const r = rig([obj('a', 'p1'), obj('a', 'p2')]);
    assert.equal(r.inf.isSynced, false);
    r.src.failLists = true;
    r.inf.start();
    await r.timers.run();
    assert.equal(r.inf.isSynced, false, 'a failed first list leaves the cache unsynced');
    assert.deepEqual(r.events, []);
    r.src.failLists = false;
    await r.timers.run();
    assert.equal(r.inf.isSynced, true);
    assert.deepEqual(names(r.inf.objects()), ['p1', 'p2']);
    assert.deepEqual(r.src.watchedFrom, [String(r.src.rv)]);
    assert.deepEqual(r.events.sort(), ['ADDED p1', 'ADDED p2']);
  });

  it('loses no delete in a gap: the relist reports what vanished as DELETED', async () => {
    const r = rig([obj('a', 'p1'), obj('a', 'p2'), obj('a', 'p3')]);
    r.inf.start();
    await r.timers.run();
    r.src.expire(); // 410 Gone: the watch cannot resume
    r.src.delete('a', 'p2', false); // ... and meanwhile p2 goes, with no event to say so
    r.src.put(obj('a', 'p4'), false);
    await r.timers.run(); // backoff timer → relist → watch
    assert.ok(r.events.includes('DELETED p2'), `events: ${r.events.join(', ')}`);
    assert.ok(r.events.includes('ADDED p4'));
    assert.deepEqual(names(r.inf.objects()), ['p1', 'p3', 'p4']);
    assert.deepEqual(names(r.inf.byIndex(INDEX_NAMESPACE, 'a')), ['p1', 'p3', 'p4']);
    assert.equal(r.sink.replaces, 2, 'the sink got both complete lists');
    assert.equal(r.src.watching, true);
  });

  it('replaces nothing when a list fails: objects, indexes and sinks keep what they had', async () => {
    const r = rig([obj('a', 'p1'), obj('a', 'p2')]);
    r.inf.start();
    await r.timers.run();
    r.events.length = 0;
    r.src.expire();
    r.src.delete('a', 'p1', false);
    r.src.failLists = true;
    await r.timers.run();
    await r.timers.run();
    assert.deepEqual(r.events, [], 'no DELETED from a list that failed');
    assert.deepEqual(names(r.inf.objects()), ['p1', 'p2']);
    assert.equal(r.sink.replaces, 1);
    assert.equal(r.inf.isSynced, true, 'still answers from the last complete list');
    r.src.failLists = false;
    await r.timers.run();
    assert.deepEqual(r.events, ['DELETED p1', 'ADDED p2']);
  });

  it('resumes a closed watch from the last resourceVersion seen, without listing again', async () => {
    const r = rig([obj('a', 'p1')]);
    r.inf.start();
    await r.timers.run();
    r.src.put(obj('a', 'p2'));
    const seen = String(r.src.rv);
    r.src.close();
    await r.timers.run();
    assert.equal(r.src.lists, 1);
    assert.deepEqual(r.src.watchedFrom.slice(-1), [seen]);
    assert.deepEqual(r.sink.applied, ['ADDED p2']);
  });

  it('reports itself unhealthy only once list and watch kept failing past the limit', async () => {
    const r = rig([obj('a', 'p1')]);
    r.inf.start();
    await r.timers.run();
    r.src.expire();
    r.src.failLists = true;
    await r.timers.run();
    r.timers.t += 29_000;
    assert.equal(r.inf.isHealthy(30_000), true);
    r.timers.t += 2_000;
    assert.equal(r.inf.isHealthy(30_000), false);
    r.src.failLists = false;
    await r.timers.run();
    assert.equal(r.inf.isHealthy(30_000), true, 'a watch established again makes it healthy');
  });

  it('keeps its indexes (namespace, label, controller uid, custom) equal to what the events say', async () => {
    const r = rig([obj('a', 'p1', { labels: { tier: 'web' }, owner: 'shop' }), obj('b', 'p2', { labels: { tier: 'db' }, owner: 'shop' })]);
    r.inf.start();
    await r.timers.run();
    r.inf.addIndex('tier', (o) => [o.metadata?.labels?.['tier'] ?? '']);
    assert.deepEqual(names(r.inf.byIndex('tier', 'web')), ['p1'], 'a custom index files what is cached already');
    assert.deepEqual(names(r.inf.byIndex(INDEX_CONTROLLER, 'uid-shop')), ['p1', 'p2']);

    r.src.put(obj('a', 'p1', { labels: { tier: 'db' }, owner: 'web' }));
    assert.deepEqual(names(r.inf.byIndex(INDEX_LABEL, 'tier=web')), []);
    assert.deepEqual(names(r.inf.byIndex(INDEX_LABEL, 'tier=db')), ['p1', 'p2']);
    assert.deepEqual(names(r.inf.byIndex('tier', 'db')), ['p1', 'p2']);
    assert.deepEqual(names(r.inf.byIndex(INDEX_CONTROLLER, 'uid-shop')), ['p2']);
    assert.deepEqual(names(r.inf.byIndex(INDEX_CONTROLLER, 'uid-web')), ['p1']);

    r.src.delete('b', 'p2');
    assert.deepEqual(names(r.inf.byIndex(INDEX_NAMESPACE, 'b')), []);
    assert.deepEqual(names(r.inf.byIndex('tier', 'db')), ['p1']);
  });

  it('hands sinks the full objects before handlers see the event', async () => {
    const src = new FakeSource(POLICIES);
    const timers = new ManualTimers();
    const inf = new Informer(src, { log: silent, timers });
    const store = new PolicyStore();
    inf.addSink(store);
    const seen: number[] = [];
    inf.addHandler((e) => seen.push(store.owned('a', 'uid-shop').length + (e.type === 'DELETED' ? 100 : 0)));
    inf.start();
    await timers.run();
    src.put(obj('a', 'p1', { owner: 'shop' }));
    src.delete('a', 'p1');
    assert.deepEqual(seen, [1, 100]);
  });

  it('keeps what it holds of each listed object as the list arrives when no sink needs whole objects, and only then', async () => {
    const held = new FakeSource(POLICIES);
    const full = new FakeSource(POLICIES);
    for (const src of [held, full]) for (const n of ['p1', 'p2', 'p3']) src.put(obj('a', n, { owner: 'shop' }), false);
    const timers = new ManualTimers();
    const store = new PolicyStore();
    const compact = new Informer(held, { log: silent, timers }, store);
    const sunk: KubeObject[] = [];
    const withSink = new Informer(full, { log: silent, timers });
    withSink.addSink({ replace: (items) => sunk.push(...items), apply: () => undefined });
    compact.start();
    withSink.start();
    await timers.run();
    assert.equal(held.keptItems, 3, 'kept page by page: the parsed objects are not all held until the list ends');
    assert.deepEqual(store.owned('a', 'uid-shop').map((p) => p.metadata.name).sort(), ['p1', 'p2', 'p3']);
    assert.equal(full.keptItems, 0);
    assert.deepEqual(names(sunk), ['p1', 'p2', 'p3']);
    assert.ok(sunk.every((o) => 'spec' in o), 'a sink gets the whole objects');
  });

  it('shares one informer per kind and scope, knows synced per namespace, and indexes across a kind', async () => {
    const { sources, sourceFor } = fakeSources();
    const timers = new ManualTimers();
    const cache = new SharedCache(sourceFor, { log: silent, timers });
    const a = cache.informer(INTENTS, { namespace: 'a' });
    assert.equal(cache.informer(INTENTS, { namespace: 'a' }), a);
    cache.addIndex('SegmentationIntent', 'team', (o) => [o.metadata?.labels?.['team'] ?? '']);
    cache.informer(INTENTS, { namespace: 'b' });
    cache.informer(POLICIES, { namespace: 'a', labelSelector: 'x=y' });
    assert.equal(sources.length, 3);
    assert.equal(cache.synced(), false);
    sources[1]!.failLists = true;
    cache.start();
    await timers.run();
    assert.equal(cache.hasSynced('SegmentationIntent', 'a'), true);
    assert.equal(cache.hasSynced('SegmentationIntent', 'b'), false);
    assert.equal(cache.hasSynced('SegmentationIntent'), false);
    assert.equal(cache.synced(), false);
    sources[1]!.failLists = false;
    await timers.run();
    assert.equal(cache.synced(), true);
    sources[0]!.put(obj('a', 'shop', { labels: { team: 'x' } }));
    sources[1]!.put(obj('b', 'web', { labels: { team: 'x' } }));
    assert.deepEqual(names(cache.byIndex('SegmentationIntent', 'team', 'x')), ['shop', 'web'], 'a kind\'s custom index covers its informers made before and after');
  });
});
