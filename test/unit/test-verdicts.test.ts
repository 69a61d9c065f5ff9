/** `netseg test`: expected verdicts from a queries file, exit 1 on a mismatch, JUnit XML for CI. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SHOP = path.join(ROOT, 'examples', 'shop');

describe('netseg test', () => {
  let dir: string;
  const queries = (name: string, entries: unknown): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, typeof entries === 'string' ? entries : JSON.stringify(entries));
    return f;
  };
  const run = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    const io = memoryIO();
    const code = await main(['node', 'netseg', 'test', '-f', SHOP, ...args], io);
    return { code, out: io.stdout, err: io.stderr };
  };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const GOOD = [
    { name: 'frontend reaches the backend by its port name', from: 'shop/frontend', to: 'shop/backend', port: 'http', expect: 'allowed' },
    { from: 'shop/debug-shell', to: 'shop/db-0', port: 5432, expect: 'denied' },
  ];

  it('exit 0 when every expectation holds; workloads and port names as in reach', async () => {
    const r = await run('--queries', queries('good.json', GOOD));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'PASS frontend reaches the backend by its port name\nPASS shop/debug-shell -> shop/db-0 TCP/5432 is denied\n\n2 passed, 0 failed\n');
  });

  it('exit 1 on a mismatch, with the explanation of each pair that differs; YAML queries read too', async () => {
    const yaml = '- {from: shop/debug-shell, to: shop/db-0, port: 5432, expect: allowed}\n- {from: shop/frontend, to: shop/backend, port: http, expect: allowed}\n';
    const r = await run('--queries', queries('bad.yaml', yaml));
    assert.equal(r.code, 1);
    assert.match(r.out, /^FAIL shop\/debug-shell -> shop\/db-0 TCP\/5432 is allowed: expected allowed, but 1 of 1 pod pair\(s\) are denied\n {2}shop\/debug-shell -> shop\/db-0 TCP\/5432: DENIED\n/);
    assert.match(r.out, /ingress of shop\/db-0: denied: isolated by/);
    assert.match(r.out, /\n1 passed, 1 failed\n$/);
  });

  it('-o junit: one testcase per entry, failures with their explanation, XML escaped', async () => {
    const entries = [...GOOD, { name: 'db <open> & "reachable"', from: 'shop/debug-shell', to: 'shop/db-0', port: 5432, expect: 'allowed' }];
    const r = await run('--queries', queries('junit.json', entries), '-o', 'junit');
    assert.equal(r.code, 1);
    assert.match(r.out, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="netseg test" tests="3" failures="1" errors="0" time="[\d.]+">\n {2}<testsuite name="[^"]*junit\.json" tests="3" failures="1" errors="0" skipped="0" time="[\d.]+">\n/);
    assert.equal((r.out.match(/<testcase /g) ?? []).length, 3);
    assert.match(r.out, /<testcase classname="netseg\.[^"]*" name="db &lt;open&gt; &amp; &quot;reachable&quot;" time="0">\n {6}<failure message="expected allowed, but 1 of 1 pod pair\(s\) are denied" type="verdict">shop\/debug-shell -&gt; shop\/db-0 TCP\/5432: DENIED\n/);
    assert.match(r.out, /<\/failure>\n {4}<\/testcase>\n {2}<\/testsuite>\n<\/testsuites>\n$/);
    // Well-formed enough for a CI parser: every element opened is closed, and no raw & or < in text.
    for (const tag of ['testsuites', 'testsuite', 'failure']) {
      assert.equal((r.out.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length, (r.out.match(new RegExp(`</${tag}>`, 'g')) ?? []).length, tag);
    }
    assert.doesNotMatch(r.out.replace(/<[^>]*>/g, ''), /[<>]|&(?!amp;|lt;|gt;|quot;|apos;)/);
  });

  it('exit 2, never 0, when a test cannot run: a bad expect, a name that resolves to nothing, a missing file', async () => {
    const bad = await run('--queries', queries('expect.json', [{ from: 'shop/frontend', to: 'shop/backend', port: 'http', expect: 'yes' }]));
    assert.equal(bad.code, 2);
    assert.match(bad.err, /query 0: expect "yes" must be "allowed" or "denied"/);
    const unknown = await run('--queries', queries('unknown.json', [{ from: 'shop/nope', to: 'shop/backend', port: 80, expect: 'denied' }]));
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /query 0: source: unknown "shop\/nope"/);
    assert.equal((await run('--queries', path.join(dir, 'missing.json'))).code, 2);
  });
});
