/** Leader election decisions and the elector against an in-memory Lease with resourceVersion checks. */
import { strict as assert } from 'assert';
import winston from 'winston';
import { LeaderElector, decideLease, microTime } from '../../src/operator/leader';
import type { LeaseRecord, LeaseStore } from '../../src/operator/leader';
import type { Timers } from '../../src/operator/queue';

const silent = winston.createLogger({ silent: true });

function memoryLease(): LeaseStore & { record?: LeaseRecord; fail: boolean } {
  let rv = 0;
  const s: LeaseStore & { record?: LeaseRecord; fail: boolean } = {
    fail: false,
    async get() {
      if (s.fail) throw new Error('apiserver unreachable');
      return s.record;
    },
    async create(r) {
      if (s.fail) throw new Error('apiserver unreachable');
      if (s.record) throw new Error('409 AlreadyExists');
      s.record = { ...r, resourceVersion: String(++rv) };
      return s.record;
    },
    async replace(r) {
      if (s.fail) throw new Error('apiserver unreachable');
      if (r.resourceVersion !== s.record?.resourceVersion) throw new Error('409 Conflict');
      s.record = { ...r, resourceVersion: String(++rv) };
      return s.record;
    },
  };
  return s;
}

function clock(): Timers & { t: number } {
  const c = { t: 0, now: () => c.t, setTimer: () => 0, clearTimer: () => undefined };
  return c;
}

const opts = { leaseDurationMs: 10_000, renewDeadlineMs: 8_000, retryPeriodMs: 2_000 };

function elector(id: string, store: LeaseStore, c: Timers, events: string[]): LeaderElector {
  return new LeaderElector(store, { ...opts, identity: id }, {
    onStartedLeading: () => events.push(`${id} leads`),
    onStoppedLeading: () => events.push(`${id} stops`),
  }, { log: silent, timers: c });
}

describe('operator leader election', () => {
  it('decides from the lease and the local time the record last changed', () => {
    const l: LeaseRecord = { holderIdentity: 'a', leaseDurationSeconds: 10, leaseTransitions: 0 };
    assert.equal(decideLease('b', undefined, 0, 0), 'create');
    assert.equal(decideLease('a', l, 0, 0), 'renew');
    assert.equal(decideLease('b', l, 0, 9_999), 'wait');
    assert.equal(decideLease('b', l, 0, 10_000), 'takeover');
    assert.equal(decideLease('b', { ...l, holderIdentity: '' }, 0, 0), 'takeover');
  });

  it('writes MicroTime with six fractional digits', () => {
    assert.equal(microTime(new Date('2026-01-01T00:00:00.123Z')), '2026-01-01T00:00:00.123000Z');
  });

  it('lets one candidate lead; the standby takes over within the lease duration after the leader dies', async () => {
    const store = memoryLease();
    const c = clock();
    const ev: string[] = [];
    const a = elector('a', store, c, ev);
    const b = elector('b', store, c, ev);
    await a.tick();
    await b.tick();
    assert.ok(a.isLeader && !b.isLeader);
    // a dies: no more renewals. b retries every 2 s.
    for (c.t = 2_000; c.t < 10_000; c.t += 2_000) await b.tick();
    assert.ok(!b.isLeader, 'not before the lease expires');
    c.t = 12_000;
    await b.tick();
    assert.ok(b.isLeader);
    assert.equal(store.record?.leaseTransitions, 1);
    assert.deepEqual(ev, ['a leads', 'b leads']);
  });

  it('hands over at once when the leader releases the lease', async () => {
    const store = memoryLease();
    const c = clock();
    const ev: string[] = [];
    const a = elector('a', store, c, ev);
    const b = elector('b', store, c, ev);
    await a.tick();
    await b.tick();
    await a.stop();
    assert.equal(store.record?.holderIdentity, '');
    c.t = 2_000;
    await b.tick();
    assert.ok(b.isLeader);
  });

  it('stops leading when it cannot renew within the renew deadline', async () => {
    const store = memoryLease();
    const c = clock();
    const ev: string[] = [];
    const a = elector('a', store, c, ev);
    await a.tick();
    store.fail = true;
    c.t = 6_000;
    await a.tick();
    assert.ok(a.isLeader, 'still within the deadline');
    c.t = 8_000;
    await a.tick();
    assert.ok(!a.isLeader);
    assert.deepEqual(ev, ['a leads', 'a stops']);
  });

  it('stops leading at once when it sees another holder', async () => {
    const store = memoryLease();
    const c = clock();
    const ev: string[] = [];
    const a = elector('a', store, c, ev);
    await a.tick();
    store.record = { ...(store.record as LeaseRecord), holderIdentity: 'z', resourceVersion: '99' };
    c.t = 2_000;
    await a.tick();
    assert.ok(!a.isLeader);
  });
});
