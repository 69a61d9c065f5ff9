/** `netseg audit` on files: each kind of finding, the exit code policy, and the output formats. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { type Finding, audit } from '../../src/audit';
import { withApplied } from '../../src/cli/audit';
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
  return audit({ objects, compiled: withApplied(compiled, objects.intents), policiesListed: objects.policies.length > 0 });
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

  it('flags a generated policy edited out-of-band (its spec no longer matches its hash annotation), once', () => {
    const dir = shopPolicies((ps) => ps.map((p) => (p.metadata.name === 'shop.db.ingress' ? { ...p, spec: { ...p.spec, ingress: [{}] } } : p)));
    const drift = auditFiles(SHOP, dir).filter((f) => f.kind === 'drifted-policy' || f.kind === 'pending-change');
    assert.deepEqual(drift, [
      { kind: 'drifted-policy', policy: 'shop/shop.db.ingress', intent: 'shop/shop', reason: 'spec edited since it was generated (spec hash differs from its annotation)' },
    ]);
  });

  /** The shop policies with db.ingress as an older intent version wrote it (its own hash) and default-deny absent. */
  const olderVersion = (): string =>
    shopPolicies((ps) =>
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

  it('reports what intent files not yet applied would change as pending changes, not drift (a pull request)', () => {
    const found = auditFiles(SHOP, olderVersion()).filter((f) => f.kind === 'drifted-policy' || f.kind === 'missing-policy' || f.kind === 'pending-change');
    assert.deepEqual(
      found.map((f) => `${f.kind} ${'policy' in f ? f.policy : ''} ${f.kind === 'pending-change' ? f.change : ''}`).sort(),
      ['pending-change shop/shop.db.ingress update', 'pending-change shop/shop.default-deny add'],
    );
  });

  it('of an intent the operator reports applied (observedGeneration = generation): an absent policy is missing, a stale one pending', () => {
    const intent = fs.readFileSync(path.join(SHOP, 'intent.yaml'), 'utf8').replace(/^metadata:\n/m, 'metadata:\n  generation: 3\n') + 'status:\n  observedGeneration: 3\n';
    const applied = writeDir({ 'intent.yaml': intent, 'pods.yaml': fs.readFileSync(path.join(SHOP, 'pods.yaml'), 'utf8'), 'services.yaml': fs.readFileSync(path.join(SHOP, 'services.yaml'), 'utf8'), 'namespace.yaml': fs.readFileSync(path.join(SHOP, 'namespace.yaml'), 'utf8') });
    const found = auditFiles(applied, olderVersion()).filter((f) => f.kind === 'drifted-policy' || f.kind === 'missing-policy' || f.kind === 'pending-change');
    assert.deepEqual(found.map((f) => `${f.kind} ${'policy' in f ? f.policy : ''}`).sort(), ['missing-policy shop/shop.default-deny', 'pending-change shop/shop.db.ingress']);
    assert.match(JSON.stringify(found), /next reconcile/);
    // A generation the operator has not reconciled yet: pending, like a pull request's.
    const behind = writeDir({ 'intent.yaml': intent.replace('observedGeneration: 3', 'observedGeneration: 2') });
    const pending = auditFiles(path.join(SHOP, 'pods.yaml'), path.join(SHOP, 'services.yaml'), behind, olderVersion()).filter((f) => f.kind === 'missing-policy' || f.kind === 'pending-change');
    assert.ok(pending.every((f) => f.kind === 'pending-change') && pending.length === 2, JSON.stringify(pending));
  });

  it('reports a policy the intent as given no longer generates as a pending removal', () => {
    const extra = shopPolicies((ps) => {
      const p = ps.find((x) => x.metadata.name === 'shop.db.ingress') as NetworkPolicy;
      return [...ps, { ...p, metadata: { ...p.metadata, name: 'shop.cache.ingress' } }];
    });
    const found = auditFiles(SHOP, extra).filter((f) => f.kind === 'pending-change' || f.kind === 'drifted-policy');
    assert.deepEqual(found.map((f) => f.kind === 'pending-change' && `${f.policy} ${f.change}`), ['shop/shop.cache.ingress remove']);
  });

  it('exits 0 with findings by default, 1 with --fail-on a kind that was found, 0 for a kind that was not', async () => {
    const args = ['-f', path.join(FIXTURES, 'cluster.yaml'), path.join(FIXTURES, 'allow-all-ingress.yaml')];
    const plain = await run(...args, '--details');
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

  it("does not flag netseg's own policy (deploy/, the Helm chart's copy) as admitting everyone, and says so", async () => {
    for (const file of [path.join(ROOT, 'deploy', 'base', 'networkpolicy.yaml'), path.join(ROOT, 'deploy', 'helm', 'netseg', 'files', 'base-networkpolicy.yaml')]) {
      assert.deepEqual(auditFiles(file).filter((f) => f.kind === 'admits-everyone'), [], file);
      const r = await run('-f', file, '-o', 'json');
      const parsed = JSON.parse(r.out) as { notFlagged: { policy: string; direction: string; rule: number }[] };
      assert.deepEqual(parsed.notFlagged.map((o) => `${o.policy} ${o.direction} ${o.rule}`), ['netseg-system/netseg-operator Ingress 0', 'netseg-system/netseg-operator Egress 0']);
      assert.match((await run('-f', file)).out, /not flagged: netseg's own policy opens its metrics port and the API server's ports to every address by design \(netseg-system\/netseg-operator ingress rule 0, netseg-system\/netseg-operator egress rule 0\)/);
    }
    // What it opens beyond that, or the same rules for other pods, is flagged.
    const own = parse(fs.readFileSync(path.join(ROOT, 'deploy', 'base', 'networkpolicy.yaml'), 'utf8')) as NetworkPolicy;
    const wider = { ...own, metadata: { name: 'wider', namespace: 'x' }, spec: { ...own.spec, ingress: [{ ports: [{ port: 8080, protocol: 'TCP' as const }, { port: 22, protocol: 'TCP' as const }] }] } };
    const others = { ...own, metadata: { name: 'others', namespace: 'x' }, spec: { ...own.spec, podSelector: { matchLabels: { app: 'web' } } } };
    const found = auditFiles(writeDir({ 'p.json': { apiVersion: 'v1', kind: 'List', items: [wider, others] } })).filter((f) => f.kind === 'admits-everyone');
    assert.deepEqual(found.map((f) => f.kind === 'admits-everyone' && `${f.policy} ${f.direction} ${f.rule}`).sort(), ['x/others Egress 0', 'x/others Ingress 0', 'x/wider Ingress 0']);
  });

  it("counts a default deny that keeps DNS (netseg's, with allowDNS) as a default deny; one that opens more is not", () => {
    const example = path.join(ROOT, 'examples', 'billing-egress');
    const intent = fs.readFileSync(path.join(example, 'intent.yaml'), 'utf8').replace('directions: [Ingress, Egress]', 'directions: [Ingress, Egress]\n    scope: Namespace');
    const billing = writeDir({ 'intent.yaml': intent, 'namespace.yaml': fs.readFileSync(path.join(example, 'namespace.yaml'), 'utf8'), 'pods.yaml': fs.readFileSync(path.join(example, 'pods.yaml'), 'utf8') });
    const objects = sortObjects(loadManifests([billing]).objects);
    const policies = compileIntents(objects.intents, referencedObjects(objects)).compiled.flatMap((c) => c.policies);
    const deny = policies.find((p) => p.metadata.name === 'billing.default-deny') as NetworkPolicy;
    assert.ok((deny.spec.egress ?? []).length > 0, 'the generated default-deny carries the DNS rule');
    const dir = writeDir({ 'policies.json': { apiVersion: 'v1', kind: 'List', items: policies } });
    assert.deepEqual(auditFiles(billing, dir).filter((f) => f.kind === 'no-default-deny' && f.namespace === 'billing'), []);
    const opened = { ...deny, metadata: { ...deny.metadata, name: 'open' }, spec: { ...deny.spec, egress: [...(deny.spec.egress ?? []), { ports: [{ port: 443 }] }] } };
    const hand = writeDir({ 'p.json': { apiVersion: 'v1', kind: 'List', items: [opened, { ...opened, metadata: { name: 'udp', namespace: 'billing' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 5353, protocol: 'UDP' }] }] } }] } });
    // `open` still denies all ingress; neither denies all egress but DNS.
    assert.deepEqual(auditFiles(path.join(example, 'namespace.yaml'), hand).filter((f) => f.kind === 'no-default-deny' && f.namespace === 'billing'), [{ kind: 'no-default-deny', namespace: 'billing', directions: ['Egress'] }]);
  });

  it('groups the table per namespace and kind with counts and a few examples; --details and -o json list every finding', async () => {
    const r = await run('-f', ...['shop', 'billing-egress', 'monitoring'].map((e) => path.join(ROOT, 'examples', e)));
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[0] ?? '', /^NAMESPACE\s+KIND\s+COUNT\s+EXAMPLES$/);
    assert.ok(lines.includes('shop           unisolated-pod                 8  backend-5c4b2, db-0, debug-shell, … (1 more)'), r.out);
    assert.ok(lines.includes('billing        no-default-deny                1  billing'), r.out);
    const groups = lines.filter((l) => /^\S+\s+[a-z-]+\s+\d+\s/.test(l));
    const keys = groups.map((l) => l.split(/\s+/).slice(0, 2).join(' '));
    assert.equal(new Set(keys).size, keys.length, 'one line per namespace and kind');
    const total = groups.reduce((n, l) => n + Number(l.split(/\s+/)[2]), 0);
    assert.match(r.out, new RegExp(`\\n${total} finding\\(s\\) in ${groups.length} group\\(s\\); every finding: --details or -o json\\n`));
    const details = await run('-f', ...['shop', 'billing-egress', 'monitoring'].map((e) => path.join(ROOT, 'examples', e)), '--details');
    assert.equal(details.out.split('\n').filter((l) => /^[a-z-]+\s+\S+\s+\S/.test(l) && !l.startsWith('KIND')).length, total);
    const json = JSON.parse((await run('-f', SHOP, '-o', 'json')).out) as { findings: Finding[]; summary: { namespace: string; kind: string; count: number; objects: number }[] };
    assert.equal(json.summary.reduce((n, g) => n + g.count, 0), json.findings.length);
    assert.deepEqual(json.summary.find((g) => g.namespace === 'shop' && g.kind === 'unisolated-pod'), { namespace: 'shop', kind: 'unisolated-pod', count: 8, objects: 4 });
  });

  it('--kind keeps only the kinds named (repeat or comma list); an unknown kind is a usage error', async () => {
    const files = ['-f', path.join(FIXTURES, 'cluster.yaml'), path.join(FIXTURES, 'allow-all-ingress.yaml'), '-o', 'json'];
    const only = JSON.parse((await run(...files, '--kind', 'admits-everyone,no-default-deny')).out) as { findings: Finding[] };
    assert.deepEqual([...new Set(only.findings.map((f) => f.kind))].sort(), ['admits-everyone', 'no-default-deny']);
    const repeated = JSON.parse((await run(...files, '--kind', 'admits-everyone', '--kind', 'no-default-deny')).out) as { findings: Finding[] };
    assert.deepEqual(repeated, only);
    const bad = await run(...files, '--kind', 'drifted');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--kind: unknown finding kind\(s\) drifted \(use unisolated-pod, /);
    // --fail-on looks at what is shown.
    assert.equal((await run(...files, '--kind', 'no-default-deny', '--fail-on', 'admits-everyone')).code, 0);
  });

  it('exits 2 on usage errors and 1 on an unreadable kubeconfig', async () => {
    assert.strictEqual((await run('-f', FIXTURES, '--context', 'x')).code, 2, 'both a cluster and -f');
    assert.strictEqual((await run('-f', FIXTURES, '--fail-on', 'typo')).code, 2);
    const r = await run('--kubeconfig', path.join(os.tmpdir(), 'netseg-no-such-kubeconfig'));
    assert.strictEqual(r.code, 1);
    assert.match(r.err, /netseg-no-such-kubeconfig/);
  });
});
