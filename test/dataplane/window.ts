/**
 * No over-permissive window, measured with packets: while a stream of intent updates (narrowing, widening,
 * renaming workloads) goes through the operator onto the real data plane, probers connect continuously between
 * the workloads' pods. A probe that connects is a VIOLATION when no intent in force during the probe allows it:
 * intent k is in force from the moment it is written until intent k+1 is enforced (operator Ready, then a
 * barrier proves kube-router has applied it), so a probe overlapping an update may be allowed by the old or the
 * new intent, and by nothing else. Port 9090 is never in any intent: every connection to it is a violation.
 * Also measured: how long a newly allowed flow stays denied after its intent is written (and how long a newly
 * denied flow stays open). Used by test/dataplane/window.test.ts (asserts 0 violations) and
 * bench/dataplane-window.bench.ts (writes the figures).
 */
import { seededRandom } from '../../bench/lib';
import type { SegmentationIntent } from '../../src/intent/types';
import type { KubeObject } from '../../src/model/kubernetes';
import { eventually } from '../integration/cluster';
import { ClusterView, readyOf, runOperator } from '../integration/operator.support';
import { type DataPlane, applyObjects, removeNamespaces, waitRunning } from './harness';

export const WINDOW_NAMESPACE = 'netseg-window';
const WORKLOADS = 4;
const PORT = 8080;
const NEVER_PORT = 9090;

export interface WindowOptions {
  readonly updates: number;
  readonly seed?: number;
  readonly probers?: number;
  readonly log?: (line: string) => void;
}

export interface WindowResult {
  readonly updates: number;
  readonly renames: number;
  readonly widenings: number;
  readonly narrowings: number;
  readonly probes: number;
  readonly probesAllowed: number;
  readonly violations: readonly string[];
  /** Probes that timed out (a fault, not a verdict; not counted as probes). */
  readonly timeouts: number;
  /** Per newly allowed flow: ms from the intent's write until a probe first connected. */
  readonly newlyAllowedDeniedForMs: readonly number[];
  /** Per newly denied flow: ms from the intent's write until a probe was first refused. */
  readonly newlyDeniedOpenForMs: readonly number[];
  /** Per update: ms from the write until operator Ready and kube-router caught up (barrier). */
  readonly enforcedAfterMs: readonly number[];
  readonly durationMs: number;
}

type Flow = `${number}->${number}`;

interface Version {
  readonly names: readonly string[];
  readonly flows: ReadonlySet<Flow>;
}

function spec(v: Version): SegmentationIntent['spec'] {
  return {
    isolation: { directions: ['Ingress'], scope: 'Namespace' },
    workloads: v.names.map((name, i) => ({ name, selector: { matchLabels: { app: `w${i}` } } })),
    flows: [...v.flows].sort().map((f) => {
      const [a, b] = f.split('->').map(Number);
      return { from: v.names[a ?? 0] ?? '', to: v.names[b ?? 0] ?? '', ports: [{ port: PORT }] };
    }),
  };
}

/** The next intent: each flow toggled with p 0.25 (narrowing and widening), each workload renamed with p 0.15. */
function nextVersion(prev: Version, rnd: () => number, k: number): Version {
  const flows = new Set(prev.flows);
  for (let a = 0; a < WORKLOADS; a++) {
    for (let b = 0; b < WORKLOADS; b++) {
      const f: Flow = `${a}->${b}`;
      if (a !== b && rnd() < 0.25) {
        if (flows.has(f)) flows.delete(f);
        else flows.add(f);
      }
    }
  }
  const names = prev.names.map((n, i) => (rnd() < 0.15 ? `w${i}-v${k}` : n));
  return { names, flows };
}

function pods(): KubeObject[] {
  return Array.from({ length: WORKLOADS }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace: WINDOW_NAMESPACE, labels: { app: `w${i}` } },
    spec: { containers: [{ name: 'c', image: 'netseg.invalid/app', ports: [{ containerPort: PORT }, { containerPort: NEVER_PORT }] }] },
  })) as KubeObject[];
}

interface InForce {
  readonly version: Version;
  readonly from: number;
  /** When the next intent was enforced (Infinity while it is the newest). */
  until: number;
}

interface ProbeRecord {
  readonly a: number;
  readonly b: number;
  readonly port: number;
  readonly start: number;
  readonly end: number;
  readonly allowed: boolean;
}

class Window {
  readonly history: InForce[] = [];
  readonly records: ProbeRecord[] = [];
  timeouts = 0;
  private stopped = false;
  private readonly ips: string[] = [];

  constructor(
    private readonly dp: DataPlane,
    private readonly rnd: () => number,
  ) {}

  async resolve(): Promise<void> {
    for (let i = 0; i < WORKLOADS; i++) this.ips.push(await this.dp.prober.address(`${WINDOW_NAMESPACE}/p${i}`));
  }

  async probe(a: number, b: number, port: number): Promise<ProbeRecord | undefined> {
    const start = Date.now();
    const r = await this.dp.prober.once(`${WINDOW_NAMESPACE}/p${a}`, this.ips[b] ?? '', port, 'TCP', 5_000);
    if (r.outcome !== 'allowed' && r.outcome !== 'denied') {
      this.timeouts++;
      return undefined;
    }
    const rec = { a, b, port, start, end: Date.now(), allowed: r.outcome === 'allowed' };
    this.records.push(rec);
    return rec;
  }

