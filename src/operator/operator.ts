/**
 * The running operator, on @dot-i/k8s-operator's Operator base class (its lifecycle: start → init registers the
 * watches, stop). What production needed beyond it, and why:
 *  - watchResource is overridden: @dot-i's exits the process on any watch error and restarts watches without a
 *    resourceVersion; ours lists, watches from the list's version, backs off and re-lists (./watch.ts);
 *  - status goes through src/kube, not setResourceStatus: @dot-i returns null on any failure, hiding the code
 *    that tells a 409 (retry now) from a 403 (RBAC is wrong);
 *  - no finalizer (handleResourceFinalizer): ownerReferences let kube-controller-manager delete the policies,
 *    and a finalizer would block deleting an intent while the operator is down.
 * Watch callbacks only enqueue "ns/name" keys; workers run reconcile; a resync re-enqueues every intent and
 * sweeps orphans; only the Lease holder does any of that.
 */
import * as http from 'http';
import * as os from 'os';
import * as crypto from 'crypto';
import Operator, { ResourceEventType, ResourceMetaImpl } from '@dot-i/k8s-operator';
import type { ResourceEvent } from '@dot-i/k8s-operator';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'winston';
import type { KubeObject, NetworkPolicy } from '../model/kubernetes';
import { GROUP, PLURAL, VERSION } from '../intent/types';
import { Kube, KIND_INTENT, KIND_POLICY } from '../kube/client';
import type { ApiObserver } from '../kube/client';
import type { Verb } from '../kube/errors';
import { ApiError } from '../kube/errors';
import { DEFAULT_ELECTION, LeaderElector } from './leader';
import type { ElectorOptions } from './leader';
import { kubeLeaseStore } from './lease-store';
import { dotiLogger, reconcileLogger } from './logger';
import { createMetrics, serveMetrics } from './metrics';
import type { Metrics } from './metrics';
import { MANAGED_SELECTOR, objectKey, ownerKey } from './ownership';
import { resyncAndSweep } from './sweep';
import { WorkQueue } from './queue';
import { reconcile } from './reconcile';
import type { KubeApi } from './reconcile';
import { listNamespaces, scopeOf } from './scope';
import type { Scope } from './scope';
import { OwnWrites } from './echo';
import { NotSyncedError, PolicyCache, PolicyStore } from './store';
import { ResilientWatch, UNHEALTHY_AFTER_MS } from './watch';
import type { WatchEventType, WatchHandlers, WatchTarget } from './watch';

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

export class NetsegOperator extends Operator {
  private readonly watches: ResilientWatch[] = [];
  private readonly generations = new Map<string, string>();
  private matched: Set<string> | undefined;

  constructor(
    kc: k8s.KubeConfig,
    private readonly kube: Kube,
    private readonly scope: Scope,
    private readonly h: { enqueue(key: string): void; log: Logger; cache: PolicyCache; ownWrites: OwnWrites },
  ) {
    super(dotiLogger(h.log));
    // @dot-i loads the default kubeconfig; the operator uses the one it was given (--kubeconfig or in-cluster).
    this.kubeConfig = kc;
    this.k8sApi = kc.makeApiClient(k8s.CoreV1Api);
  }

