/**
 * Helpers for the fault tests: the operator as a real CHILD PROCESS (`node bin/netseg operator ...`) that can be
 * SIGKILLed, its /metrics scraped over HTTP, a private control plane (own NETSEG_RUN_DIR), raw API requests (to
 * send what kubectl sends, e.g. fieldValidation=Strict), and the "exactly the desired set" check.
 */
import { strict as assert } from 'assert';
import { execFile, spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { apiRequests, freePort, intentPath, seededRandom } from '../../bench/lib';
import { compile, specHash } from '../../src/compile';
import { validateIntent } from '../../src/intent';
import type { SegmentationIntent } from '../../src/intent/types';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import { CONTROL_PLANE_SCRIPT, REPO_ROOT, controlPlaneEnv, eventually } from '../integration/cluster';
import { MANAGED } from '../integration/operator.support';

export { MANAGED };

export const NETSEG_BIN = path.join(REPO_ROOT, 'bin', 'netseg');

// The benchmarks' seeded PRNG (the same kill schedule on every run), free-port finder and intent path.
export { freePort, intentPath, seededRandom };

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly logFile: string;
  /** Resolves with the exit code/signal once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

export interface OperatorArgs {
  readonly kubeconfig: string;
  readonly namespaces: string[];
  readonly port?: number;
  readonly workers?: number;
  readonly resync?: string;
  readonly logLevel?: string;
  readonly logFile?: string;
  /** The child's environment (default: this process's), e.g. the Deployment's NODE_OPTIONS. */
  readonly env?: NodeJS.ProcessEnv;
}

/** `node bin/netseg operator ...` as a child process; resolves once /healthz answers 200. */
export async function spawnOperator(a: OperatorArgs): Promise<OperatorProcess> {
  const port = a.port ?? (await freePort());
  const logFile = a.logFile ?? path.join(os.tmpdir(), `netseg-fault-op-${port}.log`);
  const out = fs.openSync(logFile, 'a');
  const args = [
    NETSEG_BIN, 'operator',
    '--kubeconfig', a.kubeconfig,
    '--namespaces', a.namespaces.join(','),
    '--metrics-addr', `127.0.0.1:${port}`,
    '--workers', String(a.workers ?? 4),
    '--resync', a.resync ?? '10m',
    '--log-level', a.logLevel ?? 'warn',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', out, out], env: a.env ?? process.env });
  fs.closeSync(out);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  const proc: OperatorProcess = { child, pid: child.pid ?? -1, port, logFile, exited, alive: () => !done };
  await eventually(async () => {
    if (!proc.alive()) throw new Error(`operator exited at start; log ${logFile}:\n${tail(logFile)}`);
    assert.equal((await httpGet(port, '/healthz')).code, 200);
  }, 60_000, 50).catch((e: unknown) => {
    if (proc.alive()) child.kill('SIGKILL');
    throw e;
  });
  return proc;
}

export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** SIGKILL, then wait until it is gone. */
export async function kill9(p: OperatorProcess): Promise<void> {
  if (p.alive()) p.child.kill('SIGKILL');
  await p.exited;
}

/** SIGTERM (graceful stop); SIGKILL if it does not exit within 15 s. */
export async function stopOperator(p: OperatorProcess | undefined): Promise<void> {
  if (!p || !p.alive()) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(t);
}

export function httpGet(port: number, urlPath: string, timeoutMs = 5_000): Promise<{ code: number; body: string }> {
  return fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(timeoutMs) }).then(async (r) => ({ code: r.status, body: await r.text() }));
}

/** The samples of one metric family from Prometheus text: [{labels, value}]. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? ([-+0-9.eE]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const kv of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[kv[1] ?? ''] = kv[2] ?? '';
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

export interface Scrape {
  /** API writes sent (verbs create/update/patch/delete, any HTTP code, any resource). */
  writes: number;
  /** API writes that succeeded (2xx). */
  okWrites: number;
  requests: number;
  /** Requests that got no HTTP answer (code 0: the apiserver was unreachable). */
  unanswered: number;
  reconciles: number;
  queueDepth: number;
  /** Writes by "verb code", e.g. {"update 200": 12, "update 409": 1}. */
  byVerbCode: Record<string, number>;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

