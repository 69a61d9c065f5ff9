import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { runRender } from '../../src/cli/render';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import { overPolicyBudget } from '../fixtures/intents/hostile';
import { SHOP_INTENT_YAML, WEB_POD_YAML } from '../fixtures/manifests';

const INTENT = SHOP_INTENT_YAML;
const POD = WEB_POD_YAML;
const BROKEN = `apiVersion: netseg.io/v1alpha1
kind: SegmentationIntent
metadata: {name: bad, namespace: shop}
spec:
  workloads:
    - {name: web, selector: {matchLabels: {app: web}}}
  flows:
    - {from: web, to: apii, ports: [{port: 0}]}
`;

describe('netseg render', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-render-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function netseg(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const io = memoryIO();
    const code = await main(['node', 'netseg', ...args], io);
    return { code, stdout: io.stdout, stderr: io.stderr };
  }

  it('prints the policies of every intent as multi-document YAML by default, ignoring other kinds', async () => {
    const r = await netseg('render', '-f', file('all.yaml', `${POD}---\n${INTENT}`));
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => (Array.isArray(d) ? d : d.toJS()) as NetworkPolicy);
    assert.deepEqual(docs.map((d) => d.metadata.name), ['shop.api.ingress', 'shop.web.ingress']);
    assert.ok(docs.every((d) => d.kind === 'NetworkPolicy'));
  });

  it('prints a v1 List with -o json', async () => {
    const r = await netseg('render', '-f', file('i.yaml', INTENT), '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { apiVersion: string; kind: string; items: NetworkPolicy[] };
    assert.equal(list.apiVersion, 'v1');
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items.map((p) => p.metadata.name), ['shop.api.ingress', 'shop.web.ingress']);
  });

  it('reads folders recursively and in name order', async () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    file('sub/b.yaml', INTENT.replace(/shop/g, 'zoo'));
    file('a.yaml', INTENT);
    const r = await netseg('render', '-f', dir, '-o', 'json');
    const names = (JSON.parse(r.stdout) as { items: NetworkPolicy[] }).items.map((p) => p.metadata.name);
    assert.deepEqual(names, ['shop.api.ingress', 'shop.web.ingress', 'zoo.api.ingress', 'zoo.web.ingress']);
  });

  it('exits 1 on an invalid intent, naming file, document and path of every error, and prints nothing on stdout', async () => {
    const f = file('mixed.yaml', `${INTENT}---\n${BROKEN}`);
    const r = await netseg('render', '-f', f);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(lines, [
      `netseg render: ${f}#2: SegmentationIntent bad: spec.flows[0].to: unknown workload or peer "apii" (known: web)`,
      `netseg render: ${f}#2: SegmentationIntent bad: spec.flows[0].ports[0].port: must be a port number 1-65535 or a port name, not the number 0`,
    ]);
  });

  it('exits 1 on an intent over the compile budget, naming the workload and the limit, as the operator refuses it', async () => {
    const { peers, flows } = overPolicyBudget('web');
    const big = { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'big', namespace: 'shop' },
      spec: { workloads: [{ name: 'web', selector: { matchLabels: { app: 'web' } } }], peers, flows } };
    const f = file('big.json', JSON.stringify(big));
    const r = await netseg('render', '-f', f);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /SegmentationIntent big: spec\.workloads\[0\]: compiles to NetworkPolicy "big\.web\.ingress" whose spec is .* over the 64\.0 KiB limit/);
  });

  it('exits 1 on unreadable YAML and on a missing file, printing nothing on stdout', () => {
    const io = memoryIO();
    const code = runRender([file('bad.yaml', 'a: [unclosed'), path.join(dir, 'missing.yaml')], 'yaml', io);
    assert.equal(code, 1);
    assert.equal(io.stdout, '');
    assert.match(io.stderr, /bad\.yaml#1: line \d+, column \d+: not valid YAML/);
    assert.match(io.stderr, /missing\.yaml: no such file or folder/);
  });

  it('exits 1 and says so when the files hold no intent: an empty render is a mistake, not success', () => {
    const io = memoryIO();
    const f = file('pod.yaml', POD);
    assert.equal(runRender([f], 'yaml', io), 1);
    assert.equal(io.stdout, '');
    assert.equal(io.stderr, `netseg render: no SegmentationIntent or ClusterSegmentationIntent in ${f}: nothing to render\n`);
  });

  const lookalikes: [string, string, string, string][] = [
    ['a newer apiVersion', 'netseg.io/v1beta1', 'SegmentationIntent', 'apiVersion "netseg.io/v1beta1" is not a netseg apiVersion this netseg knows: use netseg.io/v1alpha1'],
    ['the group without .io', 'netseg/v1alpha1', 'SegmentationIntent', 'apiVersion "netseg/v1alpha1" is not a netseg apiVersion this netseg knows: use netseg.io/v1alpha1'],
    ['a subdomain of netseg.io', 'policy.netseg.io/v1alpha1', 'SegmentationIntent', 'apiVersion "policy.netseg.io/v1alpha1" is not a netseg apiVersion'],
    ['the kind in the plural', 'netseg.io/v1alpha1', 'SegmentationIntents', 'kind "SegmentationIntents" is not a netseg kind this netseg knows: use SegmentationIntent'],
    ['the kind in lower case', 'netseg.io/v1alpha1', 'segmentationintent', 'kind "segmentationintent" is not a netseg kind this netseg knows: use SegmentationIntent'],
    ['a misspelt kind', 'netseg.io/v1alpha1', 'SegmentationIntnet', 'kind "SegmentationIntnet" is not a netseg kind this netseg knows: use SegmentationIntent'],
    ['both wrong', 'netseg/v1', 'SegmentationIntents', 'apiVersion "netseg/v1" is not a netseg apiVersion this netseg knows: use netseg.io/v1alpha1; kind "SegmentationIntents"'],
    ['the right kind in another group', 'example.com/v1', 'SegmentationIntent', 'apiVersion "example.com/v1" is not a netseg apiVersion'],
    ['an unknown kind of the netseg.io group', 'netseg.io/v1alpha1', 'NetworkIntent', 'kind "NetworkIntent" is not a netseg kind this netseg knows: use SegmentationIntent'],
    ['the cluster kind in the plural', 'netseg.io/v1alpha1', 'ClusterSegmentationIntents', 'kind "ClusterSegmentationIntents" is not a netseg kind this netseg knows: use ClusterSegmentationIntent'],
  ];
  for (const [name, apiVersion, kind, message] of lookalikes) {
    it(`exits 1 on an intent with ${name} (${apiVersion} ${kind}), naming file, document and the fix`, async () => {
      const f = file('x.yaml', `${POD}---\n${INTENT.replace('apiVersion: netseg.io/v1alpha1', `apiVersion: ${apiVersion}`).replace('kind: SegmentationIntent', `kind: ${kind}`)}`);
      const r = await netseg('render', '-f', f);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.startsWith(`netseg render: ${f}#2: ${message}`), r.stderr);
    });
  }

  it('exits 1 on a lookalike even next to a valid intent, and on one inside a List', async () => {
    const wrong = INTENT.replace('netseg.io/v1alpha1', 'netseg.io/v1beta1').replace(/shop/g, 'zoo');
    const f = file('two.yaml', `${INTENT}---\n${wrong}`);
    const r = await netseg('render', '-f', f);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`${f.replace(/[.]/g, '\\.')}#2: apiVersion "netseg.io/v1beta1"`));
    const list = file('list.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'netseg.io/v1beta1', kind: 'SegmentationIntent', metadata: { name: 'a' } }] }));
    const l = await netseg('render', '-f', list);
    assert.equal(l.code, 1);
    assert.match(l.stderr, /list\.json#1\.items\[0\]: apiVersion "netseg\.io\/v1beta1" is not a netseg apiVersion/);
  });

  it('still ignores objects that merely resemble nothing of netseg\'s', async () => {
    const other = 'apiVersion: example.com/v1\nkind: Segment\nmetadata: {name: s}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: netseg}\n';
    const r = await netseg('render', '-f', file('ok.yaml', `${other}---\n${INTENT}`));
    assert.equal(r.code, 0, r.stderr);
  });

  it('refuses an output format other than yaml and json as a usage error', async () => {
    const r = await netseg('render', '-f', file('i.yaml', INTENT), '-o', 'xml');
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
  });

  it('renders byte-identical output on every run', async () => {
    const f = file('i.yaml', INTENT);
    const a = await netseg('render', '-f', f);
    const b = await netseg('render', '-f', f);
    assert.equal(a.stdout, b.stdout);
  });
});
