/** The one ownership predicate (src/compile/ownership.ts) used by plan, sweep, verify and audit: a table. */
import { strict as assert } from 'assert';
import { belongsTo, intentLabelValue } from '../../src/compile';
import type { IntentIdentity } from '../../src/compile';
import type { ObjectMeta, OwnerReference } from '../../src/model/kubernetes';

const MANAGED = { 'app.kubernetes.io/managed-by': 'netseg-operator' };
const LONG = `a${'b'.repeat(80)}`;

function ref(name: string, uid: string, over: Partial<OwnerReference> = {}): OwnerReference {
  return { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', name, uid, controller: true, ...over };
}

function policy(meta: Partial<ObjectMeta>): { metadata: ObjectMeta } {
  return { metadata: { name: 'p', namespace: 'shop', ...meta } };
}

const live: IntentIdentity = { name: 'shop', namespace: 'shop', uid: 'uid-1' };
const file: IntentIdentity = { name: 'shop', namespace: 'shop' };

const cases: [string, { metadata: ObjectMeta }, IntentIdentity, boolean][] = [
  ['live: managed, controller uid equal', policy({ labels: MANAGED, ownerReferences: [ref('shop', 'uid-1')] }), live, true],
  ['live: controller uid of an older incarnation', policy({ labels: MANAGED, ownerReferences: [ref('shop', 'uid-0')] }), live, false],
  ['live: no managed-by label', policy({ ownerReferences: [ref('shop', 'uid-1')] }), live, false],
  ['live: label only, no ownerReference (a label is no proof)', policy({ labels: { ...MANAGED, 'netseg.io/intent': 'shop' } }), live, false],
  ['live: the reference is not the controller', policy({ labels: MANAGED, ownerReferences: [ref('shop', 'uid-1', { controller: false })] }), live, false],
  ['live: controller of another kind', policy({ labels: MANAGED, ownerReferences: [ref('shop', 'uid-1', { kind: 'Deployment', apiVersion: 'apps/v1' })] }), live, false],
  ['live: controller of another group', policy({ labels: MANAGED, ownerReferences: [ref('shop', 'uid-1', { apiVersion: 'example.com/v1' })] }), live, false],
  ['live: any version of netseg.io', policy({ labels: MANAGED, ownerReferences: [ref('shop', 'uid-1', { apiVersion: 'netseg.io/v1' })] }), live, true],
  ['live: an intent with an empty uid owns nothing', policy({ labels: MANAGED, ownerReferences: [ref('shop', '')] }), { ...live, uid: '' }, false],
  ['file: controller name equal', policy({ labels: MANAGED, ownerReferences: [ref('shop', 'uid-9')] }), file, true],
  ['file: controller name differs, label agrees (the reference wins)', policy({ labels: { ...MANAGED, 'netseg.io/intent': 'shop' }, ownerReferences: [ref('zoo', 'u')] }), file, false],
  ['file: no reference, label equal', policy({ labels: { ...MANAGED, 'netseg.io/intent': 'shop' } }), file, true],
  ['file: no reference, label of another intent', policy({ labels: { ...MANAGED, 'netseg.io/intent': 'zoo' } }), file, false],
  ['file: no reference, shortened label of a long name', policy({ labels: { ...MANAGED, 'netseg.io/intent': intentLabelValue(LONG) } }), { name: LONG, namespace: 'shop' }, true],
  ['file: another namespace', policy({ namespace: 'zoo', labels: { ...MANAGED, 'netseg.io/intent': 'shop' } }), file, false],
  ['file: no namespace means default', policy({ namespace: undefined, labels: { ...MANAGED, 'netseg.io/intent': 'shop' } }), { name: 'shop', namespace: 'default' }, true],
  ['file: not managed', policy({ labels: { 'netseg.io/intent': 'shop' } }), file, false],
];

describe('belongsTo: the one ownership predicate', () => {
  for (const [name, p, intent, want] of cases) {
    it(`${name}: ${want}`, () => assert.equal(belongsTo(p, intent), want));
  }
});
