/**
 * The SegmentationIntents themselves (spec and status), kept by a sink of each intent informer (./cache.ts), so
 * that reconcile reads the intent from memory instead of one GET per reconcile (issue 17: at start, one GET per
 * intent on top of the list that had just brought them all).
 *
 * Safe as controller-runtime's cached client is: the cache may lag the apiserver by the watch's latency; every
 * change re-enqueues the intent (level-based), and every status write carries the cached resourceVersion, so a
 * stale read ends in a 409 and a retry, never in a lost update. An intent the cache no longer holds is gone:
 * its policies go with it (garbage collector, sweep).
 *
 * Each intent is held without managedFields, as its JSON text deflated (zlib's raw deflate, kept as a one-byte
 * string so that it lives in the V8 heap and not in one malloc'd Buffer per intent). Why: a parsed intent of the
 * benchmark's shape (10 workloads, 20 flows) is ~3× its text in V8 objects, and its text (~2.5 KB, 27 MB at
 * 10,000 intents, the largest thing in the heap) deflates ~3.5× (to ~720 bytes): field names repeat in every
 * workload and flow. Deflating costs ~30 µs per watch event of an intent; a read inflates and parses it (~30 µs,
 * once per reconcile) and so gets an object of its own: nothing a reconcile does to it reaches the cache.
 */
import { deflateRawSync, inflateRawSync } from 'zlib';
import type { SegmentationIntent } from '../intent/types';
import type { KubeObject } from '../model/kubernetes';
import type { WatchEventType } from '../kube/watch';
import type { ObjectSink } from './cache';
import { objectKey } from './ownership';

export class IntentCache {
  /** held(intent) by "namespace/name". */
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
    const packed = this.byKey.get(`${namespace}/${name}`);
    return packed === undefined ? undefined : (JSON.parse(inflateRawSync(Buffer.from(packed, 'latin1')).toString('utf8')) as SegmentationIntent);
  }

  size(): number {
    return this.byKey.size;
  }

  clear(): void {
    this.byKey.clear();
  }
}

/**
 * What is held: the object without managedFields (the apiserver's bookkeeping, larger than many specs), as JSON
 * deflated into a one-byte string (latin1 maps each byte to one character and back, losslessly).
 */
function held(o: KubeObject): string {
  const metadata = { ...(o.metadata ?? {}) } as Record<string, unknown>;
  delete metadata['managedFields'];
  return deflateRawSync(JSON.stringify({ ...o, metadata })).toString('latin1');
}
