/**
 * Benchmark helpers: timing, medians and percentiles, and writing figures to bench/results/<name>.json.
 * Benchmarks print figures; they assert nothing (the machine is shared and noisy).
 */
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { MANAGED_SELECTOR } from '../src/operator/ownership';

export const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'bench', 'results');

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] as number;
}

/** Runs fn `runs` times, returns each run's wall time in ms. */
export function timeRuns(runs: number, fn: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

export function rssMB(): number {
  return Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;
}

/** A deterministic PRNG (mulberry32) so that benchmark inputs are the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Prints the figures and writes them, with the machine's facts, to bench/results/<name>.json. */
export function report(name: string, figures: Record<string, unknown>): void {
  const record = {
    benchmark: name,
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    figures,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.json`), JSON.stringify(record, null, 2) + '\n');
  process.stdout.write(`\n== ${name}\n${JSON.stringify(figures, null, 2)}\n(written to bench/results/${name}.json)\n`);
}

const ROOT = path.resolve(__dirname, '..', '..');
const CONTROL_PLANE = path.join(ROOT, 'scripts', 'control-plane');

/** Runs a command, resolving with its stdout; rejects with its stderr. */
export function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60 * 60_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${cmd}: ${err.message}\n${errOut}`)) : resolve(out),
    ),
  );
}

/** The local control plane (started or reused by scripts/control-plane), with the CRD installed. */
export async function localControlPlane(): Promise<{ kc: k8s.KubeConfig; kubeconfig: string }> {
  const kubeconfig = (await sh(CONTROL_PLANE, ['up'])).trim().split('\n').pop() ?? '';
  const env = Object.fromEntries(
    (await sh(CONTROL_PLANE, ['env'])).split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const kubectl = env['KUBECTL'] ?? 'kubectl';
  // Every CRD the operator watches (an operator watching all namespaces also watches ClusterSegmentationIntents).
  await sh(kubectl, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', '-k', path.join(ROOT, 'crds')]);
  await sh(kubectl, ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kc, kubeconfig };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for an operator's --metrics-addr we can scrape). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * What the operator's container runs with, from deploy/base/deployment.yaml (one source of truth): its
 * NODE_OPTIONS (the V8 heap cap) and its memory request and limit, for benchmarks that run it "as deployed".
 */
export function deployedOperator(): { nodeOptions: string; memoryRequest: string; memoryLimit: string } {
  const file = path.join(ROOT, 'deploy', 'base', 'deployment.yaml');
  const deployment = parse(fs.readFileSync(file, 'utf8')) as k8s.V1Deployment;
  const container: Partial<k8s.V1Container> = deployment.spec?.template.spec?.containers[0] ?? {};
  const { requests = {}, limits = {} } = container.resources ?? {};
  return {
    nodeOptions: (container.env ?? []).find((e) => e.name === 'NODE_OPTIONS')?.value ?? '',
    memoryRequest: String(requests['memory'] ?? ''),
    memoryLimit: String(limits['memory'] ?? ''),
  };
}

/** One run of a command: wall time, bytes written to stdout (read and dropped), exit code, the tail of stderr. */
export interface CommandRun {
  readonly ms: number;
  readonly outBytes: number;
  readonly code: number | null;
  readonly stderrTail: string;
}

/** Runs `cmd` to its end (SIGKILL after `timeoutMs`), draining stdout so a large output costs no memory here. */
export function runCommand(cmd: string, args: readonly string[], o: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, [...args], { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let outBytes = 0;
    let stderrTail = '';
    child.stdout.on('data', (b: Buffer) => (outBytes += b.length));
    child.stderr.on('data', (b: Buffer) => (stderrTail = (stderrTail + b.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e6), outBytes, code, stderrTail });
    });
  });
}

