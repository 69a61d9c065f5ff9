/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
 *  - expiry is judged by the LOCAL time at which this process last saw the record change, never by comparing
 *    the holder's renewTime with our clock (clocks of two pods may disagree);
 *  - every write carries the resourceVersion read just before, so two candidates can't both win;
 *  - a leader that can't renew within `renewDeadlineMs` considers itself deposed and stops writing;
 *  - on shutdown the leader clears holderIdentity, so a standby takes over on its next retry instead of waiting
 *    for the lease to expire.
 */
import type { Logger } from 'winston';
import type { Timers } from './queue';
import { realTimers } from './queue';

export interface LeaseRecord {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
  readonly resourceVersion?: string;
}

export type LeaseAction = 'create' | 'renew' | 'takeover' | 'wait';

/** What a candidate should do, given the lease as read and when (local ms) its content last changed. */
export function decideLease(identity: string, lease: LeaseRecord | undefined, observedAtMs: number, nowMs: number): LeaseAction {
  if (!lease) return 'create';
  if (lease.holderIdentity === identity) return 'renew';
  if (!lease.holderIdentity) return 'takeover';
  return nowMs >= observedAtMs + lease.leaseDurationSeconds * 1000 ? 'takeover' : 'wait';
}

/** The record a candidate writes for `action` (not for 'wait'). */
export function nextLease(action: Exclude<LeaseAction, 'wait'>, identity: string, lease: LeaseRecord | undefined, at: { now: Date; durationSeconds: number }): LeaseRecord {
  const now = microTime(at.now);
  const base = { holderIdentity: identity, leaseDurationSeconds: at.durationSeconds, renewTime: now };
  if (action === 'renew' && lease) return { ...lease, ...base };
  const transitions = lease ? lease.leaseTransitions + (lease.holderIdentity === identity ? 0 : 1) : 0;
  return { ...base, acquireTime: now, leaseTransitions: transitions, resourceVersion: lease?.resourceVersion };
}

/** The record a leader writes when it steps down: empty holder, so others need not wait for expiry. */
export function releasedLease(lease: LeaseRecord, now: Date): LeaseRecord {
  return { ...lease, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) };
}

/** metav1.MicroTime wants exactly six fractional digits; JS Dates have three. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaseStore {
  get(): Promise<LeaseRecord | undefined>;
  create(lease: LeaseRecord): Promise<LeaseRecord>;
  /** Must fail (409) when lease.resourceVersion is stale. */
  replace(lease: LeaseRecord): Promise<LeaseRecord>;
}

export interface ElectorOptions {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export const DEFAULT_ELECTION: Omit<ElectorOptions, 'identity'> = {
  leaseDurationMs: 10_000,
  renewDeadlineMs: 8_000,
  retryPeriodMs: 2_000,
};

export interface ElectorCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
  /** Called once the first attempt finished, leader or not: readiness can report a known state. */
  onObserved?(): void;
}

export class LeaderElector {
  private leading = false;
  private last: { record?: LeaseRecord; key: string; observedAt: number } = { key: '', observedAt: 0 };
  private lastRenewAt = 0;
  private timer: unknown;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LeaseStore,
    private readonly o: ElectorOptions,
    private readonly cb: ElectorCallbacks,
    private readonly env: { log: Logger; timers?: Timers },
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimer(this.timer);
    await this.running;
    if (!this.leading) return;
    this.leading = false;
    const rec = this.last.record;
    if (rec) {
      await this.store.replace(releasedLease(rec, new Date(this.timers.now()))).then(
        () => this.env.log.info('released the leader lease'),
        (e: unknown) => this.env.log.warn('could not release the leader lease', { error: String(e) }),
      );
    }
  }

  private get timers(): Timers {
    return this.env.timers ?? realTimers;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimer(() => {
      this.running = this.tick().finally(() => this.schedule(this.o.retryPeriodMs));
    }, ms);
  }

  /** One attempt; public for tests that drive time by hand. */
  async tick(): Promise<void> {
    const ok = await this.tryAcquireOrRenew().catch((e: unknown) => {
      this.env.log.warn('leader election attempt failed', { error: String(e) });
      return false;
    });
    const now = this.timers.now();
    if (ok) this.lastRenewAt = now;
    this.cb.onObserved?.();
    if (ok && !this.leading && !this.stopped) {
      this.leading = true;
      this.env.log.info('became the leader', { identity: this.o.identity });
      this.cb.onStartedLeading();
    } else if (!ok && this.leading && (this.heldByOther() || now - this.lastRenewAt >= this.o.renewDeadlineMs)) {
      this.leading = false;
      this.env.log.error('lost the leader lease', { identity: this.o.identity });
      this.cb.onStoppedLeading();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const lease = await this.store.get();
    this.observe(lease);
    const now = this.timers.now();
    const action = decideLease(this.o.identity, lease, this.last.observedAt, now);
    if (action === 'wait') return false;
    const at = { now: new Date(now), durationSeconds: Math.ceil(this.o.leaseDurationMs / 1000) };
    const next = nextLease(action, this.o.identity, lease, at);
    const written = action === 'create' ? await this.store.create(next) : await this.store.replace(next);
    this.observe(written);
    return true;
  }

  private heldByOther(): boolean {
    const holder = this.last.record?.holderIdentity;
    return !!holder && holder !== this.o.identity;
  }

  private observe(lease: LeaseRecord | undefined): void {
    const key = JSON.stringify([lease?.holderIdentity, lease?.renewTime, lease?.leaseTransitions]);
    if (key !== this.last.key) this.last = { record: lease, key, observedAt: this.timers.now() };
    else this.last.record = lease;
  }
}
