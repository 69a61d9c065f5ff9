/** The keyed work queue: coalescing, one reconcile per key at a time, capped jittered backoff, delays. */
import { strict as assert } from 'assert';
import { WorkQueue, backoffDelay } from '../../src/operator/queue';
import type { Timers } from '../../src/operator/queue';

/** Timers driven by hand: `advance(ms)` fires what is due, in order. */
function fakeTimers(): Timers & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer: (fn, ms) => {
      const id = ++seq;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (h) => void timers.delete(h as number),
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
    pending: () => timers.size,
  };
}

describe('operator work queue', () => {
  it('coalesces a key added many times into one entry', async () => {
    const q = new WorkQueue({ timers: fakeTimers() });
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'ns/a');
    assert.equal(await q.get(), 'ns/b');
    assert.equal(q.len(), 0);
  });

  it('never hands the same key to two workers at once, and reruns it after done when re-added meanwhile', async () => {
    const q = new WorkQueue({ timers: fakeTimers() });
    q.add('ns/a');
    const first = await q.get();
    assert.equal(first, 'ns/a');
    q.add('ns/a');
    q.add('ns/a');
    assert.equal(q.len(), 0, 'an in-flight key is not queued again');
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    assert.equal(second, undefined, 'a second worker must wait');
    q.done('ns/a');
    await Promise.resolve();
    assert.equal(second, 'ns/a', 'the key re-added while in flight runs once more');
    q.done('ns/a');
    assert.equal(q.len(), 0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const q = new WorkQueue({ timers: fakeTimers() });
    const got = q.get();
    q.add('ns/x');
    assert.equal(await got, 'ns/x');
  });

  it('retries failed keys with exponential backoff, capped, and resets after forget', () => {
    const t = fakeTimers();
    const q = new WorkQueue({ timers: t, backoff: { baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 } });
    const delays = [0, 1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('ns/a'));
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
    q.forget('ns/a');
    assert.equal(q.retries('ns/a'), 0);
    assert.equal(q.addRateLimited('ns/a'), 100);
  });

  it('honours a Retry-After longer than the backoff', () => {
    const q = new WorkQueue({ timers: fakeTimers(), backoff: { baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 } });
    assert.equal(q.addRateLimited('ns/a', 5000), 5000);
  });

  it('spreads backoff by the jitter and never past the cap', () => {
    const o = { baseDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 };
    assert.equal(backoffDelay(0, o, () => 0), 50);
    assert.equal(backoffDelay(0, o, () => 1), 150);
    assert.equal(backoffDelay(10, o, () => 1), 1000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(i % 12, o);
      assert.ok(d >= 0 && d <= 1000, `delay ${d}`);
    }
  });

  it('adds a delayed key only when its time comes, and an earlier delay wins', () => {
    const t = fakeTimers();
    const q = new WorkQueue({ timers: t });
    q.addAfter('ns/a', 1000);
    q.addAfter('ns/a', 300);
    q.addAfter('ns/a', 5000);
    assert.equal(q.len(), 0);
    t.advance(299);
    assert.equal(q.len(), 0);
    t.advance(1);
    assert.equal(q.len(), 1);
    t.advance(10_000);
    assert.equal(q.len(), 1, 'the superseded timers do not add it again');
  });

  it('on shutdown releases waiting workers and accepts nothing more, but lets in-flight keys finish', async () => {
    const t = fakeTimers();
    const q = new WorkQueue({ timers: t });
    q.add('ns/a');
    const k = await q.get();
    const waiting = q.get();
    q.addAfter('ns/b', 100);
    q.shutdown();
    assert.equal(await waiting, undefined);
    q.add('ns/c');
    assert.equal(await q.get(), undefined);
    assert.equal(t.pending(), 0);
    let idle = false;
    const done = q.idle().then(() => (idle = true));
    await Promise.resolve();
    assert.equal(idle, false);
    q.done(k as string);
    await done;
    assert.equal(idle, true);
  });
});
