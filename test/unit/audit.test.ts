/** `netseg audit` on files: each kind of finding, the exit code policy, and the output formats. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { type Finding, audit } from '../../src/audit';
import { compileIntents, referencedObjects, sortObjects } from '../../src/cli/cluster-input';
import { memoryIO } from '../../src/cli/io';
import { loadManifests } from '../../src/cli/load';
import { main } from '../../src/cli/main';
import { SPEC_HASH_ANNOTATION, specHash } from '../../src/compile';
import type { NetworkPolicy } from '../../src/model/kubernetes';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'netpol');
const SHOP = path.join(ROOT, 'examples', 'shop');

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', 'audit', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

function auditFiles(...files: string[]): Finding[] {
  const loaded = loadManifests(files);
  assert.deepStrictEqual(loaded.errors, []);
  const objects = sortObjects(loaded.objects);
  const { compiled, errors } = compileIntents(objects.intents, referencedObjects(objects));
  assert.deepStrictEqual(errors, []);
  return audit({ objects, compiled, policiesListed: objects.policies.length > 0 });
}

function writeDir(files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-audit-'));
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

/** The shop example's policies as the operator would have applied them, with an edit. */
function shopPolicies(edit: (ps: NetworkPolicy[]) => NetworkPolicy[]): string {
  const objects = sortObjects(loadManifests([SHOP]).objects);
  const compiled = compileIntents(objects.intents, referencedObjects(objects)).compiled.flatMap((c) => c.policies);
  return writeDir({ 'policies.json': { apiVersion: 'v1', kind: 'List', items: edit(compiled) } });
}

