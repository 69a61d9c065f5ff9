/** The pure condition helper and the status/event decisions built on it. */
import { strict as assert } from 'assert';
import { setCondition, statusEqual } from '../../src/operator/conditions';
import { nextStatus, reconcilingStatus, transitionEvent } from '../../src/operator/status';
import type { Outcome } from '../../src/operator/status';
import { Reason } from '../../src/operator/reasons';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');

describe('operator conditions', () => {
  it('stamps lastTransitionTime and observedGeneration on a new condition', () => {
    const list = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok' }, { now: t0, generation: 3 });
    assert.deepEqual(list, [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok', lastTransitionTime: t0.toISOString(), observedGeneration: 3 }]);
  });

  it('keeps lastTransitionTime while the status does not flip, even if reason or message change', () => {
    const a = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'x' }, { now: t0 });
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'ApiError', message: 'y' }, { now: t1 });
    assert.equal(b[0]?.lastTransitionTime, t0.toISOString());
    assert.equal(b[0]?.reason, 'ApiError');
  });

  it('moves lastTransitionTime when the status flips', () => {
    const a = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'x' }, { now: t0 });
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok' }, { now: t1 });
    assert.equal(b[0]?.lastTransitionTime, t1.toISOString());
  });

  it('leaves other conditions alone and keeps the list sorted by type', () => {
    let l = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'R', message: '' }, { now: t0 });
    l = setCondition(l, { type: 'Degraded', status: 'False', reason: 'R', message: '' }, { now: t0 });
    assert.deepEqual(l.map((c) => c.type), ['Degraded', 'Ready']);
  });
});

describe('operator status', () => {
  const ok: Outcome = { kind: 'Reconciled', policies: ['b', 'a'], conflicts: [], flows: 2, workloads: 3 };

  it('is byte-equal on a second pass over an unchanged world, so no status write happens', () => {
    const first = nextStatus(undefined, ok, { now: t0, generation: 1 });
    const second = nextStatus(first, ok, { now: t1, generation: 1 });
    assert.ok(statusEqual(first, second));
    assert.deepEqual(first.policies, ['a', 'b']);
    assert.equal(first.workloads, 3, 'the Workloads printer column');
    assert.equal(first.flows, 2, 'the Flows printer column');
    assert.equal(transitionEvent(first, second), undefined);
  });

  it('compares whole statuses: a change of workloads alone is a change (the printer column must follow)', () => {
    const o: Outcome = { kind: 'Reconciled', policies: ['a'], conflicts: [], flows: 2, workloads: 3 };
    const first = nextStatus(undefined, o, { now: t0, generation: 1 });
    assert.ok(!statusEqual(first, { ...first, workloads: 4 }));
    assert.ok(!statusEqual(first, { ...first, observedGeneration: 2 }));
    assert.ok(statusEqual(first, { ...first, policies: [...(first.policies ?? [])].reverse(), conditions: [...(first.conditions ?? [])].reverse() }));
  });

  it('after a partial failure lists what exists, not the previous status', () => {
    const prev = nextStatus(undefined, { kind: 'Reconciled', policies: ['a', 'b'], conflicts: [], flows: 1, workloads: 2 }, { now: t0, generation: 1 });
    const s = nextStatus(prev, { kind: 'ApiError', message: 'delete NetworkPolicy b: 500 InternalError', existing: ['c', 'a', 'b'] }, { now: t1, generation: 2 });
    assert.deepEqual(s.policies, ['a', 'b', 'c']);
    assert.equal(s.observedGeneration, 1, 'an API error observes nothing new');
  });

  it('says Ready=False InvalidSpec, Degraded=True, and lists the policies kept', () => {
    const s = nextStatus(undefined, { kind: 'InvalidSpec', kept: ['p'], issues: 'spec.peers[0].ipBlock.cidr: bad' }, { now: t0, generation: 2 });
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, Reason.InvalidSpec);
    assert.equal(s.conditions?.find((c) => c.type === 'Degraded')?.status, 'True');
    assert.deepEqual(s.policies, ['p']);
    assert.equal(transitionEvent(undefined, s)?.type, 'Warning');
  });

  it('an invalid spec shows the counts of what the policies in place enforce, not of the spec refused', () => {
    const applied = nextStatus(undefined, { kind: 'Reconciled', policies: ['a'], conflicts: [], flows: 4, workloads: 3 }, { now: t0, generation: 1 });
    const invalid = nextStatus(applied, { kind: 'InvalidSpec', kept: ['a'], issues: 'x' }, { now: t1, generation: 2 });
    assert.deepEqual([invalid.flows, invalid.workloads], [4, 3]);
    const never = nextStatus(undefined, { kind: 'InvalidSpec', kept: [], issues: 'x' }, { now: t1, generation: 1 });
    assert.deepEqual([never.flows, never.workloads], [0, 0], 'nothing ever applied enforces nothing');
  });

  it('Ready reads Unknown/Reconciling, not True, while a newer generation is applied; only when it read True', () => {
    const applied = nextStatus(undefined, ok, { now: t0, generation: 1 });
    assert.equal(reconcilingStatus(applied, { now: t1, generation: 1 }), undefined, 'same generation: nothing to say');
    const marked = reconcilingStatus(applied, { now: t1, generation: 2 });
    const ready = marked?.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['Unknown', Reason.Reconciling]);
    assert.match(ready?.message ?? '', /generation 2.*generation 1/);
    assert.equal(marked?.observedGeneration, 1, 'the status still speaks of generation 1');
    assert.deepEqual(marked?.policies, applied.policies);
    assert.equal(transitionEvent(applied, nextStatus(marked, ok, { now: t1, generation: 2 })), undefined, 'no Warning for passing through Reconciling');
    const invalid = nextStatus(applied, { kind: 'InvalidSpec', kept: ['a'], issues: 'x' }, { now: t1, generation: 2 });
    assert.equal(reconcilingStatus(invalid, { now: t1, generation: 3 }), undefined, 'Ready False already says not applied');
  });

  it('raises a NameConflict on both conditions when a desired name is taken', () => {
    const s = nextStatus(undefined, { ...ok, conflicts: ['a'] }, { now: t0, generation: 1 });
    assert.deepEqual(s.conditions?.map((c) => c.reason), [Reason.NameConflict, Reason.NameConflict]);
  });

  it('emits a warning event once per transition, not on every failing pass', () => {
    const bad: Outcome = { kind: 'ApiError', message: 'update NetworkPolicy p: 403 Forbidden' };
    const good = nextStatus(undefined, ok, { now: t0, generation: 1 });
    const failing = nextStatus(good, bad, { now: t1, generation: 1 });
    assert.equal(transitionEvent(good, failing)?.reason, Reason.ApiError);
    assert.equal(transitionEvent(failing, nextStatus(failing, bad, { now: t1, generation: 1 })), undefined);
    assert.equal(failing.observedGeneration, 1, 'an API error keeps the generation last observed');
    assert.equal(failing.workloads, 3, 'and the counts last observed');
  });

  it('reports DryRun as not Ready and not Degraded', () => {
    const s = nextStatus(undefined, { kind: 'DryRun', policies: ['x'], conflicts: [], flows: 1, workloads: 1, wouldChange: 'would create 1 (x)' }, { now: t0, generation: 1 });
    assert.deepEqual(s.conditions?.map((c) => [c.type, c.status, c.reason]), [['Degraded', 'False', 'DryRun'], ['Ready', 'False', 'DryRun']]);
  });
});
