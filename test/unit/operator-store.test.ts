/**
 * The watch-fed store of managed NetworkPolicies that reconcile's gather reads, and the record of the
 * operator's own writes that keeps their watch echo from enqueuing work.
 */
import { strict as assert } from 'assert';
import fc from 'fast-check';
import type { KubeObject, NetworkPolicy } from '../../src/model/kubernetes';
import { OwnWrites } from '../../src/operator/echo';
import { NotSyncedError, PolicyCache, PolicyStore } from '../../src/operator/store';
import { specHash } from '../../src/compile';

/** A managed policy controlled by the intent whose uid is `owner` (labelled with that name too, for realism). */
function policy(ns: string, name: string, owner: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: {
      namespace: ns,
      name,
      uid: `uid-${ns}-${name}`,
      resourceVersion: '1',
      labels: { 'app.kubernetes.io/managed-by': 'netseg-operator', 'netseg.io/intent': owner },
      ownerReferences: [{ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', name: owner, uid: owner, controller: true, blockOwnerDeletion: true }],
    },
    spec: { podSelector: {} },
    ...extra,
  };
}

const names = (ps: { metadata: { name?: string } }[]): string[] => ps.map((p) => p.metadata.name ?? '').sort();

describe('operator policy store', () => {
  it('refuses to answer before its first complete list, then answers even when that list was empty', () => {
    const s = new PolicyStore('a');
    assert.equal(s.hasSynced(), false);
    assert.throws(() => s.owned('a', 'shop'), NotSyncedError);
    s.apply('ADDED', policy('a', 'shop.w0.ingress', 'shop')); // a watch event alone does not make it synced
    assert.throws(() => s.owned('a', 'shop'), NotSyncedError);
    s.replace([]);
    assert.equal(s.hasSynced('a'), true);
    assert.deepEqual(s.owned('a', 'shop'), []);
  });

  it('indexes by namespace and controller uid', () => {
    const s = new PolicyStore();
    s.replace([policy('a', 'shop.w0.ingress', 'shop'), policy('a', 'shop.w1.ingress', 'shop'), policy('a', 'web.w0.ingress', 'web'), policy('b', 'shop.w0.ingress', 'shop')]);
    assert.deepEqual(names(s.owned('a', 'shop')), ['shop.w0.ingress', 'shop.w1.ingress']);
    assert.deepEqual(names(s.owned('a', 'web')), ['web.w0.ingress']);
    assert.deepEqual(names(s.owned('b', 'shop')), ['shop.w0.ingress']);
    assert.deepEqual(s.owned('c', 'shop'), []);
    assert.equal(s.size(), 4);
  });

  it('replace drops what the new list no longer has', () => {
    const s = new PolicyStore();
    s.replace([policy('a', 'shop.w0.ingress', 'shop'), policy('a', 'shop.w1.ingress', 'shop')]);
    s.replace([policy('a', 'shop.w1.ingress', 'shop')]);
    assert.deepEqual(names(s.owned('a', 'shop')), ['shop.w1.ingress']);
    assert.equal(s.size(), 1);
  });

  it('applies added, modified and deleted events, and moves a policy whose owner changed to its new intent', () => {
    const s = new PolicyStore();
    s.replace([]);
    s.apply('ADDED', policy('a', 'p', 'shop'));
    s.apply('MODIFIED', policy('a', 'p', 'shop', { spec: { podSelector: { matchLabels: { x: 'y' } } } }));
    assert.equal(s.get('a', 'p')?.specHash, specHash({ spec: { podSelector: { matchLabels: { x: 'y' } } } }));
    s.apply('MODIFIED', policy('a', 'p', 'web'));
    assert.deepEqual(s.owned('a', 'shop'), []);
    assert.deepEqual(names(s.owned('a', 'web')), ['p']);
    s.apply('DELETED', policy('a', 'p', 'web'));
    assert.deepEqual(s.owned('a', 'web'), []);
    assert.equal(s.size(), 0);
    s.apply('DELETED', policy('a', 'never-seen', 'web')); // harmless
  });

  it('keeps what reconcile compares and writes from (metadata and the hash of the spec), not the spec', () => {
    const s = new PolicyStore();
    const big = { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { k: 'v'.repeat(60) } } }] }] };
    const p = policy('a', 'p', 'shop', { spec: big });
    const withManagedFields: KubeObject = { ...p, metadata: Object.assign({ managedFields: [{ manager: 'x' }] }, p.metadata) };
    s.replace([withManagedFields]);
    const got = s.owned('a', 'shop')[0];
    assert.ok(got);
    assert.equal('managedFields' in got.metadata, false);
    assert.deepEqual({ ...got.metadata }, p.metadata);
    assert.equal('spec' in got, false, 'the spec is not held');
    assert.equal(got.specHash, specHash({ spec: big }));
  });

  it('never files a policy without an intent controller under any intent', () => {
    const s = new PolicyStore();
    const orphan = policy('a', 'p', 'shop');
    delete (orphan.metadata as { ownerReferences?: unknown }).ownerReferences;
    s.replace([orphan]);
    assert.deepEqual(s.owned('a', 'shop'), []);
    assert.deepEqual(s.owned('a', ''), []);
    assert.equal(s.size(), 1);
  });

  it('shares one marks per intent, frees them with its last policy, and counts none for records it only made', () => {
    const s = new PolicyStore();
    s.replace([policy('a', 'shop.w0.ingress', 'shop'), policy('a', 'shop.w1.ingress', 'shop'), policy('a', 'web.w0.ingress', 'web')]);
    assert.equal(s.marksHeld(), 2);
    s.keep(policy('a', 'other.w0.ingress', 'other')); // what the informer does for a DELETED event's object
    s.apply('DELETED', policy('a', 'never-held', 'another'));
    assert.equal(s.marksHeld(), 2);
    s.apply('MODIFIED', policy('a', 'shop.w0.ingress', 'shop', { spec: { podSelector: { matchLabels: { x: 'y' } } } }));
    s.apply('MODIFIED', policy('a', 'shop.w0.ingress', 'shop', { spec: { podSelector: { matchLabels: { x: 'y' } } } }));
    assert.equal(s.marksHeld(), 2, 'a policy filed again with its own marks');
    s.apply('DELETED', policy('a', 'shop.w0.ingress', 'shop'));
    assert.equal(s.marksHeld(), 2, 'shop still has a policy');
    s.apply('DELETED', policy('a', 'shop.w1.ingress', 'shop'));
    assert.equal(s.marksHeld(), 1);
    s.apply('MODIFIED', policy('a', 'web.w0.ingress', 'shop'));
    assert.equal(s.marksHeld(), 1, 'the owner changed: the old marks went with it');
    assert.deepEqual(names(s.owned('a', 'shop')), ['web.w0.ingress']);
    s.apply('DELETED', policy('a', 'web.w0.ingress', 'shop'));
    assert.equal(s.marksHeld(), 0);
    assert.equal(s.size(), 0);
  });

  it('holds exactly what a plain map of the last event per policy holds, after any sequence of events', () => {
    const event = fc.record({
      type: fc.constantFrom('ADDED' as const, 'MODIFIED' as const, 'DELETED' as const),
      ns: fc.constantFrom('a', 'b'),
      name: fc.constantFrom('p0', 'p1', 'p2', 'p3'),
      owner: fc.constantFrom('shop', 'web', 'api'),
      app: fc.constantFrom('x', 'y'),
      rv: fc.integer({ min: 1, max: 99 }),
    });
    fc.assert(fc.property(fc.array(event, { maxLength: 40 }), (events) => {
      const s = new PolicyStore();
      s.replace([]);
      const model = new Map<string, KubeObject>();
      for (const e of events) {
        const o = policy(e.ns, e.name, e.owner, { spec: { podSelector: { matchLabels: { app: e.app } } } });
        (o.metadata as { resourceVersion: string }).resourceVersion = String(e.rv);
        s.apply(e.type, o);
        if (e.type === 'DELETED') model.delete(`${e.ns}/${e.name}`);
        else model.set(`${e.ns}/${e.name}`, o);
      }
      assert.equal(s.size(), model.size);
      // Marks hold no namespace: one per owner held anywhere.
      assert.equal(s.marksHeld(), new Set([...model.values()].map((o) => o.metadata?.labels?.['netseg.io/intent'])).size);
      for (const [key, o] of model) {
        const held = s.get(key) ?? assert.fail(`${key} not held`);
        assert.equal(held.metadata.resourceVersion, o.metadata?.resourceVersion);
        assert.equal(held.specHash, specHash(o as never));
      }
      for (const ns of ['a', 'b']) {
        for (const owner of ['shop', 'web', 'api']) {
          const expected = [...model.values()].filter((o) => o.metadata?.namespace === ns && o.metadata.labels?.['netseg.io/intent'] === owner).map((o) => o.metadata?.name ?? '').sort();
          assert.deepEqual(names(s.owned(ns, owner)), expected);
        }
      }
    }), { numRuns: 300 });
  });

  describe('expectations of its own creates', () => {
    const asPolicy = (o: KubeObject): NetworkPolicy => o as unknown as NetworkPolicy;
    const stored = (o: KubeObject, rv: string): NetworkPolicy => asPolicy({ ...o, metadata: { ...o.metadata, resourceVersion: rv } });

    it('stands in for a create answered before its watch event, then gives way to the event', () => {
      const s = new PolicyStore();
      s.replace([]);
      const p = policy('a', 'shop.w0.ingress', 'shop');
      s.expectCreate(asPolicy(p));
      assert.deepEqual(s.owned('a', 'shop'), [], 'sent, not answered: nothing known yet');
      s.createAnswered(asPolicy(p), stored(p, '7'));
      assert.deepEqual(s.owned('a', 'shop').map((r) => r.metadata.resourceVersion), ['7'], 'answered: the next pass sees it');
      assert.deepEqual(s.owned('a', 'web'), [], 'only under its own controller');
      assert.deepEqual(s.ownedEverywhere('shop').map((r) => r.metadata.name), ['shop.w0.ingress']);
      s.apply('ADDED', stored(p, '7') as unknown as KubeObject);
      assert.deepEqual(s.owned('a', 'shop').map((r) => r.metadata.resourceVersion), ['7'], 'once, not twice');
      assert.equal(s.expectedCreates(), 0);
    });

    it('believes the watch over the answer: an event that came first (even a delete) cancels the expectation', () => {
      const s = new PolicyStore();
      s.replace([]);
      const p = policy('a', 'shop.w0.ingress', 'shop');
      s.expectCreate(asPolicy(p));
      s.apply('ADDED', stored(p, '7') as unknown as KubeObject);
      s.apply('DELETED', stored(p, '7') as unknown as KubeObject);
      s.createAnswered(asPolicy(p), stored(p, '7'));
      assert.deepEqual(s.owned('a', 'shop'), [], 'deleted after our create: reconcile must see it missing and restore it');
      assert.equal(s.expectedCreates(), 0);
    });

    it('forgets a failed create, a relist, and after a minute an event that never came', () => {
      let now = 0;
      const s = new PolicyStore(undefined, () => now);
      s.replace([]);
      const p = policy('a', 'p', 'shop');
      s.expectCreate(asPolicy(p));
      s.createAnswered(asPolicy(p), undefined);
      assert.equal(s.expectedCreates(), 0);
      s.expectCreate(asPolicy(p));
      s.createAnswered(asPolicy(p), stored(p, '3'));
      s.replace([]);
      assert.deepEqual(s.owned('a', 'shop'), []);
      s.expectCreate(asPolicy(p));
      s.createAnswered(asPolicy(p), stored(p, '4'));
      now = 59_000;
      assert.equal(s.owned('a', 'shop').length, 1);
      now = 61_000;
      assert.deepEqual(s.owned('a', 'shop'), []);
      assert.equal(s.expectedCreates(), 0);
    });
  });

  it('a cache answers a namespace only from the store whose watch covers it, once that store listed', () => {
    const c = new PolicyCache();
    const a = new PolicyStore('a');
    const b = new PolicyStore('b');
    c.add(a);
    c.add(b);
    a.replace([policy('a', 'p', 'shop')]);
    assert.equal(c.hasSynced('a'), true);
    assert.equal(c.hasSynced('b'), false);
    assert.equal(c.hasSynced(), false);
    assert.throws(() => c.owned('b', 'shop'), NotSyncedError);
    assert.throws(() => c.owned('elsewhere', 'shop'), NotSyncedError);
    assert.deepEqual(names(c.owned('a', 'shop')), ['p']);
    b.replace([]);
    assert.equal(c.hasSynced(), true);
    assert.equal(c.size(), 1);
  });
});

