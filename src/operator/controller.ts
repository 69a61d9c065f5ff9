/**
 * A Controller, as controller-runtime has it: sources → predicates → a mapping from object to keys → one keyed
 * WorkQueue → workers running `reconcile(key)`.
 *  - a source is a kind in a namespace scope with a label selector, read from the SharedCache (./cache.ts), so
 *    every controller watching a kind shares its list, watch and indexes;
 *  - predicates drop events that need no reconcile (the intent's status changed, the echo of our own write);
 *  - the mapping says which keys an event concerns: the object itself, its owner, or an index lookup;
 *  - reconcile re-reads everything (level-based): a key runs once however many events named it meanwhile.
 * A new watched kind is one `watch({...})` call.
 */
import type { Logger } from 'winston';
import type { KindSpec } from '../kube/watch';
import { ApiError } from '../kube/errors';
import type { CacheEvent, Informer, SharedCache } from './cache';
import type { Metrics } from './metrics';
import { reconcileLogger } from './logger';
import { objectKey, ownerKey } from './ownership';
import { WorkQueue } from './queue';
import { NotSyncedError } from './store';

export type Predicate = (e: CacheEvent) => boolean;
export type KeyMapper = (e: CacheEvent) => readonly string[];

/** One registration: what to watch, which events matter, and which keys they concern. */
export interface Source {
  readonly kind: KindSpec;
  /** One informer per entry; undefined = all namespaces (or a cluster-scoped kind). Default: [undefined]. */
  readonly namespaces?: readonly (string | undefined)[];
  readonly labelSelector?: string;
  /** All must pass, in order (a predicate may have effects, e.g. the echo filter holds an event). */
  readonly predicates?: readonly Predicate[];
  readonly keys: KeyMapper;
}

export interface ReconcileResult {
  readonly result: string;
  /** A timed recheck. */
  readonly requeueAfterMs?: number;
}

export type Reconciler = (key: string, log: Logger) => Promise<ReconcileResult>;

export interface ControllerEnv {
  readonly log: Logger;
  readonly metrics: Pick<Metrics, 'reconcileTotal' | 'reconcileDuration'>;
  readonly workers: number;
  readonly queue?: WorkQueue;
}

/**
 * While a cache has not listed yet, a key is looked at again this soon (no backoff: nothing failed). Rare: the
 * workers start only once the caches the controller watches have listed; this covers a cache made later (a
 * namespace added to the scope) or one that a reconcile reads without watching it.
 */
export const UNSYNCED_RETRY_MS = 250;

export class Controller {
  readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];
  /** The informers this controller's sources read: workers wait until each has listed once. */
  private readonly informers = new Set<Informer>();
  private stopping: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly cache: SharedCache,
    private readonly reconcile: Reconciler,
    private readonly env: ControllerEnv,
  ) {
    this.queue = env.queue ?? new WorkQueue();
  }

  /** Registers a source: its events, once past the predicates, enqueue the keys they map to. */
  watch(s: Source): this {
    for (const namespace of s.namespaces ?? [undefined]) {
      const informer = this.cache.informer(s.kind, { namespace, labelSelector: s.labelSelector });
      this.informers.add(informer);
      informer.addHandler((e) => {
        if ((s.predicates ?? []).every((p) => p(e))) for (const k of s.keys(e)) this.queue.add(k);
      });
    }
    return this;
  }

  /** Also wait for these caches before reconciling: ones reconcile reads without watching them. */
  reads(...informers: Informer[]): this {
    for (const i of informers) this.informers.add(i);
    return this;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * Workers start once every cache this controller reads has listed (client-go's WaitForCacheSync): a key
   * reconciled before would only find an empty cache and be retried, and at start every intent is enqueued at
   * once (52,000-68,000 wasted attempts over 3,000 intents, issue 17). Keys enqueued meanwhile wait in the queue.
   */
  start(): void {
    const stopped = new Promise<void>((resolve) => (this.stopping = resolve));
    const synced = Promise.all([...this.informers].map((i) => i.whenSynced()));
    const begin = Promise.race([synced, stopped]);
    this.workers = Array.from({ length: Math.max(1, this.env.workers) }, () => begin.then(() => this.work()));
  }

  /** Lets in-flight reconciles finish; waiting keys are dropped. */
  async stop(): Promise<void> {
    this.queue.shutdown();
    this.stopping?.();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      await this.process(key);
      this.queue.done(key);
    }
  }

  private async process(key: string): Promise<void> {
    const log = reconcileLogger(this.env.log, key);
    const end = this.env.metrics.reconcileDuration.startTimer();
    try {
      const out = await this.reconcile(key, log);
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

  /** Not a failure: a cache is still listing (start, or a selector namespace added). Look again shortly. */
  private notSynced(key: string, end: (labels?: { result: string }) => number): void {
    this.queue.addAfter(key, UNSYNCED_RETRY_MS);
    this.count('unsynced', end);
  }

  private count(result: string, end: (labels?: { result: string }) => number): void {
    this.env.metrics.reconcileTotal.inc({ result });
    end({ result });
  }
}

// ------------------------------------------------------------------------------------------- predicates

/** What a reconcile of the object depends on: status writes (ours included) change none of it. */
function specMark(o: CacheEvent['object'] | undefined): string {
  const m = o?.metadata ?? {};
  return JSON.stringify([m.uid, m.generation, m.labels ?? {}, m.deletionTimestamp ?? null]);
}

/** Drops MODIFIED events whose uid, generation, labels and deletionTimestamp are unchanged, and deletes. */
export const specChanged: Predicate = (e) => e.type !== 'DELETED' && !(e.type === 'MODIFIED' && e.old && specMark(e.old) === specMark(e.object));

/** Only objects the cache did not hold before (a namespace newly matched, not one re-listed). */
export const newlySeen: Predicate = (e) => e.type !== 'DELETED' && e.old === undefined;

/** Only objects in a namespace for which `governed` says yes. */
export function inNamespaces(governed: (ns: string | undefined) => boolean): Predicate {
  return (e) => governed(e.object.metadata?.namespace);
}

// ----------------------------------------------------------------------------------------------- mappers

/** The object's own key, "ns/name" (For()). */
export const self: KeyMapper = (e) => [objectKey(e.object)];

/** The key of the intent that controls it (Owns()): ownerReference, else the intent label. */
export const owner: KeyMapper = (e) => {
  const k = ownerKey(e.object as Parameters<typeof ownerKey>[0]);
  return k ? [k] : [];
};

/** Keys of the `kind` objects filed under `value(e)` in the cache's index `name` (Watches() with a map func). */
export function viaIndex(cache: SharedCache, kind: string, name: string, value: (e: CacheEvent) => string): KeyMapper {
  return (e) => cache.byIndex(kind, name, value(e)).map(objectKey);
}
