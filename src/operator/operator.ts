/**
 * The netseg operator, assembled: one Manager (./manager.ts), one SharedCache (./cache.ts), one Controller for
 * SegmentationIntents (./controller.ts) and the periodic resync and sweep (./sweep.ts).
 *  - the Manager serves /metrics, /healthz and /readyz everywhere, and runs the cache, the controller and the
 *    resync only while this replica holds the Lease;
 *  - the controller's sources: intents (their own key, when uid/generation/labels/deletionTimestamp changed),
 *    managed NetworkPolicies (their owner intent's key, except the echo of our own write) and, with
 *    --namespace-selector, namespaces newly matched (every intent of that namespace);
 *  - status goes through src/kube, not @dot-i's setResourceStatus, which returns null on any failure;
 *  - no finalizer: ownerReferences let kube-controller-manager delete the policies, and a finalizer would block
 *    deleting an intent while the operator is down.
 * `assemble` takes every collaborator (kube, watch sources, metrics, server, elector, timers), so the whole
 * runtime runs in unit tests; `startOperator` gives it the real ones.
 */
import * as os from 'os';
import * as crypto from 'crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { GROUP, PLURAL, VERSION } from '../intent/types';
import { Kube, KIND_INTENT, KIND_POLICY } from '../kube/client';
import type { ApiObserver } from '../kube/client';
import type { KindSpec, WatchSource } from '../kube/watch';
import { kubeWatchSource, watchTarget } from '../kube/watch';
import { baselineController } from './baseline-controller';
import { INDEX_NAMESPACE, SharedCache, UNHEALTHY_AFTER_MS } from './cache';
import type { CacheScope } from './cache';
import { Controller, inNamespaces, newlySeen, owner, self, specChanged, viaIndex } from './controller';
import { OwnWrites, notEcho } from './echo';
import { DEFAULT_ELECTION, LeaderElector } from './leader';
import { IntentStates } from './intent-states';
import type { ElectorCallbacks, ElectorOptions } from './leader';
import { kubeLeaseStore } from './lease-store';
import { Manager, periodic } from './manager';
import type { ManagerDeps } from './manager';
import { createMetrics, serveMetrics } from './metrics';
import type { Metrics } from './metrics';
import { MANAGED_SELECTOR, parseKey } from './ownership';
import { IntentReferences, REFERENCED_KINDS, ReferencedObjects, referenceChanged } from './references';
import { WorkQueue } from './queue';
import type { Timers } from './queue';
import { reconcile } from './reconcile';
import { listNamespaces, scopeOf } from './scope';
import { NotSyncedError, PolicyCache, PolicyStore } from './store';
import { IntentCache } from './intent-cache';
import { memoryRelease } from './memory';
import { resyncAndSweep } from './sweep';
import type { SweepApi } from './sweep';
import { guardWrites } from './writes';
import type { OperatorKube } from './writes';

export interface OperatorOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly namespaces?: readonly string[];
  readonly namespaceSelector?: string;
  readonly workers: number;
  readonly resyncMs: number;
  readonly metricsAddr: string;
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity?: string;
  readonly election?: Partial<Omit<ElectorOptions, 'identity'>>;
  readonly log: Logger;
  /** How long a watch may keep failing before /readyz says not ready (default UNHEALTHY_AFTER_MS, 30 s). */
  readonly watchUnhealthyAfterMs?: number;
  /** Called for every API request (tests count writes with it). */
  readonly onApiRequest?: ApiObserver;
  /** Called when the lease is lost; the CLI exits the process. */
  readonly onLostLeadership?: () => void;
}

export interface RunningOperator {
  readonly metrics: Metrics;
  readonly metricsPort: number;
  readonly identity: string;
  isLeader(): boolean;
  isReady(): boolean;
  /** Finish in-flight reconciles, stop watching, release the lease, close the HTTP server. */
  stop(): Promise<void>;
}

export const INTENTS: KindSpec = { group: GROUP, version: VERSION, plural: PLURAL, kind: KIND_INTENT };
export const POLICIES: KindSpec = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: KIND_POLICY };
export const NAMESPACES: KindSpec = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };

