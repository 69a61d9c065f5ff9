/**
 * The NetworkPolicy examples of the Kubernetes documentation, as YAML (test/fixtures/netpol/), evaluated
 * against a small cluster file, with the answers the documentation gives in its prose.
 */
import * as assert from 'assert';
import * as path from 'path';
import { loadCluster } from '../../src/cli/cluster-input';
import type { Protocol } from '../../src/model/kubernetes';
import { type Cluster, buildCluster, evaluate, resolveEndpoint } from '../../src/reach';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'netpol');

function load(...files: string[]): Cluster {
  const loaded = loadCluster(files.map((f) => path.join(FIXTURES, f)));
  assert.deepStrictEqual(loaded.errors, []);
  return buildCluster(loaded.input);
}

function allowed(c: Cluster, from: string, to: string, port: number, protocol: Protocol = 'TCP'): boolean {
  const f = resolveEndpoint(c, from);
  const t = resolveEndpoint(c, to);
  assert.ok(f && t, `${from} or ${to} unknown`);
  return evaluate(c, { from: f, to: t, port, protocol }).allowed;
}

describe('reach: the documentation examples as YAML', () => {
  describe('test-network-policy (the NetworkPolicy resource example)', () => {
    const c = load('cluster.yaml', 'test-network-policy.yaml');
    const rows: [string, string, string, number, boolean][] = [
      ['"pods in the default namespace with the label role=frontend" reach role=db on TCP 6379', 'default/frontend-7d9f8c6b5-abcde', 'default/db-0', 6379, true],
      ['"any pod in a namespace with the label project=myproject" reaches role=db on 6379', 'myproject/app', 'default/db-0', 6379, true],
      ['"IP addresses in the ranges 172.17.0.0–172.17.0.255 and 172.17.2.0–172.17.255.255" reach role=db', '172.17.2.4', 'default/db-0', 6379, true],
      ['172.17.1.0/24 is excepted from the ipBlock', '172.17.1.4', 'default/db-0', 6379, false],
      ['a role=frontend pod of another namespace is not admitted (podSelector peers are namespace-local)', 'other/frontend', 'default/db-0', 6379, false],
      ['only port 6379 is open to the allowed sources', 'myproject/app', 'default/db-0', 6380, false],
      ['egress of role=db: "connections from any pod ... to CIDR 10.0.0.0/24 on TCP port 5978"', 'default/db-0', '10.0.0.7', 5978, true],
      ['egress of role=db to other addresses is denied', 'default/db-0', '10.0.1.7', 5978, false],
      ['egress of role=db to a pod is denied (no ipBlock covers pod IPs here)', 'default/db-0', 'default/frontend-7d9f8c6b5-abcde', 80, false],
      ['pods the policy does not select stay open', 'other/frontend', 'default/frontend-7d9f8c6b5-abcde', 80, true],
    ];
    for (const [name, from, to, port, want] of rows) it(name, () => assert.strictEqual(allowed(c, from, to, port), want));
  });

  describe('default deny and allow all', () => {
    const c = load('cluster.yaml', 'default-deny-ingress.yaml', 'allow-all-ingress.yaml', 'default-deny-all-egress.yaml');
    it('default-deny-ingress: "ensures that even pods that aren\'t selected by any other NetworkPolicy will still be isolated for ingress"', () => {
      assert.strictEqual(allowed(c, 'default/db-0', 'other/frontend', 80), false);
    });
    it('default-deny-ingress "does not affect isolation for egress from any pod"', () => {
      assert.strictEqual(allowed(c, 'other/frontend', 'default/db-0', 6379), true);
    });
    it('allow-all-ingress: "all incoming connections to all pods in that namespace" are allowed (from outside too)', () => {
      assert.strictEqual(allowed(c, '198.51.100.9', 'myproject/app', 8080), true);
    });
    it('default-deny-egress isolates myproject pods for egress', () => {
      assert.strictEqual(allowed(c, 'myproject/app', 'default/db-0', 6379), false);
    });
    it('multi-port-egress: "allows ... TCP, within the range 32000-32768" to 10.0.0.0/24', () => {
      assert.strictEqual(allowed(c, 'myproject/app', '10.0.0.42', 32768), true);
      assert.strictEqual(allowed(c, 'myproject/app', '10.0.0.42', 32769), false);
      assert.strictEqual(allowed(c, 'myproject/app', '10.0.0.42', 32000, 'UDP'), false);
    });
  });
});
