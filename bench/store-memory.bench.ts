/**
 * Heap held per managed NetworkPolicy by the operator's caches (issue 17: goal ≤ 300 bytes): the shared cache's
 * policy informer (what it keeps of each object, its indexes) and the PolicyStore fed by it, wired as
 * src/operator/operator.ts wires them. N policies compiled from generated intents (fixed seed; compile's real
 * output, 10 per intent), given what the apiserver adds (uid, resourceVersion, creationTimestamp, managedFields,
 * the controller ownerReference), served as one list of JSON pages parsed the way the client parses them, so that
 * every string is the client's own, not a literal shared by all. Heap after a full GC, minus the heap before.
 * Node is started without --expose-gc by `npm run bench`: the flag is set at run time (v8.setFlagsFromString).
 */
import * as v8 from 'v8';
import * as vm from 'vm';
import winston from 'winston';
import { compile } from '../src/compile';
import type { KubeObject, NetworkPolicy } from '../src/model/kubernetes';
import type { Abortable, ListPage, WatchSource } from '../src/kube/watch';
import { watchTarget } from '../src/kube/watch';
import { SharedCache } from '../src/operator/cache';
import { POLICIES } from '../src/operator/operator';
import { MANAGED_SELECTOR } from '../src/operator/ownership';
import { PolicyCache, PolicyStore } from '../src/operator/store';
import { generate } from './compile.bench';
import { median, report } from './lib';

const SIZES = [10_000, 30_000];
const RUNS = 3;
const PAGE = 500;

function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** The list pages an apiserver would send for these policies, as JSON text (parsed when "received"). */
function pages(count: number): string[] {
  const intents = generate(Math.ceil(count / 10), 17, ['Ingress']);
  const out: string[] = [];
  let items: NetworkPolicy[] = [];
  let n = 0;
  for (const intent of intents) {
    for (const p of compile(intent)) {
      if (n >= count) break;
      n++;
      items.push(asStored(p, intent.uid ?? '', n));
      if (items.length === PAGE) {
        out.push(JSON.stringify({ items }));
        items = [];
      }
    }
  }
  if (items.length) out.push(JSON.stringify({ items }));
  return out;
}

/** What the apiserver adds to what netseg writes. */
function asStored(p: NetworkPolicy, intentUid: string, n: number): NetworkPolicy {
  const hex = n.toString(16).padStart(12, '0');
  const now = '2026-11-30T10:00:00Z';
  const owners = (p.metadata.ownerReferences ?? []).map((r) => ({ ...r, uid: intentUid || r.uid }));
  return {
    ...p,
    metadata: {
      ...p.metadata,
      uid: `6f1c2a44-0b7e-4c1d-9a3e-${hex}`,
      resourceVersion: String(100_000 + n),
      generation: 1,
      creationTimestamp: now,
      ownerReferences: owners,
      managedFields: [{ manager: 'netseg-operator', operation: 'Update', apiVersion: 'networking.k8s.io/v1', time: now, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:podSelector': {}, 'f:policyTypes': {} } } }],
    } as NetworkPolicy['metadata'],
  };
}

/** One list (every page parsed, as the client does), then a watch that stays quiet. */
function source(json: readonly string[]): WatchSource {
  return {
    target: watchTarget(POLICIES, { labelSelector: MANAGED_SELECTOR }),
    list: async (): Promise<ListPage> => ({ items: json.flatMap((page) => (JSON.parse(page) as { items: KubeObject[] }).items), resourceVersion: '1' }),
    watch: async (): Promise<Abortable> => ({ abort: () => undefined }),
  };
}

async function held(count: number, json: readonly string[], gc: () => void): Promise<number> {
  const log = winston.createLogger({ silent: true });
  gc();
  const before = process.memoryUsage().heapUsed;
  const cache = new SharedCache(() => source(json), { log });
  const policies = new PolicyCache();
  const store = new PolicyStore(undefined);
  policies.add(store);
  const informer = cache.informer(POLICIES, { labelSelector: MANAGED_SELECTOR }, store);
  informer.addHandler(() => undefined);
  cache.start();
  await informer.whenSynced();
  await new Promise((r) => setImmediate(r));
  if (policies.size() !== count) throw new Error(`the store holds ${policies.size()} policies, not ${count}`);
  gc();
  const after = process.memoryUsage().heapUsed;
  cache.stop();
  return (after - before) / count;
}

export async function run(): Promise<void> {
  const gc = gcFunction();
  // The cache's timers are unref'd (they never keep the operator alive): this one keeps the benchmark alive.
  const alive = setInterval(() => undefined, 1_000);
  const figures: Record<string, unknown> = {};
  for (const n of SIZES) {
    const json = pages(n);
    const perPolicy: number[] = [];
    for (let r = 0; r < RUNS; r++) perPolicy.push(await held(n, json, gc));
    figures[`policies_${n}`] = { heapBytesPerPolicy: Math.round(median(perPolicy)), runs: perPolicy.map(Math.round) };
  }
  clearInterval(alive);
  figures['goalBytesPerPolicy'] = 300;
  report('store-memory', figures);
}

if (require.main === module) void run();
