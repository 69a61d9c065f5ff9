/** The operator's pure parts for baselines: status, and which baselines a Namespace event concerns. */
import { strict as assert } from 'assert';
import { BaselineSelectors, baselinesSelecting, namespaceChanged } from '../../src/operator/baseline-sources';
import { baselineStatusEqual, baselineTransitionEvent, nextBaselineStatus } from '../../src/operator/baseline-status';
import type { KubeObject } from '../../src/model/kubernetes';
import { baselineObject } from '../fixtures/baselines';

const now = new Date('2026-01-01T00:00:00Z');
const ns = (name: string, labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

describe('baseline status', () => {
  it('counts namespaces and policies, keeps the first 20 conflicts sorted, and stamps observedGeneration', () => {
    const conflicts = Array.from({ length: 25 }, (_, i) => `ns${String(i).padStart(2, '0')}/b.cluster-ingress`).reverse();
    const s = nextBaselineStatus(undefined, { kind: 'Reconciled', namespaces: 30, policies: 35, conflicts }, { now, generation: 4 });
    assert.equal(s.namespaces, 30);
    assert.equal(s.policies, 35);
    assert.equal(s.conflicts?.length, 20);
    assert.equal(s.conflicts?.[0], 'ns00/b.cluster-ingress');
    assert.equal(s.observedGeneration, 4);
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'NameConflict']);
    assert.match(ready?.message ?? '', /25 NetworkPolicies exist .* and 5 more$/);
  });

  it('is equal, and writes nothing, when nothing changed; an unchanged Ready emits no Event', () => {
    const o = { kind: 'Reconciled' as const, namespaces: 2, policies: 4, conflicts: [] };
    const a = nextBaselineStatus(undefined, o, { now, generation: 1 });
    const b = nextBaselineStatus(a, o, { now: new Date('2026-02-01T00:00:00Z'), generation: 1 });
    assert.ok(baselineStatusEqual(a, b));
    assert.equal(baselineTransitionEvent(a, b), undefined);
  });

  it('keeps the last figures and observedGeneration on an API error, and reports an invalid spec with what it keeps', () => {
    const a = nextBaselineStatus(undefined, { kind: 'Reconciled', namespaces: 2, policies: 4, conflicts: [] }, { now, generation: 1 });
    const e = nextBaselineStatus(a, { kind: 'ApiError', message: 'create NetworkPolicy x: 403 Forbidden' }, { now, generation: 2 });
    assert.deepEqual([e.namespaces, e.policies, e.observedGeneration], [2, 4, 1]);
    const i = nextBaselineStatus(a, { kind: 'InvalidSpec', namespaces: 2, kept: 4, issues: 'spec.flows[0]: ...' }, { now, generation: 3 });
    assert.equal(i.policies, 4);
    assert.equal(baselineTransitionEvent(a, i)?.reason, 'InvalidSpec');
  });
});

describe('namespace events → baselines', () => {
  const selectors = new BaselineSelectors();
  selectors.replace([
    baselineObject({ namespaceSelector: { matchLabels: { tier: 'restricted' } } }, 'restricted') as unknown as KubeObject,
    baselineObject({ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] } }, 'all-but-system') as unknown as KubeObject,
    baselineObject({ flows: 'not a list' }, 'broken') as unknown as KubeObject,
  ]);
  const keys = baselinesSelecting(selectors);

  it('maps a new namespace to the baselines selecting it (by labels and by its name label), and a broken one always', () => {
    assert.deepEqual([...keys({ type: 'ADDED', object: ns('shop', { tier: 'restricted' }) })].sort(), ['/all-but-system', '/broken', '/restricted']);
    assert.deepEqual([...keys({ type: 'ADDED', object: ns('kube-system', {}) })].sort(), ['/broken']);
  });

  it('maps a relabel to the baselines matching before OR after (one that stops matching must clean up)', () => {
    const e = { type: 'MODIFIED' as const, object: ns('kube-system', {}), old: ns('kube-system', { tier: 'restricted' }) };
    assert.ok(keys(e).includes('/restricted'));
    assert.equal(namespaceChanged(e), true);
    assert.equal(namespaceChanged({ type: 'MODIFIED', object: ns('a', { x: '1' }), old: ns('a', { x: '1' }) }), false, 'a status-only change');
  });

  it('forgets a deleted baseline', () => {
    const s = new BaselineSelectors();
    const b = baselineObject({ namespaceSelector: {} }, 'gone') as unknown as KubeObject;
    s.apply('ADDED', b);
    s.apply('DELETED', b);
    assert.deepEqual(s.selecting([{ a: 'b' }]), []);
  });
});
