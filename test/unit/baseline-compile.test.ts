/**
 * compileBaseline: each rule of API.md's "ClusterSegmentationIntent" as a table row, then the same meaning checked
 * with packets-free reachability (src/reach, which never imports the compiler) over a small cluster of selected
 * namespaces: what the baseline allows is allowed, the rest of each selected namespace is denied.
 */
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { BASELINE_TAGS, PLAIN_TAGS, baselinePolicyName, canonicalJSON, compileBaseline, compileBaselineChecked, policyName, selectsNamespace, specHash } from '../../src/compile';
import { formatIssue, validateBaseline } from '../../src/intent';
import type { NamespaceView, ValidBaseline } from '../../src/intent';
import type { Namespace, NetworkPolicy, Pod } from '../../src/model/kubernetes';
import { buildCluster, evaluate, resolveEndpoint } from '../../src/reach';
import { baselineObject } from '../fixtures/baselines';

const NOT_KUBE_SYSTEM = { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] };
const MONITORING = { name: 'monitoring', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { app: 'prometheus' } } };
const DB = { name: 'payments-db', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } }, podSelector: { matchLabels: { app: 'db' } } };
const ANYWHERE = { name: 'anywhere', namespaceSelector: {} };

function baseline(spec: Record<string, unknown>, uid?: string): ValidBaseline {
  const obj = baselineObject(spec);
  if (uid) (obj['metadata'] as Record<string, unknown>)['uid'] = uid;
  const r = validateBaseline(obj);
  if (!r.ok) assert.fail(r.issues.map(formatIssue).join('\n'));
  return r.baseline;
}

const ns = (name: string, labels: Record<string, string> = {}): NamespaceView => ({ name, labels: { 'kubernetes.io/metadata.name': name, ...labels } });

function byName(policies: NetworkPolicy[]): Map<string, NetworkPolicy> {
  return new Map(policies.map((p) => [p.metadata.name ?? '', p]));
}

const FULL = {
  namespaceSelector: NOT_KUBE_SYSTEM,
  directions: ['Ingress', 'Egress'],
  allowSameNamespace: true,
  peers: [MONITORING, DB],
  flows: [
    { from: 'monitoring', to: 'namespace', ports: [{ port: 9090 }] },
    { from: 'namespace', to: 'payments-db', ports: [{ port: 5432 }] },
  ],
};