describe('netseg audit', () => {
  const fixtureFindings = auditFiles(
    path.join(FIXTURES, 'cluster.yaml'),
    path.join(FIXTURES, 'test-network-policy.yaml'),
    path.join(FIXTURES, 'default-deny-ingress.yaml'),
    path.join(FIXTURES, 'allow-all-ingress.yaml'),
  );
  const has = (f: Partial<Finding>): boolean =>
    fixtureFindings.some((x) => Object.entries(f).every(([k, v]) => JSON.stringify((x as unknown as Record<string, unknown>)[k]) === JSON.stringify(v)));

  it('lists pods that no policy isolates, per direction', () => {
    assert.ok(has({ kind: 'unisolated-pod', pod: 'default/frontend-7d9f8c6b5-abcde', direction: 'Ingress' }));
    assert.ok(has({ kind: 'unisolated-pod', pod: 'other/frontend', direction: 'Egress' }));
    assert.ok(!has({ kind: 'unisolated-pod', pod: 'default/db-0', direction: 'Ingress' }), 'test-network-policy isolates db');
    assert.ok(!has({ kind: 'unisolated-pod', pod: 'other/frontend', direction: 'Ingress' }), 'default-deny-ingress isolates it');
  });

  it('flags a rule with no peers as admitting everyone', () => {
    assert.ok(has({ kind: 'admits-everyone', policy: 'myproject/allow-all-ingress', direction: 'Ingress', rule: 0 }));
    assert.ok(!has({ kind: 'admits-everyone', policy: 'default/test-network-policy' }));
  });

  it('flags 0.0.0.0/0, ::/0 and namespaceSelector {} peers', () => {
    const dir = writeDir({
      'p.json': {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'v4', namespace: 'a' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }] } },
          { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'v6', namespace: 'a' }, spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '::/0' } }] }] } },
          { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'all-ns', namespace: 'a' }, spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] } },
          { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'narrow', namespace: 'a' }, spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'x' } } }] }] } },
        ],
      },
    });
    const open = auditFiles(dir).filter((f) => f.kind === 'admits-everyone').map((f) => f.kind === 'admits-everyone' && `${f.policy} ${f.direction}`);
    assert.deepStrictEqual(open.sort(), ['a/all-ns Ingress', 'a/v4 Egress', 'a/v6 Ingress']);
  });

  it('lists namespaces without a default deny, per direction', () => {
    assert.ok(has({ kind: 'no-default-deny', namespace: 'default', directions: ['Ingress', 'Egress'] }));
    assert.ok(has({ kind: 'no-default-deny', namespace: 'other', directions: ['Egress'] }));
  });

  it('flags an intent workload that selects no pod (a label typo)', () => {
    const intent = fs.readFileSync(path.join(SHOP, 'intent.yaml'), 'utf8').replace('{name: db, workloadRef: {kind: StatefulSet, name: postgres}}', '{name: db, selector: {matchLabels: {app: postgress}}}');
    const dir = writeDir({ 'intent.yaml': intent, 'pods.yaml': fs.readFileSync(path.join(SHOP, 'pods.yaml'), 'utf8'), 'services.yaml': fs.readFileSync(path.join(SHOP, 'services.yaml'), 'utf8') });
    const found = auditFiles(dir).filter((f) => f.kind === 'intent-selects-nothing');
    assert.deepStrictEqual(found, [{ kind: 'intent-selects-nothing', intent: 'shop/shop', workload: 'db' }]);
  });

  it('flags a reference whose object selects no pod, naming the object, and a cross-namespace peer whose Service selects none', () => {
    const services = fs.readFileSync(path.join(SHOP, 'services.yaml'), 'utf8').replace('matchLabels: {app: postgres}', 'matchLabels: {app: postgress}');
    const dir = writeDir({ 'intent.yaml': fs.readFileSync(path.join(SHOP, 'intent.yaml'), 'utf8'), 'pods.yaml': fs.readFileSync(path.join(SHOP, 'pods.yaml'), 'utf8'), 'services.yaml': services });
    const found = auditFiles(dir).filter((f) => f.kind === 'reference-selects-nothing' || f.kind === 'intent-selects-nothing');
    assert.deepStrictEqual(found, [
      { kind: 'reference-selects-nothing', intent: 'shop/shop', endpoint: 'db', object: 'StatefulSet shop/postgres' },
      { kind: 'reference-selects-nothing', intent: 'shop/shop', endpoint: 'payments', object: 'Service payments/gateway' },
    ]);
  });

  it('lists Ingress backends no intent covers; the shop intent covers its Ingress', () => {
    const covered = auditFiles(SHOP).filter((f) => f.kind === 'uncovered-backend');
    assert.deepStrictEqual(covered, []);
    const extra = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { namespace: 'shop', name: 'admin' }, spec: { ingressClassName: 'nginx', defaultBackend: { service: { name: 'backend', port: { number: 80 } } } } };
    const dir = writeDir({ 'admin.json': extra });
    const found = auditFiles(SHOP, dir).filter((f) => f.kind === 'uncovered-backend');
    assert.deepStrictEqual(found, []);
    const other = { ...extra, metadata: { namespace: 'shop', name: 'admin' }, spec: { defaultBackend: { service: { name: 'admin', port: { number: 8080 } } } } };
    const found2 = auditFiles(SHOP, writeDir({ 'admin.json': other })).filter((f) => f.kind === 'uncovered-backend');
    assert.deepStrictEqual(found2, [{ kind: 'uncovered-backend', ingress: 'shop/admin', backend: 'admin:8080' }]);
  });

  it('finds no drift in the policies exactly as compiled', () => {
    const dir = shopPolicies((ps) => ps);
    const found = auditFiles(SHOP, dir).filter((f) => f.kind === 'drifted-policy' || f.kind === 'missing-policy');
    assert.deepStrictEqual(found, []);
  });

  it('flags a generated policy edited out-of-band (its spec no longer matches its hash annotation)', () => {
    const dir = shopPolicies((ps) => ps.map((p) => (p.metadata.name === 'shop.db.ingress' ? { ...p, spec: { ...p.spec, ingress: [{}] } } : p)));
    const drift = auditFiles(SHOP, dir).filter((f) => f.kind === 'drifted-policy');
    assert.strictEqual(drift.length, 2, JSON.stringify(drift));
    assert.ok(drift.every((d) => d.kind === 'drifted-policy' && d.policy === 'shop/shop.db.ingress' && d.intent === 'shop/shop'));
    assert.ok(drift.some((d) => d.kind === 'drifted-policy' && /hash differs/.test(d.reason)));
    assert.ok(drift.some((d) => d.kind === 'drifted-policy' && /compiles to now/.test(d.reason)));
  });

  it('flags a consistent hash that no longer matches what the intent compiles to, and a missing policy', () => {
    const dir = shopPolicies((ps) =>
      ps
        .filter((p) => p.metadata.name !== 'shop.default-deny')
        .map((p) => {
          if (p.metadata.name !== 'shop.db.ingress') return p;
          const spec = { ...p.spec, ingress: [{}] };
          // The operator writes the hash of what it applied: an old intent version looks just like this.
          const hash = specHash({ spec });
          return { ...p, spec, metadata: { ...p.metadata, annotations: { [SPEC_HASH_ANNOTATION]: hash } } };
        }),
    );
    const found = auditFiles(SHOP, dir).filter((f) => f.kind === 'drifted-policy' || f.kind === 'missing-policy');
    assert.deepStrictEqual(
      found.map((f) => `${f.kind} ${'policy' in f ? f.policy : ''}`).sort(),
      ['drifted-policy shop/shop.db.ingress', 'missing-policy shop/shop.default-deny'],
    );
  });

  it('exits 0 with findings by default, 1 with --fail-on a kind that was found, 0 for a kind that was not', async () => {
    const args = ['-f', path.join(FIXTURES, 'cluster.yaml'), path.join(FIXTURES, 'allow-all-ingress.yaml')];
    const plain = await run(...args);
    assert.strictEqual(plain.code, 0, plain.err);
    assert.match(plain.out, /^admits-everyone\s+myproject\/allow-all-ingress\s+ingress rule 0 admits everyone/m);
    assert.strictEqual((await run(...args, '--fail-on', 'admits-everyone')).code, 1);
    assert.strictEqual((await run(...args, '--fail-on', 'any')).code, 1);
    assert.strictEqual((await run(...args, '--fail-on', 'drifted-policy,missing-policy')).code, 0);
  });

  it('prints JSON with -o json', async () => {
    const r = await run('-f', path.join(FIXTURES, 'cluster.yaml'), '-o', 'json');
    const parsed = parse(r.out) as { findings: Finding[] };
    assert.ok(parsed.findings.some((f) => f.kind === 'unisolated-pod'));
  });

  it('exits 1 on a netseg.io object of an apiVersion it does not know, instead of auditing without it', async () => {
    const intent = fs.readFileSync(path.join(SHOP, 'intent.yaml'), 'utf8').replace('netseg.io/v1alpha1', 'netseg.io/v1beta1');
    const dir = writeDir({ 'intent.yaml': intent });
    const r = await run('-f', path.join(SHOP, 'namespace.yaml'), path.join(SHOP, 'pods.yaml'), dir);
    assert.strictEqual(r.code, 1);
    assert.strictEqual(r.out, '');
    assert.strictEqual(r.err, `error: ${path.join(dir, 'intent.yaml')}#1: apiVersion "netseg.io/v1beta1" is not a netseg apiVersion this netseg knows: use netseg.io/v1alpha1\n`);
  });

  it('exits 2 on usage errors and 1 on an unreadable kubeconfig', async () => {
    assert.strictEqual((await run('-f', FIXTURES, '--context', 'x')).code, 2, 'both a cluster and -f');
    assert.strictEqual((await run('-f', FIXTURES, '--fail-on', 'typo')).code, 2);
    const r = await run('--kubeconfig', path.join(os.tmpdir(), 'netseg-no-such-kubeconfig'));
    assert.strictEqual(r.code, 1);
    assert.match(r.err, /netseg-no-such-kubeconfig/);
  });
});
