/**
 * The data plane for tests: `useDataPlane()` starts (once per mocha run, lazily) the shared control plane with
 * the CRDs (test/integration/cluster.ts) and `scripts/dataplane up` on the same run dir, and returns what a test
 * needs: run pods, probe with packets, ask `netseg reach` the same questions over the live objects.
 * If the data plane cannot start (not root, no network namespaces, no kube-router, …) the suite FAILS with the
 * script's reason: never skips. A data plane this run started is taken down by ./hooks.ts (unless
 * NETSEG_KEEP_CONTROL_PLANE=1).
 */
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../../src/model/kubernetes';
import { type Cluster, REPO_ROOT, kubectl, useCluster } from '../integration/cluster';
import { type DataPlaneConfig, readConfig } from './config';
import { Prober, type Query, type QueryResult } from './probe';

export const DATAPLANE_SCRIPT = path.join(REPO_ROOT, 'scripts', 'dataplane');
const NETSEG = path.join(REPO_ROOT, 'bin', 'netseg');

export interface DataPlane {
  readonly cluster: Cluster;
  readonly cfg: DataPlaneConfig;
  readonly prober: Prober;
  readonly startedByThisRun: boolean;
  /** Packets' answers, for the policies as they are now (a barrier first). */
  probe(queries: readonly Query[]): Promise<QueryResult[]>;
}

let starting: Promise<DataPlane> | undefined;

function run(cmd: string, args: string[], timeoutMs: number, input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${err.message}\n${stderr.split('\n').slice(-30).join('\n')}`));
      else resolve({ stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Why this machine cannot run the data plane, before trying (the script says the rest). */
function precondition(): string | undefined {
  if (process.getuid?.() !== 0) return 'the data plane needs root (network namespaces, veths, iptables); run the tests as root, as CI does';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'the `ip` tool (iproute2) is missing or cannot list network namespaces';
  return undefined;
}

async function start(): Promise<DataPlane> {
  const why = precondition();
  if (why) throw new Error(`the data plane cannot start: ${why}`);
  const cluster = await useCluster();
  const wasRunning = spawnSync(DATAPLANE_SCRIPT, ['status'], { encoding: 'utf8' }).status === 0;
  // A cold kube-router build takes many minutes; .ci/run builds first, so this is seconds there.
  await run(DATAPLANE_SCRIPT, ['up'], 60 * 60 * 1000);
  const cfg = readConfig();
  const prober = new Prober(cfg, cluster.kc);
  return { cluster, cfg, prober, startedByThisRun: !wasRunning, probe: (q) => prober.probe(q) };
}

export function useDataPlane(): Promise<DataPlane> {
  starting ??= start();
  return starting;
}

export function startedDataPlane(): Promise<DataPlane> | undefined {
  return starting;
}

export async function stopDataPlane(): Promise<void> {
  await run(DATAPLANE_SCRIPT, ['down'], 120_000);
}

/** Every pod given is Running on the data plane with an IP (the agent has set its network up). */
export async function waitRunning(dp: DataPlane, pods: readonly { namespace: string; name: string }[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const p of pods) {
    for (;;) {
      try {
        await dp.prober.address(`${p.namespace}/${p.name}`);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`pod ${p.namespace}/${p.name} is not running on the data plane after ${timeoutMs} ms: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

/** Creates objects as written (kubectl apply --server-side): namespaces, pods, policies, intents. */
export async function applyObjects(dp: DataPlane, objects: readonly KubeObject[]): Promise<void> {
  if (objects.length === 0) return;
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-dp-')), 'objects.json');
  fs.writeFileSync(file, list);
  await kubectl(dp.cluster, ['apply', '--server-side', '--force-conflicts', '-f', file]);
}

/**
 * `netseg reach --queries -o json` over what the cluster holds now (every namespace, pod and NetworkPolicy): the
 * engine's verdicts for the very questions the packets answered.
 */
export async function reachOf(dp: DataPlane, queries: readonly Query[]): Promise<QueryResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-reach-'));
  const live = path.join(dir, 'cluster.json');
  fs.writeFileSync(live, await kubectl(dp.cluster, ['get', 'namespaces,pods,networkpolicies', '-A', '-o', 'json'], 120_000));
  const q = path.join(dir, 'queries.json');
  fs.writeFileSync(q, JSON.stringify(queries.map((x) => ({ ...x, protocol: x.protocol ?? 'TCP' }))));
  const out = await run(process.execPath, [NETSEG, 'reach', '-f', live, '--queries', q, '-o', 'json'], 120_000);
  fs.rmSync(dir, { recursive: true, force: true });
  return (JSON.parse(out.stdout) as { results: QueryResult[] }).results;
}