  protected async init(): Promise<void> {
    const namespaces = this.scope.kind === 'list' ? this.scope.namespaces : [undefined];
    if (this.scope.kind === 'selector') await this.watchNamespaces(this.scope.selector);
    for (const ns of namespaces) {
      await this.watchResource(GROUP, VERSION, PLURAL, (e) => this.onIntent(e), ns);
      const policies = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespace: ns, labelSelector: MANAGED_SELECTOR };
      const store = new PolicyStore(ns);
      this.h.cache.add(store);
      await this.watchSelected(policies, (e) => this.onPolicy(e), store);
    }
  }

  /** @dot-i's contract, but survives apiserver restarts instead of exiting (see ./watch.ts). */
  // eslint-disable-next-line max-params -- the signature is @dot-i's base class method's
  protected override async watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
    namespace?: string,
  ): Promise<void> {
    await this.watchSelected({ group, version, plural, namespace }, onEvent);
  }

  /** watchResource with a label selector: the managed policies only, not every NetworkPolicy of the cluster. */
  private async watchSelected(spec: WatchSpec, onEvent: (event: ResourceEvent) => Promise<void>, sink?: WatchHandlers['sink']): Promise<void> {
    const target = watchTarget(spec);
    const handlers: WatchHandlers = {
      sink,
      onEvent: (type: WatchEventType, obj: KubeObject): void => {
        const object = obj as k8s.KubernetesObject;
        const event: ResourceEvent = { type: type as ResourceEventType, object, meta: ResourceMetaImpl.createWithPlural(spec.plural, object) };
        onEvent(event).catch((e: unknown) => this.h.log.error('event handler failed', { error: String(e) }));
      },
    };
    const source = { kc: this.kubeConfig, target, list: listerFor(this.kube, target, spec.namespace) };
    const w = new ResilientWatch(source, handlers, { log: this.h.log });
    this.watches.push(w);
    w.start();
    this.h.log.info('watching', { path: target.path, labelSelector: spec.labelSelector });
  }

  override stop(): void {
    for (const w of this.watches.splice(0)) w.stop();
    this.h.cache.clear();
    super.stop();
  }

  synced(): boolean {
    return this.watches.length > 0 && this.watches.every((w) => w.isSynced);
  }

  /** No watch has kept failing past UNHEALTHY_AFTER_MS (./watch.ts): the caches are current. */
  healthy(afterMs: number): boolean {
    return this.watches.every((w) => w.isHealthy(afterMs));
  }

  /** Namespaces matched by the selector, or undefined while not yet known. */
  matchedNamespaces(): string[] | undefined {
    return this.matched ? [...this.matched] : undefined;
  }

  managedPolicyCount(): number {
    return this.h.cache.size();
  }

  private inScope(ns: string | undefined): boolean {
    return this.scope.kind !== 'selector' || (ns !== undefined && (this.matched?.has(ns) ?? false));
  }

  private async onIntent(e: ResourceEvent): Promise<void> {
    const key = objectKey(e.object as KubeObject);
    if (!this.inScope(e.meta.namespace)) return;
    if (e.type === ResourceEventType.Deleted) {
      this.generations.delete(key);
      return;
    }
    // Status writes (ours included) change resourceVersion, not generation: they need no reconcile.
    const m = (e.object as KubeObject).metadata ?? {};
    const mark = JSON.stringify([m.uid, m.generation, m.labels ?? {}, m.deletionTimestamp ?? null]);
    if (e.type === ResourceEventType.Modified && this.generations.get(key) === mark) return;
    this.generations.set(key, mark);
    this.h.enqueue(key);
  }

  private async onPolicy(e: ResourceEvent): Promise<void> {
    if (!this.inScope(e.meta.namespace)) return;
    // The echo of our own create/update: the store now holds exactly what that reconcile wrote, nothing to redo.
    if (this.h.ownWrites.isEcho(e.type as WatchEventType, e.object as KubeObject)) return;
    const key = ownerKey(e.object as NetworkPolicy);
    if (key) this.h.enqueue(key);
  }

  private async watchNamespaces(selector: string): Promise<void> {
    await this.watchSelected({ group: '', version: 'v1', plural: 'namespaces', labelSelector: selector }, async (e) => {
      this.matched ??= new Set();
      const ns = e.meta.name;
      if (e.type === ResourceEventType.Deleted) this.matched.delete(ns);
      else if (!this.matched.has(ns)) {
        this.matched.add(ns);
        this.intentKeysIn(ns).forEach((k) => this.h.enqueue(k));
      }
    });
  }

  private intentKeysIn(ns: string): string[] {
    return this.watches
      .filter((w) => w.kindWatched === KIND_INTENT)
      .flatMap((w) => w.objects())
      .filter((o) => o.metadata?.namespace === ns)
      .map(objectKey);
  }
}

interface WatchSpec {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespace?: string;
  readonly labelSelector?: string;
}

function watchTarget(t: WatchSpec): WatchTarget {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  const path = `${base}${t.namespace ? `/namespaces/${t.namespace}` : ''}/${t.plural}`;
  const kind = t.plural === PLURAL ? KIND_INTENT : t.plural === 'networkpolicies' ? KIND_POLICY : 'Namespace';
  return { path, labelSelector: t.labelSelector, apiVersion: t.group ? `${t.group}/${t.version}` : t.version, kind };
}

function listerFor(kube: Kube, target: WatchTarget, namespace: string | undefined) {
  return () => kube.listForWatch<KubeObject>({ kind: target.kind, namespace, labelSelector: target.labelSelector });
}

// --------------------------------------------------------------------------------------------- runtime

