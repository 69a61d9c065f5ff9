/**
 * `netseg verify`: the compiled policies allow exactly the intents' flows — on every example, and the proof
 * fails, naming the difference, when a flow is missing, something extra is open, or DNS is cut.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compile } from '../../src/compile';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { type IntentWithPolicies, insideAddress, satisfy, synthesize, verifyAll } from '../../src/verify';
import { validateIntent } from '../../src/intent/validate';
import type { ValidIntent } from '../../src/intent/types';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import { matchesSelector } from '../../src/reach';
import { netpol, ns, pod } from '../fixtures/netpol/builders';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', 'verify', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

function valid(spec: Record<string, unknown>, name = 'app', namespace = 'app'): ValidIntent {
  const r = validateIntent({ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name, namespace }, spec });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.intent;
}

function withPolicies(intent: ValidIntent, edit: (ps: NetworkPolicy[]) => NetworkPolicy[] = (ps) => ps): IntentWithPolicies {
  return { intent, policies: edit(compile(intent)) };
}

const TWO_TIER = {
  isolation: { directions: ['Ingress', 'Egress'] },
  workloads: [
    { name: 'web', selector: { matchLabels: { app: 'web' } } },
    { name: 'api', selector: { matchLabels: { app: 'api' }, matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] } },
  ],
  peers: [
    { name: 'lb', namespaceSelector: { matchLabels: { role: 'edge' } }, podSelector: { matchLabels: { app: 'lb' } } },
    { name: 'partner', ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.128/25'] } },
  ],
  flows: [
    { from: 'lb', to: 'web', ports: [{ port: 8443 }] },
    { from: 'web', to: 'api', ports: [{ port: 'grpc' }] },
    { from: 'api', to: 'partner', ports: [{ port: 9000, endPort: 9010 }] },
  ],
};

describe('netseg verify: the examples', () => {
  const dirs = fs.readdirSync(EXAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(EXAMPLES, d.name));

  it('has examples to verify', () => assert.ok(dirs.length > 0, 'examples/ is empty'));

  for (const dir of dirs) {
    it(`proves ${path.basename(dir)} on synthetic pods`, async () => {
      const r = await run('-f', dir);
      assert.strictEqual(r.code, 0, r.out + r.err);
      assert.match(r.out, /^OK /m);
    });
    it(`proves ${path.basename(dir)} on its own cluster file`, async () => {
      const r = await run('-f', dir, '--cluster', dir);
      assert.strictEqual(r.code, 0, r.out + r.err);
      assert.doesNotMatch(r.out, /FAIL/);
    });
  }
});

describe('netseg verify: finding differences', () => {
  const intent = valid(TWO_TIER);

  it('holds for the compiler\'s own output on synthetic pods', () => {
    const out = verifyAll([withPolicies(intent)], undefined);
    assert.deepStrictEqual(out.reports[0]?.differences, []);
    assert.strictEqual(out.reports[0]?.workloadPods, 2);
  });

  it('reports a missing flow when a rule is lost, naming the flow', () => {
    const dropLbRule = (ps: NetworkPolicy[]): NetworkPolicy[] =>
      ps.map((p) => (p.metadata.name?.includes('web.ingress') ? { ...p, spec: { ...p.spec, ingress: [] } } : p));
    const diffs = verifyAll([withPolicies(intent, dropLbRule)], undefined).reports[0]?.differences ?? [];
    assert.ok(diffs.length > 0);
    assert.ok(diffs.every((d) => d.kind === 'missing' && d.flow === 0 && d.direction === 'Ingress' && d.port === 8443), JSON.stringify(diffs));
  });

  it('reports an extra connection opened by the intent\'s own policy as such', () => {
    const widen = (ps: NetworkPolicy[]): NetworkPolicy[] =>
      ps.map((p) => (p.metadata.name?.includes('api.ingress') ? { ...p, spec: { ...p.spec, ingress: [...(p.spec.ingress ?? []), { ports: [{ port: 22 }] }] } } : p));
    const diffs = verifyAll([withPolicies(intent, widen)], undefined).reports[0]?.differences ?? [];
    const extra = diffs.find((d) => d.kind === 'extra' && d.port === 22);
    assert.ok(extra && extra.kind === 'extra' && extra.byOwnPolicy, JSON.stringify(diffs));
  });

  it('reports an extra egress to an address in the ipBlock\'s except', () => {
    const dropExcept = (ps: NetworkPolicy[]): NetworkPolicy[] =>
      ps.map((p) => ({ ...p, spec: JSON.parse(JSON.stringify(p.spec).replace(/,"except":\["203\.0\.113\.128\/25"\]/, '')) as NetworkPolicy['spec'] }));
    const diffs = verifyAll([withPolicies(intent, dropExcept)], undefined).reports[0]?.differences ?? [];
    assert.ok(diffs.some((d) => d.kind === 'extra' && d.direction === 'Egress' && d.to === '203.0.113.255' && d.port === 9000), JSON.stringify(diffs));
  });

  it('reports missing DNS when allowDNS is on and the DNS rule is gone', () => {
    const noDns = (ps: NetworkPolicy[]): NetworkPolicy[] =>
      ps.map((p) => ({ ...p, spec: { ...p.spec, egress: p.spec.egress?.filter((r) => !JSON.stringify(r).includes('kube-dns')) } }));
    const diffs = verifyAll([withPolicies(intent, noDns)], undefined).reports[0]?.differences ?? [];
    assert.deepStrictEqual(
      diffs.filter((d) => d.kind === 'missing-dns').map((d) => d.kind === 'missing-dns' && `${d.from} ${d.protocol}`).sort(),
      ['app/app-api TCP', 'app/app-api UDP', 'app/app-web TCP', 'app/app-web UDP'],
    );
  });

  it('does not check a direction the intent does not isolate', () => {
    const ingressOnly = valid({ ...TWO_TIER, isolation: { directions: ['Ingress'] } });
    const cluster = {
      namespaces: [ns('app'), ns('edge', { role: 'edge' })],
      pods: [
        pod('app/web-1', { app: 'web' }, { ports: [{ containerPort: 8443 }] }),
        pod('app/api-1', { app: 'api' }, { ports: [{ name: 'grpc', containerPort: 50051 }] }),
        pod('edge/lb-1', { app: 'lb' }),
      ],
      policies: [netpol('app/egress-lockdown', { podSelector: {}, policyTypes: ['Egress'] })],
    };
    const out = verifyAll([withPolicies(ingressOnly)], cluster);
    assert.deepStrictEqual(out.reports[0]?.differences, []);
  });

  it('exits 1 and names the other policy that opens more, on a cluster file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-verify-'));
    fs.writeFileSync(path.join(dir, 'intent.json'), JSON.stringify({ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'app', namespace: 'app' }, spec: TWO_TIER }));
    const objects = [
      ns('app'),
      ns('edge', { role: 'edge' }),
      pod('app/web-1', { app: 'web' }, { ports: [{ containerPort: 8443 }] }),
      pod('app/api-1', { app: 'api' }, { ports: [{ name: 'grpc', containerPort: 50051 }] }),
      pod('edge/lb-1', { app: 'lb' }),
      pod('edge/probe', { app: 'probe' }),
      netpol('app/allow-monitoring', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 50051 }] }] }),
    ];
    fs.writeFileSync(path.join(dir, 'cluster.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    const r = await run('-f', path.join(dir, 'intent.json'), '--cluster', path.join(dir, 'cluster.json'));
    assert.strictEqual(r.code, 1, r.out + r.err);
    assert.match(r.out, /FAIL app\/app/);
    assert.match(r.out, /extra: edge\/probe -> app\/api-1 TCP\/50051 is allowed on the ingress of app\/api-1 by app\/allow-monitoring rule 0$/m);
    assert.doesNotMatch(r.out, /edge\/lb-1 -> app\/web-1/, 'the declared flow is neither missing nor extra');
    const json = await run('-f', path.join(dir, 'intent.json'), '--cluster', path.join(dir, 'cluster.json'), '-o', 'json');
    const parsed = JSON.parse(json.out) as { reports: { differences: { kind: string }[] }[] };
    assert.ok((parsed.reports[0]?.differences.length ?? 0) > 0);
  });

  it('exits 1 on an intent of an apiVersion it does not know, naming it and the fix', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-verify-'));
    const file = path.join(dir, 'i.json');
    fs.writeFileSync(file, JSON.stringify({ apiVersion: 'netseg.io/v1beta1', kind: 'SegmentationIntent', metadata: { name: 'app', namespace: 'app' }, spec: TWO_TIER }));
    const r = await run('-f', file);
    assert.strictEqual(r.code, 1);
    assert.match(r.err, new RegExp(`^error: ${file.replace(/[.]/g, '\\.')}#1: apiVersion "netseg\\.io/v1beta1" is not a netseg apiVersion this netseg knows: use netseg\\.io/v1alpha1$`, 'm'));
  });

  it('exits 1 on an invalid intent, naming the path of the issue', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-verify-'));
    const bad = { ...TWO_TIER, flows: [{ from: 'nobody', to: 'web' }] };
    fs.writeFileSync(path.join(dir, 'i.json'), JSON.stringify({ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'app', namespace: 'app' }, spec: bad }));
    const r = await run('-f', path.join(dir, 'i.json'));
    assert.strictEqual(r.code, 1);
    assert.match(r.err, /spec\.flows\[0\]/);
  });
});

describe('netseg verify --cluster: what the intent names must be in the cluster file', () => {
  const intent = valid(TWO_TIER);
  const web = pod('app/web-1', { app: 'web' }, { ports: [{ containerPort: 8443 }] });
  const api = pod('app/api-1', { app: 'api' }, { ports: [{ name: 'grpc', containerPort: 50051 }] });
  const world = (pods: ReturnType<typeof pod>[]): Parameters<typeof verifyAll>[1] => ({ namespaces: [ns('app'), ns('edge', { role: 'edge' })], pods, policies: [] });
  const gaps = (pods: ReturnType<typeof pod>[]): unknown[] =>
    (verifyAll([withPolicies(intent)], world(pods)).reports[0]?.differences ?? []).filter((d) => d.kind === 'selects-nothing' || d.kind === 'undeclared-port');

  it('has no gap when every workload has pods and every named port is declared', () => {
    assert.deepStrictEqual(verifyAll([withPolicies(intent)], world([web, api, pod('edge/lb-1', { app: 'lb' })])).reports[0]?.differences, []);
  });

  it('fails a workload that selects no pod, naming it and its field', () => {
    const typo = pod('app/api-1', { app: 'apii' }, { ports: [{ name: 'grpc', containerPort: 50051 }] });
    assert.deepStrictEqual(gaps([web, typo]), [{ kind: 'selects-nothing', workload: 'api', namespace: 'app', field: 'spec.workloads[1].selector' }]);
  });

  it('fails a named flow port that no destination pod declares, or declares for another protocol', () => {
    const want = [{ kind: 'undeclared-port', field: 'spec.flows[1].ports[0].port', port: 'grpc', protocol: 'TCP', to: 'api' }];
    assert.deepStrictEqual(gaps([web, pod('app/api-1', { app: 'api' }, { ports: [{ name: 'grpc-web', containerPort: 50051 }] })]), want);
    assert.deepStrictEqual(gaps([web, pod('app/api-1', { app: 'api' }, { ports: [{ name: 'grpc', containerPort: 50051, protocol: 'UDP' }] })]), want);
  });

  it('passes a named port that one of several destination pods declares', () => {
    assert.deepStrictEqual(gaps([web, api, pod('app/api-2', { app: 'api' })]), []);
  });

  it('checks a peer destination\'s named port only when the file holds its pods: its namespace is often not there', () => {
    const toPeer = valid({ ...TWO_TIER, flows: [...TWO_TIER.flows, { from: 'web', to: 'lb', ports: [{ port: 'https' }] }] });
    const peerGaps = (pods: ReturnType<typeof pod>[]): unknown[] =>
      (verifyAll([withPolicies(toPeer)], world(pods)).reports[0]?.differences ?? []).filter((d) => d.kind === 'undeclared-port');
    assert.deepStrictEqual(peerGaps([web, api]), []);
    assert.deepStrictEqual(peerGaps([web, api, pod('edge/lb-1', { app: 'lb' }, { ports: [{ name: 'https', containerPort: 443 }] })]), []);
    assert.deepStrictEqual(peerGaps([web, api, pod('edge/lb-1', { app: 'lb' }, { ports: [{ name: 'http', containerPort: 80 }] })]), [
      { kind: 'undeclared-port', field: 'spec.flows[3].ports[0].port', port: 'https', protocol: 'TCP', to: 'lb' },
    ]);
  });

  it('exits 1 naming the intent, the workload and the field of each gap, where it used to say OK', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-verify-'));
    const shop = fs.readFileSync(path.join(EXAMPLES, 'shop', 'intent.yaml'), 'utf8');
    fs.writeFileSync(path.join(dir, 'label-typo.yaml'), shop.replace('{name: db, workloadRef: {kind: StatefulSet, name: postgres}}', '{name: db, selector: {matchLabels: {app: postgress}}}'));
    const label = await run('-f', path.join(dir, 'label-typo.yaml'), '--cluster', path.join(EXAMPLES, 'shop'));
    assert.strictEqual(label.code, 1, label.out);
    assert.match(label.out, /^FAIL shop\/shop: /m);
    assert.match(label.out, /^ {2}selects nothing: workload db \(spec\.workloads\[2\]\.selector\) selects no pod of namespace shop in the cluster file/m);
    fs.writeFileSync(path.join(dir, 'port-typo.yaml'), shop.replace('[{port: postgres}]', '[{port: postgress}]'));
    const port = await run('-f', path.join(dir, 'port-typo.yaml'), '--cluster', path.join(EXAMPLES, 'shop'));
    assert.strictEqual(port.code, 1, port.out);
    assert.match(port.out, /^ {2}undeclared port: spec\.flows\[2\]\.ports\[0\]\.port "postgress": no pod of db declares a TCP container port named "postgress"/m);
    const json = await run('-f', path.join(dir, 'port-typo.yaml'), '--cluster', path.join(EXAMPLES, 'shop'), '-o', 'json');
    assert.strictEqual(json.code, 1);
    const parsed = JSON.parse(json.out) as { reports: { intent: string; differences: { kind: string; field?: string }[] }[] };
    assert.deepStrictEqual(parsed.reports[0]?.differences, [{ kind: 'undeclared-port', field: 'spec.flows[2].ports[0].port', port: 'postgress', protocol: 'TCP', to: 'db' }]);
  });
});

describe('netseg verify: label keys named like Object members', () => {
  const spec = (web: Record<string, unknown>): Record<string, unknown> => ({
    workloads: [
      { name: 'web', selector: web },
      { name: 'api', selector: { matchLabels: { app: 'api' } } },
    ],
    flows: [{ from: 'api', to: 'web', ports: [{ port: 8080 }] }],
  });
  const selectors: [string, Record<string, unknown>][] = [
    ['Exists constructor', { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }],
    ['In toString', { matchExpressions: [{ key: 'toString', operator: 'In', values: ['a'] }] }],
    ['matchLabels hasOwnProperty', { matchLabels: { hasOwnProperty: 'x' } }],
  ];
  const dropWebIngress = (ps: NetworkPolicy[]): NetworkPolicy[] =>
    ps.map((p) => (p.metadata.name?.includes('web.ingress') ? { ...p, spec: { ...p.spec, ingress: [] } } : p));

  for (const [name, selector] of selectors) {
    it(`checks a workload selected by ${name} on synthetic pods instead of skipping it`, () => {
      const out = verifyAll([withPolicies(valid(spec(selector)))], undefined);
      assert.strictEqual(out.reports[0]?.workloadPods, 2, JSON.stringify(out));
      assert.deepStrictEqual(out.notes, []);
      assert.deepStrictEqual(out.reports[0]?.differences, []);
    });
    it(`finds a lost rule into a workload selected by ${name}`, () => {
      const diffs = verifyAll([withPolicies(valid(spec(selector)), dropWebIngress)], undefined).reports[0]?.differences ?? [];
      assert.ok(diffs.some((d) => d.kind === 'missing' && d.to === 'app/app-web' && d.port === 8080), JSON.stringify(diffs));
    });
  }

  it('on a cluster file, selects by `constructor` only the pod that carries it', () => {
    const intent = valid(spec({ matchLabels: { constructor: 'x' } }));
    const marked = pod('app/marked', JSON.parse('{"constructor": "x"}') as Record<string, string>, { ports: [{ containerPort: 8080 }] });
    const plain = pod('app/plain', { app: 'web' }, { ports: [{ containerPort: 8080 }] });
    const api = pod('app/api-1', { app: 'api' });
    const out = verifyAll([withPolicies(intent)], { namespaces: [ns('app')], pods: [marked, plain, api], policies: [] });
    assert.strictEqual(out.reports[0]?.workloadPods, 2, 'marked and api-1, not plain');
    assert.deepStrictEqual(out.reports[0]?.differences, []);
  });
});

describe('netseg verify: synthetic pods', () => {
  const cases: [string, Parameters<typeof satisfy>[0]][] = [
    ['matchLabels', { matchLabels: { a: '1', b: '2' } }],
    ['In picks a listed value', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['x', 'y'] }] }],
    ['NotIn is met by leaving the key out', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }],
    ['Exists sets the key', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }],
    ['DoesNotExist leaves it out', { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }] }],
    ['Exists on a key named like an Object member', { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }],
    ['In on a key named like an Object member', { matchExpressions: [{ key: 'toString', operator: 'In', values: ['a'] }] }],
    ['matchLabels and Exists on keys named like Object members', { matchLabels: { hasOwnProperty: 'x' }, matchExpressions: [{ key: 'valueOf', operator: 'Exists' }] }],
  ];
  for (const [name, sel] of cases) it(`labels satisfy the selector: ${name}`, () => assert.ok(matchesSelector(sel, satisfy(sel))));

  it('names a peer namespace after its kubernetes.io/metadata.name selector and declares named flow ports', () => {
    const w = synthesize([valid({ ...TWO_TIER, peers: [{ name: 'lb', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } }, TWO_TIER.peers[1]] })]);
    assert.ok(w.namespaces.some((n) => n.metadata.name === 'ingress'));
    const api = w.pods.find((p) => p.metadata.name === 'app-api');
    assert.deepStrictEqual(api?.spec?.containers?.[0]?.ports?.map((p) => p.name), ['grpc']);
  });

  it('picks an ipBlock representative inside the cidr and outside every except', () => {
    assert.strictEqual(insideAddress('10.0.0.0/24', ['10.0.0.128/25']), '10.0.0.0');
    assert.strictEqual(insideAddress('10.0.0.0/24', ['10.0.0.0/25']), '10.0.0.255');
    assert.strictEqual(insideAddress('10.0.0.0/24', ['10.0.0.0/24']), undefined);
    assert.strictEqual(insideAddress('2001:db8::/64', ['2001:db8::/65']), '2001:db8:0:0:ffff:ffff:ffff:ffff');
  });
});
