/**
 * The pure core stays pure: src/intent, src/model, src/compile, src/resolve, src/reach, src/verify, src/audit, src/flows and src/learn import no file system,
 * no process, no client-node, and nothing of the shell (src/cli, src/operator, src/kube). Read from the sources.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');
const PURE = ['intent', 'model', 'compile', 'reach', 'verify', 'audit', 'resolve', 'flows', 'learn'];
const FORBIDDEN_IMPORT = /from '(fs|path|os|child_process|net|http|https|@kubernetes\/client-node|\.\.\/(cli|operator|kube)(\/[^']*)?)'/;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('the pure modules', () => {
  for (const mod of PURE) {
    it(`src/${mod} does no I/O and imports nothing of the shell`, () => {
      for (const file of sources(path.join(root, 'src', mod))) {
        const text = fs.readFileSync(file, 'utf8');
        const rel = path.relative(root, file);
        assert.doesNotMatch(text, FORBIDDEN_IMPORT, `${rel} imports I/O or the shell`);
        assert.doesNotMatch(text, /\bprocess\.|\brequire\(/, `${rel} touches process or requires at run time`);
      }
    });
  }
});
