/**
 * Events that repeat are aggregated as client-go's recorder does (its EventCorrelator's dedup): the same Event
 * (same object, type, reason and message) again within WINDOW_MS is not a new object but the recorded one
 * updated, count+1 and lastTimestamp, so a tenant who keeps editing a policy costs one Event, not one per edit,
 * in etcd and in `kubectl describe`. The keys are a bounded LRU (MAX_KEYS, client-go's size): a key that fell out
 * is recorded anew. An update that finds the Event gone (expired: the apiserver's event TTL) or changed records
 * a new one. Events stay best-effort: the caller catches failures.
 */
import type { EventObject, RecordedEvent } from '../kube/client';
import { isConflict, isNotFound } from '../kube/errors';

export const MAX_KEYS = 4096;
/** client-go aggregates within 10 minutes. */
export const WINDOW_MS = 10 * 60 * 1000;

export interface EventWrites {
  create(e: EventObject): Promise<RecordedEvent>;
  update(recorded: RecordedEvent, e: EventObject): Promise<RecordedEvent>;
}

interface Seen {
  readonly recorded: RecordedEvent;
  readonly at: number;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();

  async record(e: EventObject, w: EventWrites): Promise<void> {
    const key = JSON.stringify([e.involved.metadata.uid ?? '', e.involved.metadata.namespace ?? '', e.involved.metadata.name ?? '', e.type, e.reason, e.message]);
    const now = e.now.getTime();
    const last = this.seen.get(key);
    this.seen.delete(key);
    if (last && now - last.at < WINDOW_MS) {
      try {
        return this.remember(key, { recorded: await w.update(last.recorded, e), at: now });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    this.remember(key, { recorded: await w.create(e), at: now });
  }

  size(): number {
    return this.seen.size;
  }

  private remember(key: string, s: Seen): void {
    this.seen.set(key, s);
    if (this.seen.size > MAX_KEYS) this.seen.delete(this.seen.keys().next().value as string);
  }
}
