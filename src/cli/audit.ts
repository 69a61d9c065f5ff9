/**
 * `netseg audit [--kubeconfig PATH] [--context NAME] [-n NS] | -f FILE...] [-o table|json] [--kind KINDS] [--details]
 * [--fail-on KINDS]`: lists what weakens the cluster's segmentation (the findings are src/audit's, pure; this
 * module loads and prints). The table has one line per namespace and kind, with a count and a few examples
 * (`--details`: one line per finding; -o json: every finding). Findings are information by default (exit 0): a
 * real cluster always has some, e.g. kube-system pods nobody isolates. `--fail-on` names the kinds that should
 * fail a CI job (exit 1), or `any`. Unreadable input exits 1, a usage error 2.
 */
import type { Command } from 'commander';
import { type Finding, type FindingKind, FINDING_KINDS, audit, openByDesign } from '../audit';
import type { SourcedIntent } from './intents';
import { compileBaselines } from './baselines';
import { compileIntents, referencedObjects, sortObjects } from './cluster-input';
import { loadInput } from './input';
import type { CliIO } from './io';
import { type KubeFlags, addKubeFlags, namesCluster, selection } from './kube-flags';

interface AuditOptions extends KubeFlags {
  filename?: string[];
  output: string;
  failOn?: string;
  kind?: string[];
  details?: boolean;
}

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command('audit')
    .description('Find unisolated pods, policies open to everyone, intents that select nothing, drifted policies')
    .option('-f, --filename <paths...>', 'read Namespaces, Pods, NetworkPolicies and SegmentationIntents from files or folders, or - for stdin (default: from the cluster)');
  addKubeFlags(cmd, { namespace: 'only findings about this namespace (the whole cluster is read: policies elsewhere reach into it)' })
    .option('-o, --output <format>', 'table|json', 'table')
    .option('--kind <kinds...>', `only findings of these kinds (repeat or comma list): ${FINDING_KINDS.join(', ')}`)
    .option('--details', 'table: one line per finding instead of one per namespace and kind')
    .option('--fail-on <kinds>', `exit 1 when a finding of these kinds exists (among those shown): "any" or a comma list of ${FINDING_KINDS.join(', ')}`)
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
  const kinds = opts.kind === undefined ? undefined : parseKinds(opts.kind.join(','), '--kind');
  if (typeof kinds === 'string') return usage(io, kinds);
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
  const all = audit({ objects, compiled: withApplied(compiled, objects.intents), baselines: base.compiled, policiesListed: fromCluster || objects.policies.length > 0 });
  const inNs = (ref: string): boolean => opts.namespace === undefined || ref.slice(0, ref.indexOf('/')) === opts.namespace;
  const findings = all.filter((f) => inNs(`${findingNamespace(f)}/`) && (!kinds || kinds.has(f.kind)));
  // What audit recognised as netseg's own and left out, said rather than silently dropped.
  const notFlagged = openByDesign(objects.policies).filter((o) => inNs(o.policy) && (!kinds || kinds.has('admits-everyone')));
  if (opts.output === 'json') io.out(`${JSON.stringify({ findings, summary: groupFindings(findings).map(({ examples: _, ...g }) => g), notFlagged }, null, 2)}\n`);
  else io.out((opts.details ? renderTable(findings) : renderGroups(findings)) + notFlaggedText(notFlagged));
  return findings.some((f) => failOn.has(f.kind)) ? 1 : 0;
}

/**
 * The intents the operator reports having applied as they are: `status.observedGeneration` equals
 * `metadata.generation`. Intent files of a pull request carry no status, so what they would change is a pending
 * change, never drift.
 */
export function withApplied<C extends { readonly intent: { readonly namespace: string; readonly name: string } }>(compiled: readonly C[], intents: readonly SourcedIntent[]): (C & { applied: boolean })[] {
  const applied = new Set<string>();
  for (const { intent } of intents) {
    const generation = intent.metadata.generation;
    if (generation !== undefined && intent.status?.observedGeneration === generation) applied.add(`${intent.metadata.namespace ?? 'default'}/${intent.metadata.name ?? ''}`);
  }
  return compiled.map((c) => ({ ...c, applied: applied.has(`${c.intent.namespace}/${c.intent.name}`) }));
}

