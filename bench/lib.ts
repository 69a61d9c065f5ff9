/**
 * Benchmark helpers: timing, medians and percentiles, and writing figures to bench/results/<name>.json.
 * Benchmarks print figures; they assert nothing (the machine is shared and noisy).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'bench', 'results');

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] as number;
}

/** Runs fn `runs` times, returns each run's wall time in ms. */
export function timeRuns(runs: number, fn: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

export function rssMB(): number {
  return Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;
}

/** A deterministic PRNG (mulberry32) so that benchmark inputs are the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Prints the figures and writes them, with the machine's facts, to bench/results/<name>.json. */
export function report(name: string, figures: Record<string, unknown>): void {
  const record = {
    benchmark: name,
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    figures,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.json`), JSON.stringify(record, null, 2) + '\n');
  process.stdout.write(`\n== ${name}\n${JSON.stringify(figures, null, 2)}\n(written to bench/results/${name}.json)\n`);
}
