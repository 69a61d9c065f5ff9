/**
 * `netseg verify [-f INTENTS...] [--cluster FILE...] [--kubeconfig F] [--context C] [-n NS]`: proves that the policies compiled from the intents allow
 * exactly the intents' flows for the intents' workloads, no more and no less (see src/verify/check.ts for what
 * "exactly" means per direction), and names every other policy that opens more. Exit 0 when it holds for every
 * intent, 1 with each difference listed (or when an input is invalid), 2 on a usage error.
 * DryRun intents are verified too: verify is how one checks an intent before switching it to Enforce.
 * The cluster is `--cluster` files, the live cluster (read-only, kubectl's flags; ./sources.ts), or the files laid
 * over the live cluster; without `-f`, the intents verified are the live cluster's own.
 * This module only parses, loads and prints: the proof is src/verify (pure, beside src/reach).
 */
import type { Command } from 'commander';
import { type IntentReport, proveAll, verifyBaseline } from '../verify';
import { indexObjects } from '../resolve';
import { compileBaselines } from './baselines';
import { type SortedObjects, compileIntents, sortObjects } from './cluster-input';
import type { CliIO } from './io';
import { loadFiles } from './input';
import { type KubeFlags, addKubeFlags } from './kube-flags';
import type { Loaded, LoadResult } from './load';
import { type ClusterRead, clusterErrors, combine, overlay, readClusterFor } from './sources';
import { isClusterSegmentationIntent, isSegmentationIntent } from '../intent/kinds';
import { Workloads, describe, reportJson, reportText, writePerPodJson, writePerPodText } from './verify-render';

interface VerifyOptions extends KubeFlags {
  filename?: string[];
  cluster?: string[];
  output: string;
  perPod?: boolean;
}

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command('verify')
    .description('Prove that the compiled policies allow exactly the intents\' flows, and find what else opens them')
    .option('-f, --filename <paths...>', 'files or folders with SegmentationIntents and ClusterSegmentationIntents, or - for stdin (default: the cluster\'s intents)')
    .option('--cluster <paths...>', 'files with the cluster (Namespaces, Pods, NetworkPolicies, Services...); with --kubeconfig/--context, laid over the live cluster; default without either: synthetic pods');
  addKubeFlags(cmd, { namespace: 'only the SegmentationIntents of this namespace; no ClusterSegmentationIntent (cluster-scoped, as kubectl get -n shows none); the whole cluster is still read' })
    .option('-o, --output <format>', 'text|json', 'text')
    .option('--per-pod', 'list every difference of every pod pair and port, instead of one line per set of them')
    .action(async (opts: VerifyOptions) => io.setExitCode(await runVerify(opts, io)));
}

async function runVerify(opts: VerifyOptions, io: CliIO): Promise<number> {
  if (opts.output !== 'text' && opts.output !== 'json') {
    io.err(`error: unknown output format "${opts.output}" (use text or json)\n`);
    return 2;
  }
  const input = await inputs(opts);
  // No proof over half a cluster: a policy left out could hide a connection that opens more than the intent.
  if (!input.ok) return fail(io, input.errors);
  const { intentsLoad, clusterLoad, live } = input;
  const intentObjects = inNamespace(sortObjects(intentsLoad.objects), opts.namespace);
  const clusterObjects = sortObjects(clusterLoad.objects);
  // References resolve against every Service, workload and Ingress given, with the intents or with --cluster.
  // One object per identity, the intents' files over the cluster's (./sources.ts): a Service given with the
  // intents replaces the cluster's of the same name.
  const merged = sortObjects(overlay(clusterLoad.objects, intentsLoad.objects));
  const referenced = indexObjects(merged.referenced);
  const { compiled, errors } = compileIntents(intentObjects.intents, referenced);
  // A baseline covers the Namespaces of the input (the cluster files and those given with it), and its proof
  // needs their pods: there is no synthetic world for "every namespace".
  const world = { namespaces: merged.namespaces, pods: merged.pods };
  const base = compileBaselines(intentObjects.baselines, world.namespaces, referenced);
  const allErrors = [...intentsLoad.errors, ...clusterLoad.errors, ...errors, ...base.errors];
  if (intentObjects.intents.length + intentObjects.baselines.length === 0) {
    const where = opts.filename ? opts.filename.join(', ') : 'the cluster';
    allErrors.push(`no SegmentationIntent or ClusterSegmentationIntent in ${opts.namespace === undefined ? where : `namespace ${opts.namespace} of ${where}`}`);
  }
  if (allErrors.length > 0) return fail(io, allErrors);
  const json = opts.output === 'json';
  const real = opts.cluster !== undefined || live.read;
  const where = live.read ? 'the cluster' : opts.cluster ? 'the cluster file' : 'synthetic pods';
  let workloads: Workloads | undefined;
  let first = true;
  if (json) io.out('{"reports": [');
  // Each report is printed as soon as it is made, then dropped: memory does not grow with the differences.
  const outcome = proveAll(
    compiled.map((c) => ({ intent: c.intent, policies: c.policies })),
    real ? { namespaces: clusterObjects.namespaces, pods: clusterObjects.pods, policies: clusterObjects.policies } : undefined,
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

/** With -n: the intents of that namespace, and no baseline (cluster-scoped); the referenced objects stay. */
function inNamespace(o: SortedObjects, namespace: string | undefined): SortedObjects {
  if (namespace === undefined) return o;
  return { ...o, intents: o.intents.filter((i) => i.intent.metadata?.namespace === namespace), baselines: [] };
}

/**
 * The intents and the cluster: the intents are the -f files, or the live cluster's own without -f; the cluster is
 * the --cluster files laid over the live cluster when one is read.
 */
async function inputs(opts: VerifyOptions): Promise<{ ok: true; intentsLoad: LoadResult; clusterLoad: LoadResult; live: ClusterRead } | { ok: false; errors: readonly string[] }> {
  const live = await readClusterFor(opts);
  if (live.errors.length > 0) return { ok: false, errors: clusterErrors(opts, live) };
  const isIntent = ({ object }: Loaded): boolean => isSegmentationIntent(object) || isClusterSegmentationIntent(object);
  const clusterLoad = combine(loadFiles(opts.cluster ?? []), live);
  const intentsLoad = opts.filename ? loadFiles(opts.filename) : { objects: live.objects.filter(isIntent), errors: [] };
  return { ok: true, intentsLoad, clusterLoad, live };
}

function fail(io: CliIO, errors: readonly string[]): number {
  for (const e of errors) io.err(`error: ${e}\n`);
  return 1;
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
