/**
 * Fault: two operators WITHOUT leader election on the same namespace (a mis-deployed second replica, or a
 * rollout overlap). Both reconcile every intent; optimistic concurrency (resourceVersion on updates, uid on
 * deletes, 409 on creates) must still give exactly the desired set, with a bounded number of writes, and no
 * flapping: once converged, over 20 s of resyncs (every 5 s on each), writes stop.
 */
import { strict as assert } from 'assert';
import type { Cluster } from '../integration/cluster';
import { eventually, freshNamespace, useCluster } from '../integration/cluster';
import type { OperatorProcess } from './support';
import { assertExactlyDesired, createIntentRaw, inBatches, mergePatchIntent, scrape, smallIntent, spawnOperator, stopOperator } from './support';

const INTENTS = 30;
const QUIET_MS = 20_000;

describe('fault: two operators without leader election on one namespace (child processes, shared control plane)', function () {
  this.timeout(5 * 60_000);
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  const ops: OperatorProcess[] = [];

  before(async function () {
    this.timeout(60 * 60_000);
    cluster = await useCluster();
    ns = await freshNamespace(cluster, 'fault-two');
  });

  after(async function () {
    this.timeout(120_000);
    await Promise.all(ops.map((o) => stopOperator(o)));
    await ns?.cleanup();
  });

  const writes = async (): Promise<number> => (await Promise.all(ops.map((o) => scrape(o.port)))).reduce((n, s) => n + s.writes, 0);

  /** Converged, then the writes of both operators over QUIET_MS (resyncs included). */
  async function settle(label: string, t0: number, w0: number): Promise<{ convergeMs: number; writes: number; quietWrites: number }> {
    await eventually(() => assertExactlyDesired(cluster.kc, ns.name), 120_000, 500);
    const convergeMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 2_000)); // the echo reconciles of the last writes
    const w1 = await writes();
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const w2 = await writes();
    await assertExactlyDesired(cluster.kc, ns.name);
    console.log(`    [two-operators] ${label}: converged in ${convergeMs} ms with ${w1 - w0} API writes (both operators); then ${w2 - w1} writes in ${QUIET_MS / 1000} s of resyncs`);
    return { convergeMs, writes: w1 - w0, quietWrites: w2 - w1 };
  }

  it('converge to exactly the desired set with bounded writes, and stop writing once converged', async () => {
    for (let i = 0; i < 2; i++) ops.push(await spawnOperator({ kubeconfig: cluster.kubeconfigPath, namespaces: [ns.name], workers: 4, resync: '5s' }));
    const names = Array.from({ length: INTENTS }, (_, i) => `t${i}`);
    const policies = names.reduce((n, _, i) => n + 2 + (i % 2), 0);
    let t0 = Date.now();
    let w0 = await writes();
    await inBatches(names, 8, (n, i) => createIntentRaw(cluster.kc, smallIntent(ns.name, n, { workloads: 2 + (i % 2), port: 8080 })));
    const first = await settle('create', t0, w0);
    // One operator alone writes each policy once, one status and one or two events per intent: policies + 3 × intents.
    const single = policies + 3 * INTENTS;
    assert.ok(first.writes <= 2 * single, `${first.writes} writes to create ${policies} policies for ${INTENTS} intents (bound ${2 * single})`);
    assert.ok(first.quietWrites <= 2, `still writing after convergence: ${first.quietWrites} writes in ${QUIET_MS} ms (flapping)`);

    t0 = Date.now();
    w0 = await writes();
    await inBatches(names.slice(0, 10), 5, (n) => mergePatchIntent(cluster.kc, ns.name, n, { spec: smallIntent(ns.name, n, { workloads: 3, port: 9443, extra: { isolation: { directions: ['Ingress', 'Egress'] } } }).spec }));
    const second = await settle('edit 10 intents', t0, w0);
    assert.ok(second.writes <= 2 * (10 * 6 + 3 * 10), `${second.writes} writes for 10 edits`);
    assert.ok(second.quietWrites <= 2, `still writing after convergence: ${second.quietWrites} writes in ${QUIET_MS} ms (flapping)`);
    for (const o of ops) assert.ok(o.alive(), 'an operator exited');
  });
});