/** Everything the operator talks to or keeps time with: injected, so that tests can fake any of it. */
export interface Collaborators {
  readonly kube: OperatorKube;
  readonly sourceFor: (kind: KindSpec, scope: CacheScope) => WatchSource;
  readonly metrics: Metrics;
  readonly serve: ManagerDeps['serve'];
  readonly elect?: ManagerDeps['elect'];
  readonly timers?: Timers;
  readonly now?: () => Date;
}

export type AssembleOptions = Pick<OperatorOptions, 'namespaces' | 'namespaceSelector' | 'workers' | 'resyncMs' | 'log' | 'watchUnhealthyAfterMs' | 'onLostLeadership'>;

/** The parts, for tests to look at. */
export interface Assembled {
  readonly manager: Manager;
  readonly cache: SharedCache;
  readonly intents: Controller;
  readonly baselines: Controller;
  readonly policies: PolicyCache;
}

/** Wires the operator from its collaborators; `policies` and the controller's queue back the metrics' gauges. */
export function assemble(o: AssembleOptions, c: Collaborators, parts: { policies: PolicyCache; intents: Controller['queue']; states?: IntentStates }): Assembled {
  const scope = scopeOf(o);
  const { policies } = parts;
  const log = o.log;
  const cache = new SharedCache(c.sourceFor, { log, timers: c.timers });
  const manager = new Manager({ log, metrics: c.metrics, serve: c.serve, elect: c.elect, onLostLeadership: o.onLostLeadership });
  const ownWrites = new OwnWrites();
  const kube = guardWrites(c.kube, () => manager.isLeader(), { writes: ownWrites, enqueue: (k) => parts.intents.add(k), creates: policies }, log);
  const references = new IntentReferences();
  const objects = new ReferencedObjects();
  const intentCache = new IntentCache();
  const readIntent = (ns: string, name: string): ReturnType<IntentCache['get']> => {
    if (!cache.hasSynced(KIND_INTENT, ns)) throw new NotSyncedError(ns);
    return intentCache.get(ns, name);
  };
  const deps = { kube, policies, objects, readIntent, now: c.now ?? ((): Date => new Date()), onDriftCorrected: (n: number) => c.metrics.driftCorrections.inc(n), intents: parts.states };
  const intents = new Controller('segmentationintent', cache, (key, l) => reconcile(key, { ...deps, log: l }), { log, metrics: c.metrics, workers: o.workers, queue: parts.intents });

  const namespaces = scope.kind === 'list' ? scope.namespaces : [undefined];
  const selected = scope.kind === 'selector' ? cache.informer(NAMESPACES, { labelSelector: scope.selector }) : undefined;
  const governed = (ns: string | undefined): boolean => !selected || (ns !== undefined && selected.get(`/${ns}`) !== undefined);
  for (const ns of namespaces) {
    cache.informer(INTENTS, { namespace: ns }).addSink(references.sink()).addSink(intentCache.sink());
    // The kinds intents may reference, always watched in scope (docs/adr/0012): trimmed, so a few hundred bytes each.
    for (const kind of REFERENCED_KINDS) cache.informer(kind, { namespace: ns }).addSink(objects.sink(kind.kind, ns));
    const store = new PolicyStore(ns);
    policies.add(store);
    // The policy informer holds the store's compact records, one per policy (./store.ts, issue 17).
    cache.informer(POLICIES, { namespace: ns, labelSelector: MANAGED_SELECTOR }, store);
  }
  intents
    .watch({ kind: INTENTS, namespaces, predicates: [inNamespaces(governed), specChanged], keys: self })
    .watch({ kind: POLICIES, namespaces, labelSelector: MANAGED_SELECTOR, predicates: [inNamespaces(governed), notEcho(ownWrites)], keys: owner });
  // A change to a referenced object recompiles exactly the intents that name it, at once.
  const naming = (e: Parameters<IntentReferences['intentsFor']>[0]): string[] => references.intentsFor(e).filter((k) => governed(parseKey(k).namespace));
  for (const kind of REFERENCED_KINDS) intents.watch({ kind, namespaces, predicates: [referenceChanged], keys: naming });
  if (scope.kind === 'selector') {
    const intentsIn = viaIndex(cache, KIND_INTENT, INDEX_NAMESPACE, (e) => e.object.metadata?.name ?? '');
    intents.watch({ kind: NAMESPACES, labelSelector: scope.selector, predicates: [newlySeen], keys: intentsIn });
  }

  // ClusterSegmentationIntents (./baseline-controller.ts): only in the namespaces this operator governs.
  const inScope = (ns: string): boolean => (scope.kind === 'list' ? scope.namespaces.includes(ns) : governed(ns));
  const baselines = baselineController({
    cache,
    kube: c.kube,
    policies,
    policyNamespaces: namespaces,
    governed: inScope,
    scopeSelector: scope.kind === 'selector' ? scope.selector : undefined,
    leading: () => manager.isLeader(),
    objects,
    env: { log, metrics: c.metrics, workers: o.workers, now: deps.now, onDriftCorrected: deps.onDriftCorrected },
  });

  const matched = (): string[] | undefined => (selected?.isSynced ? selected.objects().map((n) => n.metadata?.name ?? '') : undefined);
  // The resync reads the caches (one list per kind at start, shared by the watches and the sweeps; issue 17). Its
  // first pass only sweeps: the intent informers' first list has just enqueued every intent.
  let firstPass = true;
  const resync = async (): Promise<void> => {
    await Promise.all([...cache.of(KIND_INTENT), ...cache.of(KIND_POLICY)].map((i) => i.whenSynced()));
    const nss = listNamespaces(scope, matched());
    if (!nss || !manager.isLeader()) return;
    const within = (ns: string | undefined): boolean => nss.includes(undefined) || nss.includes(ns);
    const api: SweepApi = {
      managed: async () => nss.flatMap((ns) => policies.inNamespace(ns)),
      intents: async () => cache.of(KIND_INTENT).flatMap((i) => i.objects()).filter((o) => within(o.metadata?.namespace)),
      getIntent: (ns, name) => c.kube.getIntent(ns, name),
      deletePolicy: kube.deletePolicy,
    };
    await resyncAndSweep(api, { enqueue: firstPass ? undefined : (k): void => intents.enqueue(k), log });
    firstPass = false;
    await baselines.resync(nss, log);
  };

  const unhealthyAfterMs = o.watchUnhealthyAfterMs ?? UNHEALTHY_AFTER_MS;
  manager
    .add({ start: () => cache.start(), stop: () => (cache.stop(), policies.clear(), objects.clear(), intentCache.clear(), parts.states?.clear()) })
    .add(intents)
    .add(baselines.controller)
    .add(periodic(resync, o.resyncMs, { log, timers: c.timers, failed: 'resync failed; sweep skipped' }))
    .addReadyCheck(() => cache.synced() && cache.healthy(unhealthyAfterMs));
  return { manager, cache, intents, baselines: baselines.controller, policies };
}

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const identity = o.identity ?? `${os.hostname()}-${crypto.randomBytes(3).toString('hex')}`;
  const policies = new PolicyCache();
  const queue = new WorkQueue();
  const states = new IntentStates();
  const metrics = createMetrics({ queueDepth: () => queue.len(), policiesManaged: () => policies.size(), intents: states });
  const observe: ApiObserver = (verb, resource, code) => {
    metrics.apiRequests.inc({ verb, code });
    o.onApiRequest?.(verb, resource, code);
  };
  const kube = new Kube(o.kubeConfig, observe);
  const c: Collaborators = {
    kube,
    metrics,
    sourceFor: (kind, scope) => kubeWatchSource(kube, watchTarget(kind, scope)),
    serve: async (health) => {
      const server = await serveMetrics(o.metricsAddr, metrics, health);
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
    elect: o.leaderElect ? (cb) => elector(kube, o, identity, cb) : undefined,
  };
  const { manager, baselines } = assemble(o, c, { policies, intents: queue, states });
  // After each burst of work, the heap's free pages go back (./memory.ts; issue 17).
  manager.add(memoryRelease([queue, baselines.queue], { log: o.log, releases: metrics.memoryReleases }));
  await manager.start();
  return {
    metrics,
    metricsPort: manager.port,
    identity,
    isLeader: () => manager.isLeader(),
    isReady: () => manager.ready(),
    stop: () => manager.stop(),
  };
}

function elector(kube: Kube, o: OperatorOptions, identity: string, cb: ElectorCallbacks): LeaderElector {
  const election = { ...DEFAULT_ELECTION, ...o.election, identity };
  return new LeaderElector(kubeLeaseStore(kube, o.leaseNamespace, o.leaseName), election, cb, { log: o.log });
}
