/** The operator's reference index and object stores (src/operator/references.ts). */
import { strict as assert } from 'assert';
import type { KubeObject } from '../../src/model/kubernetes';
import { IntentReferences, ReferencedObjects, ReferencesNotSyncedError, referenceChanged } from '../../src/operator/references';

const svc = (name: string, selector: Record<string, string>): KubeObject => ({ metadata: { namespace: 'shop', name }, spec: { selector, ports: [{ port: 80 }] }, status: { loadBalancer: {} } });

describe('operator references', () => {
  it('reads list items without kind (as the apiserver sends them) with their selector and ports', () => {
    const objects = new ReferencedObjects();
    objects.sink('Service', 'shop').replace([svc('api', { app: 'api' })]);
    const found = objects.service('shop', 'api');
    assert.ok(found.found);
    assert.deepEqual(found.value.selector, { app: 'api' });
    assert.deepEqual(found.value.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
  });

  it('throws NotSynced before the informer listed, and names a namespace outside its scope', () => {
    const objects = new ReferencedObjects();
    objects.sink('Service', 'shop');
    assert.throws(() => objects.service('shop', 'api'), ReferencesNotSyncedError);
    const outside = objects.service('payments', 'gateway');
    assert.ok(!outside.found && /outside the namespaces this operator watches/.test(outside.problem ?? ''));
  });

  it('indexes intents by the objects they name, and forgets an intent that stops naming one', () => {
    const refs = new IntentReferences();
    const sink = refs.sink();
    const intent = (name: string, spec: object): KubeObject => ({ metadata: { namespace: 'shop', name }, spec });
    sink.replace([
      intent('a', { workloads: [{ name: 'x', service: 'api' }], peers: [{ name: 'p', workloadRef: { namespace: 'search', kind: 'Deployment', name: 'es' } }] }),
      intent('b', { workloads: [{ name: 'y', service: 'api' }], ingressRoutes: [{ from: ['p'] }] }),
    ]);
    const event = (o: KubeObject): Parameters<IntentReferences['intentsFor']>[0] => ({ type: 'MODIFIED', object: o });
    assert.deepEqual(refs.intentsFor(event({ kind: 'Service', metadata: { namespace: 'shop', name: 'api' } })), ['shop/a', 'shop/b']);
    assert.deepEqual(refs.intentsFor(event({ kind: 'Deployment', metadata: { namespace: 'search', name: 'es' } })), ['shop/a']);
    assert.deepEqual(refs.intentsFor(event({ kind: 'Ingress', metadata: { namespace: 'shop', name: 'any' } })), ['shop/b']);
    sink.apply('MODIFIED', intent('a', { workloads: [{ name: 'x', selector: {} }] }));
    assert.deepEqual(refs.intentsFor(event({ kind: 'Service', metadata: { namespace: 'shop', name: 'api' } })), ['shop/b']);
    sink.apply('DELETED', intent('b', {}));
    assert.deepEqual(refs.intentsFor(event({ kind: 'Service', metadata: { namespace: 'shop', name: 'api' } })), []);
  });

  it('passes a Service change always, a Deployment change only when its generation moved', () => {
    const dep = (generation: number): KubeObject => ({ kind: 'Deployment', metadata: { name: 'd', generation } });
    assert.equal(referenceChanged({ type: 'MODIFIED', object: dep(1), old: dep(1) }), false);
    assert.equal(referenceChanged({ type: 'MODIFIED', object: dep(2), old: dep(1) }), true);
    assert.equal(referenceChanged({ type: 'MODIFIED', object: { kind: 'Service', metadata: {} }, old: { kind: 'Service', metadata: {} } }), true);
    assert.equal(referenceChanged({ type: 'DELETED', object: dep(1), old: dep(1) }), true);
  });
});
