/**
 * What the largest intents the CRD accepts cost the operator, run as deployed: `bin/netseg operator` as its own
 * process, with the Deployment's NODE_OPTIONS (its V8 heap cap), its --workers and --resync, watching every
 * namespace, against the local control plane. The intents are the security review's amplification shape at the
 * largest size the CRD accepts (test/fixtures/intents/hostile.ts, LARGEST_ACCEPTED: 64 workloads, 64 peers of
 * maximal label keys up to the CRD's 64 Ki characters of selector text, flows of 32 peers → 32 workloads), which
 * the compile budget (src/compile/budget.ts) must refuse before anything is written.
 *
 * Two batches, 4 then 20 hostile intents, each in its own namespace, created all at once; right after each batch
 * one normal intent (3 workloads) in another namespace, whose time to get its policies says whether the operator
 * keeps serving while it chews on the hostile ones. Measured:
 *  - every 0.5 s, the operator's VmRSS (/proc/PID/status), V8 heap (used, reserved) and external memory (Buffers;
 *    both from its /metrics): idle, peak per batch and overall, final, and VmHWM; heap and external tell what
 *    makes up a peak of RSS;
 *  - its reconciles by result, with their mean duration, and its API writes;
 *  - each hostile intent's size (the request, and the object as stored with its status), and its Ready reason;
 *  - the bytes of NetworkPolicies in etcd afterwards (sum of the JSON of the policies listed: all of them in the
 *    hostile namespaces, where the target is 0, the managed ones elsewhere), and what compile() would have
 *    produced for one hostile intent without the budget (computed in this process, not the operator's);
 *  - whether the operator stayed alive, against the Deployment's memory limit.
 */
import { spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { compile } from '../src/compile';
import { validateIntent } from '../src/intent';
import type { SegmentationIntent } from '../src/intent/types';
import { LARGEST_ACCEPTED, amplificationIntent, jsonBytes } from '../test/fixtures/intents/hostile';
import { deployedOperator, freePort, localControlPlane, procMemory, report } from './lib';

const ROOT = path.resolve(__dirname, '..', '..');
const NETSEG = path.join(ROOT, 'bin', 'netseg');
const MANAGED = 'app.kubernetes.io/managed-by=netseg-operator';
const BATCHES = [4, 20];
const SAMPLE_MS = 500;
const MiB = 1024 * 1024;

const round1 = (x: number): number => Math.round(x * 10) / 10;

// ------------------------------------------------------------------------------------ the operator process

interface OperatorProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly log: string;
  exit?: { code: number | null; signal: string | null };
}

