/** validateBaseline: the ClusterSegmentationIntent rules of API.md, each with its path and fix. */
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { formatIssue, validateBaseline } from '../../src/intent';
import type { ValidBaseline } from '../../src/intent';
import { baselineObject } from '../fixtures/baselines';


const MONITORING = { name: 'monitoring', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { app: 'prometheus' } } };
const DB = { name: 'payments-db', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } }, podSelector: { matchLabels: { app: 'db' } } };

function valid(spec: Record<string, unknown>): ValidBaseline {
  const r = validateBaseline(baselineObject(spec));
  if (!r.ok) assert.fail(`expected valid, got:\n${r.issues.map(formatIssue).join('\n')}`);
  return r.baseline;
}

function issues(obj: unknown): string[] {
  const r = validateBaseline(obj);
  if (r.ok) assert.fail('expected invalid');
  return r.issues.map(formatIssue);
}

describe('validateBaseline', () => {
  describe('defaults (API.md)', () => {
    const b = valid({ namespaceSelector: {} });
    it('enforcement Enforce', () => assert.equal(b.enforcement, 'Enforce'));
    it('directions [Ingress]', () => assert.deepEqual(b.directions, ['Ingress']));
    it('allowDNS true', () => assert.equal(b.allowDNS, true));
    it('allowSameNamespace false', () => assert.equal(b.allowSameNamespace, false));
    it('namespaceSelector {} kept as every namespace', () => assert.deepEqual(b.namespaceSelector, {}));
  });

  it('orients flows: peer → namespace is Ingress, namespace → peer is Egress', () => {
    const b = valid({
      namespaceSelector: {},
      peers: [MONITORING, DB],
      flows: [
        { from: 'monitoring', to: 'namespace', ports: [{ port: 9090 }] },
        { from: ['namespace'], to: ['payments-db'], ports: [{ port: 5432 }] },
      ],
    });
    assert.deepEqual(b.flows.map((f) => [f.direction, f.peers.map((p) => p.name)]), [['Ingress', ['monitoring']], ['Egress', ['payments-db']]]);
    assert.deepEqual(b.flows[1]?.ports, [{ protocol: 'TCP', port: 5432 }]);
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a missing namespaceSelector', { directions: ['Ingress'] }, /^spec\.namespaceSelector: is required/],
    ['namespace to namespace', { namespaceSelector: {}, flows: [{ from: 'namespace', to: 'namespace' }] }, /^spec\.flows\[0\]: .*allowSameNamespace/],
    ['peer to peer', { namespaceSelector: {}, peers: [MONITORING, DB], flows: [{ from: 'monitoring', to: 'payments-db' }] }, /^spec\.flows\[0\]: .*does not touch "namespace"/],
    ['namespace beside a peer on one side', { namespaceSelector: {}, peers: [MONITORING, DB], flows: [{ from: ['namespace', 'monitoring'], to: 'payments-db' }] }, /^spec\.flows\[0\]\.from: lists "namespace" together with peers/],
    ['a peer named namespace', { namespaceSelector: {}, peers: [{ name: 'namespace', namespaceSelector: {} }] }, /^spec\.peers\[0\]\.name: "namespace" is reserved/],
    ['an unknown peer, with a guess', { namespaceSelector: {}, peers: [MONITORING], flows: [{ from: 'monitorin', to: 'namespace' }] }, /^spec\.flows\[0\]\.from\[0\]|^spec\.flows\[0\]\.from: unknown peer "monitorin".*did you mean "monitoring"/],
    ['a podSelector peer without namespaceSelector (as for SegmentationIntent)', { namespaceSelector: {}, peers: [{ name: 'x', podSelector: {} }] }, /^spec\.peers\[0\]\.namespaceSelector: is required with podSelector/],
    ['a bad CIDR (as for SegmentationIntent)', { namespaceSelector: {}, peers: [{ name: 'x', ipBlock: { cidr: '10.0.0.1/8' } }] }, /^spec\.peers\[0\]\.ipBlock\.cidr: .*host bits set/],
    ['an unknown field', { namespaceSelector: {}, isolation: {} }, /^spec\.isolation: unknown field/],
    ['a bad direction', { namespaceSelector: {}, directions: ['Sideways'] }, /^spec\.directions\[0\]: must be one of Ingress, Egress/],
    ['allowSameNamespace not a boolean', { namespaceSelector: {}, allowSameNamespace: 'yes' }, /^spec\.allowSameNamespace: must be true or false/],
  ];
  for (const [what, spec, expected] of cases) {
    it(`refuses ${what}`, () => {
      const found = issues(baselineObject(spec));
      assert.ok(found.some((i) => expected.test(i)), found.join('\n'));
    });
  }

  it('refuses a namespace in metadata: the kind is cluster-scoped', () => {
    const found = issues({ ...baselineObject({ namespaceSelector: {} }), metadata: { name: 'b', namespace: 'x' } });
    assert.ok(found.some((i) => /^metadata\.namespace: unknown field/.test(i)), found.join('\n'));
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (spec, flows) => {
        validateBaseline(baselineObject({ namespaceSelector: {}, spec, flows } as Record<string, unknown>));
        validateBaseline(spec);
      }),
      { numRuns: 300 },
    );
  });
});