/** Rows where two answers to the same questions differ, as readable lines (empty: they agree). */
export function differences(a: readonly QueryResult[], b: readonly QueryResult[], names: [string, string]): string[] {
  const out: string[] = [];
  a.forEach((x, i) => {
    const y = b[i];
    if (!y || y.allowed !== x.allowed) {
      out.push(`${x.from} -> ${x.to} ${x.protocol}/${x.port}: ${names[0]} ${x.allowed ? 'allowed' : 'denied'}, ${names[1]} ${y ? (y.allowed ? 'allowed' : 'denied') : 'missing'}`);
    }
  });
  return out;
}

export { k8s };

/** Every object of examples/ as written (netseg's loader trims Pods, which the apiserver would refuse). */
export function exampleObjects(): KubeObject[] {
  const { parseAllDocuments } = require('yaml') as typeof import('yaml');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      // The baseline example is a world of its own: its namespaces and pods restate the other examples' with other
      // ports and labels, and its ClusterSegmentationIntent would isolate them all. It is checked on its own.
      if (e.isDirectory() && e.name === 'baseline') continue;
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/\.ya?ml$/.test(e.name)) files.push(path.join(d, e.name));
    }
  };
  walk(path.join(REPO_ROOT, 'examples'));
  return files
    .flatMap((f) => parseAllDocuments(fs.readFileSync(f, 'utf8')).map((d) => d.toJS() as KubeObject | null))
    .filter((o): o is KubeObject => o !== null && typeof o === 'object')
    .map((o) => (o.kind === 'Pod' ? { ...o, status: undefined } : o));
}

const SYSTEM_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/**
 * Removes namespaces (and waits until they are gone: the namespace controller deletes their pods, the agent
 * finishes each delete) so a test starts from nothing. System namespaces stay; their listed pods are deleted.
 */
export async function removeNamespaces(dp: DataPlane, names: readonly string[], podsInSystem: readonly { namespace: string; name: string }[] = []): Promise<void> {
  const core = dp.cluster.kc.makeApiClient(k8s.CoreV1Api);
  for (const p of podsInSystem) await core.deleteNamespacedPod(p.name, p.namespace, undefined, undefined, 0).catch(() => undefined);
  const doomed = names.filter((n) => !SYSTEM_NAMESPACES.has(n));
  for (const n of doomed) await core.deleteNamespace(n).catch(() => undefined);
  const deadline = Date.now() + 120_000;
  for (const n of doomed) {
    while (await core.readNamespace(n).then(() => true, () => false)) {
      if (Date.now() > deadline) throw new Error(`namespace ${n} still there after 120 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (const p of podsInSystem) {
    while (await core.readNamespacedPod(p.name, p.namespace).then(() => true, () => false)) {
      if (Date.now() > deadline) throw new Error(`pod ${p.namespace}/${p.name} still there after 120 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Every (source pod, destination pod, declared TCP/UDP port) of the pods given, sources ≠ destinations. */
export function matrixQueries(pods: readonly KubeObject[]): Query[] {
  type P = { metadata?: { namespace?: string; name?: string }; spec?: { containers?: { ports?: { containerPort?: number; protocol?: string }[] }[] } };
  const key = (p: P): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
  const all = pods as P[];
  return all.flatMap((src) =>
    all
      .filter((dst) => key(dst) !== key(src))
      .flatMap((dst) =>
        (dst.spec?.containers ?? [])
          .flatMap((c) => c.ports ?? [])
          .filter((p) => p.containerPort && (p.protocol ?? 'TCP') !== 'SCTP')
          .map((p) => ({ from: key(src), to: key(dst), port: p.containerPort as number, protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' })),
      ),
  );
}
