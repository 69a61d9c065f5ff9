/**
 * Fewer writes per change (issue 17): a restore records one Event, not two, and an Event that repeats updates the
 * one recorded (count, lastTimestamp), as client-go's recorder does, within a window and a bounded set of keys.
 */
import { strict as assert } from 'assert';
import winston from 'winston';
import type { SegmentationIntent } from '../../src/intent/types';
import type { EventObject, RecordedEvent } from '../../src/kube/client';
import { ApiError } from '../../src/kube/errors';
import { EventRecorder, MAX_KEYS, WINDOW_MS } from '../../src/operator/events';
import { reconcile } from '../../src/operator/reconcile';
import { indexObjects } from '../../src/resolve';
import { FakeKube } from './fake-kube';

const log = winston.createLogger({ silent: true });
const spec: SegmentationIntent['spec'] = {
  workloads: [
    { name: 'w0', selector: { matchLabels: { app: 'w0' } } },
    { name: 'w1', selector: { matchLabels: { app: 'w1' } } },
  ],
  flows: [{ from: 'w0', to: 'w1' }],
};

const intent = { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'shop', namespace: 'shop', uid: 'uid-1' } } as SegmentationIntent;
const event = (at: number, message = 'restored out-of-band changes to 1 NetworkPolicies: shop.w1.ingress'): EventObject => ({ involved: intent, type: 'Warning', reason: 'DriftCorrected', message, now: new Date(at) });

/** The apiserver's Events, as the recorder writes them. */
class Events {
  readonly sent: string[] = [];
  gone = false;
  private n = 0;
  readonly writes = {
    create: async (e: EventObject): Promise<RecordedEvent> => {
      this.sent.push(`create ${e.message}`);
      return { name: `ev-${++this.n}`, namespace: 'shop', resourceVersion: '1', count: 1, firstTimestamp: e.now };
    },
    update: async (r: RecordedEvent, e: EventObject): Promise<RecordedEvent> => {
      if (this.gone) throw new ApiError(404, 'NotFound', { verb: 'update', kind: 'Event' }, { detail: 'expired' });
      this.sent.push(`update ${r.name} count=${r.count + 1} last=${e.now.getTime()}`);
      return { ...r, count: r.count + 1 };
    },
  };
}

describe('operator events', () => {
  it('records a restore as one DriftCorrected Event, not also PolicyCreated', async () => {
    const k = new FakeKube();
    k.addIntent(spec);
    const d = { kube: k, policies: k, objects: indexObjects([]), now: () => new Date('2026-01-01T00:00:00Z'), log };
    await reconcile('shop/shop', d);
    assert.ok(k.events.includes('PolicyCreated'), 'the first apply says what it created');
    k.events.length = 0;
    k.policies.delete('shop/shop.w1.ingress');
    await reconcile('shop/shop', d);
    assert.equal(k.names().includes('shop.w1.ingress'), true, 'restored');
    assert.deepEqual(k.events, ['DriftCorrected']);
  });

  it('updates the Event recorded when the same one repeats within the window: count+1 and lastTimestamp', async () => {
    const ev = new Events();
    const r = new EventRecorder();
    await r.record(event(0), ev.writes);
    await r.record(event(1_000), ev.writes);
    await r.record(event(2_000), ev.writes);
    await r.record(event(2_000, 'another message'), ev.writes);
    assert.deepEqual(ev.sent, [
      'create restored out-of-band changes to 1 NetworkPolicies: shop.w1.ingress',
      'update ev-1 count=2 last=1000',
      'update ev-1 count=3 last=2000',
      'create another message',
    ]);
  });

  it('records anew after the window, or when the Event recorded has expired', async () => {
    const ev = new Events();
    const r = new EventRecorder();
    await r.record(event(0), ev.writes);
    await r.record(event(WINDOW_MS + 1), ev.writes);
    ev.gone = true;
    await r.record(event(WINDOW_MS + 2), ev.writes);
    assert.deepEqual(ev.sent.map((s) => s.split(' ')[0]), ['create', 'create', 'create']);
  });

  it('keeps at most MAX_KEYS keys, dropping the least recently used', async () => {
    const ev = new Events();
    const r = new EventRecorder();
    for (let i = 0; i <= MAX_KEYS; i++) await r.record(event(0, `m${i}`), ev.writes);
    assert.equal(r.size(), MAX_KEYS);
    ev.sent.length = 0;
    await r.record(event(1, 'm0'), ev.writes);
    await r.record(event(1, `m${MAX_KEYS}`), ev.writes);
    assert.deepEqual(ev.sent.map((s) => s.split(' ')[0]), ['create', 'update'], 'the oldest key fell out; the newest is still there');
  });
});
