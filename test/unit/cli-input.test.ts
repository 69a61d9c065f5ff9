/** The one loader of every command (src/cli/input.ts) and the one issue format (src/cli/issues.ts). */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { STDIN, STDIN_SOURCE, loadFiles, loadInput } from '../../src/cli/input';
import { compileIntents } from '../../src/cli/intents';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { sortObjects } from '../../src/cli/cluster-input';
import { SHOP_INTENT_YAML, WEB_POD_YAML } from '../fixtures/manifests';

const INTENT = SHOP_INTENT_YAML;
const POD = WEB_POD_YAML;

describe('the CLI loader', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-input-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads files, folders and - (stdin) in the order given, naming each document', () => {
    const f = path.join(dir, 'pod.yaml');
    fs.writeFileSync(f, POD);
    const r = loadFiles([STDIN, f], () => `${POD}---\n${INTENT}`);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.objects.map((o) => `${o.source} ${o.object.kind}`), [`${STDIN_SOURCE}#1 Pod`, `${STDIN_SOURCE}#2 SegmentationIntent`, `${f}#1 Pod`]);
  });

  it('reads stdin once, and says so when - is given twice', () => {
    let reads = 0;
    const r = loadFiles([STDIN, STDIN], () => {
      reads++;
      return INTENT;
    });
    assert.equal(reads, 1);
    assert.equal(r.objects.length, 1);
    assert.deepEqual(r.errors, [`${STDIN_SOURCE}: given more than once`]);
  });

  it('reports stdin\'s problems in the same format as a file\'s', () => {
    const r = loadFiles([STDIN], () => INTENT.replace('netseg.io/v1alpha1', 'netseg.io/v1beta1'));
    assert.deepEqual(r.errors, [`${STDIN_SOURCE}#1: apiVersion "netseg.io/v1beta1" is not a netseg apiVersion this netseg knows: use netseg.io/v1alpha1`]);
    const unreadable = loadFiles([STDIN], () => {
      throw new Error('EAGAIN');
    });
    assert.deepEqual(unreadable.errors, [`${STDIN_SOURCE}: cannot read: EAGAIN`]);
  });

  it('names the kubeconfig when the cluster cannot be read', async () => {
    const missing = path.join(dir, 'no-such-kubeconfig');
    const r = await loadInput({ cluster: { kubeconfig: missing } });
    assert.equal(r.objects.length, 0);
    assert.equal(r.errors.length, 1);
    assert.ok(r.errors[0]?.startsWith(`${missing}: `), r.errors[0]);
  });

  it('formats validation issues as SOURCE: SegmentationIntent NAME: PATH: MESSAGE, for every command', () => {
    const r = loadFiles([STDIN], () => INTENT.replace('to: api', 'to: apii'));
    const { compiled, errors } = compileIntents(sortObjects(r.objects).intents);
    assert.equal(compiled.length, 0);
    assert.deepEqual(errors, [`${STDIN_SOURCE}#1: SegmentationIntent shop: spec.flows[0].to: unknown workload or peer "apii" (known: api, web); did you mean "api"?`]);
  });

  it('netseg render|verify|audit -f - read standard input (the real process, bin/netseg)', function () {
    this.timeout(30_000);
    const root = path.resolve(__dirname, '..', '..', '..');
    const netseg = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(process.execPath, [path.join(root, 'bin', 'netseg'), ...args], { input: `${POD}---\n${INTENT}`, encoding: 'utf8' });
    const render = netseg('render', '-f', '-');
    assert.equal(render.status, 0, render.stderr);
    assert.match(render.stdout, /name: shop\.api\.ingress/);
    const verify = netseg('verify', '-f', '-');
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, /^OK {3}shop\/shop/);
    const audit = netseg('audit', '-f', '-', '-o', 'json');
    assert.equal(audit.status, 0, audit.stderr);
    assert.ok(Array.isArray((JSON.parse(audit.stdout) as { findings: unknown[] }).findings));
  });

  it('reports an intent over the compile budget as an issue with its path, in render as in the operator, not a crash', async () => {
    // As in compile.test.ts: valid, but one policy would pass 64 KiB.
    const prefix = ['a', 'b', 'c', 'd'].map((c) => c.repeat(60)).join('.');
    const bigSelector = (i: number): Record<string, string> =>
      Object.fromEntries(Array.from({ length: 32 }, (_, j) => [`${prefix}/k${j}-${'y'.repeat(55)}`, `v${i}`]));
    const peers = Array.from({ length: 6 }, (_, i) => ({ name: `p${i}`, namespaceSelector: { matchLabels: bigSelector(i) } }));
    const flows = peers.map((p, i) => ({ from: p.name, to: 'web', ports: Array.from({ length: 32 }, (_, j) => ({ port: 1000 * (i + 1) + 2 * j })) }));
    const f = path.join(dir, 'big.json');
    fs.writeFileSync(f, JSON.stringify({ apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'shop', namespace: 'shop' },
      spec: { workloads: [{ name: 'web', selector: { matchLabels: { app: 'web' } } }], peers, flows } }));
    const io = memoryIO();
    assert.equal(await main(['node', 'netseg', 'render', '-f', f], io), 1);
    assert.equal(io.stdout, '');
    assert.match(io.stderr, new RegExp(`^netseg render: ${f.replace(/[.]/g, '\\.')}#1: SegmentationIntent shop: spec\\.workloads\\[0\\]: .*over the 64\\.0 KiB limit`));
  });
});
