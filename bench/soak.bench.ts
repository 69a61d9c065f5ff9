/**
 * Soak: 10,000 reconcile cycles of the real operator (`node bin/netseg operator`, a child process, against the
 * local control plane: scripts/control-plane up, reused when running), and whether it leaks. 40 small intents,
 * a 500 ms resync (each resync re-enqueues every intent and sweeps), and every 2 s two managed policies deleted
 * out of band (so the write path — create, event, drift metric — runs too, not only the read-only pass).
 * Every 1,000 reconciles, right after a full GC forced through the operator's inspector (--inspect on 127.0.0.1, so
 * the heap figure is live objects, not V8's sawtooth): the process's RSS (/proc/PID/status), JS heap used, active handles and resources
 * (prom-client's nodejs_active_handles_total / nodejs_active_resources_total, i.e. process.getActiveResourcesInfo()
 * inside the operator) and open file descriptors (/proc/PID/fd). Reported: first vs last, and the least-squares
 * slope per 1,000 cycles after warm-up (the first 2,000 cycles). No leak = a flat slope.
 */
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { freePort, localControlPlane, report, seededRandom } from './lib';

const ROOT = path.resolve(__dirname, '..', '..');
const CYCLES = 10_000;
const EVERY = 1_000;
const WARMUP = 2_000;
const INTENTS = 40;
const MANAGED = 'app.kubernetes.io/managed-by=netseg-operator';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

function sum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

interface Sample {
  cycles: number;
  seconds: number;
  rssMB: number;
  heapUsedMB: number;
  activeHandles: number;
  activeResources: number;
  openFds: number;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round((Number(m?.[1] ?? 0) / 1024) * 10) / 10;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] as number) - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return num / den;
}

function intent(ns: string, i: number): Record<string, unknown> {
  return {
    apiVersion: 'netseg.io/v1alpha1',
    kind: 'SegmentationIntent',
    metadata: { name: `soak${i}`, namespace: ns },
    spec: {
      workloads: [
        { name: 'w0', selector: { matchLabels: { app: `soak${i}-w0` } } },
        { name: 'w1', selector: { matchLabels: { app: `soak${i}-w1` } } },
      ],
      flows: [{ from: 'w0', to: 'w1', ports: [{ port: 8080 }] }],
    },
  };
}

interface Operator {
  readonly pid: number;
  readonly inspectPort: number;
  readonly logFile: string;
  scrape(): Promise<string>;
  exited(): boolean;
  stop(): Promise<void>;
}

async function startOperator(kubeconfig: string, ns: string): Promise<Operator> {
  const port = await freePort();
  const inspectPort = await freePort();
  const logFile = path.join(os.tmpdir(), `netseg-soak-${port}.log`);
  const out = fs.openSync(logFile, 'w');
  const args = [`--inspect=127.0.0.1:${inspectPort}`, path.join(ROOT, 'bin', 'netseg'), 'operator', '--kubeconfig', kubeconfig, '--namespaces', ns, '--metrics-addr', `127.0.0.1:${port}`, '--workers', '4', '--resync', '500ms', '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const op: Operator = {
    pid: child.pid ?? 0,
    inspectPort,
    logFile,
    scrape: async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
    exited: () => child.exitCode !== null,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 1_000));
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  for (let t = 0; !(await op.scrape().then(() => true, () => false)); t++) {
    if (t > 300 || op.exited()) throw new Error(`operator did not start; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return op;
}

/** A full, synchronous GC in the operator process, through the inspector protocol (HeapProfiler.collectGarbage). */
async function forceGc(op: Operator): Promise<void> {
  const targets = (await (await fetch(`http://127.0.0.1:${op.inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error('no inspector target');
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
    ws.on('message', (m: WebSocket.RawData) => {
      if ((JSON.parse(m.toString()) as { id?: number }).id === 1) {
        ws.close();
        resolve();
      }
    });
  });
}

