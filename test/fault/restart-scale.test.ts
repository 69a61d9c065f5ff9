/**
 * Fault (issue 17): the operator restarted over 3,000 converged intents (30,000 NetworkPolicies) with the
 * Deployment's settings must become ready and re-reconcile every intent with 0 writes, its RSS never above the
 * Deployment's memory limit. Before issue 17 this restart died "JavaScript heap out of memory" under the heap cap
 * after ~37 s, before it was ready: in a cluster, a crash loop that stops all reconciliation.
 *
 * "As deployed": the operator is a child process (`node bin/netseg operator`) with the NODE_OPTIONS of
 * deploy/base/deployment.yaml (its V8 heap cap) and the default log level; its memory limit is enforced by
 * sampling its RSS every 0.5 s together with the kernel's high-water mark (VmHWM), so a peak between samples
 * counts too. Scope is the test's namespace (--namespaces) so that other tests' leftovers on the shared control
 * plane can't add writes; 30,000 policies in one namespace is what the memory sees either way.
 *
 * The converged state is made by the operator itself (a first operator process, same settings, creates the
 * policies, Events and statuses while the intents are created), not written directly by a plain client: the
 * state must be what the operator calls converged (its own status messages, hashes and ownerReferences), and
 * writing it directly would cost the same apiserver time (the operator converges at about the plain client's
 * speed: bench/scale.bench.ts). The state is then checked through the API before the restart: every intent
 * Ready=True for its generation, and exactly 10 managed policies per intent.
 *
 * Deadlines below only turn a hang into a failure with a message; nothing here is a timing assertion.
 */
import { setTimeout as sleep } from 'timers/promises';
import { strict as assert } from 'assert';
import * as k8s from '@kubernetes/client-node';
import { benchIntent } from '../../bench/floor';
import { RssSampler, countManagedPolicies, deployedOperator, memoryBytes } from '../../bench/lib';
import type { SegmentationIntent } from '../../src/intent/types';
import type { Cluster } from '../integration/cluster';
import { freshNamespace, useCluster } from '../integration/cluster';
import type { OperatorProcess } from './support';
import { createIntentRaw, httpGet, inBatches, samples, seededRandom, spawnOperator, stopOperator, tail } from './support'

const INTENTS = 3000;
const POLICIES = INTENTS * 10;
const MiB = 1024 * 1024;

/** Writes (any verb that changes something, any code), reconciles by result, and the queue, from /metrics. */
async function metrics(op: OperatorProcess): Promise<{ writes: Record<string, number>; reconciled: number; attempts: number; queue: number }> {
  const text = (await httpGet(op.port, '/metrics', 10_000)).body;
  const writes: Record<string, number> = {};
  for (const s of samples(text, 'netseg_api_requests_total')) {
    if (['create', 'update', 'patch', 'delete'].includes(s.labels['verb'] ?? '')) writes[`${s.labels['verb']} ${s.labels['code']}`] = s.value;
  }
  const reconciles = samples(text, 'netseg_reconcile_total');
  return {
    writes,
    reconciled: reconciles.filter((s) => s.labels['result'] === 'reconciled').reduce((n, s) => n + s.value, 0),
    attempts: reconciles.reduce((n, s) => n + s.value, 0),
    queue: samples(text, 'netseg_queue_depth')[0]?.value ?? NaN,
  };
}