/** As the Deployment runs it: all namespaces, its workers and resync, its NODE_OPTIONS, leader election. */
async function spawnOperator(kubeconfig: string, leaseNs: string, log: string): Promise<OperatorProcess> {
  const port = await freePort();
  const args = [NETSEG, 'operator', '--kubeconfig', kubeconfig, '--leader-elect', '--lease-namespace', leaseNs, '--metrics-addr', `127.0.0.1:${port}`, '--workers', '4', '--resync', '10m', '--log-level', 'warn'];
  const out = fs.openSync(log, 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', out, out], env: { ...process.env, NODE_OPTIONS: deployedOperator().nodeOptions } });
  fs.closeSync(out);
  const op: OperatorProcess = { child, port, log };
  child.once('exit', (code, signal) => (op.exit = { code, signal }));
  await until(async () => (await get(op, '/readyz')).code === 200, 120_000);
  return op;
}

async function stopOperator(op: OperatorProcess): Promise<void> {
  if (op.exit) return;
  const exited = new Promise<void>((resolve) => op.child.once('exit', () => resolve()));
  op.child.kill('SIGTERM');
  await exited;
}

async function get(op: OperatorProcess, p: string): Promise<{ code: number; body: string }> {
  try {
    const r = await fetch(`http://127.0.0.1:${op.port}${p}`, { signal: AbortSignal.timeout(5_000) });
    return { code: r.status, body: await r.text() };
  } catch {
    return { code: 0, body: '' };
  }
}

interface Scrape {
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  /** Memory of C++ objects bound to JS (Buffers included) outside V8's heap. */
  readonly externalMiB: number;
  /** API writes by "verb code". */
  readonly writes: Record<string, number>;
  /** Reconciles by result: how many, and their mean duration in ms. */
  readonly reconciles: Record<string, { count: number; meanMs: number }>;
}

/** The V8 heap (MiB), the operator's API writes and its reconciles, from its /metrics. */
async function scrape(op: OperatorProcess): Promise<Scrape> {
  const text = (await get(op, '/metrics')).body;
  const gauge = (name: string): number => round1(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / MiB);
  const writes: Record<string, number> = {};
  for (const m of text.matchAll(/^netseg_api_requests_total\{verb="(create|update|patch|delete)",code="(\w+)"\} (\S+)$/gm)) writes[`${m[1]} ${m[2]}`] = Number(m[3]);
  const reconciles: Record<string, { count: number; meanMs: number }> = {};
  for (const m of text.matchAll(/^netseg_reconcile_duration_seconds_count\{result="(\w+)"\} (\S+)$/gm)) {
    const sum = Number(new RegExp(`^netseg_reconcile_duration_seconds_sum\\{result="${m[1]}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    reconciles[m[1] ?? ''] = { count: Number(m[2]), meanMs: Math.round((sum / Number(m[2])) * 1000) };
  }
  const heap = { heapUsedMiB: gauge('nodejs_heap_size_used_bytes'), heapTotalMiB: gauge('nodejs_heap_size_total_bytes'), externalMiB: gauge('nodejs_external_memory_bytes') };
  return { ...heap, writes, reconciles };
}

interface Sample {
  readonly t: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
}

/**
 * Every 0.5 s: VmRSS from /proc, and the V8 heap (used, reserved) from the operator's /metrics, so that a peak of
 * RSS can be told apart into V8's heap and the rest (buffers, strings outside the heap, the allocator).
 */
class Sampler {
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;
  private busy = false;
  constructor(private readonly op: OperatorProcess) {
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
  }
  private async sample(): Promise<void> {
    if (this.busy || this.op.exit) return;
    this.busy = true;
    try {
      const t = Date.now();
      const { rssMiB } = procMemory(this.op.child.pid ?? 0);
      const { heapUsedMiB, heapTotalMiB, externalMiB } = await scrape(this.op);
      if (!Number.isNaN(rssMiB)) this.samples.push({ t, rssMiB, heapUsedMiB, heapTotalMiB, externalMiB });
    } finally {
      this.busy = false;
    }
  }
  /** The highest RSS, heap used and heap reserved sampled since `t0` (each its own maximum). */
  peakSince(t0: number): Omit<Sample, 't'> {
    const since = this.samples.filter((s) => s.t >= t0);
    const max = (f: (s: Sample) => number): number => Math.max(...since.map(f).filter((x) => !Number.isNaN(x)));
    return { rssMiB: max((s) => s.rssMiB), heapUsedMiB: max((s) => s.heapUsedMiB), heapTotalMiB: max((s) => s.heapTotalMiB), externalMiB: max((s) => s.externalMiB) };
  }
  count(): number {
    return this.samples.length;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ------------------------------------------------------------------------------------------- the cluster

interface Api {
  readonly custom: k8s.CustomObjectsApi;
  readonly net: k8s.NetworkingV1Api;
  readonly core: k8s.CoreV1Api;
}

async function getIntent(api: Api, ns: string, name: string): Promise<SegmentationIntent> {
  return (await api.custom.getNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', name)).body as SegmentationIntent;
}

/** All NetworkPolicies of a namespace (all pages), optionally only the managed ones. */
async function policies(api: Api, ns: string, labelSelector?: string): Promise<k8s.V1NetworkPolicy[]> {
  const out: k8s.V1NetworkPolicy[] = [];
  let cont: string | undefined;
  do {
    const r = await api.net.listNamespacedNetworkPolicy(ns, undefined, undefined, cont, undefined, labelSelector, 100);
    out.push(...r.body.items);
    cont = r.body.metadata?._continue || undefined;
  } while (cont);
  return out;
}

/** A normal intent: 3 workloads, w0 → w1 → w2 on 8080 (3 policies). */
function normalIntent(ns: string): SegmentationIntent {
  const workloads = [0, 1, 2].map((i) => ({ name: `w${i}`, selector: { matchLabels: { app: `w${i}` } } }));
  const flows = [0, 1].map((i) => ({ from: `w${i}`, to: `w${i + 1}`, ports: [{ port: 8080 }] }));
  return { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'shop', namespace: ns }, spec: { workloads, flows } } as SegmentationIntent;
}

/** What compile() without the budget (the code before it) would write for one hostile intent: count and bytes. */
function unbudgeted(): { policies: number; totalMiB: number; largestPolicyKiB: number } {
  const v = validateIntent(amplificationIntent('bench-amp', 'amplify'));
  if (!v.ok) throw new Error(`the hostile fixture is invalid: ${JSON.stringify(v.issues).slice(0, 500)}`);
  const sizes = compile(v.intent, { policySpecBytes: Infinity, intentSpecBytes: Infinity }).map(jsonBytes);
  return { policies: sizes.length, totalMiB: round1(sizes.reduce((a, b) => a + b, 0) / MiB), largestPolicyKiB: Math.round(Math.max(...sizes) / 1024) };
}

// ------------------------------------------------------------------------------------------- a batch

interface Batch {
  readonly hostile: string[];
  readonly normal: string;
}

/** Creates one hostile intent per namespace, all at once; returns the request sizes and the apiserver's refusals. */
async function createHostile(api: Api, namespaces: string[]): Promise<{ requestBytes: number[]; refused: Map<string, string> }> {
  const requestBytes: number[] = [];
  const refused = new Map<string, string>();
  await Promise.all(
    namespaces.map(async (ns) => {
      const body = amplificationIntent(ns, 'amplify');
      requestBytes.push(jsonBytes(body));
      await api.custom.createNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', body).catch((e: unknown) => {
        refused.set(ns, JSON.stringify((e as { body?: unknown }).body ?? String(e)).slice(0, 300));
      });
    }),
  );
  return { requestBytes, refused };
}

interface Progress {
  normalMs: number;
  allHostileMs: number;
  readonly done: Map<string, SegmentationIntent>;
}

/** Polls until the normal intent has its 3 policies and every stored hostile intent has a status for its generation. */
async function watchBatch(api: Api, op: OperatorProcess, b: Batch & { stored: string[]; t0: number; tNormal: number }): Promise<Progress> {
  const { stored, t0, tNormal } = b;
  const p: Progress = { normalMs: NaN, allHostileMs: NaN, done: new Map() };
  const step = async (): Promise<boolean> => {
    if (op.exit) return true;
    if (Number.isNaN(p.normalMs) && (await policies(api, b.normal, MANAGED)).length === 3) p.normalMs = Date.now() - tNormal;
    for (const ns of stored.filter((n) => !p.done.has(n))) {
      const i = await getIntent(api, ns, 'amplify');
      if (i.status?.observedGeneration === i.metadata.generation) p.done.set(ns, i);
    }
    if (p.done.size === stored.length && Number.isNaN(p.allHostileMs)) p.allHostileMs = Date.now() - t0;
    return !Number.isNaN(p.normalMs) && p.done.size === stored.length;
  };
  await until(step, 10 * 60_000, 500).catch(() => undefined);
  return p;
}

function readyOf(i: SegmentationIntent): { status?: string; reason?: string; message?: string } {
  return i.status?.conditions?.find((c) => c.type === 'Ready') ?? {};
}

const range = (xs: number[]): { min: number; max: number } | null => (xs.length ? { min: Math.min(...xs), max: Math.max(...xs) } : null);

async function runBatch(api: Api, op: OperatorProcess, rss: Sampler, b: Batch): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const { requestBytes, refused } = await createHostile(api, b.hostile);
  const applyMs = Date.now() - t0;
  // Right away, while the hostile ones are queued or being compiled.
  const tNormal = Date.now();
  await api.custom.createNamespacedCustomObject('netseg.io', 'v1alpha1', b.normal, 'segmentationintents', normalIntent(b.normal));
  const p = await watchBatch(api, op, { ...b, stored: b.hostile.filter((ns) => !refused.has(ns)), t0, tNormal });
  await new Promise((r) => setTimeout(r, 3_000));
  const reasons: Record<string, number> = {};
  for (const i of p.done.values()) {
    const key = `${readyOf(i).status}/${readyOf(i).reason}`;
    reasons[key] = (reasons[key] ?? 0) + 1;
  }
  const first = [...p.done.values()][0];
  const s = op.exit ? undefined : await scrape(op);
  return {
    hostileIntents: b.hostile.length,
    refusedByApiserver: Object.fromEntries(refused),
    requestBytes: range(requestBytes),
    storedWithStatusBytes: range([...p.done.values()].map(jsonBytes)),
    readyReasons: reasons,
    readyMessage: first ? readyOf(first).message : null,
    applyMs,
    allHostileReconciledMs: p.allHostileMs,
    normalIntentPoliciesMs: p.normalMs,
    peakMiB: rss.peakSince(t0),
    after: s ? { rssMiB: procMemory(op.child.pid ?? 0).rssMiB, heapUsedMiB: s.heapUsedMiB, heapTotalMiB: s.heapTotalMiB, externalMiB: s.externalMiB } : null,
    operatorAlive: !op.exit,
  };
}

// ------------------------------------------------------------------------------------------- the run

/** The NetworkPolicies in etcd after the run: count and bytes of JSON, hostile namespaces and the others apart. */
async function policiesWritten(api: Api, hostileNs: string[], others: string[]): Promise<Record<string, { count: number; bytes: number }>> {
  const bytes = (ps: k8s.V1NetworkPolicy[]): { count: number; bytes: number } => ({ count: ps.length, bytes: ps.reduce((n, p) => n + jsonBytes(p), 0) });
  // Every policy of the hostile namespaces (managed or not): the target is none at all.
  const hostile = (await Promise.all(hostileNs.map((ns) => policies(api, ns)))).flat();
  const normal = (await Promise.all(others.map((ns) => policies(api, ns, MANAGED)))).flat();
  return { hostileNamespaces: bytes(hostile), normalNamespaces: bytes(normal) };
}

type Memory = ReturnType<Sampler['peakSince']>;

async function operatorFigures(op: OperatorProcess, rss: Sampler, idle: Memory, tStart: number): Promise<Record<string, unknown>> {
  const final = procMemory(op.child.pid ?? 0);
  if (op.exit) return { alive: false, exit: op.exit, idle, peak: rss.peakSince(tStart), vmHwmMiB: final.hwmMiB, log: op.log };
  const s = await scrape(op);
  return {
    alive: (await get(op, '/healthz')).code === 200,
    exit: null,
    idle,
    peak: rss.peakSince(tStart),
    final: { rssMiB: final.rssMiB, heapUsedMiB: s.heapUsedMiB, heapTotalMiB: s.heapTotalMiB, externalMiB: s.externalMiB },
    vmHwmMiB: final.hwmMiB,
    samples: rss.count(),
    writes: s.writes,
    reconciles: s.reconciles,
    log: op.log,
  };
}

export async function run(): Promise<void> {
  const cp = await localControlPlane();
  const api: Api = { custom: cp.kc.makeApiClient(k8s.CustomObjectsApi), net: cp.kc.makeApiClient(k8s.NetworkingV1Api), core: cp.kc.makeApiClient(k8s.CoreV1Api) };
  const would = unbudgeted();
  const tag = crypto.randomBytes(3).toString('hex');
  const leaseNs = `bench-amp-${tag}-system`;
  const batches: Batch[] = BATCHES.map((n, k) => ({
    hostile: Array.from({ length: n }, (_, i) => `bench-amp-${tag}-b${k}-h${i}`),
    normal: `bench-amp-${tag}-b${k}-normal`,
  }));
  const hostileNs = batches.flatMap((b) => b.hostile);
  const others = [leaseNs, ...batches.map((b) => b.normal)];
  for (const ns of [...others, ...hostileNs]) await api.core.createNamespace({ metadata: { name: ns } });
  const op = await spawnOperator(cp.kubeconfig, leaseNs, path.join(os.tmpdir(), `bench-amp-${tag}.operator.log`));
  const rss = new Sampler(op);
  const figures: Record<string, unknown> = {
    fixture: { shape: LARGEST_ACCEPTED, requestBytes: jsonBytes(amplificationIntent(hostileNs[0] ?? '', 'amplify')) },
    withoutBudgetOneIntentWouldWrite: would,
    deployment: deployedOperator(),
  };
  try {
    // Idle: the highest sample of the first 3 s after ready, before any intent exists.
    await new Promise((r) => setTimeout(r, 3_000));
    const idle = rss.peakSince(0);
    const tStart = Date.now();
    for (const b of batches) if (!op.exit) figures[`batch${b.hostile.length}`] = await runBatch(api, op, rss, b);
    figures['networkPolicies'] = await policiesWritten(api, hostileNs, others);
    figures['operator'] = await operatorFigures(op, rss, idle, tStart);
  } finally {
    rss.stop();
    await stopOperator(op);
    await Promise.all([...others, ...hostileNs].map((ns) => api.core.deleteNamespace(ns).catch(() => undefined)));
  }
  report('amplification', figures);
}