/**
 * Only the leader writes: each write checks, so a reconcile in flight when the lease is lost writes nothing more.
 * Policy writes are remembered (`own`) so that their watch echo enqueues nothing.
 */
function guardWrites(kube: Kube, leading: () => boolean, own: EchoFilter): KubeApi {
  const guard = <A extends unknown[]>(verb: Verb, kind: string, f: (...a: A) => Promise<unknown>) =>
    async (...a: A): Promise<void> => {
      if (!leading()) throw new ApiError(0, 'NotLeader', { verb, kind }, { detail: 'this replica does not hold the leader lease' });
      await f(...a);
    };
  return {
    getIntent: (ns, n) => kube.getIntent(ns, n),
    getPolicy: (ns, n) => kube.getPolicy(ns, n),
    createPolicy: guard('create', KIND_POLICY, (p: NetworkPolicy) => tracked(p, own, () => kube.createPolicy(p))),
    replacePolicy: guard('update', KIND_POLICY, (p: NetworkPolicy) => tracked(p, own, () => kube.replacePolicy(p))),
    deletePolicy: guard('delete', KIND_POLICY, (p) => kube.deletePolicy(p)),
    replaceIntentStatus: guard('update', KIND_INTENT, (i, s) => kube.replaceIntentStatus(i, s)),
    createEvent: guard('create', 'Event', (e) => kube.createEvent(e)),
  };
}

/** While the policy store has not listed yet, a key is looked at again this soon (no backoff: nothing failed). */
const UNSYNCED_RETRY_MS = 250;

interface EchoFilter {
  readonly writes: OwnWrites;
  /** An event held while the write was in flight turned out not to be its echo. */
  enqueue(key: string): void;
}

/** A policy write whose watch echo will be recognised (./echo.ts). */
async function tracked(p: NetworkPolicy, own: EchoFilter, write: () => Promise<NetworkPolicy>): Promise<void> {
  let stored: NetworkPolicy | undefined;
  own.writes.begin(p);
  try {
    stored = await write();
  } finally {
    const key = own.writes.end(p, stored) ? ownerKey(p) : undefined;
    if (key) own.enqueue(key);
  }
}

class Runtime {
  readonly queue = new WorkQueue();
  private readonly cache = new PolicyCache();
  private readonly ownWrites = new OwnWrites();
  readonly kube: Kube;
  readonly metrics: Metrics;
  readonly identity: string;
  private op: NetsegOperator | undefined;
  private workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private leading = false;
  private leaderKnown = false;
  private elector: LeaderElector | undefined;
  private server: http.Server | undefined;
  private readonly scope: Scope;

  constructor(private readonly o: OperatorOptions) {
    this.scope = scopeOf(o);
    this.identity = o.identity ?? `${os.hostname()}-${crypto.randomBytes(3).toString('hex')}`;
    this.metrics = createMetrics({ queueDepth: () => this.queue.len(), policiesManaged: () => this.op?.managedPolicyCount() ?? 0 });
    const observe: ApiObserver = (verb, resource, code) => {
      this.metrics.apiRequests.inc({ verb, code });
      o.onApiRequest?.(verb, resource, code);
    };
    this.kube = new Kube(o.kubeConfig, observe);
  }