function sampleOf(op: Operator, text: string, seconds: number): Sample {
  return {
    cycles: sum(text, 'netseg_reconcile_total'),
    seconds,
    rssMB: rssOf(op.pid),
    heapUsedMB: Math.round((metric(text, 'nodejs_heap_size_used_bytes') / 1024 / 1024) * 10) / 10,
    activeHandles: metric(text, 'nodejs_active_handles_total'),
    activeResources: metric(text, 'nodejs_active_resources_total'),
    openFds: fs.readdirSync(`/proc/${op.pid}/fd`).length,
  };
}

/** Deletes `n` random managed policies out of band: the operator must restore them (the write path). */
async function deleteSome(netApi: k8s.NetworkingV1Api, ns: string, n: number, rnd: () => number): Promise<number> {
  const ps = (await netApi.listNamespacedNetworkPolicy(ns, undefined, undefined, undefined, undefined, MANAGED)).body.items;
  let deleted = 0;
  for (let k = 0; k < n && ps.length > 0; k++) {
    const victim = ps.splice(Math.floor(rnd() * ps.length), 1)[0];
    await netApi.deleteNamespacedNetworkPolicy(victim?.metadata?.name ?? '', ns).then(() => deleted++, () => undefined);
  }
  return deleted;
}

/** Runs until CYCLES reconciles, sampling every EVERY. */
async function soak(op: Operator, netApi: k8s.NetworkingV1Api, ns: string): Promise<{ samples: Sample[]; deletions: number }> {
  const rnd = seededRandom(7);
  const t0 = Date.now();
  const samples: Sample[] = [];
  let deletions = 0;
  let lastDelete = Date.now();
  for (let next = EVERY; next <= CYCLES; ) {
    await new Promise((r) => setTimeout(r, 100));
    if (op.exited()) throw new Error(`the operator exited; see ${op.logFile}`);
    if (Date.now() - lastDelete >= 2_000) {
      lastDelete = Date.now();
      deletions += await deleteSome(netApi, ns, 2, rnd);
    }
    if (sum(await op.scrape(), 'netseg_reconcile_total') < next) continue;
    await forceGc(op);
    const s = sampleOf(op, await op.scrape(), Math.round((Date.now() - t0) / 100) / 10);
    samples.push(s);
    process.stdout.write(`soak: ${JSON.stringify(s)}\n`);
    next += EVERY;
  }
  return { samples, deletions };
}

export async function run(): Promise<void> {
  const { kc, kubeconfig } = await localControlPlane();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const netApi = kc.makeApiClient(k8s.NetworkingV1Api);
  const ns = `bench-soak-${crypto.randomBytes(3).toString('hex')}`;
  await core.createNamespace({ metadata: { name: ns } });
  let op: Operator | undefined;
  try {
    op = await startOperator(kubeconfig, ns);
    for (let i = 0; i < INTENTS; i++) await custom.createNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', intent(ns, i));
    const { samples, deletions } = await soak(op, netApi, ns);
    const text = await op.scrape();
    const steady = samples.filter((s) => s.cycles >= WARMUP);
    const per1000 = (key: keyof Sample): number => Math.round(slope(steady.map((s) => s.cycles / 1000), steady.map((s) => s[key])) * 1000) / 1000;
    const first = samples[0] as Sample;
    const last = samples[samples.length - 1] as Sample;
    report('soak', {
      reconcileCycles: last.cycles,
      seconds: last.seconds,
      intents: INTENTS,
      policiesDeletedOutOfBand: deletions,
      driftCorrections: metric(text, 'netseg_drift_corrections_total'),
      reconcileErrors: sum(text.split('\n').filter((l) => l.includes('result="error"')).join('\n'), 'netseg_reconcile_total'),
      first,
      last,
      slopePer1000CyclesAfterWarmup: {
        rssMB: per1000('rssMB'),
        heapUsedMB: per1000('heapUsedMB'),
        activeHandles: per1000('activeHandles'),
        activeResources: per1000('activeResources'),
        openFds: per1000('openFds'),
      },
      samples,
    });
  } finally {
    await op?.stop();
    await core.deleteNamespace(ns).catch(() => undefined);
  }
}
