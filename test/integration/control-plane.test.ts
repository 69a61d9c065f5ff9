/**
 * scripts/control-plane on its own: a second, separate instance (its own NETSEG_RUN_DIR) comes up on free
 * ports, a second `up` reuses it, `status` reports it, and `down` leaves no process behind.
 */
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CONTROL_PLANE_SCRIPT, useCluster } from './cluster';

function script(args: string[], runDir: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(CONTROL_PLANE_SCRIPT, args, {
    encoding: 'utf8',
    env: { ...process.env, NETSEG_RUN_DIR: runDir },
    timeout: 5 * 60 * 1000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Processes whose command line mentions the run dir: what `down` must leave none of. */
function processesOf(runDir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(runDir) && !l.includes('ps -eo'));
}

describe('scripts/control-plane', function () {
  this.timeout(10 * 60 * 1000);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-cp-test-'));

  // The shared instance builds the binaries (or finds them cached) first.
  before(async () => void (await useCluster()));
  after(() => {
    script(['down'], runDir);
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('starts, reuses a healthy instance on a second up, and reports status', () => {
    const first = script(['up'], runDir);
    assert.equal(first.status, 0, first.stderr);
    const kubeconfig = first.stdout.trim().split('\n').pop();
    assert.equal(kubeconfig, path.join(runDir, 'admin.kubeconfig'), 'the last stdout line is the kubeconfig');
    const pid = fs.readFileSync(path.join(runDir, 'kube-apiserver.pid'), 'utf8').trim();

    const second = script(['up'], runDir);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /reusing/);
    assert.equal(fs.readFileSync(path.join(runDir, 'kube-apiserver.pid'), 'utf8').trim(), pid, 'same apiserver process');

    const status = script(['status'], runDir);
    assert.equal(status.status, 0);
    assert.match(status.stdout, /kube-apiserver: running/);
    assert.match(status.stdout, /kube-controller-manager: running/);
    assert.match(status.stdout, /etcd: running/);
    assert.ok(processesOf(runDir).length >= 3, 'three components run');
  });

  it('down stops every process it started', async () => {
    const down = script(['down'], runDir);
    assert.equal(down.status, 0, down.stderr);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(processesOf(runDir), []);
    assert.notEqual(script(['status'], runDir).status, 0, 'status reports nothing running');
  });
});
