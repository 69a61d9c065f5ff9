/**
 * `netseg reach`: tests NetworkPolicies (and intents, compiled on the fly) against the pods of a cluster file,
 * of the live cluster (read-only, kubectl's flags), or of the files laid over the live cluster (./sources.ts),
 * before anything reaches production. The whole matrix (table, json, dot, mermaid), one explained question
 * (--from/--to/--port), or a batch of questions (--queries).
 */
import * as fs from 'fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { FLOW_FORMATS, type FlowFormat } from '../flows';
import type { Protocol } from '../model/kubernetes';
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
} from '../reach';
import type { CliIO } from './io';
import { clusterOf } from './cluster-input';
import { type KubeFlags, addKubeFlags } from './kube-flags';
import { loadCombined } from './sources';
import { answerFlows } from './reach-flows';
import { buildGraph, renderDot, renderMermaid } from './reach-graph';
import { aggregate, writeJson, writeTable } from './reach-render';
import { type ReachFilter, filtered, parseFilter } from './reach-view';
import { type RawQuery, type ServiceInfo, expandQuery, servicesFrom } from './reach-resolve';

const FORMATS = ['table', 'json', 'dot', 'mermaid'] as const;
type Format = (typeof FORMATS)[number];

/** `namespace` is reach's view filter (many), not kubectl's one namespace: the whole input is always read. */
interface ReachOptions extends Omit<KubeFlags, 'namespace'> {
  filename?: string[];
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
  namespace?: string[];
  workload?: string[];
  onlyIsolated?: boolean;
}

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command('reach')
    .description('Which pods may connect to which, on which ports, under the given NetworkPolicies and intents')
    .option('-f, --filename <paths...>', 'YAML/JSON files or folders: Namespaces, Pods, NetworkPolicies, SegmentationIntents, Services (default: the cluster; with --kubeconfig/--context, laid over it)');
  // Its -n is a view filter (below): every namespace's policies and pods decide what reaches what, so the whole input is always read.
  addKubeFlags(cmd)
    .option('-o, --output <format>', `output format: ${FORMATS.join('|')}`, 'table')
    .option('--from <source>', 'one question: the source, NAMESPACE/POD, NAMESPACE/WORKLOAD, NAMESPACE/SERVICE or an IP address')
    .option('--to <destination>', 'one question: the destination, NAMESPACE/POD, NAMESPACE/WORKLOAD, NAMESPACE/SERVICE or an IP address')
    .option('--port <port>', 'one question: the destination port, a number or a name (a Service port or a container port)')
    .option('--protocol <protocol>', 'one question: TCP, UDP or SCTP', 'TCP')
    .option('--queries <file>', 'many questions: a JSON array of {from, to, port, protocol}')
    .option('--per-pod', 'with -o json: one entry per ordered pod pair and declared port (API.md), instead of per workload')
    .option('--flows <files...>', 'answer every observed flow in these flow logs (hubble, ig or netseg format); exit 1 when any is denied')
    .addOption(new Option('--format <format>', 'the --flows files\' format (default: told from each file\'s content)').choices([...FLOW_FORMATS]))
    .option('--enforce-dry-run', 'count DryRun intents as enforced: what would break if they were enforced?')
    .option('-n, --namespace <namespaces...>', 'aggregated view: only rows to or from workloads of these namespaces (repeat or comma list)')
    .option('--workload <workloads...>', 'aggregated view: only rows to or from these workloads, NAMESPACE/NAME as the table prints them (repeat or comma list)')
    .option('--only-isolated', 'aggregated view: only pod pairs a NetworkPolicy decides (destination isolated for ingress or source isolated for egress)')
    .action(async (opts: ReachOptions) => io.setExitCode(await runReach(opts, io)));
}

async function runReach(opts: ReachOptions, io: CliIO): Promise<number> {
  const format = FORMATS.find((f) => f === opts.output);
  if (!format) return usage(io, `unknown output format "${opts.output}" (use ${FORMATS.join(', ')})`);
  if (opts.perPod && format !== 'json') return usage(io, '--per-pod goes with -o json');
  const viewFlags = opts.namespace !== undefined || opts.workload !== undefined || opts.onlyIsolated === true;
  const otherMode = opts.perPod ? '--per-pod' : opts.flows ? '--flows' : opts.queries ? '--queries' : opts.from ?? opts.to ?? opts.port ? '--from/--to/--port' : undefined;
  if (viewFlags && otherMode) return usage(io, `--namespace, --workload and --only-isolated filter the aggregated view, not ${otherMode}`);
  const src = await loadCombined({ filename: opts.filename, kubeconfig: opts.kubeconfig, context: opts.context });
  // No answer over half a cluster: a pod or policy left out would change verdicts silently.
  if (!src.ok) return fail(io, src.errors);
  const loaded = clusterOf(src.loaded, { enforceDryRun: opts.enforceDryRun === true });
  if (loaded.errors.length > 0) return fail(io, loaded.errors);
  if (opts.flows) {
    if (format !== 'table' && format !== 'json') return usage(io, '--flows prints table or json');
    return answerFlows(loaded, { flows: opts.flows, format: opts.format, output: format }, io);
  }
  const cluster = buildCluster(loaded.input);
  for (const issue of cluster.issues) io.err(`warning: ${issue}\n`);
  const single = [opts.from, opts.to, opts.port].filter((x) => x !== undefined).length;
  if (single > 0 && single < 3) return usage(io, '--from, --to and --port go together');
  if (single === 3 && opts.queries) return usage(io, 'ask either one question (--from/--to/--port) or --queries, not both');
  const services = servicesFrom(loaded.objects.services);
  if (single === 3) return answerOne(cluster, services, { from: opts.from, to: opts.to, port: opts.port, protocol: opts.protocol }, format, io);
  if (opts.queries) return answerMany(cluster, services, opts.queries, format, io);
  if (opts.perPod) {
    printPerPod(computeMatrix(cluster), io);
    return 0;
  }
  return printAggregated(cluster, format, opts, io);
}

