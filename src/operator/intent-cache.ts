/**
 * The SegmentationIntents themselves (spec and status), kept by a sink of each intent informer (./cache.ts), so
 * that reconcile reads the intent from memory instead of one GET per reconcile (issue 17: at start, one GET per
 * intent on top of the list that had just brought them all).
 *
 * Safe as controller-runtime's cached client is: the cache may lag the apiserver by the watch's latency; every
 * change re-enqueues the intent (level-based), and every status write carries the cached resourceVersion, so a
 * stale read ends in a 409 and a retry, never in a lost update. An intent the cache no longer holds is gone:
 * its policies go with it (garbage collector, sweep). Each intent is held without managedFields, as its JSON
 * text: a parsed intent of the benchmark's shape (10 workloads, 20 flows) is ~3× its text in V8 objects, and
 * at 10,000 intents that difference is most of the operator's heap. A read parses it (tens of µs, once per
 * reconcile) and so gets an object of its own: nothing a reconcile does to it reaches the cache.
 */
import type { SegmentationIntent } from '../intent/types';
import type { KubeObject } from '../model/kubernetes';
import type { WatchEventType } from '../kube/watch';
import type { ObjectSink } from './cache';
import { objectKey } from './ownership';

export class IntentCache {
  /** JSON.stringify(held(intent)) by "namespace/name". */
  private readonly byKey = new Map<string, string>();

  /** A sink for one intent informer; each informer's list replaces only the intents it had filed. */
  sink(): ObjectSink {
    let mine = new Set<string>();
    return {
      replace: (items) => {
        for (const k of mine) this.byKey.delete(k);
        mine = new Set(items.map(objectKey));
        for (const o of items) this.byKey.set(objectKey(o), held(o));
      },
      apply: (type: WatchEventType, o: KubeObject) => {
        const k = objectKey(o);
        if (type === 'DELETED') {
          mine.delete(k);
          this.byKey.delete(k);
        } else {
          mine.add(k);
          this.byKey.set(k, held(o));
        }
      },
    };
  }

  /** The intent as last seen by the watch; read only once its informer has listed (the caller checks). */
  get(namespace: string, name: string): SegmentationIntent | undefined {
    const text = this.byKey.get(`${namespace}/${name}`);
    return text === undefined ? undefined : (JSON.parse(text) as SegmentationIntent);
  }

  size(): number {
    return this.byKey.size;
  }

  clear(): void {
    this.byKey.clear();
  }
}

/** What is held: the object without managedFields (the apiserver's bookkeeping, larger than many specs), as text. */
function held(o: KubeObject): string {
  const metadata = { ...(o.metadata ?? {}) } as Record<string, unknown>;
  delete metadata['managedFields'];
  return JSON.stringify({ ...o, metadata });
}
