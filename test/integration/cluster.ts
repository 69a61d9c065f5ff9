/**
 * The shared, real control plane for integration tests (scripts/control-plane: etcd, kube-apiserver,
 * kube-controller-manager). Started once per mocha run, lazily, by the first suite that calls `useCluster()`,
 * with the CRDs from crds/ installed. If it cannot start, the suite FAILS with the script's reason: never skips.
 * A control plane that was already running before the run is reused and left running; one this run started
 * is stopped by the root hook in hooks.ts (unless NETSEG_KEEP_CONTROL_PLANE=1).
 */
import { execFile, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const CONTROL_PLANE_SCRIPT = path.join(REPO_ROOT, 'scripts', 'control-plane');

export interface Cluster {
  readonly kubeconfigPath: string;
  readonly kubectl: string;
  readonly kc: k8s.KubeConfig;
  readonly startedByThisRun: boolean;
}

let starting: Promise<Cluster> | undefined;

/** The CustomResourceDefinition manifests in crds/ (not its kustomization.yaml). */
export function crdManifests(): string[] {
  const dir = path.join(REPO_ROOT, 'crds');
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('kustomization'));
  if (files.length === 0) throw new Error(`no CRD manifests in ${dir}`);
  return files.sort().map((f) => path.join(dir, f));
}

export function controlPlaneEnv(): Record<string, string> {
  const r = spawnSync(CONTROL_PLANE_SCRIPT, ['env'], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const tail = stderr.split('\n').slice(-30).join('\n');
        reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${err.message}\n${tail}`));
      } else resolve({ stdout, stderr });
    });
  });
}

async function start(): Promise<Cluster> {
  const wasRunning = spawnSync(CONTROL_PLANE_SCRIPT, ['status'], { encoding: 'utf8' }).status === 0;
  // A cold build takes many minutes; .ci/run builds first, so this is seconds there.
  const up = await run(CONTROL_PLANE_SCRIPT, ['up'], 60 * 60 * 1000);
  const kubeconfigPath = up.stdout.trim().split('\n').pop() ?? '';
  if (!kubeconfigPath) throw new Error(`control-plane up printed no kubeconfig path:\n${up.stderr}`);
  const kubectl = controlPlaneEnv()['KUBECTL'] ?? 'kubectl';
  const crdFiles = crdManifests().flatMap((f) => ['-f', f]);
  await run(kubectl, ['--kubeconfig', kubeconfigPath, 'apply', '--server-side', '--force-conflicts', ...crdFiles], 120_000);
  await run(kubectl, ['--kubeconfig', kubeconfigPath, 'wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all'], 90_000);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return { kubeconfigPath, kubectl, kc, startedByThisRun: !wasRunning };
}

/** The shared control plane (started on first use). Call from a suite's `before`. */
export function useCluster(): Promise<Cluster> {
  starting ??= start();
  return starting;
}

/** The cluster if this run started one (for the root hook's teardown), without starting it. */
export function startedCluster(): Promise<Cluster> | undefined {
  return starting;
}

export async function stopControlPlane(): Promise<void> {
  await run(CONTROL_PLANE_SCRIPT, ['down'], 120_000);
}

/** kubectl against the test cluster; resolves with stdout, rejects with stderr. */
export async function kubectl(cluster: Cluster, args: string[], timeoutMs = 60_000): Promise<string> {
  return (await run(cluster.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args], timeoutMs)).stdout;
}

/** A fresh namespace for one test: unique name, deleted after the test by the returned cleanup. */
export async function freshNamespace(
  cluster: Cluster,
  prefix = 'test',
  labels: Record<string, string> = {},
): Promise<{ name: string; cleanup: () => Promise<void> }> {
  const name = `${prefix}-${crypto.randomBytes(4).toString('hex')}`.slice(0, 63);
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ metadata: { name, labels } });
  return {
    name,
    cleanup: async () => {
      await core.deleteNamespace(name).catch(() => undefined);
    },
  };
}

/** Polls `check` until it returns without throwing, or fails with its last error after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`not true after ${timeoutMs} ms: ${(last as Error)?.message ?? String(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A KubeConfig that authenticates as a ServiceAccount, with a real token from the TokenRequest API: how the
 * tests run the operator under the RBAC of deploy/ instead of as admin.
 */
export async function serviceAccountKubeConfig(admin: k8s.KubeConfig, namespace: string, name: string): Promise<k8s.KubeConfig> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const r = await core.createNamespacedServiceAccountToken(name, namespace, { spec: { audiences: [], expirationSeconds: 3600 } });
  const token = r.body.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const server = admin.getCurrentCluster();
  if (!server) throw new Error('the admin kubeconfig has no current cluster');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: server.server, caData: server.caData, skipTLSVerify: false }],
    users: [{ name, token }],
    contexts: [{ name: 'sa', cluster: 'test', user: name }],
    currentContext: 'sa',
  });
  return kc;
}
