/** The CLI resolves references from the cluster objects it is given (API.md v2, "Endpoints by reference"). */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { memoryIO } from '../../src/cli/io';
import { loadManifests, slim } from '../../src/cli/load';
import { main } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SHOP = path.join(ROOT, 'examples', 'shop');

async function netseg(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('netseg render with references', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-refs-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 1 naming each object it needs when the input has none of them, and prints nothing', async () => {
    const r = await netseg('render', '-f', path.join(SHOP, 'intent.yaml'));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    for (const object of ['Service shop/frontend', 'Service shop/backend', 'StatefulSet shop/postgres', 'Service payments/gateway']) {
      assert.match(r.stderr, new RegExp(`${object.replace('/', '\\/')} not found`), r.stderr);
    }
    assert.match(r.stderr, /spec\.workloads\[0\]\.service: Service shop\/frontend not found/);
  });

  it('resolves from the Services, StatefulSet and Ingress in the files: the frontend opens to the controller on its named targetPort', async () => {
    const r = await netseg('render', '-f', SHOP, '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const policies = (JSON.parse(r.stdout) as { items: { metadata: { name: string }; spec: { ingress?: { ports?: unknown[] }[] } }[] }).items;
    const frontend = policies.find((p) => p.metadata.name === 'shop.frontend.ingress');
    assert.deepEqual(frontend?.spec.ingress?.[0]?.ports, [{ port: 'http', protocol: 'TCP' }]);
  });

  it('prints uncovered Ingress backends on stderr, and still renders', async () => {
    fs.cpSync(SHOP, dir, { recursive: true });
    const extra = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { namespace: 'shop', name: 'admin' }, spec: { ingressClassName: 'nginx', defaultBackend: { service: { name: 'admin', port: { number: 8080 } } } } };
    fs.writeFileSync(path.join(dir, 'admin.json'), JSON.stringify(extra));
    const r = await netseg('render', '-f', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*Ingress backend admin\/admin:8080 is covered by no workload's service, so it opens nothing/);
    assert.ok(r.stdout.includes('kind: NetworkPolicy'));
  });

  it('names the port a Service does not have, listing its ports', async () => {
    fs.cpSync(SHOP, dir, { recursive: true });
    const intent = fs.readFileSync(path.join(SHOP, 'intent.yaml'), 'utf8').replace('ports: [{port: http}]', 'ports: [{port: 8080}]');
    fs.writeFileSync(path.join(dir, 'intent.yaml'), intent);
    const r = await netseg('render', '-f', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spec\.flows\[1\]\.ports\[0\]\.port: Service shop\/backend \("backend"\) has no port 8080; its ports: http 80\/TCP→9000/);
  });
});

describe('the loader keeps of referenced kinds only what resolution reads', () => {
  it('drops a Deployment\'s pod template and status, and an Ingress\'s annotations but its class', () => {
    const deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(10_000) }, managedFields: [{}] },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'c', image: 'i', env: [] }] } } },
      status: { replicas: 3 },
    };
    assert.deepEqual(slim(deployment), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'web' } } } });
    const ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'shop', annotations: { 'kubernetes.io/ingress.class': 'nginx', other: 'x' } }, spec: { rules: [] }, status: {} };
    assert.deepEqual(slim(ingress), { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'shop', annotations: { 'kubernetes.io/ingress.class': 'nginx' } }, spec: { rules: [] } });
  });

  it('reads the shop example\'s Services, StatefulSet and Ingress without errors', () => {
    const loaded = loadManifests([SHOP]);
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(loaded.objects.map((o) => o.object.kind).filter((k) => k !== 'Pod' && k !== 'Namespace').sort(), ['Ingress', 'SegmentationIntent', 'Service', 'Service', 'Service', 'StatefulSet']);
  });
});
