/**
 * When the control plane can't start, integration tests FAIL with the reason: they never skip or pass.
 * Runs one integration suite in a child mocha whose control plane cannot start (its run folder can't be created).
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { REPO_ROOT } from './cluster';

describe('integration harness when the control plane cannot start', function () {
  this.timeout(5 * 60 * 1000);

  it('fails the suite with the failing step, and skips nothing', () => {
    const mocha = path.join(REPO_ROOT, 'node_modules', '.bin', 'mocha');
    const suite = path.join(REPO_ROOT, 'dist', 'test', 'integration', 'roundtrip.test.js');
    const r = spawnSync(mocha, ['--config', path.join(REPO_ROOT, '.mocharc.json'), '--reporter', 'json', suite], {
      encoding: 'utf8',
      // /proc does not allow new folders: `up` fails at its first step, as on a broken machine.
      env: { ...process.env, NETSEG_RUN_DIR: '/proc/netseg-cannot-create-this' },
      timeout: 4 * 60 * 1000,
    });
    assert.notEqual(r.status, 0, 'the run fails');
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
      stats: { failures: number; pending: number; passes: number };
      failures: { err: { message: string } }[];
    };
    assert.ok(report.stats.failures >= 1, 'at least one failure');
    assert.equal(report.stats.pending, 0, 'nothing skipped');
    assert.equal(report.stats.passes, 0, 'nothing passes without a cluster');
    assert.match(report.failures[0]?.err.message ?? '', /control-plane up failed/);
  });
});
