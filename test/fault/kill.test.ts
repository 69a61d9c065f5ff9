/**
 * Fault: the operator process is SIGKILLed (no graceful stop, no lease release, writes cut off half-way) at
 * random points while it reconciles 200 intents whose desired state keeps changing, 20 times, and restarted each
 * time. After the last restart it must converge to EXACTLY the desired set: every intent's policies equal
 * compile()'s (names and spec hash), no orphan, no duplicate, no missing. The operator runs as a child process
 * (`node bin/netseg operator`), so the kill is real. Kill points come from a seeded PRNG (same schedule each run).
 */
import { strict as assert } from 'assert';
import type { Cluster } from '../integration/cluster';
import { eventually, freshNamespace, useCluster } from '../integration/cluster';
import type { OperatorProcess } from './support';
import {
  assertExactlyDesired,
  createIntentRaw,
  inBatches,
  kill9,
  mergePatchIntent,
  rawRequest,
  intentPath,
  scrape,
  seededRandom,
  smallIntent,
  spawnOperator,
  stopOperator,
} from './support';

const INTENTS = 200;
const KILLS = 20;
const SEED = 20261122;

describe('fault: operator killed with SIGKILL mid-reconcile (child process, shared control plane)', function () {
  this.timeout(8 * 60_000);
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  let op: OperatorProcess | undefined;

  before(async function () {
    this.timeout(60 * 60_000);
    cluster = await useCluster();
    ns = await freshNamespace(cluster, 'fault-kill');
  });

  after(async function () {
    this.timeout(120_000);
    await stopOperator(op);
    await ns?.cleanup();
  });

  it(`converges to exactly the desired set after ${KILLS} kill -9 at random points while reconciling ${INTENTS} intents`, async () => {
    const t0 = Date.now();
    const rnd = seededRandom(SEED);
    const pick = (n: number): number => Math.floor(rnd() * n);
    const start = (): Promise<OperatorProcess> => spawnOperator({ kubeconfig: cluster.kubeconfigPath, namespaces: [ns.name], workers: 4, resync: '10m' });
    op = await start();
    const names: string[] = Array.from({ length: INTENTS }, (_, i) => `i${i}`);
    await inBatches(names, 8, (n, i) => createIntentRaw(cluster.kc, smallIntent(ns.name, n, { workloads: 2 + (i % 2), port: 8080 })));

    let midWork = 0;
    const kills: string[] = [];
    let created = 0;
    for (let k = 0; k < KILLS; k++) {
      // Change the desired state so that the kill lands on real work: ports (updates), egress on/off and the
      // number of workloads (creates and deletes of policies), intents deleted and new ones created.
      // Drawn before any request, so that the schedule does not depend on response order (same on every run).
      const edits = [...new Set(Array.from({ length: 12 }, () => names[pick(names.length)] as string))].map((n) => {
        const choice = pick(3);
        const port = 8000 + pick(1000);
        const shape =
          choice === 0
            ? { workloads: 2, port }
            : choice === 1
              ? { workloads: 3, port, extra: { isolation: { directions: ['Ingress', 'Egress'] } } }
              : { workloads: 2 + pick(2), port, extra: { isolation: { directions: ['Ingress'] } } };
        return { n, spec: smallIntent(ns.name, n, shape).spec };
      });
      await inBatches(edits, 6, (e) => mergePatchIntent(cluster.kc, ns.name, e.n, { spec: e.spec }));
      for (let d = 0; d < 2; d++) {
        const victim = names.splice(pick(names.length), 1)[0] as string;
        const r = await rawRequest(cluster.kc, 'DELETE', intentPath(ns.name, victim));
        assert.ok(r.code === 200 || r.code === 202, `delete ${victim}: ${r.code}`);
        const fresh = `n${created++}`;
        names.push(fresh);
        await createIntentRaw(cluster.kc, smallIntent(ns.name, fresh, { workloads: 2 + pick(2), port: 9000 + pick(100) }));
      }
      const delay = pick(1200);
      await new Promise((r) => setTimeout(r, delay));
      const before = await scrape(op.port).catch(() => undefined);
      await kill9(op);
      const busy = (before?.queueDepth ?? 0) > 0;
      if (busy) midWork++;
      kills.push(`${delay}ms(q=${before?.queueDepth ?? '?'},writes=${before?.okWrites ?? '?'})`);
      op = await start();
    }
    const restartedAt = Date.now();
    const checked = await eventually(() => assertExactlyDesired(cluster.kc, ns.name), 180_000, 1_000);
    const convergeMs = Date.now() - restartedAt;
    assert.ok(op.alive(), 'the last operator is still running');
    console.log(
      `    [kill] ${KILLS} SIGKILLs (seed ${SEED}), ${midWork} with keys still queued; ${names.length} intents, ${checked} policies; ` +
        `converged ${convergeMs} ms after the last restart; total ${Math.round((Date.now() - t0) / 1000)} s; kills: ${kills.join(' ')}`,
    );
    assert.ok(midWork >= KILLS / 2, `only ${midWork}/${KILLS} kills landed while work was queued: the test killed an idle operator`);
  });
});
