/**
 * No Docker engine runs on the build machines, so the image is kept honest by checking the Dockerfile's
 * instructions: pinned base images, a non-root USER in the final stage, no dev dependencies or sources shipped.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

interface Instruction {
  readonly op: string;
  readonly args: string;
}

function parseDockerfile(text: string): Instruction[][] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [op = '', ...rest] = line.split(/\s+/);
    const ins = { op: op.toUpperCase(), args: rest.join(' ') };
    if (ins.op === 'FROM') stages.push([]);
    stages[stages.length - 1]?.push(ins);
  }
  return stages;
}

describe('Dockerfile', () => {
  const root = path.resolve(__dirname, '..', '..', '..');
  const stages = parseDockerfile(fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const final = stages[stages.length - 1] ?? [];
  const froms = stages.map((s) => s[0]?.args ?? '');

  it('is multi-stage', () => assert.ok(stages.length >= 2));

  it('pins every base image to an exact version of a supported Node.js LTS (not latest, not a floating major)', () => {
    const pkgEngines = (require(path.join(root, 'package.json')) as { engines: { node: string } }).engines.node;
    for (const from of froms) {
      const image = from.split(/\s+/)[0] ?? '';
      if (stages.some((_, i) => froms[i]?.endsWith(` AS ${image}`))) continue; // FROM an earlier stage
      const m = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+(-slim)?(@sha256:[0-9a-f]{64})?$/.exec(image);
      assert.ok(m, `${image} is not pinned to an exact node version`);
      const major = Number(m[1]);
      assert.ok(major % 2 === 0 && major >= 22, `node ${major} is not a supported LTS line`);
      assert.ok(pkgEngines.startsWith('>=20'), 'the code stays compatible with Node 20 (engines)');
    }
  });

  it('runs as a numeric non-root user in the final stage', () => {
    const users = final.filter((i) => i.op === 'USER');
    assert.equal(users.length, 1);
    const uid = Number((users[0]?.args ?? '').split(':')[0]);
    assert.ok(Number.isInteger(uid) && uid > 0, `USER ${users[0]?.args} must be a numeric non-root uid`);
  });

  it('ships no dev dependencies and no sources: production node_modules only, compiled code only', () => {
    const build = stages[0] ?? [];
    assert.ok(build.some((i) => i.op === 'RUN' && /npm prune --omit=dev/.test(i.args)), 'dev dependencies pruned');
    const copies = final.filter((i) => i.op === 'COPY').map((i) => i.args);
    assert.ok(copies.some((c) => c.includes('/src/dist/src')), 'compiled code copied');
    for (const c of copies) {
      assert.doesNotMatch(c, /(^|\s)(src|test|bench|\.)\s/, `final stage copies sources: COPY ${c}`);
      assert.doesNotMatch(c, /dist\/test|dist\/bench/, `final stage copies tests: COPY ${c}`);
    }
  });

  it('starts the operator', () => {
    const entry = final.find((i) => i.op === 'ENTRYPOINT');
    assert.deepEqual(JSON.parse(entry?.args ?? '[]'), ['node', '/app/bin/netseg', 'operator']);
  });
});
