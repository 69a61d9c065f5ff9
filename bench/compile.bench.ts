/**
 * Compile throughput: 1,000 and 10,000 generated intents of 10 workloads and 20 flows each (fixed seed),
 * in two shapes: the API's default isolation (Ingress: 10 policies per intent) and both directions isolated
 * (20 policies per intent, the most). Reports the median intents/s of several runs per size, p50/p99 of the
 * per-run average compile time of one intent, and the ratio of the two rates (≈1 when compile time is linear).
 */
import * as os from 'os';
import { compile } from '../src/compile';
import { validateIntent } from '../src/intent';
import type { ValidIntent } from '../src/intent';
import { median, percentile, report, rssMB, seededRandom, timeRuns } from './lib';

const WORKLOADS = 10;
const FLOWS = 20;
const PEERS = 4;
const RUNS = 7;
const SIZES = [1_000, 10_000];

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

type Directions = readonly ('Ingress' | 'Egress')[];

function rawIntent(i: number, random: () => number, directions: Directions): unknown {
  const workloads = Array.from({ length: WORKLOADS }, (_, w) => ({
    name: `svc-${w}`,
    selector: { matchLabels: { app: `svc-${w}`, tier: pick(['web', 'api', 'db'], random) } },
  }));
  const peers = [
    { name: 'ingress', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { app: 'nginx' } } },
    { name: 'monitoring', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    { name: 'db', ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.99.0/24'] } },
    { name: 'saas', ipBlock: { cidr: '203.0.113.0/24' } },
  ].slice(0, PEERS);
  const names = workloads.map((w) => w.name);
  const flows = Array.from({ length: FLOWS }, () => {
    const peer = random() < 0.3 ? pick(peers, random).name : undefined;
    const from = peer && random() < 0.5 ? peer : pick(names, random);
    const to = peer && from !== peer ? peer : pick(names, random);
    const port = Math.floor(1024 + random() * 60000);
    return { from, to: random() < 0.3 ? [to, pick(names, random)] : to, ports: random() < 0.2 ? [{ port: 'http' }] : [{ port, ...(random() < 0.1 ? { endPort: port + 10 } : {}) }] };
  });
  return {
    apiVersion: 'netseg.io/v1alpha1',
    kind: 'SegmentationIntent',
    metadata: { name: `intent-${i}`, namespace: `ns-${i % 50}`, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` },
    spec: { isolation: { directions: [...directions] }, workloads, peers, flows },
  };
}

export function generate(count: number, seed: number, directions: Directions = ['Ingress', 'Egress']): ValidIntent[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const r = validateIntent(rawIntent(i, random, directions));
    if (!r.ok) throw new Error(`generated intent ${i} is invalid: ${JSON.stringify(r.issues[0])}`);
    return r.intent;
  });
}

export async function run(): Promise<void> {
  const figures: Record<string, unknown> = { workloadsPerIntent: WORKLOADS, flowsPerIntent: FLOWS, runs: RUNS };
  figures['defaultIsolationIngress'] = measureShape(['Ingress']);
  figures['bothDirections'] = measureShape(['Ingress', 'Egress']);
  figures['rssMB'] = rssMB();
  // The machine is shared: a busy one explains a slow run better than the code does.
  figures['loadAverage1m'] = round(os.loadavg()[0] ?? 0);
  report('compile', figures);
}

/** Every size for one shape of intent: rates, per-intent times, and the linearity of the rate in the size. */
function measureShape(directions: Directions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rates: number[] = [];
  for (const size of SIZES) {
    const intents = generate(size, 42, directions);
    let policies = 0;
    compile(intents[0] as ValidIntent); // warm-up of the JIT on one intent, so that run 1 isn't an outlier
    const times = timeRuns(RUNS, () => {
      policies = 0;
      for (const intent of intents) policies += compile(intent).length;
    });
    const rate = Math.round(size / (median(times) / 1000));
    rates.push(rate);
    const perIntentUs = times.map((ms) => (ms * 1000) / size);
    out[`n${size}`] = {
      medianIntentsPerSecond: rate,
      policiesPerRun: policies,
      p50MicrosecondsPerIntent: round(percentile(perIntentUs, 50)),
      p99MicrosecondsPerIntent: round(percentile(perIntentUs, 99)),
      runMs: times.map(round),
    };
  }
  out['linearity'] = round((rates[1] as number) / (rates[0] as number));
  return out;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
