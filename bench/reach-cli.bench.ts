/**
 * `netseg reach` as a user runs it (issue 18): `node bin/netseg reach -f cluster.json [...]` in its own process,
 * on a `kubectl get -o json`-shaped List written from bench/reach.bench.ts's generator (fixed seed). Measures
 * wall time (median of a few runs), the child's peak RSS (reported by a preloaded exit hook), and the bytes it
 * prints; how they grow with pods and with policies; and the 10,000 pods / 20,000 policies / 1,000 namespaces
 * cluster once. Needs `npm run build` (npm run bench does it). Figures go to bench/results/reach-cli.json.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { median, report, runCommand } from './lib';
import { writeClusterFile } from './reach-file';
import { generate } from './reach.bench';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'netseg');

interface Run {
  readonly ms: number;
  /** User + system CPU time of the child: on a shared, loaded machine a steadier figure than wall time. */
  readonly cpuMs: number;
  readonly peakRssMB: number;
  readonly outBytes: number;
  readonly code: number | null;
}

/** The child writes its own peak RSS (getrusage) to this file as it exits. */
function rssHook(dir: string): string {
  const hook = path.join(dir, 'rss-hook.js');
  fs.writeFileSync(
    hook,
    "process.on('exit', () => { const u = process.resourceUsage(); require('fs').writeFileSync(process.env.NETSEG_BENCH_RSS, JSON.stringify([u.maxRSS, u.userCPUTime + u.systemCPUTime])); });\n",
  );
  return hook;
}

/** One run of `node bin/netseg ARGS...` (the subcommand first). */
async function runOnce(dir: string, args: readonly string[], timeoutMs: number): Promise<Run> {
  const rssFile = path.join(dir, 'rss.txt');
  fs.rmSync(rssFile, { force: true });
  const r = await runCommand(process.execPath, ['--require', rssHook(dir), BIN, ...args], {
    timeoutMs,
    env: { ...process.env, NETSEG_BENCH_RSS: rssFile },
  });
  const [kb, cpuUs] = fs.existsSync(rssFile) ? (JSON.parse(fs.readFileSync(rssFile, 'utf8')) as number[]) : [NaN, NaN];
  if (r.code !== 0 && !(args[0] === 'verify' && r.code === 1)) process.stderr.write(`${args.join(' ')}: exit ${r.code}\n${r.stderrTail}\n`);
  return { ms: r.ms, cpuMs: Math.round((cpuUs ?? NaN) / 1000), peakRssMB: Math.round((kb ?? NaN) / 1024), outBytes: r.outBytes, code: r.code };
}

export interface Measure {
  readonly medianMs: number;
  readonly medianCpuMs: number;
  readonly runsMs: number[];
  readonly peakRssMB: number;
  readonly outputMB: number;
}

/** Runs `netseg ARGS...` (the subcommand first) `runs` times: median wall and CPU time, peak RSS, output size. */
export async function measure(dir: string, args: readonly string[], runs: number, timeoutMs = 10 * 60_000): Promise<Measure> {
  const all: Run[] = [];
  for (let i = 0; i < runs; i++) all.push(await runOnce(dir, args, timeoutMs));
  return {
    medianMs: Math.round(median(all.map((r) => r.ms))),
    medianCpuMs: Math.round(median(all.map((r) => r.cpuMs))),
    runsMs: all.map((r) => r.ms),
    peakRssMB: Math.max(...all.map((r) => r.peakRssMB)),
    outputMB: Math.round(((all[0]?.outBytes ?? 0) / 1e6) * 10) / 10,
  };
}

/** The generated cluster file of that shape in dir (written once). */
export function cluster(dir: string, pods: number, policies: number, namespaces: number): { file: string; fileMB: number } {
  const file = path.join(dir, `cluster-${pods}-${policies}-${namespaces}.json`);
  if (!fs.existsSync(file)) writeClusterFile(file, generate(pods, policies, 42, namespaces));
  return { file, fileMB: Math.round((fs.statSync(file).size / 1e6) * 10) / 10 };
}

/** Time of each step over the previous one: 2.0 per doubling is linear growth, 4.0 quadratic. */
function ratios(ms: readonly number[]): number[] {
  return ms.slice(1).map((m, i) => Math.round((m / Math.max(ms[i] ?? 1, 1)) * 100) / 100);
}

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-reach-cli-'));
  const loadAtStart = os.loadavg().map((x) => Math.round(x * 10) / 10);
  const runs = Number(process.env['NETSEG_BENCH_RUNS'] ?? 3);
  const skip10k = process.env['NETSEG_BENCH_SKIP_10K'] === '1';
  try {
    const base = cluster(dir, 1000, 2000, 200);
    const table = await measure(dir, ['reach', '-f', base.file], runs);
    const json = await measure(dir, ['reach', '-f', base.file, '-o', 'json'], runs);
    const perPod = await measure(dir, ['reach', '-f', base.file, '-o', 'json', '--per-pod'], runs);
    const byPods: { pods: number; ms: number; cpuMs: number; peakRssMB: number; outputMB: number }[] = [];
    for (const pods of [500, 1000, 2000, 4000]) {
      const m = await measure(dir, ['reach', '-f', cluster(dir, pods, 2000, 200).file, '-o', 'json'], 1);
      byPods.push({ pods, ms: m.medianMs, cpuMs: m.medianCpuMs, peakRssMB: m.peakRssMB, outputMB: m.outputMB });
    }
    const byPolicies: { policies: number; ms: number; cpuMs: number; peakRssMB: number; outputMB: number }[] = [];
    for (const policies of [1000, 2000, 4000, 8000]) {
      const m = await measure(dir, ['reach', '-f', cluster(dir, 1000, policies, 200).file, '-o', 'json'], 1);
      byPolicies.push({ policies, ms: m.medianMs, cpuMs: m.medianCpuMs, peakRssMB: m.peakRssMB, outputMB: m.outputMB });
    }
    const big = skip10k ? undefined : cluster(dir, 10_000, 20_000, 1000);
    const tenK = big ? await measure(dir, ['reach', '-f', big.file, '-o', 'json'], 1, 20 * 60_000) : undefined;
    report('reach-cli', {
      scenario: 'node bin/netseg reach -f cluster.json (a List: namespaces, pods, policies), generated with a fixed seed',
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 10) / 10),
      cluster1k: { pods: 1000, policies: 2000, namespaces: 200, fileMB: base.fileMB },
      table1k: table,
      json1k: json,
      perPodJson1k: perPod,
      byPods_2000policies_json: byPods,
      podsCpuRatios_each_doubling: ratios(byPods.map((x) => x.cpuMs)),
      byPolicies_1000pods_json: byPolicies,
      policiesCpuRatios_each_doubling: ratios(byPolicies.map((x) => x.cpuMs)),
      ...(big && tenK ? { cluster10k: { pods: 10_000, policies: 20_000, namespaces: 1000, fileMB: big.fileMB }, json10k: tenK } : {}),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
