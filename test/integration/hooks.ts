/** Mocha root hooks: stop the control plane at the end of the run if this run started it. */
import { startedCluster, stopControlPlane } from './cluster';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(180_000);
    const started = startedCluster();
    if (!started || process.env['NETSEG_KEEP_CONTROL_PLANE'] === '1') return;
    const cluster = await started.catch(() => undefined);
    if (cluster?.startedByThisRun) await stopControlPlane();
  },
};