/** Bytes of a Kubernetes memory quantity: "256Mi", "1Gi", "512M", "1000" (what deploy/ uses). */
export function memoryBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: "${q}" (expected e.g. 256Mi)`);
  const unit: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (unit[m[2] ?? ''] ?? NaN);
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** VmRSS (now) and VmHWM (the kernel's own peak of RSS) of a process, in MiB; NaN once it is gone. */
export function procMemory(pid: number): { rssMiB: number; hwmMiB: number } {
  let status = '';
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rssMiB: NaN, hwmMiB: NaN };
  }
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: round1(kb('VmRSS') / 1024), hwmMiB: round1(kb('VmHWM') / 1024) };
}

/**
 * Samples a process's RSS every `everyMs` (0.5 s) until stopped or the process is gone; `peakMiB` is the larger
 * of the sampled maximum and the kernel's VmHWM (read at each sample, so a spike between samples counts too).
 */
export class RssSampler {
  peakMiB = 0;
  lastMiB = NaN;
  samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, everyMs = 500) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample(): void {
    const m = procMemory(this.pid);
    if (Number.isNaN(m.rssMiB)) return;
    this.samples++;
    this.lastMiB = m.rssMiB;
    this.peakMiB = Math.max(this.peakMiB, m.rssMiB, m.hwmMiB);
  }

  stop(): { peakMiB: number; lastMiB: number; samples: number } {
    this.sample();
    clearInterval(this.timer);
    return { peakMiB: this.peakMiB, lastMiB: this.lastMiB, samples: this.samples };
  }
}

/** RSS (MiB) of the local control plane's processes (their pids from scripts/control-plane's run dir). */
/** The local control plane's processes, by name (their pid files in scripts/control-plane's run dir). */
export async function controlPlanePids(): Promise<Record<string, number>> {
  const runDir = (await sh(CONTROL_PLANE, ['env'])).split('\n').find((l) => l.startsWith('RUN_DIR='))?.slice('RUN_DIR='.length) ?? '';
  const out: Record<string, number> = {};
  for (const c of ['kube-apiserver', 'etcd', 'kube-controller-manager']) out[c] = Number(fs.readFileSync(path.join(runDir, `${c}.pid`), 'utf8').trim());
  return out;
}

export async function controlPlaneMemory(): Promise<Record<string, { rssMiB: number; hwmMiB: number }>> {
  const out: Record<string, { rssMiB: number; hwmMiB: number }> = {};
  for (const [c, pid] of Object.entries(await controlPlanePids())) out[c] = procMemory(pid);
  return out;
}

/** CPU time (user + system) a process has used so far, in seconds (/proc/<pid>/stat, clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// ------------------------------------------------------------------------------------------ raw requests

/** An answer of the apiserver: its status code and its body as text. */
export interface Answer {
  readonly code: number;
  readonly body: string;
}

export type ApiRequest = (method: string, path: string, body?: unknown) => Promise<Answer>;

/**
 * Requests to the cluster of `kc`'s current context over Node's https, JSON in (a string body is sent as it is;
 * PATCH is a JSON merge patch) and text out: what kubectl sends, without client-node's serializer. With `sockets`,
 * connections are kept alive, at most that many: the benchmarks' floor writer (bench/floor.ts), whose client must
 * cost less than the operator's. Tests' raw requests (test/fault/support.ts) use it too.
 */
export async function apiRequests(kc: k8s.KubeConfig, o: { sockets?: number; timeoutMs?: number } = {}): Promise<ApiRequest> {
  const server = new URL(kc.getCurrentCluster()?.server ?? '');
  const tls: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const agent = new https.Agent({ keepAlive: o.sockets !== undefined, maxSockets: o.sockets ?? Infinity, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized });
  const given = (tls.headers ?? {}) as Record<string, unknown>;
  const auth = given['Authorization'] ?? given['authorization'];
  const timeoutMs = o.timeoutMs ?? 60_000;
  return (method, path, body) => new Promise<Answer>((resolve, reject) => {
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (typeof auth === 'string') headers['Authorization'] = auth;
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (data) Object.assign(headers, { 'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', 'Content-Length': data.length });
    const req = https.request({ host: server.hostname, port: server.port || 443, path, method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(data);
  });
}

export const intentPath = (ns: string, name?: string): string =>
  `/apis/netseg.io/v1alpha1/namespaces/${ns}/segmentationintents${name ? `/${name}` : ''}`;

/** The NetworkPolicies of `ns` labelled managed-by netseg, counted over all pages of `limit`. */
export async function countManagedPolicies(api: k8s.NetworkingV1Api, ns: string, limit = 500): Promise<number> {
  let n = 0;
  let cont: string | undefined;
  do {
    const r = await api.listNamespacedNetworkPolicy(ns, undefined, undefined, cont, undefined, MANAGED_SELECTOR, limit);
    n += r.body.items.length;
    cont = r.body.metadata?._continue || undefined;
  } while (cont);
  return n;
}
