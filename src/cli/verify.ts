/**
 * `netseg verify -f INTENTS... [--cluster FILE...]`: proves that the policies compiled from the intents allow
 * exactly the intents' flows for the intents' workloads, no more and no less (see src/verify/check.ts for what
 * "exactly" means per direction), and names every other policy that opens more. Exit 0 when it holds for every
 * intent, 1 with each difference listed (or when an input is invalid), 2 on a usage error.
 * DryRun intents are verified too: verify is how one checks an intent before switching it to Enforce.
 * This module only parses, loads and prints: the proof is src/verify (pure, beside src/reach).
 */
import type { Command } from 'commander';
import { proveAll } from '../verify';
import { compileIntents, sortObjects } from './cluster-input';
import type { CliIO } from './io';
import { loadFiles } from './input';
import { Workloads, reportJson, reportText, writePerPodJson, writePerPodText } from './verify-render';

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
    .requiredOption('-f, --filename <paths...>', 'files or folders with SegmentationIntents, or - for stdin')
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
  const { compiled, errors } = compileIntents(intentObjects.intents);
  const allErrors = [...intentsLoad.errors, ...clusterLoad.errors, ...errors];
  if (intentObjects.intents.length === 0) allErrors.push(`no SegmentationIntent in ${opts.filename.join(', ')}`);
  if (allErrors.length > 0) {
    for (const e of allErrors) io.err(`error: ${e}\n`);
    return 1;
  }
  const clusterObjects = sortObjects(clusterLoad.objects);
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
  if (json) io.out(`\n],\n"notes": ${JSON.stringify(outcome.notes)},\n"synthetic": ${outcome.synthetic}}\n`);
  else for (const n of outcome.notes) io.out(`note: ${n}\n`);
  return outcome.holds ? 0 : 1;
}
