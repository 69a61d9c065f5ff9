/**
 * The data plane fails loudly, never silently: `scripts/dataplane up` on a machine (here: a user) that cannot
 * run it exits non-zero naming the step and the reason, and the harness turns that into a failing suite.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DATAPLANE_SCRIPT } from './harness';

describe('data plane: a machine that cannot run it is told why', function () {
  it('scripts/dataplane up as a non-root user fails at the precondition step, saying root is needed', function () {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-dp-nobody-'));
    fs.chmodSync(runDir, 0o777);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', DATAPLANE_SCRIPT, 'up'], {
      encoding: 'utf8',
      env: { ...process.env, NETSEG_RUN_DIR: runDir, HOME: runDir },
    });
    fs.rmSync(runDir, { recursive: true, force: true });
    assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /FAILED at step 'check this machine can run a data plane': not root/);
    assert.equal(r.stdout.trim(), '', 'no kubeconfig path is printed on failure');
  });
});
