/**
 * The Manager: what every replica runs, on @dot-i/k8s-operator's Operator lifecycle (start → init, stop).
 *  - the metrics and health server runs everywhere, leader or not (/metrics, /healthz, /readyz);
 *  - runnables that need the lease (the cache, controllers, the periodic resync) start when this replica
 *    becomes leader (@dot-i's start → init) and stop, in reverse order, when it stops leading;
 *  - a deposed leader does not campaign again in-process: the caller exits and the pod restarts as a clean
 *    standby, as controller-runtime does;
 *  - stop() is graceful: in-flight reconciles finish, watches stop, the lease is released, the server closes.
 * Collaborators are injected (elector, server, metrics, logger, timers), so the Manager is unit-testable.
 */
import Operator from '@dot-i/k8s-operator';
import type { Logger } from 'winston';
import type { ElectorCallbacks } from './leader';
import { dotiLogger } from './logger';
import type { Health, Metrics } from './metrics';
import type { Timers } from './queue';
import { realTimers } from './queue';

export interface Runnable {
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** A started metrics/health server. */
export interface Server {
  readonly port: number;
  close(): Promise<void>;
}

export interface Campaign {
  start(): void;
  /** Stops campaigning; a leader releases the lease. */
  stop(): Promise<void>;
}

export interface ManagerDeps {
  readonly log: Logger;
  readonly metrics: Pick<Metrics, 'leader'>;
  /** Starts the metrics/health server (e.g. serveMetrics on --metrics-addr). */
  serve(health: Health): Promise<Server>;
  /** Leader election; undefined: this replica leads at once (--leader-elect=false). */
  readonly elect?: (cb: ElectorCallbacks) => Campaign;
  /** Called when the lease is lost, after the leader runnables stopped. */
  readonly onLostLeadership?: () => void;
}

export class Manager extends Operator {
  private readonly leaderRunnables: Runnable[] = [];
  private readonly readyChecks: (() => boolean)[] = [];
  private leading = false;
  private leaderKnown = false;
  private campaign: Campaign | undefined;
  private server: Server | undefined;

  constructor(private readonly d: ManagerDeps) {
    super(dotiLogger(d.log));
  }

  /** A runnable that needs the lease; started in registration order, stopped in reverse. */
  add(r: Runnable): this {
    this.leaderRunnables.push(r);
    return this;
  }

  /** What the leader must also satisfy to be ready (caches listed, watches healthy). */
  addReadyCheck(check: () => boolean): this {
    this.readyChecks.push(check);
    return this;
  }

  /** Serves metrics and health, then campaigns (or leads at once). */
  override async start(): Promise<void> {
    this.server = await this.d.serve({ live: () => true, ready: () => this.ready() });
    if (this.d.elect) {
      this.campaign = this.d.elect({
        onStartedLeading: () => void this.lead().catch((e: unknown) => this.d.log.error('could not start leading', { error: String(e) })),
        onStoppedLeading: () => void this.unlead().then(() => this.campaign?.stop()).then(() => this.d.onLostLeadership?.()),
        onObserved: () => (this.leaderKnown = true),
      });
      this.campaign.start();
    } else {
      this.leaderKnown = true;
      await this.lead();
    }
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  /** A standby is ready once it knows who leads; the leader once its checks pass (caches listed, healthy). */
  ready(): boolean {
    if (!this.leaderKnown) return false;
    return !this.leading || this.readyChecks.every((c) => c());
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** @dot-i's init: runs when this replica starts leading. */
  protected override async init(): Promise<void> {
    for (const r of this.leaderRunnables) await r.start();
  }

  private async lead(): Promise<void> {
    this.leading = true;
    this.d.metrics.leader.set(1);
    await super.start();
  }

  /** Every leader runnable is told to stop at once (reverse order), then awaited. */
  private async unlead(): Promise<void> {
    this.leading = false;
    this.d.metrics.leader.set(0);
    await Promise.all([...this.leaderRunnables].reverse().map((r) => r.stop()));
    super.stop();
  }

  /** Finish in-flight reconciles, stop watching, release the lease, close the HTTP server. */
  override async stop(): Promise<void> {
    await this.unlead();
    await this.campaign?.stop();
    await this.server?.close();
  }
}

/** A runnable that calls `fn` now, then `everyMs` after each run ends, until stopped (the resync). */
export function periodic(fn: () => Promise<void>, everyMs: number, env: { log: Logger; timers?: Timers; failed: string }): Runnable {
  const timers = env.timers ?? realTimers;
  let timer: unknown;
  let running = false;
  const schedule = (ms: number): void => {
    timer = timers.setTimer(() => {
      fn()
        .catch((e: unknown) => env.log.warn(env.failed, { error: String(e) }))
        .finally(() => running && schedule(everyMs));
    }, ms);
  };
  return {
    start: () => {
      running = true;
      schedule(0);
    },
    stop: () => {
      running = false;
      timers.clearTimer(timer);
    },
  };
}