function notFlaggedText(items: readonly { policy: string; direction: string; rule: number }[]): string {
  if (items.length === 0) return '';
  const list = items.map((o) => `${o.policy} ${o.direction.toLowerCase()} rule ${o.rule}`).join(', ');
  return `not flagged: netseg's own policy opens its metrics port and the API server's ports to every address by design (${list})\n`;
}

interface Group {
  readonly namespace: string;
  readonly kind: FindingKind;
  readonly count: number;
  /** Distinct objects, in the findings' order. */
  readonly examples: readonly string[];
  readonly objects: number;
}

/** Findings per namespace and kind, namespaces in name order and kinds in FINDING_KINDS order. */
export function groupFindings(findings: readonly Finding[]): Group[] {
  const groups = new Map<string, { namespace: string; kind: FindingKind; count: number; objects: string[]; seen: Set<string> }>();
  for (const f of findings) {
    const namespace = findingNamespace(f);
    const key = JSON.stringify([namespace, f.kind]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { namespace, kind: f.kind, count: 0, objects: [], seen: new Set() }));
    g.count++;
    const object = describeFinding(f).object;
    if (!g.seen.has(object)) {
      g.seen.add(object);
      g.objects.push(object);
    }
  }
  const rank = (k: FindingKind): number => FINDING_KINDS.indexOf(k);
  return [...groups.values()]
    .sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : rank(a.kind) - rank(b.kind)))
    .map((g) => ({ namespace: g.namespace, kind: g.kind, count: g.count, examples: g.objects.slice(0, EXAMPLES), objects: g.objects.length }));
}

const EXAMPLES = 3;

function renderGroups(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings\n';
  const groups = groupFindings(findings);
  const short = (ns: string, object: string): string => (object.startsWith(`${ns}/`) ? object.slice(ns.length + 1) : object);
  const rows = groups.map((g) => ({
    ns: g.namespace,
    kind: g.kind,
    count: String(g.count),
    examples: `${g.examples.map((o) => short(g.namespace, o)).join(', ')}${g.objects > g.examples.length ? `, … (${g.objects - g.examples.length} more)` : ''}`,
  }));
  const nw = Math.max('NAMESPACE'.length, ...rows.map((r) => r.ns.length));
  const kw = Math.max('KIND'.length, ...rows.map((r) => r.kind.length));
  const cw = Math.max('COUNT'.length, ...rows.map((r) => r.count.length));
  const line = (n: string, k: string, c: string, e: string): string => `${n.padEnd(nw)}  ${k.padEnd(kw)}  ${c.padStart(cw)}  ${e}`.trimEnd();
  return [
    line('NAMESPACE', 'KIND', 'COUNT', 'EXAMPLES'),
    ...rows.map((r) => line(r.ns, r.kind, r.count, r.examples)),
    `\n${findings.length} finding(s) in ${groups.length} group(s); every finding: --details or -o json\n`,
  ].join('\n');
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
  return parseKinds(text, '--fail-on');
}

function parseKinds(text: string, flag: string): ReadonlySet<FindingKind> | string {
  const kinds = text.split(',').map((k) => k.trim()).filter((k) => k !== '');
  const unknown = kinds.filter((k) => !FINDING_KINDS.some((f) => f === k));
  if (unknown.length > 0 || kinds.length === 0) return `${flag}: unknown finding kind(s) ${unknown.join(', ')} (use ${flag === '--fail-on' ? 'any, or ' : ''}${FINDING_KINDS.join(', ')})`;
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
    case 'pending-change':
      return { object: f.policy, detail: `${f.intent} would ${f.change} it: ${f.reason}` };
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
