/**
 * `netseg verify` and `netseg audit -f` as a user runs them (issue 18), on the same generated clusters as
 * bench/reach-cli.bench.ts (1,000 pods / 2,000 policies / 200 namespaces, and 10,000 / 20,000 / 1,000) with one
 * intent per namespace (bench/verify-intents.ts). Each command in its own process: median wall and CPU time,
 * peak RSS, bytes printed (verify's default grouped text, its -o json, and audit's JSON findings).
 * Figures go to bench/results/verify-cli.json. Needs `npm run build`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { report } from './lib';
import { type Measure, cluster, measure } from './reach-cli.bench';
import { writeIntentsFile } from './verify-intents';

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-verify-cli-'));
  const loadAtStart = os.loadavg().map((x) => Math.round(x * 10) / 10);
  const runs = Number(process.env['NETSEG_BENCH_RUNS'] ?? 3);
  const skip10k = process.env['NETSEG_BENCH_SKIP_10K'] === '1';
  const sizes = [{ pods: 1000, policies: 2000, namespaces: 200, runs }, ...(skip10k ? [] : [{ pods: 10_000, policies: 20_000, namespaces: 1000, runs: 1 }])];
  const figures: Record<string, unknown> = {
    scenario: 'node bin/netseg verify -f intents.json --cluster cluster.json, and audit -f cluster.json -o json; fixed seed; one intent per namespace',
    loadAverageAtStart: loadAtStart,
  };
  try {
    for (const s of sizes) {
      const c = cluster(dir, s.pods, s.policies, s.namespaces);
      const intents = path.join(dir, `intents-${s.namespaces}.json`);
      writeIntentsFile(intents, s.namespaces);
      const timeout = 20 * 60_000;
      const results: Record<string, Measure> = {
        verifyText: await measure(dir, ['verify', '-f', intents, '--cluster', c.file], s.runs, timeout),
        verifyJson: await measure(dir, ['verify', '-f', intents, '--cluster', c.file, '-o', 'json'], s.runs, timeout),
        auditJson: await measure(dir, ['audit', '-f', c.file, '-o', 'json'], s.runs, timeout),
      };
      figures[`cluster${s.pods / 1000}k`] = { pods: s.pods, policies: s.policies, namespaces: s.namespaces, intents: s.namespaces, fileMB: c.fileMB, ...results };
    }
    figures['loadAverageAtEnd'] = os.loadavg().map((x) => Math.round(x * 10) / 10);
    report('verify-cli', figures);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
