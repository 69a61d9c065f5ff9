/** `netseg learn`, run in-process through main(): the fixtures of each format, determinism, owners, validity. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { runRender } from '../../src/cli/render';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'flows');
const fixture = (name: string): string => path.join(FIXTURES, name);
const CLUSTER = fixture('cluster.yaml');

async function learn(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', 'learn', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

function tmp(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-learn-'));
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
}

type Intent = { metadata: { name: string; namespace: string }; spec: Record<string, unknown> & { workloads: { name: string; selector: unknown }[]; peers?: Record<string, unknown>[]; flows: { from: string; to: string; ports: { port: number; protocol: string }[] }[] } };

function intents(yamlText: string): Intent[] {
  return parseAllDocuments(yamlText).map((d) => d.toJS() as Intent);
}

describe('netseg learn', () => {
  it('learns one DryRun intent per namespace from the Hubble fixture: owners, selectors, peers, counted ports', async () => {
    const r = await learn('--flows', fixture('hubble.jsonl'), '-f', CLUSTER);
    assert.strictEqual(r.code, 0, r.err);
    const [kubeSystem, shop] = intents(r.out);
    assert.deepStrictEqual(shop?.metadata, { name: 'learned', namespace: 'shop' });
    assert.deepStrictEqual(
      { enforcement: shop?.spec['enforcement'], isolation: shop?.spec['isolation'], allowDNS: shop?.spec['allowDNS'] },
      { enforcement: 'DryRun', isolation: { directions: ['Ingress'], scope: 'Workloads' }, allowDNS: false },
    );
    // Deployments and the StatefulSet by their objects' spec.selector: never pod-template-hash, pod-name or revision.
    assert.deepStrictEqual(shop?.spec.workloads, [
      { name: 'backend', selector: { matchLabels: { app: 'backend' } } },
      { name: 'db', selector: { matchLabels: { app: 'db' } } },
      { name: 'frontend', selector: { matchLabels: { app: 'frontend' } } },
    ]);
    assert.deepStrictEqual(shop?.spec.peers, [
      { name: 'ip-203-0-113-10', ipBlock: { cidr: '203.0.113.10/32' } },
      { name: 'kube-system-coredns', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
    ]);
    assert.deepStrictEqual(shop?.spec.flows.map((f) => `${f.from}->${f.to} ${f.ports.map((p) => `${p.protocol}/${p.port}`).join(',')}`), [
      'backend->db TCP/5432',
      'backend->ip-203-0-113-10 TCP/443',
      'frontend->backend TCP/8080',
      'frontend->kube-system-coredns UDP/53',
    ]);
    // Counts: one connection seen three times counts once; 3 to db; DNS once.
    assert.match(r.out, /- \{ port: 8080, protocol: TCP \} # 2 connections/);
    assert.match(r.out, /- \{ port: 5432, protocol: TCP \} # 3 connections/);
    assert.match(r.out, /- \{ port: 53, protocol: UDP \} # 1 connection\n/);
    assert.deepStrictEqual(kubeSystem?.spec.flows, [{ from: 'shop-frontend', to: 'coredns', ports: [{ port: 53, protocol: 'UDP' }] }]);
    assert.match(r.err, /malformed: .*hubble\.jsonl:15: not valid JSON/);
    assert.match(r.err, /read 15 records: 9 flows counted, ignored .*2 reply, 1 verdict DROPPED, 1 malformed/);
  });

  it('is valid by construction: `netseg render` accepts what it wrote', async () => {
    const r = await learn('--flows', fixture('hubble.jsonl'), '-f', CLUSTER, '--directions', 'Ingress,Egress');
    assert.strictEqual(r.code, 0, r.err);
    const io = memoryIO();
    assert.strictEqual(runRender([tmp('learned.yaml', r.out)], 'yaml', io), 0, io.stderr);
    assert.match(io.stdout, /policyTypes:\n\s+- Egress/);
  });

  it('writes byte-identical YAML for the same flows in any order, split across files or not', async () => {
    const lines = fs.readFileSync(fixture('hubble.jsonl'), 'utf8').trimEnd().split('\n');
    const a = await learn('--flows', fixture('hubble.jsonl'), '-f', CLUSTER);
    const reversed = tmp('r.jsonl', `${[...lines].reverse().join('\n')}\n`);
    const b = await learn('--flows', reversed, '-f', CLUSTER);
    const half1 = tmp('h1.jsonl', lines.filter((_, i) => i % 2 === 0).join('\n'));
    const half2 = tmp('h2.jsonl', lines.filter((_, i) => i % 2 === 1).join('\n'));
    const c = await learn('--flows', half2, half1, '-f', CLUSTER);
    assert.strictEqual(a.code, 0, a.err);
    assert.strictEqual(b.out, a.out);
    assert.strictEqual(c.out, a.out);
  });

  it('learns from Inspektor Gadget events: a ClusterIP is its Service\'s pods on the targetPort; a host process is an address', async () => {
    const r = await learn('--flows', fixture('ig.jsonl'), '-f', CLUSTER);
    assert.strictEqual(r.code, 0, r.err);
    const [shop] = intents(r.out);
    assert.deepStrictEqual(shop?.spec.flows.map((f) => `${f.from}->${f.to} ${f.ports.map((p) => `${p.protocol}/${p.port}`).join(',')}`), [
      'backend->db TCP/5432',
      'backend->ip-203-0-113-10 TCP/443',
      'frontend->backend TCP/8080',
      'ip-172-18-0-3->db TCP/5432',
    ]);
    assert.match(r.out, /- \{ port: 8080, protocol: TCP \} # 1 connection\n/, 'one connection to the Service, not one per pod');
    assert.match(r.err, /ig\.jsonl:7: dst\.port/);
  });

  it('reports what it cannot learn, with its connections: a Service missing from the input, pods without labels', async () => {
    const noSvc = await learn('--flows', fixture('ig.jsonl'), '-f', tmp('c.yaml', fs.readFileSync(CLUSTER, 'utf8').replace('kind: Service', 'kind: ConfigMap')));
    assert.strictEqual(noSvc.code, 0, noSvc.err);
    assert.match(noSvc.err, /warning: Service shop\/backend port TCP\/80: not in the cluster input \(give it with -f\) \(1 connections\) not learned/);
    const bare = await learn('--flows', fixture('netseg.json'));
    assert.strictEqual(bare.code, 1);
    assert.match(bare.err, /workload shop\/Pod\/db-0 \(1 connections\) not learned: no labels are known/);
    assert.strictEqual(bare.out, '');
  });

  it('names a Deployment from its ReplicaSet\'s name when the input lacks the ReplicaSet, with the pods\' stable labels', async () => {
    const pods = fs.readFileSync(CLUSTER, 'utf8').split('  - apiVersion: ').filter((d) => !/^apps\/v1/.test(d)).join('  - apiVersion: ');
    const r = await learn('--flows', fixture('netseg.json'), '-f', tmp('pods.yaml', pods));
    assert.strictEqual(r.code, 0, r.err);
    const [, shop] = intents(r.out);
    assert.deepStrictEqual(shop?.spec.workloads, [
      { name: 'backend', selector: { matchLabels: { app: 'backend', tier: 'api' } } },
      { name: 'db', selector: { matchLabels: { app: 'db' } } },
      { name: 'frontend', selector: { matchLabels: { app: 'frontend', tier: 'web' } } },
    ]);
  });

  it('keeps one workload apart from another whose labels include all of its own', async () => {
    const canary = `
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Pod, metadata: {name: web-1, namespace: shop, labels: {app: web}}, status: {podIP: 10.1.0.1}}
  - {apiVersion: v1, kind: Pod, metadata: {name: web-canary-1, namespace: shop, labels: {app: web, track: canary}}, status: {podIP: 10.1.0.2}}
  - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: shop, labels: {app: client}}, status: {podIP: 10.1.0.3}}
`;
    const flows = tmp('f.json', JSON.stringify([{ from: 'shop/client', to: 'shop/web-1', port: 80 }]));
    const r = await learn('--flows', flows, '-f', tmp('c.yaml', canary));
    assert.strictEqual(r.code, 0, r.err);
    const [shop] = intents(r.out);
    assert.deepStrictEqual(shop?.spec.workloads.find((w) => w.name === 'web-1')?.selector, {
      matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['canary'] }],
      matchLabels: { app: 'web' },
    });
  });

  it('prints a JSON List with the counts in an annotation; refuses bad --directions and unreadable files', async () => {
    const r = await learn('--flows', fixture('hubble.jsonl'), '-f', CLUSTER, '-o', 'json');
    assert.strictEqual(r.code, 0, r.err);
    const list = JSON.parse(r.out) as { kind: string; items: { metadata: { annotations: Record<string, string> } }[] };
    assert.strictEqual(list.kind, 'List');
    assert.strictEqual(list.items[1]?.metadata.annotations['netseg.io/observed-connections'], '[[3],[1],[2],[1]]');
    assert.strictEqual((await learn('--flows', fixture('hubble.jsonl'), '--directions', 'Egress')).code, 2);
    const missing = await learn('--flows', fixture('missing.jsonl'));
    assert.strictEqual(missing.code, 1);
    assert.match(missing.err, /missing\.jsonl: cannot read/);
  });
});
