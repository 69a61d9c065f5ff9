/**
 * The CLI as users get it: `npm pack` makes a tarball that installs globally (into a temporary prefix) and
 * runs. The tarball is built from this checkout's dist/ (npm run build first), its dependencies come from the
 * npm cache or registry as for any user (--prefer-offline). The package is not published (docs/release.md).
 */
import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from './cluster';

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

describe('npm pack: the CLI tarball installs globally and runs', function () {
  this.timeout(900_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-pack-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('packs bin/, dist/src/ and crds/ only, installs with npm install -g, and `netseg --help` and `netseg render` run', async () => {
    assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js')), 'npm run build first');
    const listing = JSON.parse(await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO_ROOT })) as { filename: string; files: { path: string }[] }[];
    const files = listing[0]?.files.map((f) => f.path) ?? [];
    assert.ok(files.includes('bin/netseg') && files.includes('dist/src/cli/main.js') && files.some((f) => f.startsWith('crds/')));
    assert.deepEqual(files.filter((f) => /^(dist\/(test|bench)|test|src|node_modules)\//.test(f)), [], 'no tests, sources or dependencies in the tarball');
    const tarball = path.join(dir, listing[0]?.filename ?? '');
    const prefix = path.join(dir, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball]);
    const netseg = path.join(prefix, 'bin', 'netseg');
    assert.match(await run(netseg, ['--help']), /Usage: netseg/);
    const version = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal((await run(netseg, ['--version'])).trim().split('\n')[0], `netseg ${version}`);
    assert.match(await run(netseg, ['render', '-f', path.join(REPO_ROOT, 'examples', 'shop')]), /kind: NetworkPolicy/);
  });
});
