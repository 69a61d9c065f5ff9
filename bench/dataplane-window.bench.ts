/**
 * The over-permissive window on the real data plane (test/dataplane/window.ts): 200 intent updates (narrowing,
 * widening, renames) through the operator while probers connect continuously. Writes bench/results/dataplane-window.json:
 * probes, violations (must be 0; the test asserts it), how long a newly allowed flow stays denied after its
 * intent is written (p50/p99), how long a newly denied flow stays open, and the update → enforced time.
 * Needs root (network namespaces): `NETSEG_RUN_DIR=… npm run bench -- dataplane-window`.
 */
import { median, percentile, report } from './lib';
import { useDataPlane } from '../test/dataplane/harness';
import { cleanupWindow, measureWindow } from '../test/dataplane/window';

export async function run(): Promise<void> {
  const updates = Number(process.env['NETSEG_WINDOW_UPDATES'] ?? 200);
  const dp = await useDataPlane();
  try {
    const r = await measureWindow(dp, { updates, log: (l) => process.stderr.write(`window: ${l}\n`) });
    const round = (x: number): number => Math.round(x);
    report('dataplane-window', {
      updates: r.updates,
      renames: r.renames,
      widenings: r.widenings,
      narrowings: r.narrowings,
      probes: r.probes,
      probesAllowed: r.probesAllowed,
      violations: r.violations.length,
      violationSamples: r.violations.slice(0, 10),
      probeTimeouts: r.timeouts,
      newlyAllowedFlows: r.newlyAllowedDeniedForMs.length,
      newlyAllowedStaysDeniedMs: { p50: round(median(r.newlyAllowedDeniedForMs)), p99: round(percentile(r.newlyAllowedDeniedForMs, 99)), max: round(Math.max(...r.newlyAllowedDeniedForMs)) },
      newlyDeniedFlows: r.newlyDeniedOpenForMs.length,
      newlyDeniedStaysOpenMs: { p50: round(median(r.newlyDeniedOpenForMs)), p99: round(percentile(r.newlyDeniedOpenForMs, 99)), max: round(Math.max(...r.newlyDeniedOpenForMs)) },
      updateToEnforcedMs: { p50: round(median(r.enforcedAfterMs)), p99: round(percentile(r.enforcedAfterMs, 99)) },
      durationS: round(r.durationMs / 1000),
      probesPerSecond: round(r.probes / (r.durationMs / 1000)),
    });
  } finally {
    await cleanupWindow(dp);
  }
}