export async function scrape(port: number): Promise<Scrape> {
  const text = (await httpGet(port, '/metrics')).body;
  const api = samples(text, 'netseg_api_requests_total');
  const writes = api.filter((s) => WRITE_VERBS.has(s.labels['verb'] ?? ''));
  return {
    writes: writes.reduce((n, s) => n + s.value, 0),
    okWrites: writes.filter((s) => (s.labels['code'] ?? '').startsWith('2')).reduce((n, s) => n + s.value, 0),
    requests: api.reduce((n, s) => n + s.value, 0),
    unanswered: api.filter((s) => s.labels['code'] === '0').reduce((n, s) => n + s.value, 0),
    reconciles: samples(text, 'netseg_reconcile_total').reduce((n, s) => n + s.value, 0),
    queueDepth: samples(text, 'netseg_queue_depth')[0]?.value ?? 0,
    byVerbCode: Object.fromEntries(writes.map((w) => [`${w.labels['verb']} ${w.labels['code']}`, w.value])),
  };
}

// ------------------------------------------------------------------------------------------ cluster reads

export async function listIntents(kc: k8s.KubeConfig, ns: string): Promise<SegmentationIntent[]> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const r = await custom.listNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents');
  return JSON.parse(JSON.stringify((r.body as { items: SegmentationIntent[] }).items)) as SegmentationIntent[];
}

export async function listPolicies(kc: k8s.KubeConfig, ns: string, labelSelector?: string): Promise<NetworkPolicy[]> {
  const netApi = kc.makeApiClient(k8s.NetworkingV1Api);
  const r = await netApi.listNamespacedNetworkPolicy(ns, undefined, undefined, undefined, undefined, labelSelector);
  return JSON.parse(JSON.stringify(r.body.items)) as NetworkPolicy[];
}

/**
 * The namespace holds EXACTLY the desired policies: for every live intent, its managed policies are compile()'s
 * (same names, same spec hash, annotation and ownerReference), every intent is Ready=True for its current
 * generation, and no managed policy exists that no live intent wants (no orphan, no duplicate under another name).
 * Returns the number of policies checked.
 */
export async function assertExactlyDesired(kc: k8s.KubeConfig, ns: string): Promise<number> {
  const intents = await listIntents(kc, ns);
  const live = await listPolicies(kc, ns, MANAGED);
  const want = new Map<string, NetworkPolicy>();
  for (const i of intents) {
    for (const p of desiredOf(i)) want.set(p.metadata.name ?? '', p);
  }
  const liveNames = live.map((p) => p.metadata.name ?? '');
  const orphans = liveNames.filter((n) => !want.has(n));
  const missing = [...want.keys()].filter((n) => !liveNames.includes(n));
  assert.deepEqual(orphans, [], `managed policies no live intent wants (orphans/duplicates): ${orphans.slice(0, 10).join(', ')}`);
  assert.deepEqual(missing, [], `desired policies missing: ${missing.slice(0, 10).join(', ')}`);
  for (const l of live) assertSame(l, want.get(l.metadata.name ?? '') as NetworkPolicy);
  return live.length;
}

/** compile() of a stored intent, which must be valid and Ready=True for its current generation. */
function desiredOf(i: SegmentationIntent): NetworkPolicy[] {
  const v = validateIntent(i);
  if (!v.ok) throw new Error(`intent ${i.metadata.name} is invalid: ${JSON.stringify(v.issues)}`);
  const ready = i.status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True', `${i.metadata.name}: Ready ${JSON.stringify(ready)}`);
  assert.equal(i.status?.observedGeneration, i.metadata.generation, `${i.metadata.name}: observedGeneration`);
  return compile(v.intent);
}

function assertSame(l: NetworkPolicy, w: NetworkPolicy): void {
  assert.equal(specHash(l), specHash(w), `${l.metadata.name}: live spec differs from compile(): ${JSON.stringify(l.spec)}`);
  assert.equal(l.metadata.annotations?.['netseg.io/spec-hash'], w.metadata.annotations?.['netseg.io/spec-hash'], `${l.metadata.name}: spec-hash annotation`);
  assert.deepEqual(l.metadata.ownerReferences, w.metadata.ownerReferences, `${l.metadata.name}: ownerReferences`);
  for (const [k, v] of Object.entries(w.metadata.labels ?? {})) assert.equal(l.metadata.labels?.[k], v, `${l.metadata.name}: label ${k}`);
}