const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** Polls `check` every second; fails with `what`, the operator's state and its log's tail if it exits or the deadline passes. */
async function waitFor(op: OperatorProcess, what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!op.alive()) {
      const exit = await op.exited;
      assert.fail(`the operator exited (code ${String(exit.code)}, signal ${String(exit.signal)}) before ${what}; its log ends:\n${tail(op.logFile, 6)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) assert.fail(`no ${what} within ${timeoutMs / 1000} s (a bound against hanging, not a timing target); log ${op.logFile}`);
    await sleep(1000);
  }
}

/** Intents not Ready=True for their current generation (names, at most 5), over all pages. */
async function notReady(kc: k8s.KubeConfig, ns: string): Promise<{ count: number; some: string[] }> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const bad: string[] = [];
  let count = 0;
  let cont: string | undefined;
  do {
    const r = (await custom.listNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', undefined, undefined, cont, undefined, undefined, 500)).body as { items: SegmentationIntent[]; metadata?: { continue?: string } };
    for (const i of r.items) {
      count++;
      const ready = i.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True' || i.status?.observedGeneration !== i.metadata.generation) bad.push(i.metadata.name ?? '');
    }
    cont = r.metadata?.continue || undefined;
  } while (cont);
  return { count: count - bad.length, some: bad.slice(0, 5) };
}

describe(`fault: restart over ${INTENTS} converged intents with the Deployment's heap cap and memory limit`, function () {
  this.timeout(60 * 60_000);
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  let op: OperatorProcess | undefined;
  const deployed = deployedOperator();
  const limitMiB = memoryBytes(deployed.memoryLimit) / MiB;
  const start = (): Promise<OperatorProcess> =>
    spawnOperator({ kubeconfig: cluster.kubeconfigPath, namespaces: [ns.name], workers: 4, resync: '10m', logLevel: 'info', env: { ...process.env, NODE_OPTIONS: deployed.nodeOptions } });

  before(async function () {
    cluster = await useCluster();
    ns = await freshNamespace(cluster, 'fault-restart-scale');
  });

  after(async function () {
    this.timeout(120_000);
    await stopOperator(op);
    await ns?.cleanup();
  });

  it(`becomes ready, re-reconciles every intent with 0 writes, and stays under the ${deployed.memoryLimit} limit`, async () => {
    assert.ok(deployed.nodeOptions.includes('--max-old-space-size='), `deploy/base/deployment.yaml sets no heap cap in NODE_OPTIONS: "${deployed.nodeOptions}"`);
    // 1. The converged state, made by the operator.
    op = await start();
    const rnd = seededRandom(17);
    const intents = Array.from({ length: INTENTS }, (_, i) => benchIntent(ns.name, i, rnd));
    await inBatches(intents, 16, (i) => createIntentRaw(cluster.kc, i));
    const first = op;
    await waitFor(first, `every intent reconciled by the first operator`, 40 * 60_000, async () => {
      const m = await metrics(first);
      return m.reconciled >= INTENTS && m.queue === 0;
    });
    await waitFor(first, `${POLICIES} managed policies and every intent Ready`, 10 * 60_000, async () => (await countManagedPolicies(cluster.kc.makeApiClient(k8s.NetworkingV1Api), ns.name, 1000)) === POLICIES && (await notReady(cluster.kc, ns.name)).count === INTENTS);
    await stopOperator(first);

    // 2. The restart, as deployed, RSS sampled from its first moment.
    op = await start();
    const second = op;
    const rss = new RssSampler(second.pid);
    const spawned = Date.now();
    try {
      await waitFor(second, 'ready (/readyz 200)', 10 * 60_000, async () => (await httpGet(second.port, '/readyz')).code === 200);
      const readyS = Math.round((Date.now() - spawned) / 100) / 10;
      await waitFor(second, `every one of the ${INTENTS} intents reconciled again`, 20 * 60_000, async () => {
        const m = await metrics(second);
        return m.reconciled >= INTENTS && m.queue === 0;
      });
      await sleep(3000); // anything a reconcile queued after the queue emptied (an Event, a status) is sent by now
      const m = await metrics(second);
      const mem = rss.stop();
      console.log(
        `    [restart-scale] ${INTENTS} intents / ${POLICIES} policies, NODE_OPTIONS ${deployed.nodeOptions}: ready after ${readyS} s; ` +
          `${m.reconciled} reconciled in ${m.attempts} attempts; writes ${JSON.stringify(m.writes)}; RSS peak ${mem.peakMiB} MiB (${mem.samples} samples) of ${limitMiB} MiB`,
      );
      assert.ok(second.alive(), 'the restarted operator is still running');
      assert.deepEqual(m.writes, {}, `a restart over converged intents must write nothing; it sent ${total(m.writes)}: ${JSON.stringify(m.writes)}`);
      assert.ok(mem.peakMiB <= limitMiB, `RSS peaked at ${mem.peakMiB} MiB, over the Deployment's ${deployed.memoryLimit} limit: the kubelet would OOM-kill it`);
    } finally {
      rss.stop();
    }
  });
});
