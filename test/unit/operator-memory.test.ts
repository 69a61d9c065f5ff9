/** Giving the heap's free pages back after a burst of work (src/operator/memory.ts). */
import { strict as assert } from 'assert';
import { setTimeout as sleep } from 'timers/promises';
import * as winston from 'winston';
import { QuietAfterWork, memoryRelease, releaseThroughInspector } from '../../src/operator/memory';
import type { Released } from '../../src/operator/memory';
import { WorkQueue } from '../../src/operator/queue';

const silent = winston.createLogger({ silent: true });

describe('operator memory release', () => {
  it('is due once the work has stayed quiet for a whole check, never while busy, and not twice for one burst', () => {
    const q = new QuietAfterWork(60_000);
    assert.equal(q.check(0, false, 0), false, 'nothing handled yet');
    assert.equal(q.check(0, false, 5_000), false, 'nothing handled yet, however long');
    assert.equal(q.check(40, false, 70_000), false, 'work since the previous check: wait one more period');
    assert.equal(q.check(40, true, 75_000), false, 'something queued or in flight');
    assert.equal(q.check(40, false, 80_000), true);
    assert.equal(q.check(41, false, 85_000), false);
    assert.equal(q.check(41, false, 90_000), false, 'within a minute of the last release');
    assert.equal(q.check(41, false, 140_000), true, 'the minute is over and the work is still unreleased');
  });

  it('runs the release once after a burst of keys is handled, and again only after more work', async () => {
    const queue = new WorkQueue();
    let releases = 0;
    const release = async (): Promise<Released> => {
      releases++;
      return { heapUsedBefore: 2, heapUsedAfter: 1, ms: 0 };
    };
    const r = memoryRelease([queue], { log: silent, quietMs: 10, minIntervalMs: 0, release });
    void r.start();
    try {
      await sleep(60);
      const atStart = releases;
      assert.equal(atStart, 0, 'nothing handled: no release');
      for (const k of ['a', 'b', 'c']) queue.add(k);
      await sleep(60);
      assert.equal(releases, atStart, 'keys queued and not handled: no release');
      for (let i = 0; i < 3; i++) queue.done((await queue.get()) ?? assert.fail('the queue shut down'));
      await sleep(80);
      assert.equal(releases, atStart + 1, 'one release after the burst was handled');
      await sleep(60);
      assert.equal(releases, atStart + 1, 'no work since: no second release');
    } finally {
      await r.stop();
    }
  });

  it('really gives back what is garbage (a full collection through an in-process inspector session)', async () => {
    let garbage: number[][] | undefined = Array.from({ length: 400 }, () => Array.from({ length: 10_000 }, (_, i) => i + 0.5));
    assert.equal(garbage.length, 400);
    garbage = undefined;
    const r = await releaseThroughInspector();
    assert.ok(r, 'the inspector is available in this Node.js');
    assert.ok(r.heapUsedBefore - r.heapUsedAfter > 20 * 1024 * 1024, `collected only ${r.heapUsedBefore - r.heapUsedAfter} bytes of ~32 MB of garbage`);
  });
});
