/**
 * Fault: a storm of 1,000 intent updates in about 10 s (50 intents × 20 port changes, each intent's 20 updates
 * back to back, the 50 bursts staggered over 10 s, as a GitOps tool replaying a backlog of commits does). The
 * operator (child process) must end at the final state, and its keyed queue must coalesce: far fewer policy
 * writes than updates (fewer than half). Policy writes are counted exactly from the apiserver's side (NetworkPolicy
 * metadata.generation rises by one per spec change written) and all API writes from the operator's /metrics
 * (netseg_api_requests_total, every resource: policies, status, events): successful ones must be fewer than the
 * updates and at most a status write and an Event per policy write.
 */
import { strict as assert } from 'assert';
import type { Cluster } from '../integration/cluster';
import { eventually, freshNamespace, useCluster } from '../integration/cluster';
import type { OperatorProcess } from './support';
import {
  MANAGED,
  assertExactlyDesired,
  createIntentRaw,
  inBatches,
  listPolicies,
  mergePatchIntent,
  scrape,
  smallIntent,
  spawnOperator,
  stopOperator,
} from './support';

const INTENTS = 50;
const UPDATES_EACH = 20;
const BURST = 5;
const WINDOW_MS = 10_000;

describe('fault: a storm of 1,000 intent updates in 10 s (child process, shared control plane)', function () {
  this.timeout(5 * 60_000);
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  let op: OperatorProcess | undefined;

  before(async function () {
    this.timeout(60 * 60_000);
    cluster = await useCluster();
    ns = await freshNamespace(cluster, 'fault-storm');
  });

  after(async function () {
    this.timeout(120_000);
    await stopOperator(op);
    await ns?.cleanup();
  });

  const generations = async (): Promise<number> =>
    (await listPolicies(cluster.kc, ns.name, MANAGED)).reduce((n, p) => n + ((p.metadata as { generation?: number }).generation ?? 1), 0);

  it('converges to the final state and coalesces: policy writes far fewer than updates', async () => {
    op = await spawnOperator({ kubeconfig: cluster.kubeconfigPath, namespaces: [ns.name], workers: 4, resync: '10m' });
    const names = Array.from({ length: INTENTS }, (_, i) => `s${i}`);
    await inBatches(names, 8, (n) => createIntentRaw(cluster.kc, smallIntent(ns.name, n, { workloads: 2, port: 8000 })));
    await eventually(() => assertExactlyDesired(cluster.kc, ns.name), 60_000, 500);
    await new Promise((r) => setTimeout(r, 1_000)); // the echo reconciles of our own writes
    const gen0 = await generations();
    const m0 = await scrape(op.port);

    const t0 = Date.now();
    let updates = 0;
    await Promise.all(
      names.map(async (n, i) => {
        await new Promise((r) => setTimeout(r, (i * WINDOW_MS) / INTENTS));
        // Bursts of BURST updates at once, the final one alone last (so the final state is known). One after
        // another, how many updates the queue can merge depends on the apiserver's latency more than on the queue;
        // many more at once make the apiserver retry conflicting patches of one object and stretch the storm.
        const patch = async (k: number): Promise<void> => {
          await mergePatchIntent(cluster.kc, ns.name, n, { spec: { flows: [{ from: 'w0', to: 'w1', ports: [{ port: 8000 + k }] }] } });
          updates++;
        };
        for (let k = 1; k < UPDATES_EACH; k += BURST) {
          await Promise.all(Array.from({ length: Math.min(BURST, UPDATES_EACH - k) }, (_, j) => patch(k + j)));
        }
        await patch(UPDATES_EACH);
      }),
    );
    const stormMs = Date.now() - t0;
    await eventually(async () => {
      await assertExactlyDesired(cluster.kc, ns.name);
      const ports = (await listPolicies(cluster.kc, ns.name, MANAGED)).filter((p) => p.metadata.name?.endsWith('.w1.ingress')).map((p) => p.spec.ingress?.[0]?.ports?.[0]?.port);
      assert.equal(ports.length, INTENTS);
      assert.ok(ports.every((p) => p === 8000 + UPDATES_EACH), `not at the final port yet: ${[...new Set(ports)].join(',')}`);
    }, 60_000, 250);
    const convergedMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 2_000)); // writes still in flight are counted too
    const policyWrites = (await generations()) - gen0;
    const m1 = await scrape(op.port);
    const apiWrites = m1.writes - m0.writes;
    const okApiWrites = m1.okWrites - m0.okWrites;
    const reconciles = m1.reconciles - m0.reconciles;
    const breakdown = Object.entries(m1.byVerbCode).map(([k, v]) => `${k}: ${v - (m0.byVerbCode[k] ?? 0)}`).join(', ');
    console.log(
      `    [storm] ${updates} intent updates in ${stormMs} ms → ${reconciles} reconciles, ${policyWrites} policy writes (generation), ` +
        `${apiWrites} API writes of any kind, ${okApiWrites} successful (/metrics: policies + status + events; ${breakdown}); final state ${convergedMs} ms after the first update`,
    );
    assert.equal(updates, INTENTS * UPDATES_EACH);
    assert.ok(policyWrites >= INTENTS, 'every intent got at least its final port written');
    assert.ok(policyWrites < updates / 2, `${policyWrites} policy writes for ${updates} updates: the queue does not coalesce`);
    // /metrics: every successful write is a policy write, or what a reconcile adds: the Ready Unknown/Reconciling
    // status at its start, its final status and an Event (no write amplification); 409s are counted apart (status
    // writes that lost to the storm's next update).
    const okWrites = m1.okWrites - m0.okWrites;
    assert.ok(okWrites <= policyWrites + 3 * reconciles, `${okWrites} successful API writes for ${policyWrites} policy writes and ${reconciles} reconciles: more than two statuses and an event each`);
    assert.ok(okWrites < updates, `${okWrites} successful API writes for ${updates} updates`);
  });
});
