/** Mocha root hooks of the data-plane tier: take the data plane down, then the control plane, if this run started them. */
import { startedCluster, stopControlPlane } from '../integration/cluster';
import { startedDataPlane, stopDataPlane } from './harness';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(240_000);
    const started = await startedDataPlane()?.catch(() => undefined);
    const t = started?.prober.timeouts ?? [];
    if (started) process.stderr.write(`data plane: ${t.length} probe(s) timed out and were measured again${t.length ? `: ${t.join('; ')}` : ''}\n`);
    if (process.env['NETSEG_KEEP_CONTROL_PLANE'] === '1') return;
    const dp = await startedDataPlane()?.catch(() => undefined);
    if (dp?.startedByThisRun) await stopDataPlane();
    const cluster = await startedCluster()?.catch(() => undefined);
    if (cluster?.startedByThisRun) await stopControlPlane();
  },
};
