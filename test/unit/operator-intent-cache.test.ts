/** The intents reconcile reads from memory (src/operator/intent-cache.ts). */
import { strict as assert } from 'assert';
import type { KubeObject } from '../../src/model/kubernetes';
import { IntentCache } from '../../src/operator/intent-cache';

function intent(ns: string, name: string, rv: string): KubeObject {
  return {
    apiVersion: 'netseg.io/v1alpha1',
    kind: 'SegmentationIntent',
    metadata: { namespace: ns, name, resourceVersion: rv, managedFields: [{ manager: 'kubectl' }] },
    spec: { workloads: [{ name: 'web', selector: { matchLabels: { app: 'web' } } }] },
  } as KubeObject;
}

describe('operator intent cache', () => {
  it('gives the intent as last seen, without managedFields, as an object of its own on every read', () => {
    const c = new IntentCache();
    const sink = c.sink();
    sink.replace([intent('a', 'shop', '1')]);
    sink.apply('MODIFIED', intent('a', 'shop', '2'));
    const first = c.get('a', 'shop') ?? assert.fail('not held');
    assert.equal(first.metadata.resourceVersion, '2');
    assert.equal('managedFields' in first.metadata, false);
    assert.deepEqual(first.spec.workloads, [{ name: 'web', selector: { matchLabels: { app: 'web' } } }]);
    (first.spec.workloads as unknown[]).length = 0;
    assert.equal(c.get('a', 'shop')?.spec.workloads?.length, 1, 'a reader changing its copy changes nothing held');
    sink.apply('DELETED', intent('a', 'shop', '2'));
    assert.equal(c.get('a', 'shop'), undefined);
  });

  it("replaces on a relist only what that informer had filed", () => {
    const c = new IntentCache();
    const a = c.sink();
    const b = c.sink();
    a.replace([intent('a', 'x', '1'), intent('a', 'y', '1')]);
    b.replace([intent('b', 'z', '1')]);
    a.replace([intent('a', 'y', '3')]);
    assert.equal(c.get('a', 'x'), undefined);
    assert.equal(c.get('a', 'y')?.metadata.resourceVersion, '3');
    assert.equal(c.get('b', 'z')?.metadata.resourceVersion, '1');
    assert.equal(c.size(), 2);
  });

  it('gives back exactly what it was given, whatever the characters (held deflated, as a one-byte string)', () => {
    const c = new IntentCache();
    const o = intent('a', 'ünï', '7');
    const meta = o.metadata ?? assert.fail('no metadata');
    meta.annotations = { note: 'zéro-trust ✓ 🔒 \u0000 "quoted" \\ back', empty: '' };
    (o as { spec: Record<string, unknown> }).spec['description'] = '日本語の説明 '.repeat(50);
    c.sink().replace([o]);
    const metadata: Record<string, unknown> = { ...meta };
    delete metadata['managedFields'];
    assert.deepEqual(c.get('a', 'ünï'), { ...o, metadata });
  });
});
