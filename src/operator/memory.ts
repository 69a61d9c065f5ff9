/**
 * Gives the V8 heap's free pages back after a burst of work (issue 17: RSS converged ≤ 200 MiB at 10,000
 * intents).
 *
 * Why: V8 collects the old generation when it nears its limit, not when the program goes quiet, and keeps the
 * pages it grew into. After the first apply of 10,000 intents the operator held ~73 MiB of live heap in 215-255
 * MiB of RSS, for hours, until some later allocation ran into the limit. One full, memory-reducing collection
 * once the work is done (what V8's own memory reducer does for a browser tab that went idle) brought it to
 * 158-175 MiB. It costs one pause of ~0.1-0.3 s, at most once a minute, and only when
 * nothing is queued or in flight.
 *
 * When: a periodic check (every `quietMs`) sees the queues' handled counts unchanged since the previous check,
 * nothing queued or in flight, some work handled since the last release, and `minIntervalMs` since it. So a
 * release follows each burst (the start, a GitOps sync, the periodic resync) by `quietMs` to 2 × `quietMs`, and
 * a steady trickle of reconciles never triggers one.
 *
 * How: HeapProfiler.collectGarbage through an in-process inspector session (Node's `inspector` module: no port
 * is opened, no flag such as --expose-gc is needed); a Node.js built without the inspector releases nothing and
 * says so once.
 */
import * as inspector from 'inspector';
import type { Logger } from 'winston';
import type { Counter } from 'prom-client';
import { periodic } from './manager';
import type { Runnable } from './manager';
import type { Timers } from './queue';
import { realTimers } from './queue';

/** What the release needs to know of a work queue. */
export interface QueueActivity {
  /** Keys waiting to run. */
  len(): number;
  /** Keys being reconciled now. */
  inFlight(): number;
  /** Keys handled since the queue was made (a count that only grows). */
  handled(): number;
}

/** One release: the heap in use before and after, and how long the collection took. */
export interface Released {
  readonly heapUsedBefore: number;
  readonly heapUsedAfter: number;
  readonly ms: number;
}

export type Release = () => Promise<Released>;

export const MEMORY_RELEASE_QUIET_MS = 5_000;
export const MEMORY_RELEASE_MIN_INTERVAL_MS = 60_000;

export interface MemoryReleaseEnv {
  readonly log: Logger;
  readonly releases?: Counter;
  readonly timers?: Timers;
  readonly quietMs?: number;
  readonly minIntervalMs?: number;
  readonly release?: Release;
}

/**
 * Decides, at each check, whether the work has just gone quiet. Pure but for its own state: unit-tested with
 * made-up counts and times.
 */
export class QuietAfterWork {
  // Nothing handled yet is no burst: at start the caches are still listing, and a pause then only delays them.
  private seen = 0;
  private worked = false;
  private last = -Infinity;

  constructor(private readonly minIntervalMs: number) {}

  /** True when a release is due now (and then counts it as done). */
  check(handled: number, busy: boolean, now: number): boolean {
    if (handled !== this.seen) {
      // Work since the previous check: wait for one whole quiet period before deciding.
      this.seen = handled;
      this.worked = true;
      return false;
    }
    if (!this.worked || busy || now - this.last < this.minIntervalMs) return false;
    this.worked = false;
    this.last = now;
    return true;
  }
}

/** The release the operator runs: a full collection through an in-process inspector session. */
export const releaseThroughInspector: Release = () =>
  new Promise((resolve, reject) => {
    const session = new inspector.Session();
    session.connect();
    const heapUsedBefore = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    session.post('HeapProfiler.collectGarbage', (err) => {
      // Not from inside the callback: a session disconnected while it dispatches never returns (Node 20).
      setImmediate(() => session.disconnect());
      if (err) reject(err);
      else resolve({ heapUsedBefore, heapUsedAfter: process.memoryUsage().heapUsed, ms: Date.now() - t0 });
    });
  });

const MiB = 1024 * 1024;
const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

/** The periodic check, as a Runnable for the Manager. */
export function memoryRelease(queues: readonly QueueActivity[], env: MemoryReleaseEnv): Runnable {
  const timers = env.timers ?? realTimers;
  const quiet = new QuietAfterWork(env.minIntervalMs ?? MEMORY_RELEASE_MIN_INTERVAL_MS);
  const release = env.release ?? releaseThroughInspector;
  let unavailable = false;
  const tick = async (): Promise<void> => {
    const handled = queues.reduce((n, q) => n + q.handled(), 0);
    const busy = queues.some((q) => q.len() > 0 || q.inFlight() > 0);
    if (unavailable || !quiet.check(handled, busy, timers.now())) return;
    try {
      const r = await release();
      env.releases?.inc();
      env.log.info('heap collected after a burst of work', { heapUsedBeforeMiB: mib(r.heapUsedBefore), heapUsedAfterMiB: mib(r.heapUsedAfter), rssMiB: mib(process.memoryUsage().rss), ms: r.ms });
    } catch (e) {
      // ERR_INSPECTOR_NOT_AVAILABLE (a Node.js built without it) or a refused call: nothing to retry.
      unavailable = true;
      env.log.warn('cannot ask V8 for a full collection after work; memory is released only as V8 decides', { error: String(e) });
    }
  };
  return periodic(tick, env.quietMs ?? MEMORY_RELEASE_QUIET_MS, { log: env.log, timers, failed: 'memory release check failed' });
}
