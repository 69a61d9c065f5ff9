/**
 * The assembled operator (src/operator/operator.ts assemble, on src/operator/manager.ts) with every collaborator
 * faked: watch sources, kube, server, elector and timers. What only end-to-end tests could reach before.
 */
import { strict as assert } from 'assert';
import type { SegmentationIntent } from '../../src/intent/types';
import type { KubeObject } from '../../src/model/kubernetes';
import type { ElectorCallbacks } from '../../src/operator/leader';
import { createMetrics } from '../../src/operator/metrics';
import type { Health } from '../../src/operator/metrics';
import { INTENTS, POLICIES, assemble } from '../../src/operator/operator';
import type { Assembled, Collaborators } from '../../src/operator/operator';
import { WorkQueue } from '../../src/operator/queue';
import { PolicyCache } from '../../src/operator/store';
import type { OperatorKube } from '../../src/operator/writes';
import { Writable } from 'stream';
import { createLogger, transports } from 'winston';
import { ManualTimers, fakeSources, obj } from './fake-source';
import type { FakeSource } from './fake-source';

interface Rig {
  readonly op: Assembled;
  readonly timers: ManualTimers;
  readonly sources: FakeSource[];
  readonly gets: string[];
  readonly metrics: Collaborators['metrics'];
  health(): Health;
  election(): ElectorCallbacks;
  readonly lost: string[];
}

function rig(o: { elect: boolean; namespaces?: string[] }): Rig {
  // The resync's first pass (at start) runs; the next ones (every resyncMs) don't: each would re-enqueue every intent.
  const timers = new ManualTimers(59_999);
  const { sources, sourceFor } = fakeSources();
  const gets: string[] = [];
  const lost: string[] = [];
  let health: Health | undefined;
  let callbacks: ElectorCallbacks | undefined;
  const kube = {
    getIntent: async (ns: string, name: string): Promise<SegmentationIntent | undefined> => (gets.push(`GET ${ns}/${name}`), undefined),
    listIntents: async () => (gets.push('list intents'), []),
    listPolicies: async () => (gets.push('list policies'), []),
    replaceIntentStatus: async (i: SegmentationIntent) => i,
    createEvent: async () => ({ name: 'e', namespace: 'shop', count: 1, firstTimestamp: new Date(0) }),
  } as unknown as OperatorKube;
  // Each reconcile that ran, by key, from the controller's log line (intents come from the cache: no GET to count).
  const log = createLogger({
    level: 'debug',
    silent: false,
    transports: [new transports.Stream({ stream: new Writable({ write: (chunk: Buffer, _e, done): void => (reconciled(chunk.toString()), done()) }) })],
  });
  const reconciled = (line: string): void => {
    const l = JSON.parse(line) as { message?: string; key?: string };
    if (l.message === 'reconciled' || l.message === 'reconcile failed; will retry') gets.push(l.key ?? '');
  };
  const c: Collaborators = {
    kube,
    metrics: createMetrics({ queueDepth: () => 0, policiesManaged: () => 0 }),
    sourceFor,
    serve: async (h) => ((health = h), { port: 1234, close: async () => undefined }),
    elect: o.elect ? (cb) => ((callbacks = cb), { start: () => lost.push('campaigning'), stop: async () => void lost.push('released') }) : undefined,
    timers,
  };
  const options = { namespaces: o.namespaces, workers: 1, resyncMs: 60_000, log, onLostLeadership: () => lost.push('exit') };
  const op = assemble(options, c, { policies: new PolicyCache(), intents: new WorkQueue({ timers }) });
  return {
    op,
    timers,
    sources,
    gets,
    metrics: c.metrics,
    lost,
    health: () => health ?? assert.fail('no server'),
    election: () => callbacks ?? assert.fail('no election'),
  };
}

