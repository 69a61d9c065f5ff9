/**
 * `kubectl netseg …` through the kubectl that scripts/control-plane builds, with bin/ on PATH, against the real
 * apiserver; and kubeconfig resolved as kubectl resolves it: a merged $KUBECONFIG list in which the first file's
 * current-context points at a dead server, so only --context reaches the cluster.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { type Cluster, REPO_ROOT, freshNamespace, useCluster } from './cluster';

describe('kubectl netseg (plugin) and kubeconfig resolution, on the real apiserver', function () {
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  let dir: string;
  let decoy: string;
  let context: string;

  const kubectlNetseg = (args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(cluster.kubectl, ['netseg', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PATH: `${path.join(REPO_ROOT, 'bin')}${path.delimiter}${process.env['PATH'] ?? ''}`, HOME: dir, ...env },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    context = cluster.kc.getCurrentContext();
    ns = await freshNamespace(cluster, 'plugin');
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod(ns.name, {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'registry.invalid/web:1', ports: [{ containerPort: 8080 }] }] },
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-plugin-'));
    decoy = path.join(dir, 'decoy.kubeconfig');
    // Port 1 on loopback: nothing listens, so a command that used this context fails at once, naming it.
    fs.writeFileSync(
      decoy,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'decoy', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'decoy', user: { token: 'x' } }],
        contexts: [{ name: 'decoy', context: { cluster: 'decoy', user: 'decoy' } }],
        'current-context': 'decoy',
      }),
    );
  });
  after(async () => {
    await ns?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl finds the plugin, and `kubectl netseg version` runs it', () => {
    const r = kubectlNetseg(['version', '-o', 'json'], {});
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { version: string }).version, (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('`KUBECONFIG=decoy:admin kubectl netseg audit --context <admin> -n NS` reads the cluster of the named context, only NS', () => {
    const r = kubectlNetseg(['audit', '--context', context, '-n', ns.name, '-o', 'json'], { KUBECONFIG: [decoy, cluster.kubeconfigPath].join(path.delimiter) });
    assert.equal(r.status, 0, r.stderr);
    const findings = (JSON.parse(r.stdout) as { findings: { kind: string; pod?: string; namespace?: string }[] }).findings;
    assert.ok(findings.length > 0);
    assert.ok(findings.some((f) => f.kind === 'unisolated-pod' && f.pod === `${ns.name}/web`), JSON.stringify(findings));
    assert.ok(
      findings.every((f) => JSON.stringify(f).includes(`${ns.name}`)),
      `-n keeps findings about ${ns.name} only: ${JSON.stringify(findings)}`,
    );
  });

  it("without --context the first file's current-context wins (kubectl's merge), so the decoy is used and named", () => {
    const r = kubectlNetseg(['audit', '-o', 'json'], { KUBECONFIG: [decoy, cluster.kubeconfigPath].join(path.delimiter) });
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /decoy\.kubeconfig.*\(context decoy\)/);
    const reversed = kubectlNetseg(['audit', '-o', 'json'], { KUBECONFIG: [cluster.kubeconfigPath, decoy].join(path.delimiter) });
    assert.equal(reversed.status, 0, reversed.stderr);
  });

  it('--kubeconfig alone, and ~/.kube/config when nothing else is given', () => {
    const explicit = kubectlNetseg(['audit', '--kubeconfig', cluster.kubeconfigPath, '-n', ns.name, '--details'], { KUBECONFIG: decoy });
    assert.equal(explicit.status, 0, explicit.stderr);
    assert.match(explicit.stdout, new RegExp(`${ns.name}/web`));
    fs.mkdirSync(path.join(dir, '.kube'), { recursive: true });
    fs.copyFileSync(cluster.kubeconfigPath, path.join(dir, '.kube', 'config'));
    const env = { ...process.env } as Record<string, string>;
    delete env['KUBECONFIG'];
    const home = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'netseg'), 'audit', '-n', ns.name, '--details'], { encoding: 'utf8', env: { ...env, HOME: dir }, timeout: 60_000 });
    assert.equal(home.status, 0, home.stderr);
    assert.match(home.stdout, new RegExp(`${ns.name}/web`));
  });
});