describe('operator own-write echoes', () => {
  const at = (rv: string): KubeObject => ({ metadata: { namespace: 'a', name: 'p', resourceVersion: rv } });

  it('recognises the event of the very state it wrote, once', () => {
    const w = new OwnWrites();
    w.begin(at(''));
    assert.equal(w.end(at(''), at('5')), false);
    assert.equal(w.isEcho('MODIFIED', at('5')), true);
    assert.equal(w.isEcho('MODIFIED', at('5')), false);
    assert.equal(w.size(), 0);
  });

  it('lets any other state through: a later edit, or a delete', () => {
    const w = new OwnWrites();
    w.begin(at(''));
    w.end(at(''), at('5'));
    assert.equal(w.isEcho('MODIFIED', at('6')), false);
    w.begin(at(''));
    w.end(at(''), at('7'));
    assert.equal(w.isEcho('DELETED', at('7')), false);
    assert.equal(w.isEcho('ADDED', at('8')), false);
  });

  it('holds an event that outran its write, and reports it if it was not that write', () => {
    const w = new OwnWrites();
    w.begin(at(''));
    assert.equal(w.isEcho('ADDED', at('5')), true, 'held until the write answers');
    assert.equal(w.end(at(''), at('5')), false, 'it was the echo');
    w.begin(at(''));
    assert.equal(w.isEcho('MODIFIED', at('6')), true);
    assert.equal(w.end(at(''), at('7')), true, 'someone else wrote 6: enqueue');
    assert.equal(w.isEcho('MODIFIED', at('7')), true, 'and 7 is still ours');
  });

  it('reports every held event when the write failed', () => {
    const w = new OwnWrites();
    w.begin(at(''));
    w.isEcho('MODIFIED', at('9'));
    assert.equal(w.end(at(''), undefined), true);
    assert.equal(w.size(), 0);
  });

  it('reads back exactly what it holds of a policy: uid (a UUID or not), resourceVersion, marks and the spec-hash annotation', () => {
    const spec = { podSelector: { matchLabels: { app: 'web' } } };
    const hash = specHash({ spec } as never);
    const cases: KubeObject[] = [
      policy('a', 'uuid', 'shop', { spec }),
      policy('a', 'plain-uid', 'shop', { spec }),
      policy('a', 'drifted', 'shop', { spec }),
      policy('a', 'no-hash', 'shop', { spec }),
      policy('a', 'twin', 'shop', { spec }),
    ];
    const meta = (o: KubeObject): Record<string, unknown> => o.metadata as Record<string, unknown>;
    meta(cases[0]!).uid = '6f1c2a44-0b7e-4c1d-9a3e-00000000abcd';
    meta(cases[0]!).annotations = { 'netseg.io/spec-hash': hash, 'team.example/owner': 'ops' };
    meta(cases[1]!).annotations = { 'netseg.io/spec-hash': hash };
    meta(cases[1]!).resourceVersion = '18446744073709551615';
    meta(cases[2]!).annotations = { 'netseg.io/spec-hash': 'f'.repeat(64) };
    meta(cases[4]!).annotations = { 'netseg.io/spec-hash': hash };
    const s = new PolicyStore();
    s.replace(cases);
    for (const o of cases) {
      const held = s.get('a', o.metadata?.name ?? '') ?? assert.fail('not held');
      const { name, namespace, uid, resourceVersion, labels, annotations, ownerReferences } = o.metadata ?? {};
      assert.deepEqual({ ...held.metadata }, JSON.parse(JSON.stringify({ name, namespace, uid, resourceVersion, labels, annotations, ownerReferences })));
      assert.equal(held.specHash, hash);
    }
    assert.ok(Object.isFrozen(s.get('a', 'uuid')?.metadata.labels), 'shared marks cannot be changed through one policy');
    assert.equal(s.get('a', 'twin')?.metadata.labels, s.get('a', 'plain-uid')?.metadata.labels, 'policies with the same marks share them');
  });
});
