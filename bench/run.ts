/**
 * `npm run bench [-- NAME...]`: runs the benchmarks (all, or those named) one after another.
 * Each benchmark module exports `run(): Promise<void>` and reports through bench/lib.ts.
 */
import * as fs from 'fs';
import * as path from 'path';

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const all = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.replace(/\.bench\.js$/, ''))
    .sort();
  const chosen = wanted.length > 0 ? wanted : all;
  for (const name of chosen) {
    if (!all.includes(name)) throw new Error(`no benchmark "${name}" (have: ${all.join(', ')})`);
    const mod = require(path.join(__dirname, `${name}.bench.js`)) as { run: () => Promise<void> };
    await mod.run();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
