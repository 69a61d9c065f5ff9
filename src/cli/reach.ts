/**
 * `netseg reach`: tests NetworkPolicies (and intents, compiled on the fly) against the pods of a cluster file,
 * before anything reaches production. The whole matrix (table, json, dot, mermaid), one explained question
 * (--from/--to/--port), or a batch of questions (--queries).
 */
import * as fs from 'fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { FLOW_FORMATS, type FlowFormat } from '../flows';
import { PROTOCOLS, type Protocol } from '../model/kubernetes';
import {
  type Cluster,
  type Endpoint,
  type Matrix,
  type SideVerdict,
  type Traffic,
  type Verdict,
  buildCluster,
  computeMatrix,
  endpointName,
  evaluate,
  resolveEndpoint,
} from '../reach';
import type { CliIO } from './io';
import { loadCluster } from './cluster-input';
import { answerFlows } from './reach-flows';
import { aggregate, renderGraph, writeJson, writeTable } from './reach-render';

const FORMATS = ['table', 'json', 'dot', 'mermaid'] as const;
type Format = (typeof FORMATS)[number];

interface ReachOptions {
  filename: string[];
  output: string;
  from?: string;
  to?: string;
  port?: string;
  protocol: string;
  queries?: string;
  perPod?: boolean;
  flows?: string[];
  format?: FlowFormat;
  enforceDryRun?: boolean;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('reach')
    .description('Which pods may connect to which, on which ports, under the given NetworkPolicies and intents')
    .requiredOption('-f, --filename <paths...>', 'YAML/JSON files or folders: Namespaces, Pods, NetworkPolicies, SegmentationIntents')
    .option('-o, --output <format>', `output format: ${FORMATS.join('|')}`, 'table')
    .option('--from <source>', 'one question: the source, NAMESPACE/POD or an IP address')
    .option('--to <destination>', 'one question: the destination, NAMESPACE/POD or an IP address')
    .option('--port <port>', 'one question: the destination port (a number)')
    .option('--protocol <protocol>', 'one question: TCP, UDP or SCTP', 'TCP')
    .option('--queries <file>', 'many questions: a JSON array of {from, to, port, protocol}')
    .option('--per-pod', 'with -o json: one entry per ordered pod pair and declared port (API.md), instead of per workload')
    .option('--flows <files...>', 'answer every observed flow in these flow logs (hubble, ig or netseg format); exit 1 when any is denied')
    .addOption(new Option('--format <format>', 'the --flows files\' format (default: told from each file\'s content)').choices([...FLOW_FORMATS]))
    .option('--enforce-dry-run', 'count DryRun intents as enforced: what would break if they were enforced?')
    .action((opts: ReachOptions) => io.setExitCode(runReach(opts, io)));
}

function runReach(opts: ReachOptions, io: CliIO): number {
  const format = FORMATS.find((f) => f === opts.output);
  if (!format) return usage(io, `unknown output format "${opts.output}" (use ${FORMATS.join(', ')})`);
  if (opts.perPod && format !== 'json') return usage(io, '--per-pod goes with -o json');
  const loaded = loadCluster(opts.filename, { enforceDryRun: opts.enforceDryRun === true });
  if (loaded.errors.length > 0) {
    for (const e of loaded.errors) io.err(`error: ${e}\n`);
    return 1;
  }
  if (opts.flows) {
    if (format !== 'table' && format !== 'json') return usage(io, '--flows prints table or json');
    return answerFlows(loaded, { flows: opts.flows, format: opts.format, output: format }, io);
  }
  const cluster = buildCluster(loaded.input);
  for (const issue of cluster.issues) io.err(`warning: ${issue}\n`);
  const single = [opts.from, opts.to, opts.port].filter((x) => x !== undefined).length;
  if (single > 0 && single < 3) return usage(io, '--from, --to and --port go together');
  if (single === 3 && opts.queries) return usage(io, 'ask either one question (--from/--to/--port) or --queries, not both');
  if (single === 3) return answerOne(cluster, { from: opts.from, to: opts.to, port: opts.port, protocol: opts.protocol }, format, io);
  if (opts.queries) return answerMany(cluster, opts.queries, format, io);
  if (opts.perPod) printPerPod(computeMatrix(cluster), io);
  else printAggregated(cluster, format, io);
  return 0;
}

function usage(io: CliIO, message: string): number {
  io.err(`error: ${message}\n`);
  return 2;
}

/** A question as written by a user; every field is checked before it becomes Traffic. */
interface RawQuery {
  readonly from: unknown;
  readonly to: unknown;
  readonly port: unknown;
  readonly protocol: unknown;
}

function parseQuery(cluster: Cluster, q: RawQuery): Traffic | string {
  const from = resolveText(cluster, q.from);
  const to = resolveText(cluster, q.to);
  if (!from) return `unknown source ${JSON.stringify(q.from)}: give NAMESPACE/POD of a pod in the files, or an IP address`;
  if (!to) return `unknown destination ${JSON.stringify(q.to)}: give NAMESPACE/POD of a pod in the files, or an IP address`;
  if (from.kind === 'ip' && to.kind === 'ip') return 'at least one side must be a pod: no policy governs IP-to-IP traffic';
  const port = parsePort(q.port);
  if (port === undefined) return `port ${JSON.stringify(q.port)} must be a number from 1 to 65535`;
  const protocol = q.protocol === undefined ? 'TCP' : PROTOCOLS.find((p) => p === q.protocol);
  if (!protocol) return `protocol ${JSON.stringify(q.protocol)} must be one of ${PROTOCOLS.join(', ')}`;
  return { from, to, port, protocol };
}

