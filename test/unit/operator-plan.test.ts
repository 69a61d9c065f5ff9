/** The pure diff: desired (compile's output) against the policies the intent controls (by uid). */
import { strict as assert } from 'assert';
import { compile } from '../../src/compile';
import { validateIntent } from '../../src/intent';
import type { SegmentationIntent } from '../../src/intent/types';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import { diff, orphans, updateBody, upToDate } from '../../src/operator/plan';
import { livePolicyOf } from '../../src/operator/store';
import type { LivePolicy } from '../../src/operator/store';

const ref = { name: 'shop', namespace: 'shop', uid: 'uid-1' };

function intent(...mods: ((i: SegmentationIntent) => void)[]): SegmentationIntent {
  const i: SegmentationIntent = {
    apiVersion: 'netseg.io/v1alpha1',
    kind: 'SegmentationIntent',
    metadata: { name: 'shop', namespace: 'shop', uid: 'uid-1', generation: 1 },
    spec: {
      workloads: [
        { name: 'web', selector: { matchLabels: { app: 'web' } } },
        { name: 'api', selector: { matchLabels: { app: 'api' } } },
      ],
      flows: [{ from: 'web', to: 'api', ports: [{ port: 8080 }] }],
    },
  };
  mods.forEach((m) => m(i));
  return i;
}

function desired(i: SegmentationIntent): NetworkPolicy[] {
  const v = validateIntent(i);
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  return compile(v.intent);
}

/** As the apiserver returns it: with uid and resourceVersion, defaults applied, empty lists dropped. */
function live(p: NetworkPolicy, rv = '7'): LivePolicy {
  return livePolicyOf(liveObject(p, rv));
}

function liveObject(p: NetworkPolicy, rv = '7'): NetworkPolicy {
  const copy = JSON.parse(JSON.stringify(p)) as NetworkPolicy;
  copy.metadata.uid = `uid-${p.metadata.name}`;
  copy.metadata.resourceVersion = rv;
  copy.metadata.creationTimestamp = '2026-01-01T00:00:00Z';
  for (const r of copy.spec.ingress ?? []) for (const port of r.ports ?? []) port.protocol ??= 'TCP';
  if (copy.spec.ingress?.length === 0) delete copy.spec.ingress;
  return copy;
}

const names = (ps: readonly { metadata: { name?: string } }[]): string[] => ps.map((p) => p.metadata.name ?? '');

