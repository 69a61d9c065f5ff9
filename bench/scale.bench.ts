/**
 * Scale (issue 17): N intents of 10 policies each, the operator run as the Deployment runs it, against the local
 * control plane (scripts/control-plane up; reused when running). `npm run bench -- scale`.
 *
 * The operator is its own process (`node bin/netseg operator`) with the Deployment's NODE_OPTIONS (its V8 heap cap,
 * read from deploy/base/deployment.yaml), its flags (all namespaces, --workers 4, --resync 10m, the
 * default log level), and its memory limit as the yardstick for RSS. For each size N and shape ("one": all N
 * intents in one namespace; "spread": 10 intents per namespace over N/10 namespaces):
 *  - the FLOOR (bench/floor.ts): a plain client writes the same objects into other namespaces, then they are
 *    deleted; the operator's convergence time is reported as a ratio to it, measured in this run;
 *  - first apply: intents created 16 at a time while the operator runs; time to all N×10 policies present (its
 *    netseg_policies_managed) and to its last write; its writes by verb and code; its reconciles by result at
 *    that point (attempts / N: a retry storm shows here); RSS sampled every 0.5 s (peak, with the kernel's VmHWM),
 *    at the last write, and converged (once the operator has released memory after its last write, as it does
 *    5-10 s after its work goes quiet: src/operator/memory.ts) and the V8 heap used after a full GC (forced
 *    through the inspector, opened by SIGUSR1 only then, so that the RSS figures are of the process as deployed);
 *  - restore: 20 of its policies deleted out of band; the operator's writes per restored policy;
 *  - the control plane's RSS (kube-apiserver, etcd, kube-controller-manager) with the N intents converged;
 *  - restart: SIGTERM, a new process over the converged intents: time to ready (/readyz), time until every
 *    intent was reconciled once, its writes (the target is 0), its reconcile attempts / N, its RSS peak against
 *    the memory limit and whether it survived (a heap-cap crash is reported with the log's last lines).
 * CPU: the floor's client and the control plane (apiserver + etcd) during the floor's writes, the operator and the
 * control plane during the first apply: what each side spent, so that a ratio above 1 can be explained.
 * Environment: NETSEG_BENCH_SIZES (default 1000,3000), NETSEG_BENCH_SHAPES (default one,spread),
 * NETSEG_BENCH_RESULT (the results file's name, default scale), NETSEG_BENCH_PIN=1 (see pin()).
 */
