/**
 * List-then-watch that survives the apiserver going away, replacing @dot-i's watch loop (which calls
 * process.exit(1) on any watch error and restarts without a resourceVersion, losing what happened in between).
 *  - list (all pages) → remember every object's key → watch from the list's resourceVersion;
 *  - the server closing the stream normally → watch again from the last resourceVersion seen;
 *  - an error, or 410 Gone → back off (capped, jittered), list again, and report objects that vanished
 *    meanwhile as DELETED (what client-go's Replace does), so a gap loses nothing.
 * Callbacks stay cheap: the operator only maps objects to queue keys.
 */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'winston';
import type { KubeObject } from '../model/kubernetes';
import { objectKey } from './ownership';
import { backoffDelay } from './queue';
import type { Timers } from './queue';
import { realTimers } from './queue';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchTarget {
  /** API path of the collection: /apis/netseg.io/v1alpha1/namespaces/x/segmentationintents */
  readonly path: string;
  readonly labelSelector?: string;
  readonly apiVersion: string;
  readonly kind: string;
}

export interface ListPage {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
}

export type Lister = (target: WatchTarget) => Promise<ListPage>;

export interface WatchHandlers {
  onEvent(type: WatchEventType, obj: KubeObject): void;
  /** After every successful (re-)list: the first one marks the watch as synced. */
  onListed?(): void;
  /**
   * Gets the FULL objects (onEvent gets skeletons): each complete list as a replace, then every watch event,
   * each before the onEvent it causes, so a reconcile enqueued by an event reads the store that includes it.
   */
  sink?: { replace(items: readonly KubeObject[]): void; apply(type: WatchEventType, obj: KubeObject): void };
}

interface Stoppable {
  abort(): void;
}

// Capped at 5 s: after an apiserver outage the operator is back within seconds of its return (a 30 s cap let
// recovery take up to 30 s); a list attempt every 5 s against an absent apiserver costs next to nothing.
const WATCH_BACKOFF = { baseDelayMs: 500, maxDelayMs: 5_000, jitter: 0.2 };

/** Only what mapping to a key needs, so that caching every managed policy stays small. */
function skeleton(o: KubeObject, t: WatchTarget): KubeObject {
  const m = o.metadata ?? {};
  return {
    apiVersion: t.apiVersion,
    kind: t.kind,
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, generation: m.generation, resourceVersion: m.resourceVersion, labels: m.labels, deletionTimestamp: m.deletionTimestamp },
  };
}

/** How long a watch may keep failing before the operator reports itself not ready (/readyz). */
export const UNHEALTHY_AFTER_MS = 30_000;

export class ResilientWatch {
  private readonly known = new Map<string, KubeObject>();
  private resourceVersion = '';
  private failures = 0;
  /** Since when list or watch have failed with no watch established since; undefined while healthy. */
  private failingSince: number | undefined;
  private request: Stoppable | undefined;
  private timer: unknown;
  private stopped = false;
  private synced = false;

  private readonly kc: k8s.KubeConfig;
  private readonly target: WatchTarget;
  private readonly list: Lister;

  constructor(
    source: { readonly kc: k8s.KubeConfig; readonly target: WatchTarget; readonly list: Lister },
    private readonly h: WatchHandlers,
    private readonly env: { log: Logger; timers?: Timers },
  ) {
    this.kc = source.kc;
    this.target = source.target;
    this.list = source.list;
  }

  get kindWatched(): string {
    return this.target.kind;
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /**
   * False once list or watch have kept failing for `afterMs` (the CRD deleted, RBAC revoked, the apiserver
   * gone): the cache is then stale with no end in sight, and /readyz must say so. A short outage is not enough.
   */
  isHealthy(afterMs = UNHEALTHY_AFTER_MS): boolean {
    return this.failingSince === undefined || this.timers.now() - this.failingSince < afterMs;
  }

  /** The cached objects (skeletons), e.g. every intent key for a resync or the number of managed policies. */
  objects(): KubeObject[] {
    return [...this.known.values()];
  }

  start(): void {
    this.schedule(0, true);
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
    const delay = backoffDelay(this.failures++, WATCH_BACKOFF);
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
    const page = await this.list(this.target);
    const fresh = new Map(page.items.map((o) => [objectKey(o), skeleton(o, this.target)]));
    // Only here, after every page arrived: a failed or partial list never replaces the store.
    this.h.sink?.replace(page.items);
    for (const [key, old] of this.known) if (!fresh.has(key)) this.emit('DELETED', old, key);
    for (const [key, o] of fresh) this.emit('ADDED', o, key);
    this.resourceVersion = page.resourceVersion;
    this.synced = true;
    this.h.onListed?.();
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const query: Record<string, unknown> = { resourceVersion: this.resourceVersion, allowWatchBookmarks: true };
    if (this.target.labelSelector) query['labelSelector'] = this.target.labelSelector;
    let gone = false;
    const onLine = (phase: string, obj: KubeObject): void => {
      if (phase === 'ERROR') {
        gone = true;
        return;
      }
      this.resourceVersion = obj.metadata?.resourceVersion ?? this.resourceVersion;
      if (phase === 'BOOKMARK') return;
      this.h.sink?.apply(phase as WatchEventType, obj);
      this.emit(phase as WatchEventType, skeleton(obj, this.target), objectKey(obj));
    };
    const done = (err: unknown): void => {
      this.request = undefined;
      if (this.stopped) return;
      if (err || gone) this.failed(err ?? new Error('watch expired (410 Gone)'), 'watch');
      else this.schedule(0, false);
    };
    this.request = (await new k8s.Watch(this.kc, this.requests()).watch(this.target.path, query, onLine, done)) as Stoppable;
  }

  /** client-node's request, told when the stream opens (HTTP 200): the one sign that watching works. */
  private requests(): k8s.RequestInterface {
    const plain = new k8s.DefaultRequest();
    return {
      webRequest: (opts) => {
        const req = plain.webRequest(opts);
        req.on('response', (r: { statusCode?: number }) => r.statusCode === 200 && this.established());
        return req;
      },
    };
  }

  private emit(type: WatchEventType, o: KubeObject, key: string): void {
    if (type === 'DELETED') this.known.delete(key);
    else this.known.set(key, o);
    try {
      this.h.onEvent(type, o);
    } catch (e) {
      this.env.log.error('watch handler threw', { path: this.target.path, error: describe(e) });
    }
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
