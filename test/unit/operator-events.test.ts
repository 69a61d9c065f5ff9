/**
 * One builder for what reconciles say (src/operator/events.ts, conditions.ts), used by intents and baselines:
 * an Event names at most EVENT_NAMES objects and counts the rest, and a conflict message at most 20, whichever
 * kind wrote it, so their size is bounded.
 */
import { strict as assert } from 'assert';
import { EVENT_NAMES, actionEvents, namesMessage } from '../../src/operator/events';
import { conditionsFor } from '../../src/operator/conditions';
import { nextStatus } from '../../src/operator/status';
import { nextBaselineStatus } from '../../src/operator/baseline-status';

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `p${String(i).padStart(3, '0')}`).reverse();
const now = new Date('2026-01-01T00:00:00Z');

describe('operator events and conditions: one builder, bounded', () => {
  it('lists at most EVENT_NAMES names, sorted, and counts the rest', () => {
    assert.equal(EVENT_NAMES, 10);
    const m = namesMessage('created', names(1000));
    assert.equal(m, `created 1000 NetworkPolicies: ${names(10).reverse().join(', ')}, and 990 more`);
    assert.ok(m.length < 200, 'bounded whatever the count');
    assert.equal(namesMessage('deleted', ['b', 'a']), 'deleted 2 NetworkPolicies: a, b');
  });

  it('builds one Event per kind of action, drift as a Warning', () => {
    const events = actionEvents({ created: names(12), updated: ['u'], deleted: [], drifted: ['u'] });
    assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Normal', 'PolicyCreated'], ['Normal', 'PolicyUpdated'], ['Warning', 'DriftCorrected']]);
    assert.match(events[0]?.message ?? '', /, and 2 more$/);
    assert.equal(events[2]?.message, 'restored out-of-band changes to 1 NetworkPolicies: u');
  });

  it('caps an intent\'s conflict message as a baseline\'s (first 20 and how many more)', () => {
    const conflicts = names(30);
    const intent = nextStatus(undefined, { kind: 'Reconciled', policies: [], conflicts, flows: 1, workloads: 1 }, { now });
    const baseline = nextBaselineStatus(undefined, { kind: 'Reconciled', namespaces: 1, policies: 0, conflicts }, { now });
    const ready = (s: { conditions?: { type: string; message: string }[] }): string => s.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
    assert.equal(ready(intent), `30 NetworkPolicies exist that this intent does not own, left untouched: ${names(20).reverse().join(', ')} and 10 more`);
    assert.equal(ready(baseline), ready(intent).replace('this intent', 'this baseline'));
  });

  it('reads the same outcome the same way for both kinds (UnresolvedReference keeps what is owned)', () => {
    const [ready, degraded] = conditionsFor({ kind: 'UnresolvedReference', issues: 'spec.peers[0].service: Service a/b not found' }, 'baseline');
    assert.deepEqual([ready.status, ready.reason, degraded.status], ['False', 'UnresolvedReference', 'True']);
    assert.equal(ready.message, 'unresolved reference, existing policies kept: spec.peers[0].service: Service a/b not found');
  });
});
