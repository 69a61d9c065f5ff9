/**
 * `netseg audit [--kubeconfig PATH] [--context NAME] [-n NS] | -f FILE...] [-o table|json] [--fail-on KINDS]`: lists what weakens the
 * cluster's segmentation (the findings are src/audit's, pure; this module loads and prints). Findings are information by default (exit 0): a real cluster
 * always has some, e.g. kube-system pods nobody isolates. `--fail-on` names the kinds that should fail a CI job
 * (exit 1), or `any`. Unreadable input exits 1, a usage error 2.
 */
import type { Command } from 'commander';
import { type Finding, type FindingKind, FINDING_KINDS, audit } from '../audit';
import { compileBaselines } from './baselines';
import { compileIntents, referencedObjects, sortObjects } from './cluster-input';
import { loadInput } from './input';
import type { CliIO } from './io';
import { type KubeFlags, addKubeFlags, namesCluster, selection } from './kube-flags';

interface AuditOptions extends KubeFlags {
  filename?: string[];
  output: string;
  failOn?: string;
}

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command('audit')
    .description('Find unisolated pods, policies open to everyone, intents that select nothing, drifted policies')
    .option('-f, --filename <paths...>', 'read Namespaces, Pods, NetworkPolicies and SegmentationIntents from files or folders, or - for stdin (default: from the cluster)');
  addKubeFlags(cmd, { namespace: 'only findings about this namespace (the whole cluster is read: policies elsewhere reach into it)' })
    .option('-o, --output <format>', 'table|json', 'table')
    .option('--fail-on <kinds>', `exit 1 when a finding of these kinds exists: "any" or a comma list of ${FINDING_KINDS.join(', ')}`)
    .action(async (opts: AuditOptions) => io.setExitCode(await runAudit(opts, io)));
}

function optionProblem(opts: AuditOptions): string | undefined {
  if (opts.output !== 'table' && opts.output !== 'json') return `unknown output format "${opts.output}" (use table or json)`;
  if (opts.filename && namesCluster(opts)) return 'give either a cluster (--kubeconfig/--context) or -f, not both';
  return undefined;
}

async function runAudit(opts: AuditOptions, io: CliIO): Promise<number> {
  const problem = optionProblem(opts);
  if (problem) return usage(io, problem);
  const failOn = parseFailOn(opts.failOn);
  if (typeof failOn === 'string') return usage(io, failOn);
  const fromCluster = opts.filename === undefined;
  const read = await loadInput(fromCluster ? { cluster: selection(opts) } : { filenames: opts.filename });
  if (read.errors.length > 0) {
    for (const e of read.errors) io.err(`error: ${e}\n`);
    return 1;
  }
  const objects = sortObjects(read.objects);
  const refs = referencedObjects(objects);
  const { compiled, errors } = compileIntents(objects.intents, refs);
  const base = compileBaselines(objects.baselines, objects.namespaces, refs);
  for (const e of [...errors, ...base.errors]) io.err(`warning: ${e}\n`);
  const all = audit({ objects, compiled, baselines: base.compiled, policiesListed: fromCluster || objects.policies.length > 0 });
  const findings = opts.namespace === undefined ? all : all.filter((f) => findingNamespace(f) === opts.namespace);
  io.out(opts.output === 'json' ? `${JSON.stringify({ findings }, null, 2)}\n` : renderTable(findings));
  return findings.some((f) => failOn.has(f.kind)) ? 1 : 0;
}

/** The namespace a finding is about: the one of its pod, policy or intent (all `namespace/name`), or its own. */
function findingNamespace(f: Finding): string {
  const ref = f.kind === 'unisolated-pod' ? f.pod : f.kind === 'no-default-deny' ? `${f.namespace}/` : f.kind === 'intent-selects-nothing' || f.kind === 'reference-selects-nothing' ? f.intent : f.kind === 'uncovered-backend' ? f.ingress : f.policy;
  return ref.slice(0, ref.indexOf('/'));
}

function usage(io: CliIO, message: string): number {
  io.err(`error: ${message}\n`);
  return 2;
}

function parseFailOn(text: string | undefined): ReadonlySet<FindingKind> | string {
  if (text === undefined) return new Set();
  if (text === 'any') return new Set(FINDING_KINDS);
  const kinds = text.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !FINDING_KINDS.some((f) => f === k));
  if (unknown.length > 0) return `unknown finding kind(s) ${unknown.join(', ')} (use any, or ${FINDING_KINDS.join(', ')})`;
  return new Set(kinds as FindingKind[]);
}

function renderTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings\n';
  const rows = findings.map((f) => ({ kind: f.kind, ...describeFinding(f) }));
  const kw = Math.max(4, ...rows.map((r) => r.kind.length));
  const ow = Math.max(6, ...rows.map((r) => r.object.length));
  const line = (k: string, o: string, d: string): string => `${k.padEnd(kw)}  ${o.padEnd(ow)}  ${d}`;
  return [line('KIND', 'OBJECT', 'DETAIL'), ...rows.map((r) => line(r.kind, r.object, r.detail)), `\n${findings.length} finding(s)\n`].join('\n');
}

function describeFinding(f: Finding): { object: string; detail: string } {
  switch (f.kind) {
    case 'unisolated-pod':
      return { object: f.pod, detail: `no NetworkPolicy isolates its ${f.direction}: everything is allowed` };
    case 'admits-everyone':
      return { object: f.policy, detail: `${f.direction.toLowerCase()} rule ${f.rule} admits everyone: ${f.reason}` };
    case 'intent-selects-nothing':
      return { object: f.intent, detail: `workload ${f.workload} selects no pod (a label typo?)` };
    case 'drifted-policy':
      return { object: f.policy, detail: `generated for ${f.intent}: ${f.reason}` };
    case 'missing-policy':
      return { object: f.policy, detail: `${f.intent} generates it, but it is not there` };
    case 'no-default-deny':
      return { object: f.namespace, detail: `no default-deny policy for ${f.directions.join(' and ')}` };
    case 'uncovered-backend':
      return { object: f.ingress, detail: `backend ${f.backend}: no intent's ingressRoutes open it (declare a workload with service: ${f.backend.split(':')[0] ?? ''})` };
    case 'reference-selects-nothing':
      return { object: f.intent, detail: `${f.endpoint} names ${f.object}, whose selector selects no pod` };
  }
}