/** Creates `items` with at most `width` requests in flight. */
export async function inBatches<T>(items: readonly T[], width: number, f: (t: T, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await f(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
}

/** A small intent: `n` workloads w0..w(n-1) (labels unique to the intent), w(i-1) → w(i) on `port`. */
export function smallIntent(ns: string, name: string, shape: { workloads: number; port: number; extra?: Record<string, unknown> }): SegmentationIntent {
  const { workloads: n, port, extra = {} } = shape;
  const workloads = Array.from({ length: n }, (_, i) => ({ name: `w${i}`, selector: { matchLabels: { app: `${name}-w${i}` } } }));
  const flows = workloads.slice(1).map((w, i) => ({ from: `w${i}`, to: w.name, ports: [{ port }] }));
  return { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name, namespace: ns }, spec: { workloads, flows, ...extra } } as SegmentationIntent;
}

// ------------------------------------------------------------------------------------------ raw requests

/** One raw request to the apiserver (what kubectl sends, e.g. ?fieldValidation=Strict), JSON in and out; PATCH is a JSON merge patch. */
export async function rawRequest(kc: k8s.KubeConfig, method: string, urlPath: string, body?: unknown): Promise<{ code: number; body: Record<string, unknown> }> {
  const a = await (await apiRequests(kc))(method, urlPath, body);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(a.body) as Record<string, unknown>;
  } catch {
    parsed = { raw: a.body };
  }
  return { code: a.code, body: parsed };
}

/** JSON merge patch of an intent (one request, no read-modify-write): what the storm sends. */
export async function mergePatchIntent(kc: k8s.KubeConfig, ns: string, name: string, patch: unknown): Promise<void> {
  const r = await rawRequest(kc, 'PATCH', intentPath(ns, name), patch);
  if (r.code !== 200) throw new Error(`patch ${ns}/${name}: ${r.code} ${JSON.stringify(r.body).slice(0, 300)}`);
}

export async function createIntentRaw(kc: k8s.KubeConfig, i: SegmentationIntent): Promise<void> {
  const r = await rawRequest(kc, 'POST', intentPath(i.metadata.namespace ?? ''), i);
  if (r.code !== 201) throw new Error(`create ${i.metadata.name}: ${r.code} ${JSON.stringify(r.body).slice(0, 300)}`);
}

// ------------------------------------------------------------------------------------- private control plane

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: ${err.message}\n${stderr.split('\n').slice(-20).join('\n')}`)) : resolve(stdout),
    );
  });
}

/** A control plane of our own (NETSEG_RUN_DIR=<tmp>): the shared one is never restarted nor stopped. */
export class PrivateControlPlane {
  readonly runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-fault-'));
  readonly env: NodeJS.ProcessEnv = { ...process.env, NETSEG_RUN_DIR: this.runDir };
  kubeconfig = '';
  kc = new k8s.KubeConfig();

  async up(): Promise<void> {
    const out = await run(CONTROL_PLANE_SCRIPT, ['up'], this.env, 60 * 60_000);
    this.kubeconfig = out.trim().split('\n').pop() ?? '';
    const kubectl = controlPlaneEnv()['KUBECTL'] ?? 'kubectl';
    await run(kubectl, ['--kubeconfig', this.kubeconfig, 'apply', '--server-side', '-f', path.join(REPO_ROOT, 'crds', 'segmentationintents.netseg.io.yaml')], this.env, 120_000);
    await run(kubectl, ['--kubeconfig', this.kubeconfig, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/segmentationintents.netseg.io'], this.env, 90_000);
    this.kc.loadFromFile(this.kubeconfig);
  }

  /** `scripts/control-plane restart COMPONENT PAUSE`: resolves when the component serves again. */
  restart(component: 'kube-apiserver' | 'etcd', pauseSeconds: number): Promise<string> {
    return run(CONTROL_PLANE_SCRIPT, ['restart', component, String(pauseSeconds)], this.env, (pauseSeconds + 180) * 1000);
  }

  async down(): Promise<void> {
    if (!fs.existsSync(this.runDir)) return;
    await run(CONTROL_PLANE_SCRIPT, ['down'], this.env, 120_000).catch((e: unknown) => process.stderr.write(`${String(e)}\n`));
    fs.rmSync(this.runDir, { recursive: true, force: true });
  }
}
