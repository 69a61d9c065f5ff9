/**
 * The benchmarks' intent shape and the FLOOR: a plain client writing the same objects the operator writes for
 * those intents, as fast as the apiserver takes them, with none of the operator's watches, caches or reconciles.
 * The operator's convergence time is reported as a ratio to this, measured in the same run (never assumed).
 *
 * The floor's client is Node's https with a keep-alive agent and JSON bodies, not client-node: measured at 300
 * intents, client-node (its `request` and ObjectSerializer) spent 12.8 s of CPU in 16.2 s of wall time, so a
 * floor written with it measured its own client, not the apiserver (and was slower than the operator, which
 * spreads the same work over two processes).
 *
 * Per intent the operator's first apply writes: its 10 NetworkPolicies (compile()'s objects, owned by the
 * intent's uid), one Event and one status update, after the intent itself was created. The floor writes exactly
 * those, in the same pipeline shape: intents created `intentWidth` at a time (as the benchmark creates them for the
 * operator), and as soon as an intent exists (its uid known), its objects go to a pool of `writeWidth` writers
 * (the operator's 4 workers × 10 concurrent policy writes = 40).
 */
import type * as k8s from '@kubernetes/client-node';
import { compile } from '../src/compile';
import { validateIntent } from '../src/intent';
import type { SegmentationIntent } from '../src/intent/types';
import { nextStatus } from '../src/operator/status';
import { apiRequests, intentPath } from './lib';

export const WORKLOADS = 10;
export const FLOWS = 20;
/** compile() of benchIntent gives one policy per workload (default isolation: Ingress). */
export const POLICIES_PER_INTENT = WORKLOADS;

/** 10 workloads, 20 distinct flows between them on a random port, deterministic from `rnd`. */
export function benchIntent(ns: string, i: number, rnd: () => number): SegmentationIntent {
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

/** At most `width` calls of `run` in flight; the rest wait their turn in order. */
export function limiter(width: number): <T>(f: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(f: () => Promise<T>): Promise<T> => {
    if (active >= width) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await f();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export interface FloorResult {
  /** From the first request to the last answer. */
  readonly ms: number;
  /** Until the last intent was created (the rest of the time is the objects' writes). */
  readonly intentsMs: number;
  /** Writes sent, the intents' creates included; all must have succeeded (the floor throws otherwise). */
  readonly writes: number;
  /** Creates answered 409 AlreadyExists (the object is there: see `existed`). */
  readonly alreadyExisted: number;
  /** The floor process's CPU time (user + system): near `ms`, the client would be the bottleneck. */
  readonly clientCpuMs: number;
}

/** Writes `intents` and, for each, what the operator's first apply writes for it. Throws on any failed write. */
export async function writeFloor(kc: k8s.KubeConfig, intents: readonly SegmentationIntent[], o: { intentWidth?: number; writeWidth?: number } = {}): Promise<FloorResult> {
  const intentWidth = o.intentWidth ?? 16;
  const writeWidth = o.writeWidth ?? 40;
  const send = await apiRequests(kc, { sockets: intentWidth + writeWidth });
  const intentLane = limiter(intentWidth);
  const writeLane = limiter(writeWidth);
  let writes = 0;
  let alreadyExisted = 0;
  // Seen under heavy load: the apiserver's etcd client retried a create that had succeeded, and answered 409.
  // The object is there, written once: count it, and say how often it happened.
  const write = async (method: 'POST' | 'PUT', path: string, body: unknown): Promise<string> => {
    const a = await send(method, path, body);
    writes++;
    if (a.code === 409 && method === 'POST') alreadyExisted++;
    else if (a.code < 200 || a.code >= 300) throw new Error(`${method} ${path}: ${a.code} ${a.body.slice(0, 400)}`);
    return a.body;
  };
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  let intentsDone = 0;
  let intentsMs = 0;
  const one = async (spec: SegmentationIntent): Promise<void> => {
    const ns = spec.metadata.namespace ?? '';
    const collection = intentPath(ns);
    const created = JSON.parse(await intentLane(() => write('POST', collection, spec))) as SegmentationIntent;
    if (++intentsDone === intents.length) intentsMs = Date.now() - t0;
    const v = validateIntent(created);
    if (!v.ok) throw new Error(`floor: ${spec.metadata.name} is invalid: ${JSON.stringify(v.issues)}`);
    const policies = compile(v.intent);
    await Promise.all(policies.map((p) => writeLane(() => write('POST', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, p))));
    const now = new Date();
    const { name = '', uid, resourceVersion } = created.metadata;
    const event: k8s.CoreV1Event = {
      metadata: { name: `${name}.${now.getTime().toString(16)}`, namespace: ns },
      involvedObject: { apiVersion: created.apiVersion, kind: created.kind, name, namespace: ns, uid, resourceVersion },
      type: 'Normal',
      reason: 'PolicyCreated',
      message: `created ${policies.map((p) => p.metadata.name).join(', ')}`.slice(0, 1024),
      source: { component: 'netseg-floor' },
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
    };
    await writeLane(() => write('POST', `/api/v1/namespaces/${ns}/events`, event));
    const outcome = { kind: 'Reconciled' as const, policies: policies.map((p) => p.metadata.name ?? ''), conflicts: [], flows: spec.spec.flows?.length ?? 0, workloads: spec.spec.workloads?.length ?? 0 };
    const status = nextStatus(undefined, outcome, { now, generation: created.metadata.generation });
    await writeLane(() => write('PUT', `${collection}/${name}/status`, { ...created, status }));
  };
  await Promise.all(intents.map((i) => one(i).catch((e: unknown) => {
    throw new Error(`floor: ${i.metadata.namespace}/${i.metadata.name}: ${(e as Error).message}`);
  })));
  const cpu = process.cpuUsage(cpu0);
  return { ms: Date.now() - t0, intentsMs, writes, alreadyExisted, clientCpuMs: Math.round((cpu.user + cpu.system) / 1000) };
}