function fail(io: CliIO, errors: readonly string[]): number {
  for (const e of errors) io.err(`error: ${e}\n`);
  return 1;
}

function usage(io: CliIO, message: string): number {
  io.err(`error: ${message}\n`);
  return 2;
}

function answerOne(cluster: Cluster, services: readonly ServiceInfo[], q: RawQuery, format: Format, io: CliIO): number {
  const x = expandQuery(cluster, services, q);
  if (typeof x === 'string') return usage(io, x);
  if (x.pairs.length === 0) return usage(io, `no pod of ${x.to.label} declares a ${x.protocol} port named ${JSON.stringify(x.portText)}`);
  const answers = x.pairs.map((t) => ({ t, v: evaluate(cluster, t) }));
  const [only] = answers;
  if (answers.length === 1 && only && x.noPort.length === 0) {
    if (format === 'json') io.out(`${JSON.stringify({ ...entry(cluster, only.t, only.v), ingress: only.v.ingress, egress: only.v.egress }, null, 2)}\n`);
    else io.out(explain(cluster, only.t, only.v));
    return 0;
  }
  // A workload or Service: every pod pair answered, and whether they agree said first.
  const allowed = answers.filter((a) => a.v.allowed).length;
  const verdict = allowed === answers.length ? 'allowed' : allowed === 0 ? 'denied' : 'differs';
  if (format === 'json') {
    const pairs = answers.map((a) => ({ ...entry(cluster, a.t, a.v), ingress: a.v.ingress, egress: a.v.egress }));
    io.out(`${JSON.stringify({ from: x.from.label, to: x.to.label, port: x.portText, protocol: x.protocol, verdict, pairs, noPort: x.noPort }, null, 2)}\n`);
    return 0;
  }
  const head = `${x.from.label} -> ${x.to.label} ${x.protocol}/${x.portText}`;
  const n = answers.length;
  io.out(
    verdict === 'differs'
      ? `${head}: DIFFERS per pod: ${allowed} of ${n} pod pairs allowed, ${n - allowed} denied\n`
      : `${head}: ${verdict.toUpperCase()} for ${n === 1 ? 'its one pod pair' : `all ${n} pod pairs`}\n`,
  );
  for (const p of x.noPort) io.out(`  not asked: ${p} declares no ${x.protocol} port named ${JSON.stringify(x.portText)}\n`);
  for (const a of answers) io.out(indent(explain(cluster, a.t, a.v)));
  return 0;
}

function indent(text: string): string {
  return text.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
}

function answerMany(cluster: Cluster, services: readonly ServiceInfo[], file: string, format: Format, io: CliIO): number {
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
    // A workload or Service side asks every pod pair: one result per pair, each naming its pods.
    const x = typeof q === 'object' && q !== null ? expandQuery(cluster, services, q as RawQuery) : 'not an object';
    if (typeof x === 'string') {
      io.err(`error: ${file}: query ${i}: ${x}\n`);
      return 1;
    }
    for (const p of x.noPort) io.err(`warning: ${file}: query ${i}: ${p} declares no ${x.protocol} port named ${JSON.stringify(x.portText)}: not asked\n`);
    traffic.push(...x.pairs);
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

/**
 * The per-workload view. The graphs always fold the policy-decided pairs (drawn solid) and draw the rest as
 * "not isolated" unless --only-isolated; the table and JSON fold every allowed pair, or with --only-isolated
 * only the policy-decided ones.
 */
function printAggregated(cluster: Cluster, format: Format, opts: ReachOptions, io: CliIO): number {
  const graph = format === 'dot' || format === 'mermaid';
  const agg = aggregate(cluster, graph || opts.onlyIsolated === true ? 'policy' : 'all');
  const filter: ReachFilter | undefined | string = parseFilter(opts.namespace, opts.workload, agg.workloads);
  if (typeof filter === 'string') return usage(io, filter);
  if (format === 'table') {
    writeTable(filtered(agg, filter), (t) => io.out(t));
    if (opts.onlyIsolated) io.out('--only-isolated: only the pod pairs a NetworkPolicy decides (destination isolated for ingress or source for egress).\n');
  }
  else if (format === 'json') writeJson(filtered(agg, filter), (t) => io.out(t));
  else {
    const g = buildGraph(cluster, agg, { open: opts.onlyIsolated !== true, filter });
    io.out(format === 'dot' ? renderDot(g) : renderMermaid(g));
  }
  return 0;
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
