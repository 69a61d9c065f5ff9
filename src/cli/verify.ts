/**
 * `netseg verify -f INTENTS... [--cluster FILE...]`: proves that the policies compiled from the intents allow
 * exactly the intents' flows for the intents' workloads, no more and no less (see src/verify/check.ts for what
 * "exactly" means per direction), and names every other policy that opens more. Exit 0 when it holds for every
 * intent, 1 with each difference listed (or when an input is invalid), 2 on a usage error.
 * DryRun intents are verified too: verify is how one checks an intent before switching it to Enforce.
 * This module only parses, loads and prints: the proof is src/verify (pure, beside src/reach).
 */
import type { Command } from 'commander';
import { type IntentReport, proveAll, verifyBaseline } from '../verify';
import { indexObjects } from '../resolve';
import { compileBaselines } from './baselines';
import { compileIntents, sortObjects } from './cluster-input';
import type { CliIO } from './io';
import { loadFiles } from './input';
import { Workloads, describe, reportJson, reportText, writePerPodJson, writePerPodText } from './verify-render';

interface VerifyOptions {
  filename: string[];
  cluster?: string[];
  output: string;
  perPod?: boolean;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('verify')
    .description('Prove that the compiled policies allow exactly the intents\' flows, and find what else opens them')
    .requiredOption('-f, --filename <paths...>', 'files or folders with SegmentationIntents and ClusterSegmentationIntents, or - for stdin')
    .option('--cluster <paths...>', 'files with the cluster (Namespaces, Pods, NetworkPolicies); default: synthetic pods')
    .option('-o, --output <format>', 'text|json', 'text')
    .option('--per-pod', 'list every difference of every pod pair and port, instead of one line per set of them')
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
  const base = compileBaselines(intentObjects.baselines, world.namespaces, referenced);
  const allErrors = [...intentsLoad.errors, ...clusterLoad.errors, ...errors, ...base.errors];
  if (intentObjects.intents.length + intentObjects.baselines.length === 0) allErrors.push(`no SegmentationIntent or ClusterSegmentationIntent in ${opts.filename.join(', ')}`);
  if (allErrors.length > 0) {
    for (const e of allErrors) io.err(`error: ${e}\n`);
    return 1;
  }
  const json = opts.output === 'json';
  const where = opts.cluster ? 'the cluster file' : 'synthetic pods';
  let workloads: Workloads | undefined;
  let first = true;
  if (json) io.out('{"reports": [');
  // Each report is printed as soon as it is made, then dropped: memory does not grow with the differences.
  const outcome = proveAll(
    compiled.map((c) => ({ intent: c.intent, policies: c.policies })),
    opts.cluster ? { namespaces: clusterObjects.namespaces, pods: clusterObjects.pods, policies: clusterObjects.policies } : undefined,
    (report, ctx) => {
      workloads ??= new Workloads(ctx.cluster);
      if (json) io.out(first ? '\n' : ',\n');
      first = false;
      if (json && opts.perPod) writePerPodJson(report, ctx, (t) => io.out(t));
      else if (json) io.out(reportJson(report, workloads));
      else if (opts.perPod) writePerPodText(report, ctx, where, (t) => io.out(t));
      else io.out(reportText(report, workloads, where));
    },
  );
  const baselineReports: IntentReport[] = base.compiled.map((c) => verifyBaseline(c.baseline, c.policies, { ...world, policies: [] }));
  // A baseline that covers no pod of the input proved nothing: a failure, as a workload selecting nothing is.
  const empty = baselineReports.filter((r) => r.workloadPods === 0).map((r) => `${r.intent}: selects no pod of the input's Namespaces; nothing was checked (give --cluster with Namespaces and Pods)`);
  const notes = [...outcome.notes, ...empty];
  if (json) {
    io.out(`\n],\n"baselines": ${JSON.stringify(baselineReports)},\n"notes": ${JSON.stringify(notes)},\n"synthetic": ${outcome.synthetic}}\n`);
  } else {
    io.out(baselineText(baselineReports));
    for (const n of notes) io.out(`note: ${n}\n`);
  }
  return outcome.holds && empty.length === 0 && baselineReports.every((r) => r.differences.length === 0) ? 0 : 1;
}

/** Baselines are proved per pod pair (their worlds are the input's namespaces, small by nature). */
function baselineText(reports: readonly IntentReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    if (r.differences.length === 0) {
      lines.push(`OK   ${r.intent}: its policies allow exactly its flows (${r.workloadPods} workload pods, the input's pods)`);
      continue;
    }
    lines.push(`FAIL ${r.intent}: ${r.differences.length} difference(s) (${r.workloadPods} workload pods, the input's pods)`);
    for (const d of r.differences) lines.push(`  ${describe(d)}`);
  }
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}
