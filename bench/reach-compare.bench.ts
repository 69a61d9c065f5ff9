/**
 * netseg against np-guard's netpol-analyzer on the same generated clusters, run alternately on one machine.
 * - netseg: `netseg reach -f cluster.json -o json`, the per-workload view (every allowed and partial port of the
 *   destination's declared ports, per source and destination workload, exact against the per-pod matrix);
 * - netpol-analyzer: `netpolicy list --dirpath DIR` (its default txt output), the allowed connections per pair of
 *   workloads, over all ports and protocols (not only declared ones).
 * Both read the same Namespaces, Pods and NetworkPolicies and decide the same question (which workload may
 * reach which, on what); the output forms differ, so the figures compare time and memory, not bytes.
 *
 * netpol-analyzer is never committed: the bench builds it into ~/.cache/netseg-bench/bin, from its Go module
 * (`GOFLAGS=-mod=mod go install github.com/np-guard/netpol-analyzer/cmd/netpolicy@VERSION`), or, when the module
 * proxy refuses it, from a source checkout named by NETPOL_ANALYZER_SRC (`go build ./cmd/netpolicy`).
 * NETPOL_ANALYZER=/path/to/netpolicy skips the build.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { median, report, runCommand } from './lib';
import { writeClusterFile } from './reach-file';
import type { NetworkPolicy } from '../src/model/kubernetes';
import { type Input, generate } from './reach.bench';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'netseg');
const CACHE = path.join(os.homedir(), '.cache', 'netseg-bench');
const VERSION = process.env['NETPOL_ANALYZER_VERSION'] ?? 'v1.4.4';

function analyzer(): string {
  const given = process.env['NETPOL_ANALYZER'];
  if (given) return given;
  const out = path.join(CACHE, 'bin', 'netpolicy');
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOBIN: path.dirname(out) };
  try {
    execFileSync('go', ['install', `github.com/np-guard/netpol-analyzer/cmd/netpolicy@${VERSION}`], { env, stdio: 'inherit', cwd: os.tmpdir() });
  } catch (e) {
    const src = process.env['NETPOL_ANALYZER_SRC'];
    if (!src) throw new Error(`go install of netpol-analyzer ${VERSION} failed (${(e as Error).message}); set NETPOL_ANALYZER_SRC to a checkout`);
    execFileSync('go', ['build', '-o', out, './cmd/netpolicy'], { env, stdio: 'inherit', cwd: src });
  }
  return out;
}

interface Run {
  readonly ms: number;
  /** User + system CPU time of the command (and its children): on a loaded machine steadier than wall time. */
  readonly cpuMs: number;
  readonly peakRssMB: number;
  readonly outBytes: number;
  readonly code: number | null;
  readonly timedOut: boolean;
}

/**
 * Runs under /usr/bin/time for the peak RSS and CPU time of any program (Go or Node), and under timeout(1), which
 * stops the program itself (not only the time process) when it runs out of time: SIGTERM, SIGKILL 10 s later,
 * exit 124 or 137, timedOut. (`timeout -s KILL` would kill timeout too, before it reaps the program, and the
 * program's CPU time would be lost.)
 */
async function runOnce(cmd: string, args: readonly string[], timeoutMs: number): Promise<Run> {
  const timeFile = path.join(os.tmpdir(), `netseg-compare-time-${process.pid}.txt`);
  fs.rmSync(timeFile, { force: true });
  const limit = ['timeout', '-k', '10', String(Math.ceil(timeoutMs / 1000))];
  const r = await runCommand('/usr/bin/time', ['-o', timeFile, '-f', '%M %U %S', ...limit, cmd, ...args], { timeoutMs: timeoutMs + 60_000 });
  const last = (fs.existsSync(timeFile) ? fs.readFileSync(timeFile, 'utf8') : '').trim().split('\n').pop() ?? '';
  const [kb, user, sys] = last.split(' ').map(Number);
  const timedOut = r.code === 124 || r.code === 137 || r.ms >= timeoutMs;
  if (r.code !== 0 && !timedOut) process.stderr.write(`${path.basename(cmd)} ${args.join(' ')}: exit ${r.code}\n${r.stderrTail}\n`);
  const cpuMs = Math.round(((user ?? NaN) + (sys ?? NaN)) * 1000);
  return { ms: r.ms, cpuMs, peakRssMB: Math.round((kb ?? NaN) / 1024), outBytes: r.outBytes, code: r.code, timedOut };
}

const NAMED: Record<string, number> = { http: 80, https: 443, 'http-alt': 8080, pg: 5432, dns: 53, metrics: 9090 };

