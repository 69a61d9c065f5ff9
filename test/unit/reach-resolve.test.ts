/**
 * `reach --from/--to` take a workload or a Service where a pod is asked for, and a port name where a number
 * is: resolved to the pods and pod ports they mean (src/cli/reach-resolve.ts), answered per pod pair.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';

const pod = (name: string, labels: Record<string, string>, ports: string, owner?: string): string => `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: shop
  labels: ${JSON.stringify(labels)}
${owner ? `  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: ${owner}, uid: u-${owner}, controller: true}]\n` : ''}spec: {containers: [{name: c, ports: ${ports}}]}
`;

// web: a Deployment's two pods (owner ReplicaSet web-6d4f9c8b7). api: two pods, api-2 on another version whose
// "http" port is 9001; only 9000 is allowed to api. The Service api maps port 80 (named "web") to targetPort http.
const CLUSTER = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
${pod('web-6d4f9c8b7-aaaaa', { app: 'frontend' }, '[]', 'web-6d4f9c8b7')}${pod('web-6d4f9c8b7-bbbbb', { app: 'frontend' }, '[]', 'web-6d4f9c8b7')}${pod('api-1', { app: 'api' }, '[{name: http, containerPort: 9000}]')}${pod('api-2', { app: 'api' }, '[{name: http, containerPort: 9001}]')}${pod('db-0', { app: 'db' }, '[{name: pg, containerPort: 5432}]')}---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{name: web, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: frontend, namespace: shop}
spec: {selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{port: 9000}]}]
`;

describe('reach: workloads, Services and port names', () => {
  let dir: string;
  let file: string;
  const reach = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    const io = memoryIO();
    const code = await main(['node', 'netseg', 'reach', '-f', file, ...args], io);
    return { code, out: io.stdout, err: io.stderr };
  };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-resolve-'));
    file = path.join(dir, 'cluster.yaml');
    fs.writeFileSync(file, CLUSTER);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a workload by its owner (the Deployment, or the ReplicaSet as named) asks every pod of it; agreeing pairs are said to agree', async () => {
    const deployment = await reach('--from', 'shop/web', '--to', 'shop/api-1', '--port', '9000');
    assert.match(deployment.out, /^shop\/web \(workload, 2 pods\) -> shop\/api-1 TCP\/9000: ALLOWED for all 2 pod pairs\n/);
    const r = await reach('--from', 'shop/web-6d4f9c8b7', '--to', 'shop/api-1', '--port', '9000');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^shop\/web-6d4f9c8b7 \(workload, 2 pods\) -> shop\/api-1 TCP\/9000: ALLOWED for all 2 pod pairs\n/);
    assert.match(r.out, /shop\/web-6d4f9c8b7-aaaaa -> shop\/api-1 TCP\/9000: ALLOWED/);
    assert.match(r.out, /shop\/web-6d4f9c8b7-bbbbb -> shop\/api-1 TCP\/9000: ALLOWED/);
  });

  it('a workload by its app label, a port by its container port name, resolved per destination pod; differing pods are said to differ', async () => {
    const r = await reach('--from', 'shop/web', '--to', 'shop/api', '--port', 'http');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^shop\/web \(workload, 2 pods\) -> shop\/api \(workload, 2 pods\) TCP\/http: DIFFERS per pod: 2 of 4 pod pairs allowed, 2 denied\n/);
    assert.match(r.out, /-> shop\/api-1 TCP\/9000: ALLOWED/);
    assert.match(r.out, /-> shop\/api-2 TCP\/9001: DENIED/);
  });

  it("a Service: its selector's pods, and its port (name or number) translated to the targetPort a policy sees", async () => {
    const r = await reach('--from', 'shop/web-6d4f9c8b7-aaaaa', '--to', 'shop/service/api', '--port', '80', '-o', 'json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { to: string; port: string; verdict: string; pairs: { to: string; port: number; allowed: boolean }[] };
    assert.equal(j.to, 'shop/service/api (Service, 2 pods)');
    assert.equal(j.port, '80 (Service port 80 -> pod port http)');
    assert.equal(j.verdict, 'differs');
    assert.deepEqual(j.pairs.map((p) => [p.to, p.port, p.allowed]), [['shop/api-1', 9000, true], ['shop/api-2', 9001, false]]);
    const byName = await reach('--from', 'shop/web-6d4f9c8b7-aaaaa', '--to', 'shop/service/api', '--port', 'web');
    assert.match(byName.out, /TCP\/web \(Service port 80 -> pod port http\): DIFFERS per pod/);
  });

  it('a name that is a workload and a Service with different pods is refused, naming both ways to say it', async () => {
    const r = await reach('--from', 'shop/frontend', '--to', 'shop/api-1', '--port', '9000');
    assert.equal(r.code, 2);
    assert.match(r.err, /shop\/frontend is both a workload \(2 pods\) and a Service \(1 pod\) with different pods: say shop\/workload\/frontend or shop\/service\/frontend/);
    assert.equal((await reach('--from', 'shop/workload/frontend', '--to', 'shop/api-1', '--port', '9000')).code, 0);
  });

  it('a destination pod without the named port is named, not silently dropped; none at all is an error', async () => {
    const r = await reach('--from', 'shop/web-6d4f9c8b7-aaaaa', '--to', 'shop/db-0', '--port', 'http');
    assert.equal(r.code, 2);
    assert.match(r.err, /no pod of shop\/db-0 declares a TCP port named "http"/);
    const mixed = path.join(dir, 'queries.json');
    fs.writeFileSync(mixed, JSON.stringify([{ from: 'shop/web', to: 'shop/api', port: 'http' }]));
    const q = await reach('--queries', mixed, '-o', 'json');
    assert.equal(q.code, 0, q.err);
    const results = (JSON.parse(q.out) as { results: { from: string; to: string; port: number; allowed: boolean }[] }).results;
    assert.equal(results.length, 4, 'one result per pod pair of a workload query');
    assert.deepEqual(results.filter((x) => x.allowed).map((x) => x.to), ['shop/api-1', 'shop/api-1']);
  });

  it('still refuses what names nothing, and says what may be given', async () => {
    const r = await reach('--from', 'shop/nothing', '--to', 'shop/api-1', '--port', '9000');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown "shop\/nothing": give NAMESPACE\/POD, NAMESPACE\/WORKLOAD or NAMESPACE\/SERVICE of the files, or an IP address/);
    assert.match((await reach('--from', 'shop/web', '--to', 'shop/api-1', '--port', 'Bad_Name')).err, /must be a number from 1 to 65535, or a port name/);
  });
});
