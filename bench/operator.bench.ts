/**
 * The operator against the local control plane (scripts/control-plane up; reused when running), run as its own
 * process exactly as deployed (`bin/netseg operator`, after `npm run build`), so that its RSS is its own and its
 * API requests are what its /metrics says (netseg_api_requests_total{verb,code}), not an in-process hook.
 *
 * For N = 100 and 1,000 intents (10 workloads, 20 flows each → 10 policies each), in a fresh namespace:
 *  - time from the first intent applied to all N×10 policies present (seen by the operator's watch, then
 *    confirmed once by a paginated API list), and until its writes stopped (statuses and events included);
 *  - the API writes of that first apply, by verb and code;
 *  - the no-op pass: a restarted operator process re-reconciles every intent (what a resync does): its time
 *    from spawn and from ready, and its writes (the target is none);
 *  - the operator's VmRSS and VmHWM (peak) from /proc/<pid>/status once converged.
 * Polling costs the apiserver nothing: the bench scrapes the operator's /metrics every 500 ms.
 */
import { spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { WORKLOADS, benchIntent } from './floor';
import { countManagedPolicies, deployedOperator, freePort, localControlPlane, report, seededRandom } from './lib';

const ROOT = path.resolve(__dirname, '..', '..');
const NETSEG = path.join(ROOT, 'bin', 'netseg');
/** The CLI's default (src/cli/operator.ts): the benchmark measures the operator as shipped. */
const WORKERS = Number(process.env['NETSEG_BENCH_WORKERS'] ?? '4');
const POLL_MS = 500;
const QUIET_MS = 3000;

async function inBatches<T>(items: T[], size: number, f: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}


// ------------------------------------------------------------------------------------ the operator process

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly startedAt: number;
}

/** `scope`: one namespace (--namespaces), or the operator's scope flags as given. */
export async function spawnOperator(kubeconfig: string, scope: string | readonly string[], log: string): Promise<OperatorProcess> {
  const port = await freePort();
  const scopeArgs = typeof scope === 'string' ? ['--namespaces', scope] : scope;
  const args = [NETSEG, 'operator', '--kubeconfig', kubeconfig, ...scopeArgs, '--metrics-addr', `127.0.0.1:${port}`, '--workers', String(WORKERS), '--resync', '1h', '--log-level', 'warn'];
  const out = fs.openSync(log, 'a');
  const startedAt = Date.now();
  // Run it as deployed: with the Deployment's NODE_OPTIONS (its V8 heap cap), and only the child gets them.
  const env = { ...process.env, NODE_OPTIONS: deployedOperator().nodeOptions };
  const child = spawn(process.execPath, args, { stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  const op = { child, port, startedAt };
  await until(async () => (await probe(op, '/healthz')) === 200, 60_000);
  return op;
}

export async function stopOperator(op: OperatorProcess): Promise<void> {
  if (op.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => op.child.once('exit', () => resolve()));
  op.child.kill('SIGTERM');
  await exited;
}

export async function probe(op: OperatorProcess, p: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${op.port}${p}`)).status;
  } catch {
    return 0;
  }
}

interface Scrape {
  readonly writes: Record<string, number>;
  readonly lists: number;
  readonly reconciled: number;
  readonly reconciles: number;
  readonly queueDepth: number;
  readonly policiesManaged: number;
  /** V8 heap in use and reserved (MB): tells live data from garbage V8 has not collected yet. */
  readonly heapMB: { used: number; total: number };
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

/** Parses the few series the benchmark needs out of the Prometheus text format. */
export async function scrape(op: OperatorProcess): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${op.port}/metrics`)).text();
  const writes: Record<string, number> = {};
  let lists = 0;
  let reconciled = 0;
  let reconciles = 0;
  const gauge = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  for (const m of text.matchAll(/^netseg_api_requests_total\{verb="(\w+)",code="(\w+)"\} (\S+)$/gm)) {
    const [, verb = '', code = '', v = '0'] = m;
    if (WRITE_VERBS.has(verb)) writes[`${verb} ${code}`] = Number(v);
    if (verb === 'list') lists += Number(v);
  }
  for (const m of text.matchAll(/^netseg_reconcile_total\{result="(\w+)"\} (\S+)$/gm)) {
    reconciles += Number(m[2]);
    if (m[1] === 'reconciled') reconciled += Number(m[2]);
  }
  const mb = (name: string): number => Math.round(gauge(name) / 1024 / 1024);
  const heapMB = { used: mb('nodejs_heap_size_used_bytes'), total: mb('nodejs_heap_size_total_bytes') };
  return { writes, lists, reconciled, reconciles, queueDepth: gauge('netseg_queue_depth'), policiesManaged: gauge('netseg_policies_managed'), heapMB };
}

