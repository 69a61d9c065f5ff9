/**
 * One cache per watched collection, shared by every controller (client-go's shared informer, in small):
 *  - list (all pages) → hold every object (a skeleton: metadata only) → watch from the list's resourceVersion;
 *  - the server closing the stream normally → watch again from the last resourceVersion seen;
 *  - an error, or 410 Gone → back off (capped, jittered), list again, and report objects that vanished
 *    meanwhile as DELETED (what client-go's Replace does), so a gap loses no delete;
 *  - a failed list replaces nothing; "synced" only after the first complete list; healthy unless list or watch
 *    have kept failing for a while (/readyz);
 *  - indexes (namespace, label, controller uid, and any custom one) follow every event.
 * Consumers: sinks get the FULL objects (each complete list as a replace, then every event) before handlers
 * get the event (type, skeleton, previous skeleton), so a key enqueued by a handler reads a sink that has it.
 * The list and watch themselves are a WatchSource (src/kube/watch.ts): a fake one makes all this unit-testable.
 */
import type { Logger } from 'winston';
import type { KubeObject } from '../model/kubernetes';
import type { Abortable, KindSpec, WatchEventType, WatchSource, WatchTarget } from '../kube/watch';
import { objectKey } from './ownership';
import { backoffDelay, realTimers } from './queue';
import type { Timers } from './queue';

export type { WatchEventType } from '../kube/watch';

/** What a handler sees: the event's object and, for an object already cached, what the cache held before. */
export interface CacheEvent {
  readonly type: WatchEventType;
  readonly object: KubeObject;
  readonly old?: KubeObject;
}

export type EventHandler = (e: CacheEvent) => void;

/** Gets full objects: each complete list as a replace, then one event at a time (e.g. ./store.ts). */
export interface ObjectSink {
  replace(items: readonly KubeObject[]): void;
  apply(type: WatchEventType, obj: KubeObject): void;
}

/**
 * What an informer holds of each object, by key ("ns/name"). By default a skeleton (metadata only, below); a
 * kind may hold less: the policy informer holds the PolicyStore's records (./store.ts), so that each managed
 * policy is held once, compactly, and not as a skeleton here plus a record there (issue 17).
 */
export interface Held {
  /** What is held of `o`, and what handlers see of it. */
  keep(o: KubeObject): KubeObject;
  get(key: string): KubeObject | undefined;
  set(key: string, kept: KubeObject): void;
  delete(key: string): void;
  entries(): IterableIterator<[string, KubeObject]>;
  values(): IterableIterator<KubeObject>;
  /** A complete list is held now (the first time: synced). */
  listed?(): void;
}

/** The default Held: skeletons in a Map. */
class Skeletons extends Map<string, KubeObject> implements Held {
  constructor(private readonly target: WatchTarget) {
    super();
  }

  keep(o: KubeObject): KubeObject {
    return skeleton(o, this.target);
  }
}

/** The values an object is filed under in one index. */
export type Indexer = (o: KubeObject) => readonly string[];

export const INDEX_NAMESPACE = 'namespace';
export const INDEX_LABEL = 'label';
export const INDEX_CONTROLLER = 'controller';

/**
 * Indexes every informer can answer. Each is built the first time it is asked for, not on every event of every
 * informer: the policy informer holds every managed policy, and filing each one by every label and owner that no
 * one reads was work on the watch's hot path and memory at start.
 */
