/**
 * `netseg learn` on a large Hubble flow log (issue 15): a `hubble observe -o json` file of 1,000,000 lines is
 * generated at bench time into a temporary folder (fixed seed; never committed), then learned from by the real
 * command in its own process. Each connection shows as hubble shows it: a SYN seen at the source's node (EGRESS)
 * and at the destination's (INGRESS), an ACK, a reply; some flows are DROPPED, some go to addresses outside the
 * cluster. Measures wall and CPU time (medians), the rate in lines per second, and the child's peak RSS at 250,000
 * and 1,000,000 lines: reading is streamed, so memory follows the distinct connections and workloads, not the
 * file. NETSEG_BENCH_LEARN_LINES overrides the large size. Figures go to bench/results/learn.json.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { median, report, runCommand, seededRandom } from './lib';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'netseg');
const NAMESPACES = 10;
const WORKLOADS_PER_NS = 8;
const PODS_PER_WORKLOAD = 4;
const PORTS = [80, 443, 5432, 6379, 8080, 9090];

interface PodSpec {
  readonly ns: string;
  readonly name: string;
  readonly app: string;
  readonly ip: string;
}

function pods(): PodSpec[] {
  const out: PodSpec[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    for (let w = 0; w < WORKLOADS_PER_NS; w++) {
      for (let p = 0; p < PODS_PER_WORKLOAD; p++) {
        out.push({ ns: `ns-${n}`, name: `app-${w}-5d8f7c9b4-p${p}x`, app: `app-${w}`, ip: `10.${n}.${w}.${p + 1}` });
      }
    }
  }
  return out;
}

function endpoint(p: PodSpec | undefined): Record<string, unknown> {
  if (!p) return { identity: 2, labels: ['reserved:world'] };
  return {
    ID: 1000,
    identity: 20000,
    namespace: p.ns,
    labels: [`k8s:app=${p.app}`, `k8s:io.kubernetes.pod.namespace=${p.ns}`, 'k8s:io.cilium.k8s.policy.cluster=default'],
    pod_name: p.name,
    workloads: [{ name: p.app, kind: 'Deployment' }],
  };
}

/** Writes `lines` lines of hubble JSON; returns the file's size in bytes. */
export function writeHubbleFile(file: string, lines: number, seed = 15): number {
  const random = seededRandom(seed);
  const all = pods();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  // Each source workload talks to a few fixed destinations, as real applications do.
  const peers = new Map<string, { dst: number; port: number }[]>();
  const fd = fs.openSync(file, 'w');
  let written = 0;
  let chunk = '';
  let bytes = 0;
  const emit = (o: unknown): void => {
    chunk += `${JSON.stringify(o)}\n`;
    written++;
    if (chunk.length > 1 << 20) {
      bytes += fs.writeSync(fd, chunk);
      chunk = '';
    }
  };
  let sport = 1024;
  while (written < lines) {
    const s = pick(all);
    const key = `${s.ns}/${s.app}`;
    let list = peers.get(key);
    if (!list) {
      list = Array.from({ length: 3 }, () => ({ dst: Math.floor(random() * (all.length + 20)), port: pick(PORTS) }));
      peers.set(key, list);
    }
    const { dst, port } = pick(list);
    const d = all[dst];
    const dstIp = d ? d.ip : `203.0.113.${dst - all.length + 1}`;
    sport = sport >= 65000 ? 1024 : sport + 1;
    const flow = (dir: string, reply: boolean, flags: Record<string, boolean>, verdict = 'FORWARDED'): unknown => ({
      flow: {
        time: '2026-11-30T07:00:00.000000000Z',
        verdict,
        IP: reply ? { source: dstIp, destination: s.ip, ipVersion: 'IPv4' } : { source: s.ip, destination: dstIp, ipVersion: 'IPv4' },
        l4: { TCP: reply ? { source_port: port, destination_port: sport, flags } : { source_port: sport, destination_port: port, flags } },
        source: reply ? endpoint(d) : endpoint(s),
        destination: reply ? endpoint(s) : endpoint(d),
        Type: 'L3_L4',
        node_name: 'kind-worker',
        event_type: { type: 4 },
        traffic_direction: dir,
        is_reply: reply,
        Summary: 'TCP Flags: SYN',
      },
      node_name: 'kind-worker',
      time: '2026-11-30T07:00:00.000000000Z',
    });
    if (random() < 0.05) {
      emit(flow('EGRESS', false, { SYN: true }, 'DROPPED'));
      continue;
    }
    emit(flow('EGRESS', false, { SYN: true }));
    if (d) emit(flow('INGRESS', false, { SYN: true }));
    emit(flow('EGRESS', true, { SYN: true, ACK: true }));
    emit(flow('EGRESS', false, { ACK: true }));
  }
  bytes += fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  return bytes;
}