describe('operator manager', () => {
  it('runs a standby with the server only, and makes the leader ready once every cache listed', async () => {
    const r = rig({ elect: true, namespaces: ['a', 'b'] });
    await r.op.manager.start();
    assert.equal(r.health().live(), true);
    assert.equal(r.health().ready(), false, 'not ready before the first election attempt');
    r.election().onObserved?.();
    assert.equal(r.health().ready(), true, 'a standby is ready');
    await r.timers.run();
    // Per namespace: intents, managed policies, and the five kinds intents may reference; cluster-wide: the
    // baselines and the namespaces they select.
    assert.equal(r.sources.length, 2 * 7 + 2);
    assert.deepEqual(r.sources.map((s) => s.lists), r.sources.map(() => 0), 'a standby lists nothing');

    r.election().onStartedLeading();
    assert.equal(r.op.manager.isLeader(), true);
    assert.equal(r.health().ready(), false, 'the leader is not ready before its caches listed');
    r.sources[0]!.failLists = true;
    await r.timers.run();
    assert.equal(r.health().ready(), false);
    r.sources[0]!.failLists = false;
    await r.timers.run();
    assert.equal(r.health().ready(), true);
  });

  it('reconciles a key for an intent that appears, and stops everything when the lease is lost', async () => {
    const r = rig({ elect: true });
    await r.op.manager.start();
    r.election().onStartedLeading();
    await r.timers.run();
    const intents = r.sources.find((s) => s.target.kind === INTENTS.kind);
    intents?.put(obj('a', 'shop'));
    await r.timers.run();
    assert.deepEqual(r.gets, ['a/shop']);

    r.election().onStoppedLeading();
    await r.timers.run();
    assert.equal(r.op.manager.isLeader(), false);
    assert.deepEqual(r.lost, ['campaigning', 'released', 'exit']);
    assert.ok(r.sources.every((s) => !s.watching), 'no watch left open');
    assert.equal(r.op.policies.size(), 0);
  });

  it('recompiles exactly the intents that name a Service, Deployment or Ingress when it changes, and only on a spec change', async () => {
    const r = rig({ elect: false });
    await r.op.manager.start();
    await r.timers.run();
    const source = (kind: string): FakeSource => r.sources.find((s) => s.target.kind === kind) ?? assert.fail(`no ${kind} source`);
    const intent = (name: string, spec: Record<string, unknown>): KubeObject => ({ ...obj('shop', name), spec });
    source(INTENTS.kind).put(intent('by-service', { workloads: [{ name: 'api', service: 'api' }] }));
    source(INTENTS.kind).put(intent('by-ref', { workloads: [{ name: 'db', workloadRef: { kind: 'Deployment', name: 'pg' } }], ingressRoutes: [{ from: ['x'] }] }));
    source(INTENTS.kind).put(intent('plain', { workloads: [{ name: 'w', selector: {} }] }));
    await r.timers.run();
    r.gets.length = 0;
    source('Service').put({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'api' }, spec: { selector: { app: 'api' } } });
    await r.timers.run();
    assert.deepEqual(r.gets, ['shop/by-service']);
    r.gets.length = 0;
    source('Deployment').put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'shop', name: 'pg', generation: 1 }, spec: {} });
    await r.timers.run();
    assert.deepEqual(r.gets, ['shop/by-ref']);
    r.gets.length = 0;
    source('Deployment').put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'shop', name: 'pg', generation: 1 }, spec: {}, status: { replicas: 2 } });
    await r.timers.run();
    assert.deepEqual(r.gets, [], 'a status-only change (same generation) recompiles nothing');
    source('Ingress').put({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { namespace: 'shop', name: 'web', generation: 1 }, spec: {} });
    await r.timers.run();
    assert.deepEqual(r.gets, ['shop/by-ref'], 'an Ingress of the namespace recompiles the intents with ingressRoutes');
    r.gets.length = 0;
    source(INTENTS.kind).put(intent('by-service', { workloads: [{ name: 'api', selector: {} }] }));
    await r.timers.run();
    r.gets.length = 0;
    source('Service').put({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'api' }, spec: { selector: { app: 'v2' } } });
    await r.timers.run();
    assert.deepEqual(r.gets, [], 'an intent no longer naming the Service is not recompiled');
  });

  it('leads at once without election, and watches the managed policies with the label selector', async () => {
    const r = rig({ elect: false });
    await r.op.manager.start();
    assert.equal(r.op.manager.isLeader(), true);
    const policies = r.sources.find((s) => s.target.kind === POLICIES.kind);
    assert.equal(policies?.target.labelSelector, 'app.kubernetes.io/managed-by=netseg-operator');
    await r.timers.run();
    assert.equal(r.health().ready(), true);
    await r.op.manager.stop();
    assert.equal(r.op.manager.isLeader(), false);
  });

  it('reconciles each intent once at start, only after the caches it reads have listed (no retry storm)', async () => {
    const r = rig({ elect: false });
    const source = (kind: string): FakeSource => r.sources.find((s) => s.target.kind === kind) ?? assert.fail(`no ${kind} source`);
    for (let i = 0; i < 20; i++) source(INTENTS.kind).put(obj('shop', `intent-${i}`), false);
    source(POLICIES.kind).failLists = true; // the policy cache keeps failing to list: no intent may be reconciled
    await r.op.manager.start();
    for (let i = 0; i < 5; i++) await r.timers.run();
    assert.deepEqual(r.gets, [], 'nothing reconciled before the policy cache listed');
    source(POLICIES.kind).failLists = false;
    for (let i = 0; i < 5; i++) await r.timers.run();
    assert.equal(r.gets.length, 20, 'each intent reconciled once');
    const attempts = (await r.metrics.reconcileTotal.get()).values.reduce((n, v) => n + v.value, 0);
    assert.equal(attempts, 20, 'no attempt wasted on an unsynced cache');
    assert.equal(source(INTENTS.kind).lists, 1, 'one list of intents at start: the watch\'s, shared by the resync and the sweep');
    assert.ok(!(r.gets as string[]).some((g) => g.startsWith('list')), 'the first resync and sweep read the caches, listing nothing');
    assert.ok(!(r.gets as string[]).some((g) => g.startsWith('GET')), 'reconcile reads each intent from the watch cache, not by a GET');
    await r.op.manager.stop();
  });
});
