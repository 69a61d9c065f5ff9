/**
 * The CLI behaves as kubectl and Unix filters do: YAML errors name file, line and column; a reader that goes
 * away ends netseg quietly with SIGPIPE (exit 141 in a shell); `netseg version`; the kubectl plugin is shipped.
 * The process tests spawn the real bin/ scripts.
 */
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseManifestText } from '../../src/cli/load';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NETSEG = path.join(ROOT, 'bin', 'netseg');

/** Spawns bin/netseg, reads until `enough` bytes came on `stream`, then closes that pipe; resolves how the process ended. */
function closeEarly(args: string[], stream: 'stdout' | 'stderr', enough = 1): Promise<{ code: number | null; signal: string | null; otherOutput: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NETSEG, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let got = 0;
    let other = '';
    const early = child[stream];
    const rest = stream === 'stdout' ? child.stderr : child.stdout;
    early.on('data', (b: Buffer) => {
      got += b.length;
      if (got >= enough) early.destroy();
    });
    rest.on('data', (b: Buffer) => (other += b.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, otherOutput: other }));
  });
}

describe('CLI conventions (kubectl-like)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-conventions-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('YAML errors', () => {
    it('name the file, document, line and column (the line counts from the top of the file)', () => {
      const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  name: api\n';
      const r = parseManifestText(text, 'shop.yaml');
      assert.deepEqual(r.errors, ['shop.yaml#2: line 9, column 3: not valid YAML: Map keys must be unique']);
      assert.equal(r.objects.length, 1, 'the valid document is still read');
    });

    it('reach the terminal through the real binary, and a JSON syntax error is located where the parser can', () => {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n labels: {}\n');
      const r = spawnSync(process.execPath, [NETSEG, 'reach', '-f', bad], { encoding: 'utf8' });
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`^error: ${bad.replace(/[/.]/g, '\\$&')}#1: line 5, column 1: not valid YAML: `));
      const json = path.join(dir, 'bad.json');
      fs.writeFileSync(json, '{"apiVersion": "v1",\n "kind": "Pod",\n "metadata": {"name": "web"\n');
      const j = spawnSync(process.execPath, [NETSEG, 'render', '-f', json], { encoding: 'utf8' });
      assert.equal(j.status, 1);
      assert.match(j.stderr, /bad\.json#1: line 4, column 1: not valid JSON: /);
    });
  });

  describe('pipes', () => {
    let big: string;
    before(() => {
      // 150 pods: `reach --per-pod -o json` prints ~2 MB, far more than a pipe holds (64 KiB).
      const items: unknown[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'big' } }];
      for (let i = 0; i < 150; i++) {
        items.push({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `p${i}`, namespace: 'big', labels: { app: `a${i % 10}` } },
          spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] },
          status: { podIP: `10.0.0.${i}` },
        });
      }
      big = path.join(dir, 'big.json');
      fs.writeFileSync(big, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    });

    it('`netseg reach -o json | head -1`: ends by SIGPIPE as kubectl and cat do, with nothing on stderr', async function () {
      this.timeout(30_000);
      const r = await closeEarly(['reach', '-f', big, '-o', 'json', '--per-pod'], 'stdout');
      assert.equal(r.signal, 'SIGPIPE', `ended with code ${r.code}, signal ${r.signal}`);
      assert.equal(r.otherOutput, '', 'no stack trace, no EPIPE message');
    });

    it('a closed stderr (`2>&1 | head -1` of many errors) ends the same way', async function () {
      this.timeout(30_000);
      const many = path.join(dir, 'many-errors.yaml');
      fs.writeFileSync(many, Array.from({ length: 3000 }, (_, i) => `kind: Thing${i}\n`).join('---\n'));
      const r = await closeEarly(['render', '-f', many], 'stderr');
      assert.equal(r.signal, 'SIGPIPE', `ended with code ${r.code}, signal ${r.signal}`);
      assert.equal(r.otherOutput, '');
    });

    it('a reader that takes everything sees the whole output and exit 0', () => {
      const r = spawnSync(process.execPath, [NETSEG, 'reach', '-f', big, '-o', 'json', '--per-pod'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { results: unknown[] }).results.length, 150 * 150);
    });
  });

  describe('netseg version', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

    it('prints package.json version, the git commit of the checkout and Node.js; --version says the same', () => {
      const text = spawnSync(process.execPath, [NETSEG, 'version'], { encoding: 'utf8' });
      assert.equal(text.status, 0, text.stderr);
      const head = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
      assert.equal(text.stdout, `netseg ${pkg.version}\ncommit: ${head}\nnode:   ${process.version} (${process.platform}/${process.arch})\n`);
      assert.equal(spawnSync(process.execPath, [NETSEG, '--version'], { encoding: 'utf8' }).stdout, text.stdout);
    });

    it('-o json, and a commit given by the build ($NETSEG_GIT_COMMIT) wins', () => {
      const r = spawnSync(process.execPath, [NETSEG, 'version', '-o', 'json'], { encoding: 'utf8', env: { ...process.env, NETSEG_GIT_COMMIT: 'abc1234' } });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { version: pkg.version, commit: 'abc1234', node: process.version, platform: `${process.platform}/${process.arch}` });
    });

    it('ships the kubectl plugin as a bin of the package, executable', () => {
      assert.equal(pkg.bin['kubectl-netseg'], 'bin/kubectl-netseg');
      fs.accessSync(path.join(ROOT, 'bin', 'kubectl-netseg'), fs.constants.X_OK);
    });
  });
});