const total = (w: Record<string, number>): number => Object.values(w).reduce((a, b) => a + b, 0);

/** VmRSS (now) and VmHWM (peak) of a process, in MB. */
export function memoryMB(pid: number): { rssMB: number; peakRssMB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const mb = (k: number): number => Math.round((k / 1024) * 10) / 10;
  return { rssMB: mb(kb('VmRSS')), peakRssMB: mb(kb('VmHWM')) };
}

export async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs = POLL_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the operator's writes have not changed for QUIET_MS with nothing queued; returns when they last did. */
export async function settled(op: OperatorProcess): Promise<number> {
  let last = -1;
  let changedAt = Date.now();
  await until(async () => {
    const s = await scrape(op);
    const n = total(s.writes) + s.reconciles;
    if (n !== last) [last, changedAt] = [n, Date.now()];
    return s.queueDepth === 0 && Date.now() - changedAt >= QUIET_MS;
  }, 30 * 60_000);
  return changedAt;
}

// ------------------------------------------------------------------------------------------- scenarios

async function firstApply(cp: { kc: k8s.KubeConfig; kubeconfig: string }, ns: string, n: number, log: string): Promise<Record<string, unknown>> {
  const custom = cp.kc.makeApiClient(k8s.CustomObjectsApi);
  const api = cp.kc.makeApiClient(k8s.NetworkingV1Api);
  const op = await spawnOperator(cp.kubeconfig, ns, log);
  try {
    await until(async () => (await probe(op, '/readyz')) === 200, 60_000);
    const rnd = seededRandom(42);
    const intents = Array.from({ length: n }, (_, i) => benchIntent(ns, i, rnd));
    const t0 = Date.now();
    await inBatches(intents, 16, (i) => custom.createNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', i));
    const appliedMs = Date.now() - t0;
    await until(async () => (await scrape(op)).policiesManaged >= n * WORKLOADS && (await countManagedPolicies(api, ns)) === n * WORKLOADS, 30 * 60_000);
    const convergeMs = Date.now() - t0;
    const quietSince = await settled(op);
    const s = await scrape(op);
    return {
      applyIntentsMs: appliedMs,
      timeToAllPoliciesMs: convergeMs,
      timeToLastWriteMs: quietSince - t0,
      firstApplyWrites: s.writes,
      firstApplyReconciles: s.reconciles,
      firstApplyLists: s.lists,
      operator: { ...memoryMB(op.child.pid ?? 0), heapMB: s.heapMB },
    };
  } finally {
    await stopOperator(op);
  }
}

/** A fresh operator process over converged intents: every intent reconciled once more, nothing to write. */
async function noopPass(cp: { kubeconfig: string }, ns: string, n: number, log: string): Promise<Record<string, unknown>> {
  const op = await spawnOperator(cp.kubeconfig, ns, log);
  try {
    await until(async () => (await probe(op, '/readyz')) === 200, 60_000, 50);
    const readyMs = Date.now() - op.startedAt;
    await until(async () => {
      const s = await scrape(op);
      return s.reconciled >= n && s.queueDepth === 0;
    }, 30 * 60_000, 100);
    const doneMs = Date.now() - op.startedAt;
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const s = await scrape(op);
    return { noopFullPassMs: doneMs, noopReadyMs: readyMs, noopReconcileMs: doneMs - readyMs, noopFullPassWrites: s.writes, noopFullPassLists: s.lists, noopOperator: { ...memoryMB(op.child.pid ?? 0), heapMB: s.heapMB } };
  } finally {
    await stopOperator(op);
  }
}

async function scenario(cp: { kc: k8s.KubeConfig; kubeconfig: string }, n: number): Promise<Record<string, unknown>> {
  const core = cp.kc.makeApiClient(k8s.CoreV1Api);
  const ns = `bench-op-${n}-${crypto.randomBytes(3).toString('hex')}`;
  const log = path.join(os.tmpdir(), `${ns}.operator.log`);
  await core.createNamespace({ metadata: { name: ns } });
  try {
    const first = await firstApply(cp, ns, n, log);
    const noop = await noopPass(cp, ns, n, log);
    return { intents: n, policies: n * WORKLOADS, workers: WORKERS, ...first, ...noop, operatorLog: log };
  } finally {
    await core.deleteNamespace(ns).catch(() => undefined);
  }
}

export async function run(): Promise<void> {
  const cp = await localControlPlane();
  const figures: Record<string, unknown> = {};
  const sizes = (process.env['NETSEG_BENCH_SIZES'] ?? '100,1000').split(',').map(Number);
  for (const n of sizes) figures[`n${n}`] = await scenario(cp, n);
  report('operator', figures);
}