describe('operator plan', () => {
  it('creates every desired policy when none exists', () => {
    const want = desired(intent());
    const plan = diff(want, [], ref);
    assert.deepEqual(names(plan.create), names(want));
    assert.equal(plan.update.length + plan.delete.length + plan.conflicts.length, 0);
  });

  it('plans nothing when the live objects equal the compiled ones, after apiserver defaulting', () => {
    const want = desired(intent());
    const plan = diff(want, want.map((p) => live(p)), ref);
    assert.deepEqual(plan.unchanged, names(want).sort());
    assert.equal(plan.create.length + plan.update.length + plan.delete.length, 0);
  });

  it('updates a policy whose spec was edited by hand, and calls it drift', () => {
    const want = desired(intent());
    const objects = want.map((p) => liveObject(p));
    const edited = objects.find((p) => p.metadata.name === 'shop.api.ingress') as NetworkPolicy;
    edited.spec.ingress = [{}];
    const plan = diff(want, objects.map(livePolicyOf), ref);
    assert.deepEqual(plan.update.map((u) => u.desired.metadata.name), ['shop.api.ingress']);
    assert.equal(plan.update[0]?.drift, true);
  });

  it('updates without calling it drift when the intent itself changed', () => {
    const before = desired(intent()).map((p) => live(p));
    const after = desired(intent((i) => (i.spec.flows = [{ from: 'web', to: 'api', ports: [{ port: 9090 }] }])));
    const plan = diff(after, before, ref);
    assert.equal(plan.update.length, 1);
    assert.equal(plan.update[0]?.drift, false);
  });

  it('updates a policy that lost one of our labels', () => {
    const want = desired(intent());
    const objects = want.map((p) => liveObject(p));
    delete objects[0]?.metadata.annotations?.['netseg.io/spec-hash'];
    assert.equal(diff(want, objects.map(livePolicyOf), ref).update.length, 1);
  });

  it('deletes owned policies that are no longer desired and keeps foreign ones', () => {
    const want = desired(intent());
    const stale = live({ ...want[0], metadata: { ...want[0]?.metadata, name: 'shop.old.ingress' } } as NetworkPolicy);
    const otherOwner = live({ ...want[0], metadata: { ...want[0]?.metadata, name: 'shop.x.ingress', ownerReferences: [{ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', name: 'shop', uid: 'uid-OLD', controller: true }] } } as NetworkPolicy);
    const plan = diff(want, [...want.map((p) => live(p)), stale, otherOwner], ref);
    assert.deepEqual(names(plan.delete), ['shop.old.ingress']);
  });

  it('moves a policy of the old naming scheme to its new name: creates the new one and deletes the old', () => {
    const want = desired(intent());
    const old = want.map((p) => live({ ...p, metadata: { ...p.metadata, name: (p.metadata.name ?? '').replace(/\./g, '-') } }));
    const plan = diff(want, old, ref);
    assert.deepEqual(names(plan.create), names(want));
    assert.deepEqual(names(plan.delete).sort(), ['shop-api-ingress', 'shop-web-ingress']);
  });

  it('owns by controller uid alone: a policy carrying another intent label value but our uid is ours', () => {
    const want = desired(intent());
    const relabelled = liveObject(want[0] as NetworkPolicy);
    (relabelled.metadata.labels as Record<string, string>)['netseg.io/intent'] = 'someone-else';
    const plan = diff(want, [livePolicyOf(relabelled)], ref);
    assert.deepEqual(plan.update.map((u) => u.desired.metadata.name), [want[0]?.metadata.name]);
    assert.equal(plan.conflicts.length, 0);
  });

  it('reports a desired name held by a policy with our labels but another owner uid as a conflict, untouched', () => {
    const want = desired(intent());
    const held = liveObject(want[0] as NetworkPolicy);
    held.metadata.ownerReferences = [{ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', name: 'shop', uid: 'uid-OLD', controller: true }];
    const clash = livePolicyOf(held);
    const plan = diff(want, [clash], ref);
    assert.deepEqual(plan.conflicts, [want[0]?.metadata.name]);
    assert.ok(!names(plan.create).includes(want[0]?.metadata.name ?? ''));
    assert.equal(plan.delete.length + plan.update.length, 0);
  });

  it('an update keeps labels and annotations others added and carries the resourceVersion read', () => {
    const want = desired(intent());
    const obj = liveObject(want[0] as NetworkPolicy, '42');
    obj.metadata.annotations = { ...obj.metadata.annotations, 'team.example/owner': 'ops' };
    const body = updateBody(want[0] as NetworkPolicy, livePolicyOf(obj));
    assert.equal(body.metadata.resourceVersion, '42');
    assert.equal(body.metadata.annotations?.['team.example/owner'], 'ops');
    assert.deepEqual(body.spec, want[0]?.spec);
    assert.ok(upToDate(want[0] as NetworkPolicy, livePolicyOf(body)));
  });

  it('treats an empty podSelector and an empty namespaceSelector as different peers', () => {
    const want = desired(intent((i) => {
      i.spec.peers = [{ name: 'all-ns', namespaceSelector: {} }];
      i.spec.flows = [{ from: 'all-ns', to: 'api' }];
    }));
    const objects = want.map((p) => liveObject(p));
    const rule = objects.find((p) => p.metadata.name === 'shop.api.ingress')?.spec.ingress?.[0];
    assert.ok(rule?.from?.[0]);
    rule.from[0] = { podSelector: {} };
    assert.equal(diff(want, objects.map(livePolicyOf), ref).update.length, 1);
  });
});

describe('operator orphan sweep (pure part)', () => {
  const labelled = (ns: string, name: string, intentName: string, owner?: { kind: string; uid: string }): NetworkPolicy => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name,
      namespace: ns,
      labels: { 'app.kubernetes.io/managed-by': 'netseg-operator', 'netseg.io/intent': intentName },
      ownerReferences: owner ? [{ apiVersion: 'netseg.io/v1alpha1', kind: owner.kind, name: intentName, uid: owner.uid, controller: true }] : undefined,
    },
    spec: { podSelector: {} },
  });

  it('finds policies whose controlling intent uid is not live in their namespace', () => {
    const live = [{ namespace: 'a', name: 'keep', uid: 'u1' }];
    const ps = [
      labelled('a', 'p1', 'keep', { kind: 'SegmentationIntent', uid: 'u1' }),
      labelled('a', 'p2', 'gone', { kind: 'SegmentationIntent', uid: 'u9' }),
      labelled('b', 'p4', 'keep', { kind: 'SegmentationIntent', uid: 'u1' }),
      labelled('a', 'p5', 'keep', { kind: 'SegmentationIntent', uid: 'u-old' }),
    ];
    assert.deepEqual(names(orphans(ps, live)), ['p2', 'p4', 'p5']);
  });

  it('never deletes a policy with our label but no controller: the label alone is no proof of ownership', () => {
    assert.deepEqual(orphans([labelled('a', 'p3', 'gone')], []), []);
  });

  it('keeps the policies of an intent whose label value another live intent is named after (by uid, not label)', () => {
    // A 64+ character name is shortened in the label; another intent may be named so that both share a value.
    const long = `${'a'.repeat(70)}`;
    const live = [
      { namespace: 'a', name: long, uid: 'u-long' },
      { namespace: 'a', name: 'shortened-value', uid: 'u-short' },
    ];
    const ps = [
      labelled('a', 'p1', 'shortened-value', { kind: 'SegmentationIntent', uid: 'u-long' }),
      labelled('a', 'p2', 'shortened-value', { kind: 'SegmentationIntent', uid: 'u-short' }),
    ];
    assert.deepEqual(orphans(ps, live), []);
  });

  it('never treats a policy controlled by something else as an orphan', () => {
    assert.deepEqual(orphans([labelled('a', 'p', 'gone', { kind: 'Deployment', uid: 'd' })], []), []);
  });
});