/**
 * netpol-analyzer refuses a whole cluster when an egress rule that reaches IPs (an ipBlock peer, or no peers at
 * all) names a port ("cannot convert named port for an IP destination"); the apiserver accepts it, and netseg reads it as matching no IP. So that
 * both tools read the same files, such rules get the port's number (the generator's names are fixed).
 */
export function withoutNamedPortsToIps(input: Input): Input {
  const fix = (p: NetworkPolicy): NetworkPolicy => ({
    ...p,
    spec: {
      ...p.spec,
      egress: (p.spec.egress ?? []).map((r) =>
        (r.to ?? []).length === 0 || (r.to ?? []).some((peer) => peer.ipBlock)
          ? { ...r, ...(r.ports ? { ports: r.ports.map((port) => (typeof port.port === 'string' ? { ...port, port: NAMED[port.port] ?? 1 } : port)) } : {}) }
          : r,
      ),
    },
  });
  return { ...input, policies: input.policies.map(fix) };
}

function figures(runs: readonly Run[]): Record<string, unknown> {
  return {
    medianMs: median(runs.map((r) => r.ms)),
    medianCpuMs: median(runs.map((r) => r.cpuMs)),
    runsMs: runs.map((r) => r.ms),
    runsCpuMs: runs.map((r) => r.cpuMs),
    peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
    outputMB: Math.round(((runs[0]?.outBytes ?? 0) / 1e6) * 10) / 10,
    exit: runs.map((r) => r.code),
    timedOut: runs.some((r) => r.timedOut),
  };
}

const ratio = (a: number, b: number): number => Math.round((a / Math.max(b, 1)) * 10) / 10;

/**
 * NETSEG_COMPARE_SIZES (pods:policies,...), NETSEG_BENCH_RUNS, NETSEG_COMPARE_TIMEOUT_MIN (netpol-analyzer's time
 * budget per run, default 20): a run that hits it counts as that long, so the ratio is a lower bound (`≥`).
 */
export async function run(): Promise<void> {
  const npa = analyzer();
  const runs = Number(process.env['NETSEG_BENCH_RUNS'] ?? 2);
  const timeoutMs = Number(process.env['NETSEG_COMPARE_TIMEOUT_MIN'] ?? 20) * 60_000;
  const sizes = (process.env['NETSEG_COMPARE_SIZES'] ?? '200:400,500:1000,2000:4000').split(',').map((s) => s.split(':').map(Number) as [number, number]);
  const rows: Record<string, unknown>[] = [];
  const loadAtStart = os.loadavg().map((x) => Math.round(x * 10) / 10);
  for (const [pods, policies] of sizes) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-compare-'));
    try {
      const file = path.join(dir, 'cluster.json');
      writeClusterFile(file, withoutNamedPortsToIps(generate(pods, policies)));
      const ours: Run[] = [];
      const theirs: Run[] = [];
      for (let i = 0; i < runs; i++) {
        ours.push(await runOnce(process.execPath, [BIN, 'reach', '-f', file, '-o', 'json'], 10 * 60_000));
        const theirRun = await runOnce(npa, ['list', '--dirpath', dir], timeoutMs);
        theirs.push(theirRun);
        if (theirRun.timedOut) break; // one run that hits the budget is the bound; a second would only repeat it
      }
      const a = figures(ours);
      const b = figures(theirs);
      const bound = b['timedOut'] === true ? '≥ ' : '';
      const row = {
        pods,
        policies,
        netseg: a,
        netpolAnalyzer: b,
        wallRatio: `${bound}${ratio(b['medianMs'] as number, a['medianMs'] as number)}`,
        // A stopped run's CPU time is not reported through timeout(1) reliably: no CPU ratio then.
        cpuRatio: bound ? 'n/a (stopped)' : `${ratio(b['medianCpuMs'] as number, a['medianCpuMs'] as number)}`,
        loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
      };
      rows.push(row);
      process.stdout.write(
        `${pods} pods / ${policies} policies: netseg ${a['medianMs']} ms (CPU ${a['medianCpuMs']} ms), netpol-analyzer ${bound}${b['medianMs']} ms (CPU ${b['medianCpuMs']} ms)${bound ? ', stopped at the time budget' : ''}, ratio wall ${row.wallRatio}, CPU ${row.cpuRatio}\n`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  report('reach-compare', {
    scenario: 'netseg reach -f cluster.json -o json vs netpolicy list --dirpath DIR (default txt), alternating runs, same files',
    netpolAnalyzer: npa,
    timeoutMinutes: timeoutMs / 60_000,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 10) / 10),
    rows,
  });
}
