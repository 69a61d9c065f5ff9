/**
 * API.md: peers are "anything outside this namespace". A peer's namespaceSelector that could also select the
 * intent's own namespace must not admit the namespace's own pods: the compiled policy would allow more than
 * the intent says.
 */
import { strict as assert } from 'assert';
import { compile } from '../../src/compile';
import { validateIntent } from '../../src/intent';
import type { ValidIntent } from '../../src/intent';
import type { LabelSelector } from '../../src/model/kubernetes';
import { buildCluster, evaluate, resolveEndpoint } from '../../src/reach';

function valid(namespaceSelector: LabelSelector): ValidIntent {
  const r = validateIntent({
    apiVersion: 'netseg.io/v1alpha1',
    kind: 'SegmentationIntent',
    metadata: { name: 'a', namespace: 'shop' },
    spec: {
      workloads: [{ name: 'api', selector: { matchLabels: { app: 'api' } } }],
      peers: [{ name: 'outside', namespaceSelector }],
      flows: [{ from: 'outside', to: 'api', ports: [{ port: 8080 }] }],
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.intent;
}

function peerNamespaceSelector(intent: ValidIntent): LabelSelector | undefined {
  return compile(intent)[0]?.spec.ingress?.[0]?.from?.[0]?.namespaceSelector;
}

describe("compile: peers never admit the intent's own namespace", () => {
  const cases: [string, LabelSelector, boolean][] = [
    ['every namespace ({}) excludes shop by name', {}, true],
    ['a label any namespace may carry excludes shop by name', { matchLabels: { team: 'infra' } }, true],
    ['a selector naming another namespace compiles unchanged', { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } }, false],
    ['an In list without shop compiles unchanged', { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['a', 'b'] }] }, false],
    ['an In list with shop excludes shop', { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop', 'b'] }] }, true],
  ];
  for (const [name, selector, excludes] of cases) {
    it(name, () => {
      const got = peerNamespaceSelector(valid(selector));
      const notIn = got?.matchExpressions?.find((e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn');
      assert.equal(Boolean(notIn), excludes, JSON.stringify(got));
      if (excludes) assert.deepEqual(notIn?.values, ['shop']);
    });
  }

  it('a pod of the own namespace is denied by the compiled policy; a pod of another namespace is allowed', () => {
    const policies = compile(valid({}));
    const pod = (ns: string, name: string, app: string) => ({
      metadata: { name, namespace: ns, labels: { app } },
      spec: { containers: [{ ports: [{ containerPort: 8080 }] }] },
      status: { podIP: ns === 'shop' ? `10.0.0.${name.length}` : `10.1.0.${name.length}` },
    });
    const cluster = buildCluster({
      namespaces: [{ metadata: { name: 'shop' } }, { metadata: { name: 'other' } }],
      pods: [pod('shop', 'api', 'api'), pod('shop', 'stranger', 'x'), pod('other', 'client', 'y')],
      policies,
    });
    const at = (text: string) => {
      const e = resolveEndpoint(cluster, text);
      if (!e) throw new Error(`no pod ${text}`);
      return e;
    };
    const ask = (from: string): boolean => evaluate(cluster, { from: at(from), to: at('shop/api'), port: 8080, protocol: 'TCP' }).allowed;
    assert.equal(ask('other/client'), true, 'outside the namespace: the flow allows it');
    assert.equal(ask('shop/stranger'), false, 'inside the namespace: no flow names this pod');
  });
});