/** A port from the command line (text) or a queries file (a number, or text of digits). */
function parsePort(raw: unknown): number | undefined {
  const port = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

function resolveText(cluster: Cluster, raw: unknown): Endpoint | undefined {
  return typeof raw === 'string' ? resolveEndpoint(cluster, raw) : undefined;
}

function answerOne(cluster: Cluster, q: RawQuery, format: Format, io: CliIO): number {
  const traffic = parseQuery(cluster, q);
  if (typeof traffic === 'string') return usage(io, traffic);
  const verdict = evaluate(cluster, traffic);
  if (format === 'json') io.out(`${JSON.stringify({ ...entry(cluster, traffic, verdict), ingress: verdict.ingress, egress: verdict.egress }, null, 2)}\n`);
  else io.out(explain(cluster, traffic, verdict));
  return 0;
}

function answerMany(cluster: Cluster, file: string, format: Format, io: CliIO): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    io.err(`error: ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  if (!Array.isArray(parsed)) {
    io.err(`error: ${file}: expected a JSON array of {"from", "to", "port", "protocol"}\n`);
    return 1;
  }
  const traffic: Traffic[] = [];
  for (const [i, q] of parsed.entries()) {
    const t = typeof q === 'object' && q !== null ? parseQuery(cluster, q as RawQuery) : 'not an object';
    if (typeof t === 'string') {
      io.err(`error: ${file}: query ${i}: ${t}\n`);
      return 1;
    }
    traffic.push(t);
  }
  const results = traffic.map((t) => entry(cluster, t, evaluate(cluster, t)));
  if (format === 'json') io.out(`${JSON.stringify({ results })}\n`);
  else for (const r of results) io.out(`${r.from} -> ${r.to} ${r.protocol}/${r.port}: ${r.allowed ? 'allowed' : 'denied'}\n`);
  return 0;
}

function entry(cluster: Cluster, t: Traffic, v: Verdict): { from: string; to: string; port: number; protocol: Protocol; allowed: boolean } {
  return { from: endpointName(cluster, t.from), to: endpointName(cluster, t.to), port: t.port, protocol: t.protocol, allowed: v.allowed };
}

export function explain(cluster: Cluster, t: Traffic, v: Verdict): string {
  const from = endpointName(cluster, t.from);
  const to = endpointName(cluster, t.to);
  return [
    `${from} -> ${to} ${t.protocol}/${t.port}: ${v.allowed ? 'ALLOWED' : 'DENIED'}`,
    `  egress of ${describeSide(from, t.from)}: ${explainSide(v.egress)}`,
    `  ingress of ${describeSide(to, t.to)}: ${explainSide(v.ingress)}`,
    '',
  ].join('\n');
}

function describeSide(name: string, e: Endpoint): string {
  return e.kind === 'ip' ? `${name} (outside the cluster)` : name;
}

function explainSide(s: SideVerdict): string {
  switch (s.kind) {
    case 'not-applicable':
      return 'nothing to check: no NetworkPolicy governs an address outside the cluster';
    case 'self':
      return 'allowed: a pod always reaches itself';
    case 'not-isolated':
      return 'allowed: no NetworkPolicy isolates it in this direction';
    case 'allowed':
      return `allowed by ${s.allowedBy.map((r) => `${r.policy} rule ${r.rule}`).join(', ')}`;
    case 'denied':
      return `denied: isolated by ${s.isolatedBy.join(', ')}, and no rule of theirs admits this`;
  }
}

function printAggregated(cluster: Cluster, format: Format, io: CliIO): void {
  const agg = aggregate(cluster);
  if (format === 'table') writeTable(agg, (t) => io.out(t));
  else if (format === 'json') writeJson(agg, (t) => io.out(t));
  else io.out(renderGraph(agg, format));
}

/**
 * API.md's `{"results": [...]}`, in its order (source, destination, port), written in ~1 MB pieces as the
 * rows are made: the full matrix of a large cluster is hundreds of millions of rows, far too big for one
 * string. Each row is the bytes JSON.stringify gives for {from, to, port, protocol, allowed}, built from
 * names quoted once per pod rather than one JSON.stringify per row.
 */
function printPerPod(m: Matrix, io: CliIO): void {
  const quoted = m.pods.map((p) => JSON.stringify(p.key));
  const byDst: { readonly tail: string; readonly allowed: Uint8Array }[][] = m.pods.map(() => []);
  for (const c of m.columns) {
    byDst[c.to]?.push({ tail: `,"port":${c.port.port},"protocol":${JSON.stringify(c.port.protocol)},"allowed":`, allowed: c.allowed });
  }
  const dstHeads = quoted.map((q) => `"to":${q}`);
  io.out('{"results": [');
  let chunk = '';
  let first = true;
  for (let s = 0; s < m.pods.length; s++) {
    const head = `{"from":${quoted[s] ?? '""'},`;
    for (let d = 0; d < byDst.length; d++) {
      const cols = byDst[d] ?? [];
      for (const c of cols) {
        chunk += `${first ? '\n' : ',\n'}${head}${dstHeads[d] ?? ''}${c.tail}${c.allowed[s] === 1 ? 'true}' : 'false}'}`;
        first = false;
      }
      if (chunk.length >= 1 << 20) {
        io.out(chunk);
        chunk = '';
      }
    }
  }
  io.out(`${chunk}\n]}\n`);
}