import { setTimeout as sleep } from 'timers/promises';
import { spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import type { SegmentationIntent } from '../src/intent/types';
import { POLICIES_PER_INTENT, benchIntent, limiter, writeFloor } from './floor';
import { RssSampler, apiRequests, controlPlaneMemory, controlPlanePids, cpuSeconds, deployedOperator, freePort, intentPath, localControlPlane, memoryBytes, procMemory, report, seededRandom, sh } from './lib';

const ROOT = path.resolve(__dirname, '..', '..');
const NETSEG = path.join(ROOT, 'bin', 'netseg');
const INTENTS_PER_NAMESPACE = 10;
const RESTORES = 20;
const POLL_MS = 500;
const QUIET_MS = 3000;
const MiB = 1024 * 1024;
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

type Shape = 'one' | 'spread';

const secs = (ms: number): number => Math.round(ms / 100) / 10;

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = POLL_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${secs(timeoutMs)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------------------------ the operator process

interface Operator {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly inspectPort: number;
  readonly log: string;
  readonly spawnedAt: number;
  readonly rss: RssSampler;
  exit?: { code: number | null; signal: string | null; afterMs: number };
}

/**
 * As the Deployment runs it: all namespaces, 4 workers, resync 10m, its NODE_OPTIONS, the default log level.
 * Without --leader-elect: a single replica leads at once, and its Lease renewals (an update every 2 s) would
 * be counted among the writes and never let them go quiet.
 */
async function spawnOperator(kubeconfig: string, log: string): Promise<Operator> {
  const port = await freePort();
  const inspectPort = await freePort();
  // --inspect-port only says where the inspector listens once SIGUSR1 opens it (for the heap after GC).
  const args = [`--inspect-port=127.0.0.1:${inspectPort}`, NETSEG, 'operator', '--kubeconfig', kubeconfig, '--metrics-addr', `127.0.0.1:${port}`, '--workers', '4', '--resync', '10m'];
  const out = fs.openSync(log, 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', out, out], env: { ...process.env, NODE_OPTIONS: deployedOperator().nodeOptions } });
  fs.closeSync(out);
  const spawnedAt = Date.now();
  const op: Operator = { child, pid: child.pid ?? 0, port, inspectPort, log, spawnedAt, rss: new RssSampler(child.pid ?? 0) };
  child.once('exit', (code, signal) => (op.exit = { code, signal, afterMs: Date.now() - spawnedAt }));
  await until('the operator to serve /healthz', async () => {
    if (op.exit) throw new Error(`operator exited at start (${JSON.stringify(op.exit)}); log ${log}:\n${logTail(log)}`);
    return (await get(op, '/healthz')).code === 200;
  }, 120_000, 100);
  return op;
}

async function stopOperator(op: Operator): Promise<void> {
  op.rss.stop();
  if (op.exit) return;
  const exited = new Promise<void>((resolve) => op.child.once('exit', () => resolve()));
  op.child.kill('SIGTERM');
  const t = setTimeout(() => op.child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

function logTail(file: string, lines = 8): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function get(op: Operator, p: string): Promise<{ code: number; body: string }> {
  try {
    const r = await fetch(`http://127.0.0.1:${op.port}${p}`, { signal: AbortSignal.timeout(10_000) });
    return { code: r.status, body: await r.text() };
  } catch {
    return { code: 0, body: '' };
  }
}

interface Scrape {
  readonly writes: Record<string, number>;
  readonly lists: number;
  readonly gets: number;
  readonly reconciles: Record<string, number>;
  readonly queueDepth: number;
  readonly policiesManaged: number;
  /** netseg_memory_releases_total: full collections the operator asked for once its work went quiet. */
  readonly releases: number;
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(a)) if (v - (b[k] ?? 0) !== 0) out[k] = v - (b[k] ?? 0);
  return out;
}

async function scrape(op: Operator): Promise<Scrape> {
  const text = (await get(op, '/metrics')).body;
  if (!text) throw new Error(`no /metrics from the operator${op.exit ? ` (it exited: ${JSON.stringify(op.exit)})` : ''}`);
  const gauge = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const writes: Record<string, number> = {};
  let lists = 0;
  let gets = 0;
  for (const m of text.matchAll(/^netseg_api_requests_total\{verb="(\w+)",code="(\w+)"\} (\S+)$/gm)) {
    const [, verb = '', code = '', v = '0'] = m;
    if (WRITE_VERBS.has(verb)) writes[`${verb} ${code}`] = Number(v);
    if (verb === 'list') lists += Number(v);
    if (verb === 'get') gets += Number(v);
  }
  const reconciles: Record<string, number> = {};
  for (const m of text.matchAll(/^netseg_reconcile_total\{result="(\w+)"\} (\S+)$/gm)) reconciles[m[1] ?? ''] = Number(m[2]);
  return { writes, lists, gets, reconciles, queueDepth: gauge('netseg_queue_depth'), policiesManaged: gauge('netseg_policies_managed'), releases: gauge('netseg_memory_releases_total') };
}

/** Until the operator's writes and reconciles have not changed for QUIET_MS with nothing queued; when they last did. */
async function settled(op: Operator, timeoutMs: number): Promise<number> {
  let last = -1;
  let changedAt = Date.now();
  await until('the operator to go quiet', async () => {
    if (op.exit) throw new Error(`the operator exited: ${JSON.stringify(op.exit)}`);
    const s = await scrape(op);
    const n = sum(s.writes) + sum(s.reconciles);
    if (n !== last) [last, changedAt] = [n, Date.now()];
    return s.queueDepth === 0 && Date.now() - changedAt >= QUIET_MS;
  }, timeoutMs);
  return changedAt;
}

/**
 * RSS once the operator has released memory after its last write (src/operator/memory.ts: a full collection
 * 5-10 s after the work goes quiet): converged is after that, as it stays. Also the RSS before, at the last write.
 */
async function convergedRss(op: Operator, releasesBefore: number): Promise<{ rssAtLastWriteMiB: number; rssConvergedMiB: number; released: boolean }> {
  const rssAtLastWriteMiB = procMemory(op.pid).rssMiB;
  let released = false;
  await until('the operator to release memory', async () => (released = (await scrape(op)).releases > releasesBefore), 90_000).catch(() => undefined);
  await sleep(1000);
  return { rssAtLastWriteMiB, rssConvergedMiB: procMemory(op.pid).rssMiB, released };
}

/**
 * The V8 heap in use after a full GC, in MiB: SIGUSR1 opens the inspector (on --inspect-port), then
 * HeapProfiler.collectGarbage and process.memoryUsage() over its WebSocket.
 */
async function heapAfterGcMiB(op: Operator): Promise<number> {
  op.child.kill('SIGUSR1');
  let url = '';
  await until('the inspector', async () => {
    try {
      const targets = (await (await fetch(`http://127.0.0.1:${op.inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
      url = targets[0]?.webSocketDebuggerUrl ?? '';
    } catch {
      url = '';
    }
    return url !== '';
  }, 30_000, 200);
  const used = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url);
    const t = setTimeout(() => reject(new Error('inspector: no answer in 60 s')), 60_000);
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
    ws.on('message', (m: WebSocket.RawData) => {
      const msg = JSON.parse(m.toString()) as { id?: number; result?: { result?: { value?: number } } };
      if (msg.id === 1) ws.send(JSON.stringify({ id: 2, method: 'Runtime.evaluate', params: { expression: 'process.memoryUsage().heapUsed', returnByValue: true } }));
      if (msg.id === 2) {
        clearTimeout(t);
        ws.close();
        resolve(Number(msg.result?.result?.value ?? NaN));
      }
    });
  });
  return Math.round((used / MiB) * 10) / 10;
}

// ------------------------------------------------------------------------------------------ the cluster

function namespacesFor(prefix: string, n: number, shape: Shape): string[] {
  const count = shape === 'one' ? 1 : Math.ceil(n / INTENTS_PER_NAMESPACE);
  return Array.from({ length: count }, (_, k) => `${prefix}-${k}`);
}

function intentsFor(namespaces: readonly string[], n: number): SegmentationIntent[] {
  const rnd = seededRandom(42);
  const per = Math.ceil(n / namespaces.length);
  return Array.from({ length: n }, (_, i) => benchIntent(namespaces[Math.floor(i / per)] ?? '', i, rnd));
}

async function createNamespaces(kc: k8s.KubeConfig, names: readonly string[]): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const lane = limiter(16);
  await Promise.all(names.map((name) => lane(() => core.createNamespace({ metadata: { name } }))));
}

/**
 * Deletes the namespaces' policies and intents (one deletecollection each, policies first so that the garbage
 * collector has nothing to cascade), then the namespaces, and waits until they are gone: nothing left over to
 * load the apiserver while the next phase is measured.
 */
async function deleteNamespaces(kc: k8s.KubeConfig, names: readonly string[]): Promise<number> {
  const t0 = Date.now();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const net = kc.makeApiClient(k8s.NetworkingV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const lane = limiter(4);
  await Promise.all(names.map((ns) => lane(async () => {
    await net.deleteCollectionNamespacedNetworkPolicy(ns).catch(() => undefined);
    await custom.deleteCollectionNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents').catch(() => undefined);
    await core.deleteNamespace(ns).catch(() => undefined);
  })));
  const left = new Set(names);
  await until('the namespaces to be deleted', async () => {
    const all = (await core.listNamespace()).body.items.map((n) => n.metadata?.name ?? '');
    return !all.some((n) => left.has(n));
  }, 60 * 60_000, 2000);
  return Date.now() - t0;
}

/** Out-of-band deletes of RESTORES managed policies, each of a different intent. */
async function deleteSome(kc: k8s.KubeConfig, intents: readonly SegmentationIntent[]): Promise<{ ns: string; name: string }[]> {
  const net = kc.makeApiClient(k8s.NetworkingV1Api);
  const step = Math.max(1, Math.floor(intents.length / RESTORES));
  const victims: { ns: string; name: string }[] = [];
  for (let i = 0; i < intents.length && victims.length < RESTORES; i += step) {
    const it = intents[i] as SegmentationIntent;
    const ns = it.metadata.namespace ?? '';
    const owned = (await net.listNamespacedNetworkPolicy(ns, undefined, undefined, undefined, undefined, `netseg.io/intent=${it.metadata.name}`, 1)).body.items[0];
    if (!owned?.metadata?.name) throw new Error(`no managed policy found for ${ns}/${it.metadata.name}`);
    await net.deleteNamespacedNetworkPolicy(owned.metadata.name, ns);
    victims.push({ ns, name: owned.metadata.name });
  }
  return victims;
}

async function allExist(kc: k8s.KubeConfig, victims: readonly { ns: string; name: string }[]): Promise<boolean> {
  const net = kc.makeApiClient(k8s.NetworkingV1Api);
  for (const v of victims) {
    const ok = await net.readNamespacedNetworkPolicy(v.name, v.ns).then(() => true, () => false);
    if (!ok) return false;
  }
  return true;
}

// ------------------------------------------------------------------------------------------- CPU

let controlPlane: Record<string, number> = {};

/** CPU seconds the apiserver and etcd have used so far (what every write costs the control plane). */
function controlPlaneCpu(): number {
  return ['kube-apiserver', 'etcd'].reduce((sum, c) => sum + cpuSeconds(controlPlane[c] ?? 0), 0);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * NETSEG_BENCH_PIN=1: the control plane on CPU 0, this process (the floor's writer, the intents' creator) and
 * the operators it spawns (they inherit it) on CPU 1, as in a cluster, where the operator runs on a node and
 * not beside the apiserver. On one shared 2-core machine the operator's own CPU (watch decoding, compile, audit
 * lines) is otherwise taken from the apiserver, which a plain writer's is much less.
 */
async function pin(): Promise<{ controlPlane: string; clients: string }> {
  for (const pid of Object.values(controlPlane)) await sh('taskset', ['-a', '-p', '-c', '0', String(pid)]);
  await sh('taskset', ['-a', '-p', '-c', '1', String(process.pid)]);
  return { controlPlane: '0', clients: '1' };
}

/** The control plane back on every CPU (it outlives the benchmark). */
async function unpin(): Promise<void> {
  const all = `0-${os.cpus().length - 1}`;
  for (const pid of Object.values(controlPlane)) await sh('taskset', ['-a', '-p', '-c', all, String(pid)]);
}

// ------------------------------------------------------------------------------------------- scenarios

interface Cp {
  kc: k8s.KubeConfig;
  kubeconfig: string;
}

async function floorRun(cp: Cp, n: number, shape: Shape, tag: string): Promise<Record<string, unknown>> {
  const namespaces = namespacesFor(`scale-floor-${tag}`, n, shape);
  await createNamespaces(cp.kc, namespaces);
  try {
    const c0 = controlPlaneCpu();
    const f = await writeFloor(cp.kc, intentsFor(namespaces, n));
    const cpu = { floorClientCpuS: round1(f.clientCpuMs / 1000), floorControlPlaneCpuS: round1(controlPlaneCpu() - c0) };
    return { floorMs: f.ms, floorIntentsMs: f.intentsMs, floorWrites: f.writes, floorAlreadyExisted: f.alreadyExisted, ...cpu };
  } finally {
    process.stdout.write(`scale: floor ${n}/${shape} written; deleting\n`);
    await deleteNamespaces(cp.kc, namespaces);
  }
}

async function operatorRun(cp: Cp, run: { n: number; shape: Shape; tag: string; limitMiB: number }): Promise<Record<string, unknown>> {
  const { n, shape, tag, limitMiB } = run;
  const namespaces = namespacesFor(`scale-op-${tag}`, n, shape);
  const intents = intentsFor(namespaces, n);
  const log = path.join(os.tmpdir(), `netseg-scale-${tag}.operator.log`);
  // The floor's client, so that the intents' creates cost the same in both runs.
  const send = await apiRequests(cp.kc, { sockets: 16 });
  const out: Record<string, unknown> = { operatorLog: log };
  await createNamespaces(cp.kc, namespaces);
  try {
    // ---- first apply
    let op = await spawnOperator(cp.kubeconfig, log);
    await until('the operator to be ready', async () => (await get(op, '/readyz')).code === 200, 120_000, 100);
    const idleMiB = procMemory(op.pid).rssMiB;
    const lane = limiter(16);
    const opCpu0 = cpuSeconds(op.pid);
    const cpCpu0 = controlPlaneCpu();
    const t0 = Date.now();
    await Promise.all(intents.map((i) => lane(async () => {
      const a = await send('POST', intentPath(i.metadata.namespace ?? ''), i);
      if (a.code !== 201) throw new Error(`creating intent ${i.metadata.namespace ?? ''}/${i.metadata.name}: ${a.code} ${a.body.slice(0, 400)}`);
    })));
    const appliedMs = Date.now() - t0;
    await until('all policies', async () => {
      if (op.exit) throw new Error(`the operator exited during the first apply: ${JSON.stringify(op.exit)}\n${logTail(log)}`);
      return (await scrape(op)).policiesManaged >= n * POLICIES_PER_INTENT;
    }, 90 * 60_000);
    const allPoliciesMs = Date.now() - t0;
    const lastWriteMs = (await settled(op, 30 * 60_000)) - t0;
    const firstApplyCpu = { operatorCpuS: round1(cpuSeconds(op.pid) - opCpu0), controlPlaneCpuS: round1(controlPlaneCpu() - cpCpu0) };
    const first = await scrape(op);
    const converged = await convergedRss(op, first.releases);
    const firstRss = op.rss.stop();
    const heapMiB = await heapAfterGcMiB(op);
    Object.assign(out, {
      ...firstApplyCpu,
      applyIntentsMs: appliedMs,
      timeToAllPoliciesMs: allPoliciesMs,
      timeToLastWriteMs: lastWriteMs,
      firstApplyWrites: first.writes,
      firstApplyWritesPerIntent: Math.round((sum(first.writes) / n) * 100) / 100,
      firstApplyReconciles: first.reconciles,
      firstApplyAttemptsPerIntent: Math.round((sum(first.reconciles) / n) * 100) / 100,
      firstApplyLists: first.lists,
      firstApplyGets: first.gets,
      rssIdleMiB: idleMiB,
      rssPeakMiB: firstRss.peakMiB,
      ...converged,
      heapAfterGcMiB: heapMiB,
    });
    process.stdout.write(`scale: ${n}/${shape} first apply done: ${JSON.stringify(out)}\n`);

    // ---- restore
    const before = await scrape(op);
    const victims = await deleteSome(cp.kc, intents);
    await until('the deleted policies to be restored', () => allExist(cp.kc, victims), 10 * 60_000);
    await settled(op, 10 * 60_000);
    const after = await scrape(op);
    const restoreWrites = minus(after.writes, before.writes);
    Object.assign(out, { restored: victims.length, restoreWrites, writesPerRestore: Math.round((sum(restoreWrites) / victims.length) * 100) / 100, restoreReconciles: minus(after.reconciles, before.reconciles) });
    out['controlPlane'] = await controlPlaneMemory();
    await stopOperator(op);

    // ---- restart over the converged intents
    op = await spawnOperator(cp.kubeconfig, log);
    const restart: Record<string, unknown> = {};
    out['restart'] = restart;
    try {
      await until('the restarted operator to be ready', async () => {
        if (op.exit) throw new Error('exited');
        return (await get(op, '/readyz')).code === 200;
      }, 10 * 60_000, 100);
      restart['readyMs'] = Date.now() - op.spawnedAt;
      await until('every intent reconciled once', async () => {
        if (op.exit) throw new Error('exited');
        const s = await scrape(op);
        return (s.reconciles['reconciled'] ?? 0) >= n && s.queueDepth === 0;
      }, 30 * 60_000, 200);
      restart['fullPassMs'] = Date.now() - op.spawnedAt;
      await settled(op, 10 * 60_000);
      const s = await scrape(op);
      const converged = await convergedRss(op, s.releases);
      const rss = op.rss.stop();
      Object.assign(restart, {
        writes: s.writes,
        writeCount: sum(s.writes),
        reconciles: s.reconciles,
        attemptsPerIntent: Math.round((sum(s.reconciles) / n) * 100) / 100,
        lists: s.lists,
        gets: s.gets,
        rssPeakMiB: rss.peakMiB,
        ...converged,
        withinLimit: rss.peakMiB <= limitMiB,
        heapAfterGcMiB: await heapAfterGcMiB(op),
        survived: true,
      });
    } catch (e) {
      await sleep(1000);
      const rss = op.rss.stop();
      Object.assign(restart, { survived: !op.exit, exit: op.exit, error: (e as Error).message, rssPeakMiB: rss.peakMiB, logTail: logTail(log, 5) });
    }
    process.stdout.write(`scale: ${n}/${shape} restart: ${JSON.stringify(restart)}\n`);
    await stopOperator(op);
  } finally {
    process.stdout.write(`scale: ${n}/${shape}: deleting\n`);
    out['deleteMs'] = await deleteNamespaces(cp.kc, namespaces);
  }
  return out;
}

function row(key: string, r: Record<string, unknown>): string {
  const g = (k: string): unknown => r[k];
  const rs = (r['restart'] ?? {}) as Record<string, unknown>;
  const s = (ms: unknown): string => (typeof ms === 'number' ? `${secs(ms)} s` : '—');
  const restart = rs['survived'] ? `${s(rs['readyMs'])} / ${s(rs['fullPassMs'])} / ${String(rs['writeCount'])} / ${String(rs['rssPeakMiB'])} / ${String(rs['attemptsPerIntent'])}` : `CRASHED after ${s((rs['exit'] as { afterMs?: number } | undefined)?.afterMs)} (peak ${String(rs['rssPeakMiB'])} MiB)`;
  return `| ${key} | ${s(g('floorMs'))} | ${s(g('timeToLastWriteMs'))} | ${String(g('ratio'))} | ${String(g('rssPeakMiB'))} / ${String(g('rssConvergedMiB'))} | ${String(g('heapAfterGcMiB'))} | ${String(g('firstApplyAttemptsPerIntent'))} | ${String(g('firstApplyWritesPerIntent'))} | ${String(g('writesPerRestore'))} | ${restart} |`;
}

export async function run(): Promise<void> {
  const cp = await localControlPlane();
  controlPlane = await controlPlanePids();
  const pinned = process.env['NETSEG_BENCH_PIN'] === '1' ? await pin() : undefined;
  const sizes = (process.env['NETSEG_BENCH_SIZES'] ?? '1000,3000').split(',').map(Number);
  const shapes = (process.env['NETSEG_BENCH_SHAPES'] ?? 'one,spread').split(',') as Shape[];
  const resultName = process.env['NETSEG_BENCH_RESULT'] ?? 'scale';
  const deployed = deployedOperator();
  const limitMiB = memoryBytes(deployed.memoryLimit) / MiB;
  const commit = (await sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])).trim();
  const runs: Record<string, Record<string, unknown>> = {};
  const figures = { commit, deployed, limitMiB, pinned, loadavgAtStart: os.loadavg().map((x) => Math.round(x * 10) / 10), runs };
  const lines = ['| intents / shape | floor | operator (to last write) | ratio | RSS peak / converged MiB | heap after GC MiB | attempts / intent | writes / intent | writes / restore | restart: ready / full pass / writes / RSS peak MiB / attempts per intent |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const n of sizes) {
    for (const shape of shapes) {
      const key = `n${n}-${shape}`;
      const tag = `${n}-${shape}-${crypto.randomBytes(2).toString('hex')}`;
      process.stdout.write(`scale: ${key}: floor\n`);
      const floor = await floorRun(cp, n, shape, tag);
      process.stdout.write(`scale: ${key}: floor ${JSON.stringify(floor)}; operator\n`);
      const r: Record<string, unknown> = { intents: n, policies: n * POLICIES_PER_INTENT, shape, ...floor };
      runs[key] = r;
      try {
        Object.assign(r, await operatorRun(cp, { n, shape, tag, limitMiB }));
        r['ratio'] = Math.round(((r['timeToLastWriteMs'] as number) / (r['floorMs'] as number)) * 100) / 100;
        r['ratioAllPolicies'] = Math.round(((r['timeToAllPoliciesMs'] as number) / (r['floorMs'] as number)) * 100) / 100;
      } catch (e) {
        r['error'] = (e as Error).message;
      }
      r['loadavg'] = os.loadavg().map((x) => Math.round(x * 10) / 10);
      lines.push(row(key, r));
      report(resultName, figures);
    }
  }
  const heaps = Object.values(runs).filter((r) => r['shape'] === 'one' && typeof r['heapAfterGcMiB'] === 'number');
  if (heaps.length >= 2) {
    const [a, b] = [heaps[0] as Record<string, number>, heaps[heaps.length - 1] as Record<string, number>];
    (figures as Record<string, unknown>)['heapBytesPerPolicy'] = Math.round((((b['heapAfterGcMiB'] ?? 0) - (a['heapAfterGcMiB'] ?? 0)) * MiB) / ((b['policies'] ?? 0) - (a['policies'] ?? 0)));
  }
  report(resultName, figures);
  if (pinned) await unpin();
  process.stdout.write(`\n${lines.join('\n')}\n`);
}
