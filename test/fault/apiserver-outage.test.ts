/**
 * Fault: the apiserver (then etcd) goes away for real, mid-reconcile, on a PRIVATE control plane (its own
 * NETSEG_RUN_DIR; `scripts/control-plane restart COMPONENT PAUSE`), never the shared one. The operator is a child
 * process with the default 10 min resync, so only its own reconnect logic can bring it back in time.
 *  - no valid policy is deleted (every uid recorded before the outage is still there after it);
 *  - the process never exits and keeps answering /healthz;
 *  - changes made after the component's return are reconciled within 30 s of the return.
 */
import { strict as assert } from 'assert';
import * as k8s from '@kubernetes/client-node';
import { eventually } from '../integration/cluster';
import type { OperatorProcess } from './support';
import {
  MANAGED,
  PrivateControlPlane,
  assertExactlyDesired,
  createIntentRaw,
  httpGet,
  inBatches,
  listPolicies,
  mergePatchIntent,
  scrape,
  smallIntent,
  spawnOperator,
  stopOperator,
} from './support';

const RECOVERY_BOUND_MS = 30_000;

describe('fault: apiserver and etcd taken away mid-reconcile (private control plane)', function () {
  this.timeout(15 * 60_000);
  const cp = new PrivateControlPlane();
  const ns = 'outage';
  let op: OperatorProcess | undefined;

  before(async function () {
    this.timeout(60 * 60_000);
    await cp.up();
    await cp.kc.makeApiClient(k8s.CoreV1Api).createNamespace({ metadata: { name: ns } });
  });

  after(async function () {
    this.timeout(180_000);
    await stopOperator(op);
    await cp.down();
  });

  /** Runs `fault` (a control-plane restart) right after `midReconcile`, watching the operator while it lasts. */
  async function outage(component: 'kube-apiserver' | 'etcd', pauseSeconds: number, tag: string): Promise<{ backAt: number; healthFailures: number; samples: number }> {
    assert.ok(op);
    const proc = op;
    let finished = false;
    const restart = cp.restart(component, pauseSeconds).finally(() => (finished = true));
    let healthFailures = 0;
    let samples = 0;
    while (!finished) {
      await new Promise((r) => setTimeout(r, 1_000));
      assert.ok(proc.alive(), `the operator exited during the ${component} outage`);
      samples++;
      const h = await httpGet(proc.port, '/healthz', 2_000).catch(() => ({ code: 0, body: '' }));
      if (h.code !== 200) healthFailures++;
    }
    await restart;
    const backAt = Date.now();
    process.stdout.write(`    [${tag}] ${component} back after ${pauseSeconds} s pause\n`);
    return { backAt, healthFailures, samples };
  }

  function uids(ps: { metadata: { uid?: string; name?: string; resourceVersion?: string } }[]): Map<string, string> {
    return new Map(ps.map((p) => [p.metadata.uid ?? '', `${p.metadata.name}@${p.metadata.resourceVersion}`]));
  }

  /** After the return: changes (new intents, edited ports) are reconciled within RECOVERY_BOUND_MS. */
  async function changeAndTimeRecovery(backAt: number, round: string, edit: string[]): Promise<number> {
    // CRs are served a moment after the core API: retry each write until the endpoint is back.
    await eventually(() => inBatches([0, 1, 2, 3, 4], 5, (i) => createIntentRaw(cp.kc, smallIntent(ns, `${round}-after-${i}`, { workloads: 2, port: 7000 + i })).catch((e: unknown) => {
      if (!String(e).includes('409')) throw e;
    })), 60_000, 250);
    await eventually(() => inBatches(edit, 5, (n) => mergePatchIntent(cp.kc, ns, n, { spec: smallIntent(ns, n, { workloads: 2, port: 6500 }).spec })), 60_000, 250);
    await eventually(() => assertExactlyDesired(cp.kc, ns), 120_000, 250);
    return Date.now() - backAt;
  }

  it('stops the apiserver for 30 s mid-reconcile: deletes no valid policy, never exits, reconciles new changes within 30 s of its return', async () => {
    op = await spawnOperator({ kubeconfig: cp.kubeconfig, namespaces: [ns], workers: 4, resync: '10m' });
    const names = Array.from({ length: 40 }, (_, i) => `i${i}`);
    await inBatches(names, 8, (n) => createIntentRaw(cp.kc, smallIntent(ns, n, { workloads: 2, port: 8080 })));
    await eventually(() => assertExactlyDesired(cp.kc, ns), 120_000, 500);
    const before = uids(await listPolicies(cp.kc, ns, MANAGED));

    // Mid-reconcile: 20 intents get a new port (policy updates, same uids) and 10 new intents appear; the
    // apiserver is taken away at once, while the operator is writing.
    const edited = names.slice(0, 20);
    await Promise.all([
      inBatches(edited, 10, (n) => mergePatchIntent(cp.kc, ns, n, { spec: smallIntent(ns, n, { workloads: 2, port: 8443 }).spec })),
      inBatches(Array.from({ length: 10 }, (_, i) => `mid-${i}`), 10, (n) => createIntentRaw(cp.kc, smallIntent(ns, n, { workloads: 3, port: 9090 }))),
    ]);
    const writesBefore = (await scrape(op.port)).writes;
    const { backAt, healthFailures, samples } = await outage('kube-apiserver', 30, 'apiserver');
    assert.ok(op.alive(), 'the operator exited');

    const recoveryMs = await changeAndTimeRecovery(backAt, 'api', names.slice(20, 30));
    const after = await listPolicies(cp.kc, ns, MANAGED);
    const afterUids = new Set(after.map((p) => p.metadata.uid ?? ''));
    const lost = [...before].filter(([uid]) => !afterUids.has(uid)).map(([, what]) => what);
    const unanswered = (await scrape(op.port)).unanswered;
    console.log(`    [apiserver] recovered ${recoveryMs} ms after the apiserver's return (bound ${RECOVERY_BOUND_MS} ms); /healthz failed ${healthFailures}/${samples} samples during the outage; policies before ${before.size}, after ${after.length}, lost ${lost.length}; unanswered requests ${unanswered}; writes before the outage ${writesBefore}`);
    assert.deepEqual(lost, [], 'valid policies were deleted (their uid is gone)');
    assert.equal(healthFailures, 0, '/healthz must answer 200 while the apiserver is away');
    assert.ok(unanswered > 0, 'the operator never saw the apiserver go away: nothing was restarted');
    assert.ok(op.alive(), 'the operator exited');
    assert.ok(recoveryMs <= RECOVERY_BOUND_MS, `changes made after the apiserver's return took ${recoveryMs} ms to be reconciled (bound ${RECOVERY_BOUND_MS} ms)`);
  });

  it('stops etcd for 20 s mid-reconcile: deletes no valid policy, never exits, reconciles new changes within 30 s of its return', async () => {
    assert.ok(op?.alive(), 'runs after the apiserver test, on the same operator');
    const before = uids(await listPolicies(cp.kc, ns, MANAGED));
    const names = Array.from({ length: 10 }, (_, i) => `i${20 + i}`);
    await inBatches(names, 10, (n) => mergePatchIntent(cp.kc, ns, n, { spec: smallIntent(ns, n, { workloads: 2, port: 5443 }).spec }));
    const { backAt, healthFailures, samples } = await outage('etcd', 20, 'etcd');
    const recoveryMs = await changeAndTimeRecovery(backAt, 'etcd', Array.from({ length: 10 }, (_, i) => `i${30 + i}`));
    const afterUids = new Set((await listPolicies(cp.kc, ns, MANAGED)).map((p) => p.metadata.uid ?? ''));
    const lost = [...before].filter(([uid]) => !afterUids.has(uid)).map(([, what]) => what);
    console.log(`    [etcd] recovered ${recoveryMs} ms after etcd's return (bound ${RECOVERY_BOUND_MS} ms); /healthz failed ${healthFailures}/${samples}; lost ${lost.length} of ${before.size} policies`);
    assert.deepEqual(lost, [], 'valid policies were deleted (their uid is gone)');
    assert.equal(healthFailures, 0);
    assert.ok(op?.alive(), 'the operator exited');
    assert.ok(recoveryMs <= RECOVERY_BOUND_MS, `changes made after etcd's return took ${recoveryMs} ms to be reconciled (bound ${RECOVERY_BOUND_MS} ms)`);
  });
});