describe('compileBaseline (API.md, ClusterSegmentationIntent)', () => {
  it('owns one NetworkPolicy per isolated direction selecting every pod; the default is Ingress only', () => {
    const only = compileBaseline(baseline({ namespaceSelector: {} }), ns('shop'));
    assert.deepEqual(only.map((p) => [p.metadata.name, p.spec.podSelector, p.spec.policyTypes]), [['baseline.cluster-ingress', {}, ['Ingress']]]);
    assert.equal(only[0]?.spec.ingress, undefined, 'nothing may enter: an empty rule list');
    const both = compileBaseline(baseline({ namespaceSelector: {}, directions: ['Ingress', 'Egress'], allowDNS: false }), ns('shop'));
    assert.deepEqual(both.map((p) => p.metadata.name), ['baseline.cluster-egress', 'baseline.cluster-ingress']);
    assert.equal(both[0]?.spec.egress, undefined);
  });

  it('writes the flows into and out of `namespace`, same-namespace traffic, and DNS', () => {
    const got = byName(compileBaseline(baseline(FULL), ns('shop')));
    assert.deepEqual(got.get('baseline.cluster-ingress')?.spec.ingress, [
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { app: 'prometheus' } } }], ports: [{ port: 9090, protocol: 'TCP' }] },
      { from: [{ podSelector: {} }] },
    ]);
    assert.deepEqual(got.get('baseline.cluster-egress')?.spec.egress, [
      { ports: [{ port: 53, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }] },
      { ports: [{ port: 5432, protocol: 'TCP' }], to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } }, podSelector: { matchLabels: { app: 'db' } } }] },
      { to: [{ podSelector: {} }] },
    ]);
  });

  const rows: [string, Record<string, unknown>, (p: Map<string, NetworkPolicy>) => void][] = [
    ['allowDNS false: no DNS rule', { namespaceSelector: {}, directions: ['Egress'], allowDNS: false }, (p) => assert.equal(p.get('baseline.cluster-egress')?.spec.egress, undefined)],
    ['allowSameNamespace false (default): no {podSelector: {}} rule', { namespaceSelector: {}, directions: ['Ingress'] }, (p) => assert.equal(p.get('baseline.cluster-ingress')?.spec.ingress, undefined)],
    [
      'a peer never admits the namespace the policy is in (the NotIn rule)',
      { namespaceSelector: {}, peers: [ANYWHERE], flows: [{ from: 'anywhere', to: 'namespace', ports: [{ port: 80 }] }] },
      (p) =>
        assert.deepEqual(p.get('baseline.cluster-ingress')?.spec.ingress?.[0]?.from, [
          { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['shop'] }] } },
        ]),
    ],
  ];
  for (const [what, spec, check] of rows) it(what, () => check(byName(compileBaseline(baseline(spec), ns('shop')))));

  describe('never cuts its own flows', () => {
    it('where a peer of `namespace → peer` lives, its pods (only) admit the other selected namespaces on the flow\'s ports', () => {
      const here = byName(compileBaseline(baseline(FULL), ns('payments')));
      const mirror = here.get('baseline.payments-db.peer-ingress');
      assert.ok(mirror, [...here.keys()].join(', '));
      assert.deepEqual(mirror.spec, {
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [
                    { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
                    { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['payments'] },
                  ],
                },
              },
            ],
            ports: [{ port: 5432, protocol: 'TCP' }],
          },
        ],
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Ingress'],
      });
      assert.equal(byName(compileBaseline(baseline(FULL), ns('shop'))).get('baseline.payments-db.peer-ingress'), undefined, 'not where the peer has no pods');
    });

    it('where a peer of `peer → namespace` lives, its pods (only) may send to the other selected namespaces, when Egress is isolated', () => {
      const here = byName(compileBaseline(baseline(FULL), ns('monitoring')));
      assert.deepEqual(here.get('baseline.monitoring.peer-egress')?.spec.podSelector, { matchLabels: { app: 'prometheus' } });
      assert.deepEqual(here.get('baseline.monitoring.peer-egress')?.spec.egress?.[0]?.ports, [{ port: 9090, protocol: 'TCP' }]);
      const ingressOnly = byName(compileBaseline(baseline({ ...FULL, directions: ['Ingress'] }), ns('monitoring')));
      assert.equal(ingressOnly.get('baseline.monitoring.peer-egress'), undefined);
    });

    it('in kube-system, when selected, kube-dns admits DNS from every selected namespace', () => {
      const b = baseline({ namespaceSelector: {}, directions: ['Ingress', 'Egress'] });
      const dns = byName(compileBaseline(b, ns('kube-system'))).get('baseline.dns-ingress');
      assert.deepEqual(dns?.spec, {
        ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 53, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }],
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        policyTypes: ['Ingress'],
      });
      assert.equal(byName(compileBaseline(baseline({ namespaceSelector: {}, allowDNS: false }), ns('kube-system'))).get('baseline.dns-ingress'), undefined);
    });

    it('and by reachability: the baseline\'s flows pass between selected namespaces, nothing else does', () => {
      const b = baseline(FULL);
      const names = ['shop', 'payments', 'monitoring', 'kube-system'];
      const namespaces: Namespace[] = names.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n, labels: { 'kubernetes.io/metadata.name': n } } }));
      const pod = (n: string, name: string, labels: Record<string, string>, ip: string): Pod => ({
        apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: n, labels }, spec: { containers: [{ name: 'c', ports: [] }] }, status: { podIP: ip },
      }) as unknown as Pod;
      const pods = [
        pod('shop', 'web', { app: 'web' }, '10.0.0.1'),
        pod('shop', 'cart', { app: 'cart' }, '10.0.0.2'),
        pod('payments', 'db', { app: 'db' }, '10.0.1.1'),
        pod('payments', 'api', { app: 'api' }, '10.0.1.2'),
        pod('monitoring', 'prom', { app: 'prometheus' }, '10.0.2.1'),
        pod('monitoring', 'grafana', { app: 'grafana' }, '10.0.2.2'),
        pod('kube-system', 'coredns', { 'k8s-app': 'kube-dns' }, '10.0.3.1'),
      ];
      const policies = names.filter((n) => selectsNamespace(b, ns(n))).flatMap((n) => compileBaseline(b, ns(n)));
      const cluster = buildCluster({ namespaces, pods, policies });
      const can = (from: string, to: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): boolean =>
        evaluate(cluster, { from: resolveEndpoint(cluster, from) as never, to: resolveEndpoint(cluster, to) as never, port, protocol }).allowed;
      const table: [string, string, number, boolean][] = [
        ['monitoring/prom', 'shop/web', 9090, true],
        ['monitoring/prom', 'payments/api', 9090, true],
        ['monitoring/grafana', 'shop/web', 9090, false],
        ['monitoring/prom', 'shop/web', 8080, false],
        ['shop/web', 'payments/db', 5432, true],
        ['shop/web', 'payments/api', 5432, false],
        ['shop/web', 'payments/db', 5433, false],
        ['payments/api', 'payments/db', 5432, true], // allowSameNamespace
        ['shop/web', 'shop/cart', 1234, true], // allowSameNamespace
        ['shop/web', 'monitoring/prom', 9090, false],
        ['payments/db', 'shop/web', 80, false],
        ['shop/web', 'kube-system/coredns', 53, true],
        ['shop/web', 'kube-system/coredns', 80, false],
      ];
      for (const [from, to, port, allowed] of table) assert.equal(can(from, to, port), allowed, `${from} -> ${to}:${port}`);
      assert.equal(can('shop/web', 'kube-system/coredns', 53, 'UDP'), true);
    });
  });

  it('labels its policies and makes the baseline their controller (by uid), and writes no ownerReference without one', () => {
    const [p] = compileBaseline(baseline({ namespaceSelector: {} }, 'u-1'), ns('shop'));
    assert.deepEqual(p?.metadata.labels, { 'app.kubernetes.io/managed-by': 'netseg-operator', 'netseg.io/cluster-intent': 'baseline' });
    assert.deepEqual(p?.metadata.ownerReferences, [{ apiVersion: 'netseg.io/v1alpha1', kind: 'ClusterSegmentationIntent', name: 'baseline', uid: 'u-1', controller: true, blockOwnerDeletion: true }]);
    assert.equal(p?.metadata.namespace, 'shop');
    assert.equal(p?.metadata.annotations?.['netseg.io/spec-hash'], specHash(p as NetworkPolicy));
    assert.equal(compileBaseline(baseline({ namespaceSelector: {} }), ns('shop'))[0]?.metadata.ownerReferences, undefined);
  });

  it('is deterministic: the same meaning in any order gives byte-identical policies, in canonical JSON', () => {
    const a = compileBaseline(baseline(FULL), ns('payments'));
    const b = compileBaseline(baseline({ ...FULL, peers: [...FULL.peers].reverse(), flows: [...FULL.flows].reverse() }), ns('payments'));
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    for (const p of a) assert.equal(JSON.stringify(p.spec), canonicalJSON(p.spec));
  });

  it('selects by the namespace\'s labels, its name label always included', () => {
    const b = baseline({ namespaceSelector: NOT_KUBE_SYSTEM });
    assert.equal(selectsNamespace(b, { name: 'kube-system', labels: {} }), false);
    assert.equal(selectsNamespace(b, { name: 'shop', labels: {} }), true);
  });

  it('refuses output over the compile budget with a path and a fix, building nothing past it', () => {
    const r = compileBaselineChecked(baseline(FULL), ns('payments'), { policySpecBytes: 100, intentSpecBytes: 1000 });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : formatIssue(r.issues[0] as never), /^spec\.[a-zA-Z[\]0-9]+: compiles to NetworkPolicy "baseline\.[a-z.-]+" whose spec is/);
  });

  describe('names (docs/baseline.md, "Names")', () => {
    it('never end in a SegmentationIntent tag, so no baseline policy can be named like an intent\'s', () => {
      for (const tag of BASELINE_TAGS) assert.ok(!PLAIN_TAGS.includes(tag));
      assert.equal(baselinePolicyName('a.b', undefined, 'cluster-ingress'), 'a.b.cluster-ingress');
      assert.notEqual(baselinePolicyName('a.b', undefined, 'cluster-ingress'), baselinePolicyName('a', 'b', 'peer-ingress'));
    });

    it('are injective over (baseline, peer, tag) and never equal an intent\'s, whatever the lengths', () => {
      const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
      const subdomain = fc.oneof(fc.array(label, { minLength: 1, maxLength: 3 }).map((p) => p.join('.')), fc.integer({ min: 230, max: 253 }).map((n) => 'a'.repeat(n)));
      const tuple = fc.record({ b: subdomain, peer: fc.option(label, { nil: undefined }), tag: fc.constantFrom(...BASELINE_TAGS) }).map((t) => ({
        ...t,
        peer: t.tag.startsWith('peer-') ? (t.peer ?? 'p') : undefined,
      }));
      fc.assert(
        fc.property(tuple, tuple, fc.option(label, { nil: undefined }), fc.constantFrom('ingress' as const, 'egress' as const, 'default-deny' as const), (x, y, w, kind) => {
          const nx = baselinePolicyName(x.b, x.peer, x.tag);
          assert.ok(nx.length <= 253);
          if (x.b !== y.b || x.peer !== y.peer || x.tag !== y.tag) assert.notEqual(nx, baselinePolicyName(y.b, y.peer, y.tag));
          assert.notEqual(nx, policyName(y.b, kind === 'default-deny' ? undefined : w, kind));
        }),
        { numRuns: 2000 },
      );
    });
  });
});
