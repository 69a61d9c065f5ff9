/**
 * The hostile-input corpus (test/fixtures/invalid/): wrong types, unknown/duplicate/empty names, huge lists,
 * a 2 MB spec, unicode and control characters, invalid labels, CIDR tricks, out-of-range ports, peer-to-peer
 * flows, YAML bombs. Each file's first line says which field the refusal must name (`# expect: <path>`), or
 * `(yaml)` for files that must not even parse. Each is refused with that field named, never throws, and
 * `netseg render` exits 1 with the message on stderr and nothing on stdout.
 * The same corpus is sent to the real apiserver and the running operator in test/integration/hostile.test.ts.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseManifestText } from '../../src/cli/load';
import { main } from '../../src/cli/main';
import { memoryIO } from '../../src/cli/io';
import { formatIssue, validateIntent } from '../../src/intent';

export const INVALID_DIR = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'invalid');

export interface HostileFixture {
  readonly file: string;
  readonly name: string;
  readonly expect: string;
  readonly text: string;
}

export function hostileFixtures(): HostileFixture[] {
  return fs
    .readdirSync(INVALID_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const text = fs.readFileSync(path.join(INVALID_DIR, f), 'utf8');
      const expect = /^# expect: (.+)$/m.exec(text)?.[1]?.trim() ?? '';
      return { file: path.join(INVALID_DIR, f), name: f, expect, text };
    });
}

describe('hostile input (test/fixtures/invalid)', () => {
  const fixtures = hostileFixtures();

  it('has at least 40 cases, each saying what it expects', () => {
    assert.ok(fixtures.length >= 40, `${fixtures.length} fixtures`);
    for (const f of fixtures) assert.ok(f.expect, `${f.name} has no "# expect:" line`);
  });

  for (const f of fixtures) {
    it(`refuses ${f.name} naming ${f.expect}`, () => {
      const parsed = parseManifestText(f.text, f.name);
      if (f.expect === '(yaml)') {
        assert.equal(parsed.objects.length, 0, 'nothing gets through');
        assert.ok(parsed.errors.length > 0, 'an error is reported');
        assert.ok(parsed.errors.every((e) => e.startsWith(`${f.name}#`)), 'errors name the file and document');
        return;
      }
      assert.deepEqual(parsed.errors, []);
      assert.equal(parsed.objects.length, 1);
      const result = validateIntent(parsed.objects[0]?.object);
      assert.equal(result.ok, false, 'refused');
      if (result.ok) return;
      const named = result.issues.filter((i) => i.path === f.expect || i.path.startsWith(`${f.expect}[`) || i.path.startsWith(`${f.expect}.`));
      assert.ok(named.length > 0, `no issue names ${f.expect}; got:\n${result.issues.map(formatIssue).join('\n')}`);
      for (const i of result.issues) assert.ok(i.message.length > 0, 'every issue says what is wrong');
      assert.ok(result.issues.length <= 200, `issues are bounded (${result.issues.length})`);
    });
  }

  it('netseg render exits 1 on every file, with the file and field on stderr and nothing on stdout', async function () {
    this.timeout(120_000);
    for (const f of fixtures) {
      const io = memoryIO();
      const code = await main(['node', 'netseg', 'render', '-f', f.file], io);
      assert.equal(code, 1, `${f.name}: exit code`);
      assert.equal(io.stdout, '', `${f.name}: stdout must be empty`);
      assert.ok(io.stderr.includes(f.name), `${f.name}: stderr names the file: ${io.stderr.slice(0, 300)}`);
      if (f.expect !== '(yaml)') assert.ok(io.stderr.includes(f.expect), `${f.name}: stderr names ${f.expect}`);
    }
  });
});