interface Run {
  readonly ms: number;
  readonly cpuMs: number;
  readonly peakRssMB: number;
  readonly code: number | null;
  readonly outBytes: number;
}

async function learnOnce(dir: string, file: string): Promise<Run> {
  const hook = path.join(dir, 'rss-hook.js');
  fs.writeFileSync(
    hook,
    "process.on('exit', () => { const u = process.resourceUsage(); require('fs').writeFileSync(process.env.NETSEG_BENCH_RSS, JSON.stringify([u.maxRSS, u.userCPUTime + u.systemCPUTime])); });\n",
  );
  const rssFile = path.join(dir, 'rss.json');
  fs.rmSync(rssFile, { force: true });
  const r = await runCommand(process.execPath, ['--require', hook, BIN, 'learn', '--flows', file], { timeoutMs: 20 * 60_000, env: { ...process.env, NETSEG_BENCH_RSS: rssFile } });
  if (r.code !== 0) process.stderr.write(`learn: exit ${r.code}\n${r.stderrTail}\n`);
  const [kb, cpuUs] = JSON.parse(fs.readFileSync(rssFile, 'utf8')) as number[];
  return { ms: r.ms, cpuMs: Math.round((cpuUs ?? NaN) / 1000), peakRssMB: Math.round((kb ?? NaN) / 1024), code: r.code, outBytes: r.outBytes };
}

async function measure(dir: string, lines: number, runs: number): Promise<Record<string, unknown>> {
  const file = path.join(dir, `hubble-${lines}.jsonl`);
  const bytes = writeHubbleFile(file, lines);
  const all: Run[] = [];
  for (let i = 0; i < runs; i++) all.push(await learnOnce(dir, file));
  fs.rmSync(file, { force: true });
  const ms = median(all.map((r) => r.ms));
  return {
    lines,
    fileMB: Math.round(bytes / 1024 / 1024),
    runsMs: all.map((r) => r.ms),
    medianMs: ms,
    medianCpuMs: median(all.map((r) => r.cpuMs)),
    linesPerSecond: Math.round(lines / (ms / 1000)),
    // CPU time: on the shared 2-core machine a steadier figure than wall time.
    linesPerCpuSecond: Math.round(lines / (median(all.map((r) => r.cpuMs)) / 1000)),
    mbPerSecond: Math.round((bytes / 1024 / 1024 / (ms / 1000)) * 10) / 10,
    peakRssMB: Math.max(...all.map((r) => r.peakRssMB)),
    exitCodes: [...new Set(all.map((r) => r.code))],
    outputKB: Math.round((all[0]?.outBytes ?? 0) / 1024),
  };
}

export async function run(): Promise<void> {
  const large = Number(process.env['NETSEG_BENCH_LEARN_LINES'] ?? 1_000_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-bench-learn-'));
  try {
    const small = await measure(dir, Math.round(large / 4), 3);
    const big = await measure(dir, large, 3);
    report('learn', {
      cluster: { namespaces: NAMESPACES, workloads: NAMESPACES * WORKLOADS_PER_NS, pods: NAMESPACES * WORKLOADS_PER_NS * PODS_PER_WORKLOAD },
      quarter: small,
      full: big,
      peakRssRatioFullToQuarter: Math.round(((big['peakRssMB'] as number) / (small['peakRssMB'] as number)) * 100) / 100,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
