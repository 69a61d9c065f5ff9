/**
 * No over-permissive window: 200 intent updates (narrowing, widening, renames of workloads) through the operator
 * onto the real data plane while probers connect continuously; not one probe may connect that neither the old
 * nor the new intent allows (test/dataplane/window.ts says exactly how "in force" is decided). The figures
 * (probes, lags) are the benchmark's: bench/dataplane-window.bench.ts, docs/reliability.md.
 */
import { strict as assert } from 'assert';
import { type DataPlane, useDataPlane } from './harness';
import { cleanupWindow, measureWindow } from './window';

const UPDATES = Number(process.env['NETSEG_WINDOW_UPDATES'] ?? 200);

describe('data plane: no over-permissive window while intents change', function () {
  let dp: DataPlane;

  before(async function () {
    dp = await useDataPlane();
  });

  after(async function () {
    if (dp) await cleanupWindow(dp);
  });

  it(`${UPDATES} updates (narrowing, widening, renames): 0 probes allowed that neither the old nor the new intent allows`, async function () {
    this.timeout(60 * 60 * 1000);
    const r = await measureWindow(dp, { updates: UPDATES, log: (l) => process.stderr.write(`    window: ${l}\n`) });
    process.stderr.write(`    window: ${r.probes} probes (${r.probesAllowed} allowed), ${r.violations.length} violations, ${r.timeouts} timeouts, ${r.renames} renames, ${r.widenings} widenings, ${r.narrowings} narrowings\n`);
    assert.ok(r.renames > 0 && r.widenings > 0 && r.narrowings > 0, 'the updates narrow, widen and rename');
    assert.ok(r.probes > UPDATES, `probes ran throughout (${r.probes})`);
    assert.ok(r.probesAllowed > 0 && r.probesAllowed < r.probes, 'probes saw both verdicts');
    assert.deepEqual(r.violations, [], 'probes connected that no intent in force allowed');
  });
});
