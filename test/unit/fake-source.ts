/** A fake WatchSource (the apiserver's list and watch of one collection) and hand-driven timers, for cache tests. */
import winston from 'winston';
import type { KubeObject } from '../../src/model/kubernetes';
import type { Abortable, KindSpec, ListPage, WatchCallbacks, WatchSource, WatchTarget } from '../../src/kube/watch';
import { watchTarget } from '../../src/kube/watch';
import type { CacheScope } from '../../src/operator/cache';
import type { Timers } from '../../src/operator/queue';

export const silent = winston.createLogger({ silent: true });

/**
 * Timers that fire only when told to (any delay up to `longest`), and a clock that moves only when told to. A
 * timer longer than `longest` never fires: a rig can run the start of an operator without its periodic resync.
 */
export class ManualTimers implements Timers {
  t = 0;
  private seq = 0;
  private readonly pending = new Map<number, () => void>();
  constructor(private readonly longest = Infinity) {}
  now = (): number => this.t;
  setTimer = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    if (ms <= this.longest) this.pending.set(id, fn);
    return id;
  };
  clearTimer = (h: unknown): void => {
    this.pending.delete(h as number);
  };
  /** Fires every timer due now (whatever its delay), then lets the promises they started settle. */
  async run(): Promise<void> {
    const due = [...this.pending.entries()];
    this.pending.clear();
    for (const [, fn] of due) fn();
    await settle();
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/** The apiserver's view of one collection: what a list returns, and one watch stream at a time. */
export class FakeSource implements WatchSource {
  readonly target: WatchTarget;
  objects = new Map<string, KubeObject>();
  rv = 1;
  /** Set to make the next lists fail (e.g. the apiserver away, or RBAC revoked). */
  failLists = false;
  lists = 0;
  /** resourceVersions each watch started from. */
  readonly watchedFrom: string[] = [];
  private stream: WatchCallbacks | undefined;

  constructor(kind: KindSpec, scope: CacheScope = {}) {
    this.target = watchTarget(kind, scope);
  }

  /** Applies `keep` to each item as the real source does page by page; `keptItems` counts the items it was applied to. */
  async list(keep?: (o: KubeObject) => KubeObject): Promise<ListPage> {
    this.lists++;
    if (this.failLists) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const items = [...this.objects.values()].map((o) => structuredClone(o));
    if (keep) this.keptItems += items.length;
    return { items: keep ? items.map(keep) : items, resourceVersion: String(this.rv) };
  }

  keptItems = 0;

  async watch(resourceVersion: string, cb: WatchCallbacks): Promise<Abortable> {
    this.watchedFrom.push(resourceVersion);
    this.stream = cb;
    cb.established();
    return { abort: () => (this.stream = undefined) };
  }

  get watching(): boolean {
    return this.stream !== undefined;
  }

  /** A change in the apiserver, delivered on the open watch if `deliver` (else lost in a gap). */
  put(o: KubeObject, deliver = true): void {
    const key = `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = { ...o, metadata: { ...o.metadata, resourceVersion: String(++this.rv) } };
    this.objects.set(key, stored);
    if (deliver) this.stream?.line(type, structuredClone(stored));
  }

  delete(namespace: string, name: string, deliver = true): void {
    const key = `${namespace}/${name}`;
    const o = this.objects.get(key);
    this.objects.delete(key);
    if (o && deliver) this.stream?.line('DELETED', { ...o, metadata: { ...o.metadata, resourceVersion: String(++this.rv) } });
  }

  /** The watch ends with 410 Gone (the resourceVersion expired): the cache must list again. */
  expire(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.line('ERROR', { metadata: {} });
    s?.done(undefined);
  }

  /** The server closes the stream normally (its timeout): the cache watches again from where it was. */
  close(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.done(undefined);
  }
}

export function obj(namespace: string, name: string, extra: { labels?: Record<string, string>; generation?: number; owner?: string; uid?: string } = {}): KubeObject {
  const ownerReferences = extra.owner
    ? [{ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', name: extra.owner, uid: `uid-${extra.owner}`, controller: true }]
    : undefined;
  return {
    metadata: { namespace, name, uid: extra.uid ?? `uid-${name}`, generation: extra.generation ?? 1, labels: extra.labels, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: {},
  };
}

/** A source factory for a SharedCache that keeps every FakeSource it made, in order. */
export function fakeSources(): { readonly sources: FakeSource[]; sourceFor(kind: KindSpec, scope: CacheScope): FakeSource } {
  const sources: FakeSource[] = [];
  return {
    sources,
    sourceFor: (kind, scope) => {
      const s = new FakeSource(kind, scope);
      sources.push(s);
      return s;
    },
  };
}
