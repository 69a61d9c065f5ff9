/**
 * A baseline on the real data plane (test/dataplane/baseline.ts): namespaces created one after another AFTER the
 * ClusterSegmentationIntent, each with two pods; from the namespace create until the outsider's probe to the new
 * pod is first refused by kube-router. Writes bench/results/dataplane-baseline.json: p50/p99/max of
 * create → pods running and create → isolated (packets), and how many probes connected before isolation.
 * Needs root (network namespaces): `NETSEG_RUN_DIR=… npm run bench -- dataplane-baseline`.
 */
import { median, percentile, report } from './lib';
import { useDataPlane } from '../test/dataplane/harness';
import { type IsolationSample, createIsolatedNamespace, startBaselineWorld } from '../test/dataplane/baseline';

export async function run(): Promise<void> {
  const count = Number(process.env['NETSEG_DP_BASELINE_NAMESPACES'] ?? 10);
  const dp = await useDataPlane();
  const world = await startBaselineWorld(dp);
  const samples: IsolationSample[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = await createIsolatedNamespace(world, `dp-base-bench-${i}`);
      process.stderr.write(`dataplane-baseline: ${s.namespace} policies ${s.policiesMs} ms, running ${s.runningMs} ms, isolated ${s.isolatedMs} ms, ${s.connectedBefore} connected before\n`);
      samples.push(s);
    }
  } finally {
    await world.close();
  }
  const stats = (xs: number[]): Record<string, number> => ({ p50: median(xs), p99: percentile(xs, 99), max: Math.max(...xs) });
  report('dataplane-baseline', {
    namespaces: samples.length,
    what: 'namespace create sent (its 2 pods created right after) → first probe from another namespace refused by kube-router',
    createToPoliciesListedMs: stats(samples.map((s) => s.policiesMs)),
    createToPodsRunningMs: stats(samples.map((s) => s.runningMs)),
    createToIsolatedMs: stats(samples.map((s) => s.isolatedMs)),
    runningToIsolatedMs: stats(samples.map((s) => s.isolatedMs - s.runningMs)),
    namespacesWithProbesConnectedBeforeIsolation: samples.filter((s) => s.connectedBefore > 0).length,
    probesConnectedBeforeIsolation: samples.reduce((n, s) => n + s.connectedBefore, 0),
  });
}