  async prober(): Promise<void> {
    while (!this.stopped) {
      const a = Math.floor(this.rnd() * WORKLOADS);
      const b = (a + 1 + Math.floor(this.rnd() * (WORKLOADS - 1))) % WORKLOADS;
      await this.probe(a, b, this.rnd() < 0.85 ? PORT : NEVER_PORT);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Polls one flow until it shows `want`; resolves with the ms since `since`. */
  async until(a: number, b: number, want: boolean, since: number, deadline: number): Promise<number> {
    for (;;) {
      const r = await this.probe(a, b, PORT);
      if (r && r.allowed === want) return r.start - since;
      if (Date.now() > deadline) throw new Error(`p${a} -> p${b} did not become ${want ? 'allowed' : 'denied'} in time`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  violations(): string[] {
    return this.records.flatMap((r) => {
      if (!r.allowed) return [];
      const flow: Flow = `${r.a}->${r.b}`;
      const inForce = this.history.filter((h) => h.from <= r.end && h.until >= r.start);
      const ok = r.port === PORT && inForce.some((h) => h.version.flows.has(flow));
      return ok ? [] : [`p${r.a} -> p${r.b}:${r.port} connected at +${r.start - (this.history[0]?.from ?? 0)} ms; intents in force: ${inForce.map((h) => [...h.version.flows].join(',') || '(none)').join(' | ')}`];
    });
  }
}

export async function measureWindow(dp: DataPlane, o: WindowOptions): Promise<WindowResult> {
  const log = o.log ?? (() => undefined);
  const rnd = seededRandom(o.seed ?? 12);
  const view = new ClusterView(dp.cluster.kc);
  await removeNamespaces(dp, [WINDOW_NAMESPACE]);
  await applyObjects(dp, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: WINDOW_NAMESPACE } } as KubeObject, ...pods()]);
  await waitRunning(dp, Array.from({ length: WORKLOADS }, (_, i) => ({ namespace: WINDOW_NAMESPACE, name: `p${i}` })));
  const operator = await runOperator(dp.cluster.kc, [WINDOW_NAMESPACE]);
  const w = new Window(dp, rnd);
  const enforcedAfterMs: number[] = [];
  const allowedLag: number[] = [];
  const deniedLag: number[] = [];
  let renames = 0;
  let widenings = 0;
  let narrowings = 0;
  const t0 = Date.now();
  try {
    await w.resolve();
    let version: Version = { names: Array.from({ length: WORKLOADS }, (_, i) => `w${i}`), flows: new Set<Flow>(['0->1', '1->2']) };
    const enforce = async (k: number, written: number): Promise<void> => {
      await eventually(async () => {
        const got = await view.getIntent(WINDOW_NAMESPACE, 'win');
        if (readyOf(got).status !== 'True' || got.status?.observedGeneration !== got.metadata.generation) throw new Error(`intent ${k} not Ready yet`);
      }, 60_000, 50);
      await dp.prober.barrier();
      enforcedAfterMs.push(Date.now() - written);
    };
    const firstWrite = Date.now();
    await view.createIntent({ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'win', namespace: WINDOW_NAMESPACE }, spec: spec(version) });
    w.history.push({ version, from: firstWrite, until: Infinity });
    await enforce(0, firstWrite);
    const probers = Array.from({ length: o.probers ?? 2 }, () => w.prober());
    for (let k = 1; k <= o.updates; k++) {
      const next = nextVersion(version, rnd, k);
      const added = [...next.flows].filter((f) => !version.flows.has(f));
      const removed = [...version.flows].filter((f) => !next.flows.has(f));
      if (next.names.some((n, i) => n !== version.names[i])) renames++;
      if (added.length > 0) widenings++;
      if (removed.length > 0) narrowings++;
      const written = Date.now();
      await view.updateSpec(WINDOW_NAMESPACE, 'win', spec(next));
      const prev = w.history[w.history.length - 1];
      w.history.push({ version: next, from: written, until: Infinity });
      const deadline = written + 60_000;
      const pair = (f: Flow): [number, number] => f.split('->').map(Number) as [number, number];
      const lags = await Promise.all([
        ...added.map((f) => w.until(...pair(f), true, written, deadline).then((ms) => allowedLag.push(ms))),
        ...removed.map((f) => w.until(...pair(f), false, written, deadline).then((ms) => deniedLag.push(ms))),
      ]);
      void lags;
      await enforce(k, written);
      if (prev) prev.until = Date.now();
      version = next;
      if (k % 20 === 0) log(`${k}/${o.updates} updates, ${w.records.length} probes, ${w.violations().length} violations`);
    }
    w.stop();
    await Promise.all(probers);
  } finally {
    w.stop();
    await operator.stop();
  }
  const violations = w.violations();
  return {
    updates: o.updates,
    renames,
    widenings,
    narrowings,
    probes: w.records.length,
    probesAllowed: w.records.filter((r) => r.allowed).length,
    violations,
    timeouts: w.timeouts,
    newlyAllowedDeniedForMs: allowedLag,
    newlyDeniedOpenForMs: deniedLag,
    enforcedAfterMs,
    durationMs: Date.now() - t0,
  };
}

export async function cleanupWindow(dp: DataPlane): Promise<void> {
  await removeNamespaces(dp, [WINDOW_NAMESPACE]);
}
