/**
 * `netseg verify -f INTENTS... [--cluster FILE...]`: proves that the policies compiled from the intents allow
 * exactly the intents' flows for the intents' workloads, no more and no less (see src/verify/check.ts for what
 * "exactly" means per direction), and names every other policy that opens more. Exit 0 when it holds for every
 * intent, 1 with each difference listed (or when an input is invalid), 2 on a usage error.
 * DryRun intents are verified too: verify is how one checks an intent before switching it to Enforce.
 * This module only parses, loads and prints: the proof is src/verify (pure, beside src/reach).
 */
import type { Command } from 'commander';
import { type Difference, type IntentReport, type VerifyOutcome, verifyAll, verifyBaseline } from '../verify';
import { indexObjects } from '../resolve';
import { compileBaselines } from './baselines';
import { compileIntents, sortObjects } from './cluster-input';
import type { CliIO } from './io';
import { loadFiles } from './input';

interface VerifyOptions {
  filename: string[];
  cluster?: string[];
  output: string;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('verify')
    .description('Prove that the compiled policies allow exactly the intents\' flows, and find what else opens them')
    .requiredOption('-f, --filename <paths...>', 'files or folders with SegmentationIntents and ClusterSegmentationIntents, or - for stdin')
    .option('--cluster <paths...>', 'files with the cluster (Namespaces, Pods, NetworkPolicies); default: synthetic pods')
    .option('-o, --output <format>', 'text|json', 'text')
    .action((opts: VerifyOptions) => io.setExitCode(runVerify(opts, io)));
}

function runVerify(opts: VerifyOptions, io: CliIO): number {
  if (opts.output !== 'text' && opts.output !== 'json') {
    io.err(`error: unknown output format "${opts.output}" (use text or json)\n`);
    return 2;
  }
  const intentsLoad = loadFiles(opts.filename);
  const clusterLoad = loadFiles(opts.cluster ?? []);
  const intentObjects = sortObjects(intentsLoad.objects);
  const clusterObjects = sortObjects(clusterLoad.objects);
  // References resolve against every Service, workload and Ingress given, with the intents or with --cluster.
  const referenced = indexObjects([...intentObjects.referenced, ...clusterObjects.referenced]);
  const { compiled, errors } = compileIntents(intentObjects.intents, referenced);
  // A baseline covers the Namespaces of the input (the cluster files and those given with it), and its proof
  // needs their pods: there is no synthetic world for "every namespace".
  const world = { namespaces: [...clusterObjects.namespaces, ...intentObjects.namespaces], pods: [...clusterObjects.pods, ...intentObjects.pods] };
  const base = compileBaselines(intentObjects.baselines, world.namespaces);
  const allErrors = [...intentsLoad.errors, ...clusterLoad.errors, ...errors, ...base.errors];
  if (intentObjects.intents.length + intentObjects.baselines.length === 0) allErrors.push(`no SegmentationIntent or ClusterSegmentationIntent in ${opts.filename.join(', ')}`);
  if (allErrors.length > 0) {
    for (const e of allErrors) io.err(`error: ${e}\n`);
    return 1;
  }
  const intentOutcome = verifyAll(
    compiled.map((c) => ({ intent: c.intent, policies: c.policies })),
    opts.cluster ? { namespaces: clusterObjects.namespaces, pods: clusterObjects.pods, policies: clusterObjects.policies } : undefined,
  );
  const baselineReports: IntentReport[] = base.compiled.map((c) => verifyBaseline(c.baseline, c.policies, { ...world, policies: [] }));
  // A baseline that covers no pod of the input proved nothing: a failure, as a workload selecting nothing is.
  const empty = baselineReports.filter((r) => r.workloadPods === 0).map((r) => `${r.intent}: selects no pod of the input's Namespaces; nothing was checked (give --cluster with Namespaces and Pods)`);
  const outcome: VerifyOutcome = { ...intentOutcome, reports: [...(compiled.length > 0 ? intentOutcome.reports : []), ...baselineReports], notes: [...intentOutcome.notes, ...empty] };
  io.out(opts.output === 'json' ? `${JSON.stringify(outcome, null, 2)}\n` : renderText(outcome));
  return outcome.reports.every((r) => r.differences.length === 0) && empty.length === 0 ? 0 : 1;
}

export function renderText(outcome: VerifyOutcome): string {
  const lines: string[] = [];
  for (const r of outcome.reports) {
    const baseline = r.intent.startsWith('ClusterSegmentationIntent ');
    const where = baseline ? "the input's pods" : outcome.synthetic ? 'synthetic pods' : 'the cluster file';
    if (r.differences.length === 0) {
      lines.push(`OK   ${r.intent}: its policies allow exactly its flows (${r.workloadPods} workload pods, ${where})`);
      continue;
    }
    lines.push(`FAIL ${r.intent}: ${r.differences.length} difference(s) (${r.workloadPods} workload pods, ${where})`);
    for (const d of r.differences) lines.push(`  ${describe(d)}`);
  }
  for (const n of outcome.notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}

function describe(d: Difference): string {
  if (d.kind === 'missing-dns') return `missing DNS: ${d.from} cannot reach cluster DNS on ${d.protocol}/53`;
  if (d.kind === 'selects-nothing') {
    return `selects nothing: workload ${d.workload} (${d.field}) selects no pod of namespace ${d.namespace} in the cluster file, so none of it was checked (a label typo?)`;
  }
  if (d.kind === 'undeclared-port') {
    return `undeclared port: ${d.field} ${JSON.stringify(d.port)}: no pod of ${d.to} declares a ${d.protocol} container port named ${JSON.stringify(d.port)}, so the flow opens nothing there (a port name typo?)`;
  }
  const conn = `${d.from} -> ${d.to} ${d.protocol}/${d.port}`;
  const side = d.direction === 'Ingress' ? `ingress of ${d.to}` : `egress of ${d.from}`;
  if (d.kind === 'missing') return `missing: ${conn} is denied on the ${side}, but flow ${d.flow} allows it`;
  if (d.openedBy.length === 0) return `extra: ${conn} is allowed: nothing isolates the ${side}`;
  const by = d.openedBy.map((r) => `${r.policy} rule ${r.rule}`).join(', ');
  return `extra: ${conn} is allowed on the ${side} by ${by}${d.byOwnPolicy ? ' (this intent\'s own policy: a compiler bug)' : ''}`;
}
