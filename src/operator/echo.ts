/**
 * The operator's own policy writes, so that the watch event which merely reports one of them (the "echo") does
 * not enqueue the intent again: that reconcile would re-read exactly what the previous one wrote and find
 * nothing to do (at 1,000 intents, hundreds of wasted reconciles per pass).
 *
 * Safe because a resourceVersion names one state of one object: any other change (an edit, a delete, a
 * re-create) arrives with another one and is enqueued as usual, and a change of the intent itself comes through
 * the intent watch. The event may outrun the write's response: while a write to an object is in flight, its
 * ADDED/MODIFIED events are held and judged when the response tells the version written; one that is not ours
 * (or any, if the write failed) is then reported so the caller enqueues it.
 */
import type { ObjectMeta } from '../model/kubernetes';
import { objectKey } from './ownership';
import type { WatchEventType } from '../kube/watch';
import type { Predicate } from './controller';

/** Entries are removed by their event; this only bounds what events that never come (a relist gap) leave. */
const MAX_ENTRIES = 100_000;

type Written = { readonly metadata?: ObjectMeta };

export class OwnWrites {
  private readonly written = new Map<string, string>();
  private readonly inFlight = new Map<string, number>();
  /** resourceVersions of events that arrived while a write to the same object was in flight. */
  private readonly held = new Map<string, string[]>();

  /** Before sending a create/update of `o`. */
  begin(o: Written): void {
    const key = objectKey(o);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
  }

  /**
   * After the write: `stored` is the object as the apiserver returned it, undefined if the write failed.
   * Returns true if an event held meanwhile was not this write's echo: the caller must enqueue its owner.
   */
  end(o: Written, stored: Written | undefined): boolean {
    const key = objectKey(o);
    const rv = stored?.metadata?.resourceVersion;
    const left = (this.inFlight.get(key) ?? 1) - 1;
    const held = this.held.get(key) ?? [];
    if (left > 0) this.inFlight.set(key, left);
    else {
      this.inFlight.delete(key);
      this.held.delete(key);
    }
    if (rv && !held.includes(rv)) this.remember(key, rv);
    return held.some((h) => h !== rv);
  }

  /** True if the event is (or may be, until its write answers) the echo of our own write: enqueue nothing now. */
  isEcho(type: WatchEventType, o: Written): boolean {
    const key = objectKey(o);
    const rv = o.metadata?.resourceVersion ?? '';
    if (type !== 'DELETED' && this.inFlight.has(key)) {
      this.held.set(key, [...(this.held.get(key) ?? []), rv]);
      return true;
    }
    const mine = this.written.get(key);
    if (mine === undefined) return false;
    this.written.delete(key);
    return type !== 'DELETED' && mine === rv;
  }

  size(): number {
    return this.written.size + this.held.size;
  }

  private remember(key: string, rv: string): void {
    if (this.written.size >= MAX_ENTRIES) this.written.clear();
    this.written.set(key, rv);
  }
}

/** The predicate: drop the echo of our own policy writes (held events are enqueued by the write, see end()). */
export function notEcho(writes: OwnWrites): Predicate {
  return (e) => !writes.isEcho(e.type, e.object);
}
