/**
 * A keyed work queue with client-go's workqueue semantics, pure apart from the injected timer:
 *  - one entry per key: adding a key that is already waiting is a no-op (events coalesce);
 *  - a key is handed to one worker at a time; re-added while in flight, it runs again after `done`;
 *  - failed keys come back after a capped exponential backoff with jitter, or later if the apiserver asked
 *    (Retry-After); `forget` resets the backoff after a success.
 */
export interface Timers {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface BackoffOptions {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** 0..1: the delay is spread uniformly over ±jitter of its value (then capped), so retries don't align. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 250, maxDelayMs: 60_000, jitter: 0.2 };

/** The delay before retry number `failures` (0-based). */
export function backoffDelay(failures: number, o: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.min(failures, 52));
  const spread = exp * o.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(o.maxDelayMs, Math.round(exp + spread)));
}

export interface QueueOptions {
  readonly backoff?: BackoffOptions;
  readonly timers?: Timers;
  readonly random?: () => number;
}

type Waiter = (key: string | undefined) => void;

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly waiters: Waiter[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private stopping = false;
  private completed = 0;
  private readonly backoff: BackoffOptions;
  private readonly timers: Timers;
  private readonly random: () => number;

  constructor(o: QueueOptions = {}) {
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.timers = o.timers ?? realTimers;
    this.random = o.random ?? Math.random;
  }

  add(key: string): void {
    if (this.stopping || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds the key after `ms`; an earlier pending add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopping) return;
    if (ms <= 0) return this.add(key);
    const at = this.timers.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.timers.clearTimer(pending.handle);
    const handle = this.timers.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Retry after the key's next backoff step, and no sooner than `minDelayMs` (e.g. the apiserver's Retry-After). */
  addRateLimited(key: string, minDelayMs = 0): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.max(minDelayMs, backoffDelay(n, this.backoff, this.random));
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to work on; `undefined` once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.ready.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.stopping) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.completed++;
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
    if (this.processing.size === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  /** Keys waiting to run (not the ones in flight or delayed): the queue-depth gauge. */
  len(): number {
    return this.ready.length;
  }

  inFlight(): number {
    return this.processing.size;
  }

  /** Keys handled (`done`) since the queue was made: a count that only grows (./memory.ts watches it). */
  handled(): number {
    return this.completed;
  }

  /** Stops handing out keys: waiting workers get `undefined`; keys in flight may still call `done`. */
  shutdown(): void {
    this.stopping = true;
    for (const { handle } of this.delayed.values()) this.timers.clearTimer(handle);
    this.delayed.clear();
    this.ready.length = 0;
    this.dirty.clear();
    this.waiters.splice(0).forEach((w) => w(undefined));
  }

  /** Resolves when no key is in flight (SIGTERM: let the current reconciles finish). */
  idle(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(this.take(key));
    else this.ready.push(key);
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }
}