const BUILTIN_INDEXES: Readonly<Record<string, Indexer>> = {
  [INDEX_NAMESPACE]: (o) => [o.metadata?.namespace ?? ''],
  [INDEX_LABEL]: (o) => Object.entries(o.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`),
  [INDEX_CONTROLLER]: (o) => (o.metadata?.ownerReferences ?? []).filter((r) => r.controller === true && r.uid).map((r) => r.uid),
};

// Capped at 5 s: after an apiserver outage the operator is back within seconds of its return (a 30 s cap let
// recovery take up to 30 s); a list attempt every 5 s against an absent apiserver costs next to nothing.
const WATCH_BACKOFF = { baseDelayMs: 500, maxDelayMs: 5_000, jitter: 0.2 };

/** How long a watch may keep failing before the operator reports itself not ready (/readyz). */
export const UNHEALTHY_AFTER_MS = 30_000;

export interface CacheEnv {
  readonly log: Logger;
  readonly timers?: Timers;
  readonly random?: () => number;
}

/** Only what mapping to a key, predicates and indexes need, so that caching every object stays small. */
function skeleton(o: KubeObject, t: WatchTarget): KubeObject {
  const m = o.metadata ?? {};
  const { name, namespace, uid, generation, resourceVersion, labels, deletionTimestamp, ownerReferences } = m;
  return { apiVersion: t.apiVersion, kind: t.kind, metadata: { name, namespace, uid, generation, resourceVersion, labels, deletionTimestamp, ownerReferences } };
}

/** name → value → keys, and what each key is filed under (so an update moves it). */
class Indexes {
  private readonly fns = new Map<string, Indexer>();
  private readonly index = new Map<string, Map<string, Set<string>>>();
  private readonly filed = new Map<string, Map<string, readonly string[]>>();

  add(name: string, fn: Indexer, objects: Iterable<[string, KubeObject]>): void {
    this.fns.set(name, fn);
    this.index.set(name, new Map());
    for (const [key, o] of objects) this.fileOne(name, key, fn(o));
  }

  put(key: string, o: KubeObject): void {
    this.remove(key);
    for (const [name, fn] of this.fns) this.fileOne(name, key, fn(o));
  }

  remove(key: string): void {
    for (const [name, byValue] of this.index) {
      for (const v of this.filed.get(name)?.get(key) ?? []) {
        const keys = byValue.get(v);
        keys?.delete(key);
        if (keys?.size === 0) byValue.delete(v);
      }
      this.filed.get(name)?.delete(key);
    }
  }

  has(name: string): boolean {
    return this.fns.has(name);
  }

  keys(name: string, value: string): string[] {
    const byValue = this.index.get(name);
    if (!byValue) throw new Error(`no index "${name}"`);
    return [...(byValue.get(value) ?? [])];
  }

  private fileOne(name: string, key: string, values: readonly string[]): void {
    const byValue = this.index.get(name) ?? new Map<string, Set<string>>();
    this.index.set(name, byValue);
    for (const v of values) byValue.set(v, (byValue.get(v) ?? new Set()).add(key));
    let filed = this.filed.get(name);
    if (!filed) this.filed.set(name, (filed = new Map()));
    filed.set(key, values);
  }
}

/** The cache of one collection (a kind in one namespace or all, optionally label-selected). */
export class Informer {
  private readonly known: Held;
  private readonly indexes = new Indexes();
  private readonly sinks: ObjectSink[] = [];
  private readonly handlers: EventHandler[] = [];
  private resourceVersion = '';
  private failures = 0;
  /** Since when list or watch have failed with no watch established since; undefined while healthy. */
  private failingSince: number | undefined;
  private request: Abortable | undefined;
  private timer: unknown;
  private started = false;
  private stopped = false;
  private synced = false;
  /** Told once, when the first complete list has arrived (./controller.ts waits for it before reconciling). */
  private readonly syncWaiters: (() => void)[] = [];

  constructor(
    readonly source: WatchSource,
    private readonly env: CacheEnv,
    held?: Held,
  ) {
    this.known = held ?? new Skeletons(source.target);
  }

  get target(): WatchTarget {
    return this.source.target;
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first complete list has arrived (at once if it has). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /**
   * False once list or watch have kept failing for `afterMs` (the CRD deleted, RBAC revoked, the apiserver
   * gone): the cache is then stale with no end in sight, and /readyz must say so. A short outage is not enough.
   */
  isHealthy(afterMs = UNHEALTHY_AFTER_MS): boolean {
    return this.failingSince === undefined || this.timers.now() - this.failingSince < afterMs;
  }

  addSink(sink: ObjectSink): this {
    this.sinks.push(sink);
    return this;
  }

  addHandler(h: EventHandler): void {
    this.handlers.push(h);
  }

  /** A custom index ("the intents that reference this Service"); files what is cached already. */
  addIndex(name: string, fn: Indexer): void {
    this.indexes.add(name, fn, this.known.entries());
  }

  /** The cached objects (skeletons). */
  objects(): KubeObject[] {
    return [...this.known.values()];
  }

  get(key: string): KubeObject | undefined {
    return this.known.get(key);
  }

  byIndex(name: string, value: string): KubeObject[] {
    const builtin = Object.hasOwn(BUILTIN_INDEXES, name) ? BUILTIN_INDEXES[name] : undefined;
    if (builtin && !this.indexes.has(name)) this.addIndex(name, builtin);
    return this.indexes.keys(name, value).flatMap((k): KubeObject[] => {
      const o = this.known.get(k);
      return o ? [o] : [];
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0, true);
    this.env.log.info('watching', { path: this.target.path, labelSelector: this.target.labelSelector });
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimer(this.timer);
    this.request?.abort();
  }

  private get timers(): Timers {
    return this.env.timers ?? realTimers;
  }

  private schedule(ms: number, relist: boolean): void {
    if (this.stopped) return;
    this.timers.clearTimer(this.timer);
    this.timer = this.timers.setTimer(() => {
      const next = relist ? this.relist().then(() => this.watch(), (e: unknown) => this.failed(e, 'list')) : this.watch();
      next.catch((e: unknown) => this.failed(e, 'watch'));
    }, ms);
  }

  private failed(e: unknown, verb: 'list' | 'watch'): void {
    if (this.stopped) return;
    this.failingSince ??= this.timers.now();
    const delay = backoffDelay(this.failures++, WATCH_BACKOFF, this.env.random);
    const fields = { verb, resource: this.target.path, labelSelector: this.target.labelSelector, delayMs: delay, error: describe(e) };
    if (statusOf(e) === 403) this.env.log.error('forbidden: the operator\'s RBAC does not allow this; listing again after backoff', fields);
    else this.env.log.warn(`${verb} failed; listing again after backoff`, fields);
    this.schedule(delay, true);
  }

  /** The watch stream is open (HTTP 200): list and watch work again. */
  private established(): void {
    this.failures = 0;
    this.failingSince = undefined;
  }

  private async relist(): Promise<void> {
    // Without sinks nothing needs the whole objects: keep what is held of each as its page arrives (the policy
    // informer's compact records), so a list of 100,000 policies is never in memory as parsed objects at once.
    const keep = this.sinks.length === 0 ? (o: KubeObject): KubeObject => this.known.keep(o) : undefined;
    const page = await this.source.list(keep);
    if (this.stopped) return;
    const fresh = new Map(page.items.map((o) => [objectKey(o), o]));
    // Only here, after every page arrived: a failed or partial list never replaces anything.
    for (const s of this.sinks) s.replace(page.items);
    const vanished: [string, KubeObject][] = [];
    for (const [key, old] of this.known.entries()) if (!fresh.has(key)) vanished.push([key, old]);
    for (const [key, old] of vanished) this.emit('DELETED', old, key);
    for (const [key, o] of fresh) this.emit('ADDED', keep ? o : this.known.keep(o), key);
    this.known.listed?.();
    this.resourceVersion = page.resourceVersion;
    this.synced = true;
    this.syncWaiters.splice(0).forEach((w) => w());
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    let gone = false;
    const line = (phase: string, obj: KubeObject): void => {
      if (phase === 'ERROR') {
        gone = true;
        return;
      }
      this.resourceVersion = obj.metadata?.resourceVersion ?? this.resourceVersion;
      if (phase === 'BOOKMARK') return;
      for (const s of this.sinks) s.apply(phase as WatchEventType, obj);
      this.emit(phase as WatchEventType, this.known.keep(obj), objectKey(obj));
    };
    const done = (err: unknown): void => {
      this.request = undefined;
      if (this.stopped) return;
      if (err || gone) this.failed(err ?? new Error('watch expired (410 Gone)'), 'watch');
      else this.schedule(0, false);
    };
    this.request = await this.source.watch(this.resourceVersion, { line, done, established: () => this.established() });
  }

  private emit(type: WatchEventType, object: KubeObject, key: string): void {
    const old = this.known.get(key);
    if (type === 'DELETED') {
      this.known.delete(key);
      this.indexes.remove(key);
    } else {
      this.known.set(key, object);
      this.indexes.put(key, object);
    }
    for (const h of this.handlers) {
      try {
        h({ type, object, old });
      } catch (e) {
        this.env.log.error('watch handler threw', { path: this.target.path, error: describe(e) });
      }
    }
  }
}

/** A collection to cache: a kind, a namespace (undefined: all) and a label selector. */
export interface CacheScope {
  readonly namespace?: string;
  readonly labelSelector?: string;
}

/**
 * Every informer of the process, one per (kind, namespace, selector), created on first ask and shared: two
 * controllers watching one kind share one list and one watch. Started and stopped as one (a Manager runnable).
 */
export class SharedCache {
  private readonly informers = new Map<string, Informer>();
  /** Custom indexes by kind, for the informers of that kind made now and later. */
  private readonly indexers = new Map<string, Map<string, Indexer>>();
  private started = false;

  constructor(
    private readonly sourceFor: (kind: KindSpec, scope: CacheScope) => WatchSource,
    private readonly env: CacheEnv,
  ) {}

  /** `held`: what the informer holds, if it is made now (see Held); asking for it once it exists is a bug. */
  informer(kind: KindSpec, scope: CacheScope = {}, held?: Held): Informer {
    const id = JSON.stringify([kind.group, kind.version, kind.plural, scope.namespace ?? '', scope.labelSelector ?? '']);
    let inf = this.informers.get(id);
    if (inf && held) throw new Error(`the ${kind.kind} informer of ${id} exists already: it holds what it was made with`);
    if (!inf) {
      inf = new Informer(this.sourceFor(kind, scope), this.env, held);
      for (const [name, fn] of this.indexers.get(kind.kind) ?? []) inf.addIndex(name, fn);
      this.informers.set(id, inf);
      if (this.started) inf.start();
    }
    return inf;
  }

  /** A custom index on every informer of `kind` ("the intents that name this Service"). */
  addIndex(kind: string, name: string, fn: Indexer): void {
    const byName = this.indexers.get(kind) ?? new Map<string, Indexer>();
    this.indexers.set(kind, byName.set(name, fn));
    for (const i of this.of(kind)) i.addIndex(name, fn);
  }

  /** The informers of one kind (one per namespace of a --namespaces list, or one for all). */
  of(kind: string): Informer[] {
    return [...this.informers.values()].filter((i) => i.target.kind === kind);
  }

  /** Objects of `kind` filed under `value` in index `name`, across the informers of that kind. */
  byIndex(kind: string, name: string, value: string): KubeObject[] {
    return this.of(kind).flatMap((i) => i.byIndex(name, value));
  }

  /** With a namespace: the informers of `kind` covering it have listed; without: all of that kind have. */
  hasSynced(kind: string, namespace?: string): boolean {
    const covering = this.of(kind).filter((i) => namespace === undefined || i.target.namespace === undefined || i.target.namespace === namespace);
    return covering.length > 0 && covering.every((i) => i.isSynced);
  }

  /** Started, and every informer has listed once. */
  synced(): boolean {
    return this.started && this.informers.size > 0 && [...this.informers.values()].every((i) => i.isSynced);
  }

  /** No informer has kept failing past `afterMs`: the cache is current. */
  healthy(afterMs = UNHEALTHY_AFTER_MS): boolean {
    return [...this.informers.values()].every((i) => i.isHealthy(afterMs));
  }

  start(): void {
    this.started = true;
    for (const i of this.informers.values()) i.start();
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}

function statusOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const o = e as { code?: unknown; statusCode?: unknown };
  return typeof o.statusCode === 'number' ? o.statusCode : typeof o.code === 'number' ? o.code : undefined;
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'object' ? JSON.stringify(e) : String(e);
}
