/**
 * The operator against the local control plane (scripts/control-plane up; reused when running): time from
 * applying N intents (10 workloads, 20 flows each) to all their policies present, for N = 100 and 1,000; the API
 * writes of the first apply and of a no-op full pass (a fresh operator re-reconciling everything, what a resync
 * does); the process RSS with 1,000 intents managed. The operator runs in this process (in-process = its RSS).
 */
import { execFile } from 'child_process';
import * as crypto from 'crypto';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import winston from 'winston';
import type { SegmentationIntent } from '../src/intent/types';
import { isWrite } from '../src/kube/client';
import { startOperator } from '../src/operator/operator';
import type { RunningOperator } from '../src/operator/operator';
import { report, rssMB, seededRandom } from './lib';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'control-plane');
const WORKLOADS = 10;
const FLOWS = 20;
const MANAGED = 'app.kubernetes.io/managed-by=netseg-operator';

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60 * 60_000 }, (err, out, errOut) => (err ? reject(new Error(`${cmd}: ${err.message}\n${errOut}`)) : resolve(out))),
  );
}

async function controlPlane(): Promise<k8s.KubeConfig> {
  const kubeconfig = (await sh(SCRIPT, ['up'])).trim().split('\n').pop() ?? '';
  const env = Object.fromEntries((await sh(SCRIPT, ['env'])).split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const kubectl = env['KUBECTL'] ?? 'kubectl';
  await sh(kubectl, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', '-f', path.join(ROOT, 'crds', 'segmentationintents.netseg.io.yaml')]);
  await sh(kubectl, ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/segmentationintents.netseg.io']);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc;
}

/** 10 workloads, 20 distinct flows between them on a random port, deterministic from `seed`. */
function benchIntent(ns: string, i: number, rnd: () => number): SegmentationIntent {
  const workloads = Array.from({ length: WORKLOADS }, (_, w) => ({ name: `w${w}`, selector: { matchLabels: { app: `a${i}-w${w}` } } }));
  const flows: { from: string; to: string; ports: { port: number }[] }[] = [];
  const seen = new Set<string>();
  while (flows.length < FLOWS) {
    const from = Math.floor(rnd() * WORKLOADS);
    const to = Math.floor(rnd() * WORKLOADS);
    if (from === to || seen.has(`${from}>${to}`)) continue;
    seen.add(`${from}>${to}`);
    flows.push({ from: `w${from}`, to: `w${to}`, ports: [{ port: 1024 + Math.floor(rnd() * 60000) }] });
  }
  return { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: `i${i}`, namespace: ns }, spec: { workloads, flows } };
}

async function inBatches<T>(items: T[], size: number, f: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}

async function countPolicies(net: k8s.NetworkingV1Api, ns: string): Promise<number> {
  let n = 0;
  let cont: string | undefined;
  do {
    const r = await net.listNamespacedNetworkPolicy(ns, undefined, undefined, cont, undefined, MANAGED, 2000);
    n += r.body.items.length;
    cont = r.body.metadata?._continue || undefined;
  } while (cont);
  return n;
}

interface Counted {
  op: RunningOperator;
  writes: Map<string, number>;
}

async function operator(kc: k8s.KubeConfig, ns: string): Promise<Counted> {
  const writes = new Map<string, number>();
  const op = await startOperator({
    kubeConfig: kc,
    namespaces: [ns],
    workers: 4,
    resyncMs: 60 * 60_000,
    metricsAddr: '127.0.0.1:0',
    leaderElect: false,
    leaseNamespace: ns,
    leaseName: 'bench',
    log: winston.createLogger({ silent: true }),
    onApiRequest: (verb, resource, code) => {
      if (isWrite(verb)) writes.set(`${verb} ${resource} ${code}`, (writes.get(`${verb} ${resource} ${code}`) ?? 0) + 1);
    },
  });
  return { op, writes };
}

async function reconciles(op: RunningOperator): Promise<number> {
  return (await op.metrics.reconcileTotal.get()).values.reduce((n, v) => n + v.value, 0);
}

async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function scenario(kc: k8s.KubeConfig, n: number): Promise<Record<string, unknown>> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const net = kc.makeApiClient(k8s.NetworkingV1Api);
  const ns = `bench-op-${n}-${crypto.randomBytes(3).toString('hex')}`;
  await core.createNamespace({ metadata: { name: ns } });
  try {
    const first = await operator(kc, ns);
    const rnd = seededRandom(42);
    const intents = Array.from({ length: n }, (_, i) => benchIntent(ns, i, rnd));
    const t0 = Date.now();
    await inBatches(intents, 16, (i) => custom.createNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', i));
    const appliedMs = Date.now() - t0;
    await until(async () => (await countPolicies(net, ns)) === n * WORKLOADS, 30 * 60_000, n >= 1000 ? 2000 : 250);
    const convergeMs = Date.now() - t0;
    // Let the echo reconciles (from our own writes' watch events) and status writes finish.
    await until(async () => first.op.metrics.queueDepth.get().then((g) => g.values[0]?.value === 0), 10 * 60_000, 500);
    await new Promise((r) => setTimeout(r, 3000));
    const rss = rssMB();
    await first.op.stop();
    const second = await operator(kc, ns);
    const before = await reconciles(second.op);
    const t1 = Date.now();
    await until(async () => (await reconciles(second.op)) - before >= n, 30 * 60_000, 250);
    const resyncMs = Date.now() - t1;
    await second.op.stop();
    return {
      intents: n,
      policies: n * WORKLOADS,
      applyIntentsMs: appliedMs,
      timeToAllPoliciesMs: convergeMs,
      firstApplyWrites: Object.fromEntries(first.writes),
      noopFullPassMs: resyncMs,
      noopFullPassWrites: Object.fromEntries(second.writes),
      rssMBAfterConverge: rss,
    };
  } finally {
    await core.deleteNamespace(ns).catch(() => undefined);
  }
}

export async function run(): Promise<void> {
  const kc = await controlPlane();
  const figures: Record<string, unknown> = {};
  for (const n of [100, 1000]) figures[`n${n}`] = await scenario(kc, n);
  report('operator', figures);
}