  async start(): Promise<number> {
    this.server = await serveMetrics(this.o.metricsAddr, this.metrics, { live: () => true, ready: () => this.ready() });
    if (this.o.leaderElect) this.campaign();
    else {
      this.leaderKnown = true;
      await this.lead();
    }
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** The leader is ready once its caches listed, and stops being ready while a watch keeps failing. */
  ready(): boolean {
    if (!this.leaderKnown) return false;
    const unhealthyAfterMs = this.o.watchUnhealthyAfterMs ?? UNHEALTHY_AFTER_MS;
    return !this.leading || ((this.op?.synced() ?? false) && (this.op?.healthy(unhealthyAfterMs) ?? false));
  }

  isLeader(): boolean {
    return this.leading;
  }

  private campaign(): void {
    const election = { ...DEFAULT_ELECTION, ...this.o.election, identity: this.identity };
    const store = kubeLeaseStore(this.kube, this.o.leaseNamespace, this.o.leaseName);
    this.elector = new LeaderElector(store, election, {
      onStartedLeading: () => void this.lead().catch((e: unknown) => this.o.log.error('could not start leading', { error: String(e) })),
      // A deposed leader does not campaign again in-process: its queue is shut down. The CLI exits and the pod
      // restarts as a clean standby, as controller-runtime does.
      onStoppedLeading: () => void this.unlead().then(() => this.elector?.stop()).then(() => this.o.onLostLeadership?.()),
      onObserved: () => (this.leaderKnown = true),
    }, { log: this.o.log });
    this.elector.start();
  }

  private async lead(): Promise<void> {
    this.leading = true;
    this.metrics.leader.set(1);
    const h = { enqueue: (k: string) => this.queue.add(k), log: this.o.log, cache: this.cache, ownWrites: this.ownWrites };
    this.op = new NetsegOperator(this.o.kubeConfig, this.kube, this.scope, h);
    await this.op.start();
    this.workers = Array.from({ length: Math.max(1, this.o.workers) }, () => this.work());
    this.scheduleResync(0);
  }

  private async unlead(): Promise<void> {
    this.leading = false;
    this.metrics.leader.set(0);
    clearTimeout(this.resyncTimer);
    this.op?.stop();
    this.queue.shutdown();
    await Promise.all(this.workers);
  }

  async stop(): Promise<void> {
    await this.unlead();
    await this.elector?.stop();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // ------------------------------------------------------------------------------------------ workers

  private echoes(): EchoFilter {
    return { writes: this.ownWrites, enqueue: (k) => this.queue.add(k) };
  }

  private async work(): Promise<void> {
    const kube = guardWrites(this.kube, () => this.leading, this.echoes());
    const deps = { kube, policies: this.cache, now: () => new Date(), onDriftCorrected: (n: number) => this.metrics.driftCorrections.inc(n) };
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      await this.process(key, deps);
      this.queue.done(key);
    }
  }

  private async process(key: string, deps: Omit<Parameters<typeof reconcile>[1], 'log'>): Promise<void> {
    const log = reconcileLogger(this.o.log, key);
    const end = this.metrics.reconcileDuration.startTimer();
    try {
      const out = await reconcile(key, { ...deps, log });
      this.queue.forget(key);
      if (out.requeueAfterMs) this.queue.addAfter(key, out.requeueAfterMs);
      this.count(out.result, end);
      log.debug('reconciled', { result: out.result });
    } catch (e) {
      if (e instanceof NotSyncedError) return this.notSynced(key, end);
      const retryAfterMs = e instanceof ApiError && e.retryAfterSeconds ? e.retryAfterSeconds * 1000 : 0;
      const delay = this.queue.addRateLimited(key, retryAfterMs);
      this.count('error', end);
      log.warn('reconcile failed; will retry', { error: e instanceof Error ? e.message : String(e), retryInMs: delay });
    }
  }

  /** Not a failure: the store is still listing (start, or a selector namespace added). Look again shortly. */
  private notSynced(key: string, end: (labels?: { result: string }) => number): void {
    this.queue.addAfter(key, UNSYNCED_RETRY_MS);
    this.count('unsynced', end);
  }

  private count(result: string, end: (labels?: { result: string }) => number): void {
    this.metrics.reconcileTotal.inc({ result });
    end({ result });
  }

  // ---------------------------------------------------------------------------------- resync and sweep

  private scheduleResync(ms: number): void {
    this.resyncTimer = setTimeout(() => {
      this.resync()
        .catch((e: unknown) => this.o.log.warn('resync failed; sweep skipped', { error: String(e) }))
        .finally(() => this.leading && this.scheduleResync(this.o.resyncMs));
    }, ms);
    this.resyncTimer.unref();
  }

  /** Re-enqueues every intent from a fresh list and sweeps orphans (./sweep.ts), only with complete lists. */
  private async resync(): Promise<void> {
    const namespaces = listNamespaces(this.scope, this.op?.matchedNamespaces());
    if (!namespaces || !this.leading) return;
    const guarded = guardWrites(this.kube, () => this.leading, this.echoes());
    const api = { listIntents: (ns?: string) => this.kube.listIntents(ns), listPolicies: (ns: string | undefined, sel: string) => this.kube.listPolicies(ns, sel), deletePolicy: guarded.deletePolicy };
    await resyncAndSweep(api, namespaces, { enqueue: (k) => this.queue.add(k), log: this.o.log });
  }
}

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const rt = new Runtime(o);
  const port = await rt.start();
  return {
    metrics: rt.metrics,
    metricsPort: port,
    identity: rt.identity,
    isLeader: () => rt.isLeader(),
    isReady: () => rt.ready(),
    stop: () => rt.stop(),
  };
}
