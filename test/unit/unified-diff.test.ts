/** The unified diff of `netseg diff` is one `patch` applies: old + diff = new, for random texts (fast-check). */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { unifiedDiff } from '../../src/cli/unified-diff';

describe('unified diff', () => {
  it('matches GNU diff -u on a small case, and is empty for equal texts', () => {
    const a = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
    const b = 'a\nb\nX\nd\ne\nf\ng\nh\ni\nj\nk\n';
    assert.equal(unifiedDiff(a, b, 'old', 'new'), '--- old\n+++ new\n@@ -1,6 +1,6 @@\n a\n b\n-c\n+X\n d\n e\n f\n@@ -8,3 +8,4 @@\n h\n i\n j\n+k\n');
    assert.equal(unifiedDiff(a, a, 'old', 'new'), '');
    assert.equal(unifiedDiff('', 'x\n', '/dev/null', 'new'), '--- /dev/null\n+++ new\n@@ -0,0 +1,1 @@\n+x\n');
  });

  it('patch(1) turns the old text into the new one with it, for random line edits', function () {
    this.timeout(120_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-udiff-'));
    try {
      const text = fc.array(fc.constantFrom('a', 'b', 'c', 'spec:', '  - port: 80', ''), { maxLength: 25 }).map((l) => l.map((x) => `${x}\n`).join(''));
      fc.assert(
        fc.property(text, text, (a, b) => {
          const d = unifiedDiff(a, b, 'old', 'new');
          if (a === b) return d === '';
          const file = path.join(dir, 'f');
          fs.writeFileSync(file, a);
          const r = spawnSync('patch', ['-s', '-o', path.join(dir, 'out'), file], { input: d, encoding: 'utf8' });
          return r.status === 0 && fs.readFileSync(path.join(dir, 'out'), 'utf8') === b;
        }),
        { numRuns: 150 },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
