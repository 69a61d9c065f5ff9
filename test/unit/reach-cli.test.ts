/** `netseg reach`, run in-process through main() with captured output: formats, questions, exit codes. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'netpol');
const CLUSTER = path.join(FIXTURES, 'cluster.yaml');
const DOC_POLICY = path.join(FIXTURES, 'test-network-policy.yaml');
const SHOP = path.join(ROOT, 'examples', 'shop');

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', 'reach', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

interface Entry {
  from: string;
  to: string;
  port: number;
  protocol: string;
  allowed: boolean;
}

function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-reach-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('netseg reach', () => {
  it('prints one JSON entry per ordered pod pair and declared port with --per-pod, in a stable order, self included', async () => {
    const r = await run('-f', CLUSTER, DOC_POLICY, '-o', 'json', '--per-pod');
    assert.strictEqual(r.code, 0, r.err);
    const { results } = JSON.parse(r.out) as { results: Entry[] };
    // 4 pods; declared ports: db-0 6379, frontend 80, app none, other/frontend 80 → 3 columns.
    assert.strictEqual(results.length, 4 * 3);
    assert.deepStrictEqual(Object.keys(results[0] as object), ['from', 'to', 'port', 'protocol', 'allowed']);
    const sorted = [...results].sort((a, b) => (a.from + a.to).localeCompare(b.from + b.to) || a.port - b.port);
    assert.deepStrictEqual(results, sorted);
    const find = (from: string, to: string): Entry | undefined => results.find((e) => e.from === from && e.to === to);
    assert.strictEqual(find('default/db-0', 'default/db-0')?.allowed, true, 'a pod reaches itself');
    assert.strictEqual(find('myproject/app', 'default/db-0')?.allowed, true);
    assert.strictEqual(find('other/frontend', 'default/db-0')?.allowed, false);
    assert.strictEqual(find('default/db-0', 'other/frontend')?.allowed, false, 'db egress only to 10.0.0.0/24');
    assert.strictEqual(find('other/frontend', 'default/frontend-7d9f8c6b5-abcde')?.port, 80);
  });

  it('answers one question and names the rule that allows it', async () => {
    const r = await run('-f', CLUSTER, DOC_POLICY, '--from', 'myproject/app', '--to', 'default/db-0', '--port', '6379');
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /myproject\/app -> default\/db-0 TCP\/6379: ALLOWED/);
    assert.match(r.out, /ingress of default\/db-0: allowed by default\/test-network-policy rule 0/);
    assert.match(r.out, /egress of myproject\/app: allowed: no NetworkPolicy isolates it/);
  });

  it('names the isolating policies of a denied question, as JSON with -o json', async () => {
    const r = await run('-f', CLUSTER, DOC_POLICY, '--from', '172.17.1.9', '--to', 'default/db-0', '--port', '6379', '-o', 'json');
    assert.strictEqual(r.code, 0, r.err);
    const v = JSON.parse(r.out) as { allowed: boolean; ingress: { kind: string; isolatedBy: string[] }; egress: { kind: string } };
    assert.strictEqual(v.allowed, false);
    assert.deepStrictEqual(v.ingress, { kind: 'denied', allowed: false, isolatedBy: ['default/test-network-policy'] });
    assert.strictEqual(v.egress.kind, 'not-applicable');
  });

  it('answers --queries in order, with IPs and undeclared ports', async () => {
    const queries = [
      { from: 'default/db-0', to: '10.0.0.9', port: 5978, protocol: 'TCP' },
      { from: 'default/db-0', to: '10.0.0.9', port: 5978, protocol: 'UDP' },
      { from: '172.17.0.3', to: 'default/db-0', port: 6379 },
      { from: 'other/frontend', to: 'myproject/app', port: 12345, protocol: 'SCTP' },
    ];
    const r = await run('-f', CLUSTER, DOC_POLICY, '--queries', tmpFile('q.json', JSON.stringify(queries)), '-o', 'json');
    assert.strictEqual(r.code, 0, r.err);
    assert.deepStrictEqual(JSON.parse(r.out), {
      results: [
        { from: 'default/db-0', to: '10.0.0.9', port: 5978, protocol: 'TCP', allowed: true },
        { from: 'default/db-0', to: '10.0.0.9', port: 5978, protocol: 'UDP', allowed: false },
        { from: '172.17.0.3', to: 'default/db-0', port: 6379, protocol: 'TCP', allowed: true },
        { from: 'other/frontend', to: 'myproject/app', port: 12345, protocol: 'SCTP', allowed: true },
      ],
    });
  });

  it('compiles intents on the fly: the shop intent opens frontend → backend on its named port only', async () => {
    const ask = (from: string, to: string, port: string): Promise<{ code: number; out: string }> =>
      run('-f', SHOP, '--from', from, '--to', to, '--port', port, '-o', 'json');
    const allowed = JSON.parse((await ask('shop/frontend-7d9f8', 'shop/backend-5c4b2', '9000')).out) as { allowed: boolean; ingress: { allowedBy: { policy: string }[] } };
    assert.strictEqual(allowed.allowed, true);
    assert.match(allowed.ingress.allowedBy[0]?.policy ?? '', /^shop\/shop\.backend/);
    assert.strictEqual((JSON.parse((await ask('shop/frontend-7d9f8', 'shop/backend-5c4b2', '9090')).out) as { allowed: boolean }).allowed, false);
    assert.strictEqual((JSON.parse((await ask('shop/debug-shell', 'shop/db-0', '5432')).out) as { allowed: boolean }).allowed, false);
  });

  it('skips DryRun intents: they apply nothing, so nothing is isolated', async () => {
    const intent = fs.readFileSync(path.join(SHOP, 'intent.yaml'), 'utf8').replace('spec:\n', 'spec:\n  enforcement: DryRun\n');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-reach-'));
    fs.writeFileSync(path.join(dir, 'intent.yaml'), intent);
    fs.copyFileSync(path.join(SHOP, 'pods.yaml'), path.join(dir, 'pods.yaml'));
    fs.copyFileSync(path.join(SHOP, 'services.yaml'), path.join(dir, 'services.yaml'));
    const r = await run('-f', dir, '--from', 'shop/debug-shell', '--to', 'shop/db-0', '--port', '5432', '-o', 'json');
    assert.strictEqual((JSON.parse(r.out) as { allowed: boolean }).allowed, true);
  });

  it('prints one row per destination and ports by default, with the sources that have exactly them', async () => {
    const r = await run('-f', SHOP);
    assert.strictEqual(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[0] ?? '', /^TO\s+ALLOWED\s+PARTIAL\s+FROM$/);
    assert.deepStrictEqual(
      lines.slice(1, 5).map((l) => l.split(/\s+/)),
      [
        ['ingress-nginx/ingress-nginx', '80/TCP', '443/TCP', '-', '*'],
        ['shop/backend', '9000/TCP', '-', 'shop/frontend'],
        ['shop/frontend', '8080/TCP', '-', 'ingress-nginx/ingress-nginx'],
        ['shop/postgres', '5432/TCP', '-', 'shop/backend'],
      ],
    );
    assert.strictEqual(lines[5], '', 'nothing reaches the isolated debug pod');
  });

  it('prints the same rows as JSON by default, with the workloads and their pod counts', async () => {
    const r = await run('-f', CLUSTER, DOC_POLICY, '-o', 'json');
    assert.strictEqual(r.code, 0, r.err);
    const out = JSON.parse(r.out) as { workloads: { name: string; pods: number }[]; connections: { from: string[]; to: string; allowed: string[]; partial: unknown[] }[] };
    assert.deepStrictEqual(out.workloads.map((w) => w.name), ['default/frontend', 'default/redis', 'myproject/app', 'other/frontend']);
    assert.deepStrictEqual(out.connections.filter((c) => c.to === 'default/redis'), [
      { from: ['default/frontend', 'myproject/app'], to: 'default/redis', allowed: ['6379/TCP'], partial: [] },
    ]);
  });

  it('marks a port open for only some pod pairs as partial, with the counts', async () => {
    const pods = ['a', 'b'].map((n) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 's', name: `web-${n}`, labels: { app: 'web', id: n } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } }));
    const db = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 's', name: 'db', labels: { app: 'db' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 5432 }, { containerPort: 5433 }] }] } };
    const policy = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 's', name: 'db' },
      spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { id: 'a' } } }], ports: [{ port: 5432, endPort: 5433 }] }] },
    };
    const file = tmpFile('c.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...pods, db, policy] }));
    const r = await run('-f', file, '-o', 'json');
    const out = JSON.parse(r.out) as { connections: { from: string[]; to: string }[] };
    assert.deepStrictEqual(out.connections.find((c) => c.to === 's/db'), { from: ['s/web'], to: 's/db', allowed: [], partial: [{ ports: '5432-5433/TCP', pairs: 1, of: 2 }] });
    const table = await run('-f', file);
    assert.match(table.out, /^s\/db\s+-\s+5432-5433\/TCP \(1\/2\)\s+s\/web$/m);
  });

  it('draws the allowed flows as dot and as mermaid', async () => {
    const dot = await run('-f', SHOP, '-o', 'dot');
    assert.match(dot.out, /^digraph reach \{/);
    assert.match(dot.out, /w\d+ -> w\d+ \[label="5432\/TCP"\];/);
    const mermaid = await run('-f', SHOP, '-o', 'mermaid');
    assert.match(mermaid.out, /^flowchart LR/);
    assert.match(mermaid.out, /-->\|"9000\/TCP"\|/);
    assert.doesNotMatch(mermaid.out, /shop\/debug.*-->/, 'nothing reaches the isolated debug pod');
  });

  it('exits 2 on an unknown pod, a half question or an unknown format, 1 on an unreadable file', async () => {
    assert.strictEqual((await run('-f', CLUSTER, '--from', 'x/nope', '--to', 'default/db-0', '--port', '1')).code, 2);
    assert.strictEqual((await run('-f', CLUSTER, '--from', 'default/db-0')).code, 2);
    assert.strictEqual((await run('-f', CLUSTER, '-o', 'yaml')).code, 2);
    assert.strictEqual((await run('-f', CLUSTER, '--per-pod')).code, 2, '--per-pod goes with -o json');
    assert.strictEqual((await run('-f', CLUSTER, '--from', '1.1.1.1', '--to', '2.2.2.2', '--port', '1')).code, 2);
    const missing = await run('-f', path.join(FIXTURES, 'no-such-file.yaml'));
    assert.strictEqual(missing.code, 1);
    assert.match(missing.err, /no such file/);
  });

  it('exits 1 on a netseg.io object of an apiVersion it does not know, instead of reporting the namespace open', async () => {
    const intent = fs.readFileSync(path.join(SHOP, 'intent.yaml'), 'utf8').replace('netseg.io/v1alpha1', 'netseg.io/v1beta1');
    const file = tmpFile('intent.yaml', intent);
    const r = await run('-f', path.join(SHOP, 'namespace.yaml'), path.join(SHOP, 'pods.yaml'), file, '-o', 'json');
    assert.strictEqual(r.code, 1);
    assert.strictEqual(r.out, '');
    assert.strictEqual(r.err, `error: ${file}#1: apiVersion "netseg.io/v1beta1" is not a netseg apiVersion this netseg knows: use netseg.io/v1alpha1\n`);
  });
});
