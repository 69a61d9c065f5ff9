/**
 * The apiserver really restarts (SIGTERM, then started again with the same flags on the same port and etcd) and
 * the operator reconnects on its own. Self-contained: this suite starts its OWN control plane in a private
 * NETSEG_RUN_DIR and stops only that one, so the shared control plane other suites use is never disturbed.
 */
import { strict as assert } from 'assert';
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { CONTROL_PLANE_SCRIPT, REPO_ROOT, controlPlaneEnv, eventually } from './cluster';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, assertMatches, expectedPolicies, intent, readyOf, runOperator, shopSpec } from './operator.support';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: ${err.message}\n${stderr.split('\n').slice(-20).join('\n')}`)) : resolve(stdout),
    );
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the apiserver of `runDir` and starts it again with its exact command line; returns when it serves. */
async function restartApiserver(runDir: string, kc: k8s.KubeConfig): Promise<void> {
  const pidFile = path.join(runDir, 'kube-apiserver.pid');
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  // Its own process group (the script starts it with setsid). Like `control-plane down`: TERM, then KILL.
  process.kill(-pid, 'SIGTERM');
  await eventually(() => assert.ok(!alive(pid)), 10_000, 100).catch(() => process.kill(-pid, 'SIGKILL'));
  await eventually(() => assert.ok(!alive(pid), 'apiserver still running'), 10_000, 100);
  const log = fs.openSync(path.join(runDir, 'logs', 'kube-apiserver.log'), 'a');
  const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.unref();
  // `scripts/control-plane down` (with the same NETSEG_RUN_DIR) must find and stop the new process.
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await eventually(async () => void (await core.listNamespace()), 90_000, 500);
}

describe('operator across an apiserver restart (integration, private control plane)', function () {
  this.timeout(10 * 60_000);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-op-restart-'));
  const env = { ...process.env, NETSEG_RUN_DIR: runDir };
  let kc: k8s.KubeConfig;
  let view: ClusterView;
  let op: CountedOperator | undefined;
  const ns = 'restart';

  before(async function () {
    this.timeout(60 * 60_000);
    const out = await run(CONTROL_PLANE_SCRIPT, ['up'], env, 60 * 60_000);
    const kubeconfig = out.trim().split('\n').pop() ?? '';
    const kubectl = controlPlaneEnv()['KUBECTL'] ?? 'kubectl';
    await run(kubectl, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '-f', path.join(REPO_ROOT, 'crds', 'segmentationintents.netseg.io.yaml')], env, 120_000);
    await run(kubectl, ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/segmentationintents.netseg.io'], env, 90_000);
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    view = new ClusterView(kc);
    await view.core.createNamespace({ metadata: { name: ns } });
  });

  after(async function () {
    this.timeout(180_000);
    await op?.stop().catch(() => undefined);
    await run(CONTROL_PLANE_SCRIPT, ['down'], env, 120_000).catch((e: unknown) => process.stderr.write(`${String(e)}\n`));
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  async function converged(name: string): Promise<void> {
    await eventually(async () => {
      const stored = await view.getIntent(ns, name);
      assertMatches(await view.policies(ns, `${MANAGED},netseg.io/intent=${name}`), expectedPolicies(stored));
      assert.equal(readyOf(stored).status, 'True');
    }, 60_000);
  }

  it('reconnects after the apiserver restarts and keeps enforcing, without exiting', async () => {
    // A 10-minute resync: within this test only the re-established watches can notice the changes below.
    op = await runOperator(kc, [ns], { resyncMs: 10 * 60_000 });
    await view.createIntent(intent(ns, 'shop', shopSpec(2)));
    await converged('shop');

    await restartApiserver(runDir, kc);

    // Custom resources are served a moment after the core API: retry the create until the CRD's endpoint is back.
    await eventually(async () => void (await view.createIntent(intent(ns, 'after', shopSpec(2)))), 60_000, 500);
    await converged('after');
    await view.net.deleteNamespacedNetworkPolicy('shop.w0.ingress', ns);
    await converged('shop');
    const failures = (await op.metrics.apiRequests.get()).values.filter((v) => v.labels['code'] === '0');
    assert.ok(failures.length > 0, 'the operator never saw the apiserver go away: the test restarted nothing');
  });
});
