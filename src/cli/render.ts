/**
 * `netseg render [-f FILE|DIR...] [--kubeconfig F] [--context C] [-n NS] [-o yaml|json]`: the NetworkPolicies of
 * every SegmentationIntent (and ClusterSegmentationIntent, per Namespace of the input) exactly as the operator
 * would apply them. Services, Deployments, StatefulSets, DaemonSets and Ingresses of the input resolve the
 * intents' references (src/resolve); a reference they can't resolve is an error naming the object (`Service
 * shop/api not found`). The input is the files, the cluster, or the files over the cluster (./sources.ts): with
 * `-f`, the files' intents are rendered (the cluster only lends the objects they reference and its Namespaces);
 * without, the cluster's own intents. Other kinds are ignored; lookalikes of netseg's kinds are errors (see
 * src/intent/kinds.ts). Any invalid input, an unreadable cluster, or no intent at all: exit 1, every problem on
 * stderr with its file and document, and nothing on stdout, so that a pipe into `kubectl apply` gets all or nothing.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { stringify } from 'yaml';
import { CLUSTER_KIND, KIND } from '../intent';
import type { NetworkPolicy } from '../model/kubernetes';
import { isClusterSegmentationIntent, isSegmentationIntent } from '../intent/kinds';
import { referencedObjects, sortObjects } from './cluster-input';
import { loadFiles } from './input';
import { type KubeFlags, addKubeFlags } from './kube-flags';
import { type ClusterRead, inputName, loadCombined } from './sources';
import { compileBaselines } from './baselines';
import { compileIntents } from './intents';
import type { CliIO } from './io';
import type { Loaded } from './load';

export type OutputFormat = 'yaml' | 'json';

export interface RenderResult {
  readonly policies: NetworkPolicy[];
  /** How many intents and baselines the objects held, valid or not. */
  readonly intents: number;
  readonly errors: string[];
  /** Printed on stderr, not failing: Ingress backends that open nothing (status.uncoveredBackends). */
  readonly warnings: string[];
  /** Some intent names a Service, a workload or Ingress routes, and the input holds none of those kinds. */
  readonly unresolvedInput: boolean;
}

interface RenderOptions extends KubeFlags {
  filename?: string[];
  output: OutputFormat;
}

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command('render')
    .description('Print the NetworkPolicies that the SegmentationIntents and ClusterSegmentationIntents (for each Namespace given) in the files, or in the cluster, compile to.')
    .option(
      '-f, --filename <path...>',
      'files or folders of manifests (YAML or JSON), or - for stdin: intents, baselines, the Namespaces baselines cover, and the Services, Deployments, StatefulSets, DaemonSets and Ingresses intents reference; other kinds are ignored (default: the cluster\'s intents and objects)',
    );
  addKubeFlags(cmd, { namespace: 'only the intents of this namespace, and the baselines\' policies in it (the whole input is still read)' })
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action(async (opts: RenderOptions) => io.setExitCode(await runRenderCommand(opts, io)));
}

/** The command with its cluster source: -f, the cluster, or the files over the cluster (./sources.ts). */
export async function runRenderCommand(opts: RenderOptions, io: Pick<CliIO, 'out' | 'err'>): Promise<number> {
  // With -f, the files' intents are rendered; the cluster's own intents and baselines are not part of the question.
  const src = await loadCombined(opts, (o) => opts.filename === undefined || !isNetsegIntent(o));
  if (!src.ok) {
    // Nothing is rendered: a render over half a cluster would be wrong without saying so.
    io.err(src.errors.map((e) => `netseg render: ${e}\n`).join(''));
    return 1;
  }
  return printRender(src.loaded, { format: opts.output, input: inputName(opts, src.cluster), cluster: src.cluster, namespace: opts.namespace }, io);
}

/** The whole command on files, without commander: returns the exit code. */
export function runRender(paths: readonly string[], format: OutputFormat, io: Pick<CliIO, 'out' | 'err'>): number {
  return printRender(loadFiles(paths), { format, input: paths.join(', ') }, io);
}

interface PrintOptions {
  readonly format: OutputFormat;
  /** What the input is called in messages. */
  readonly input: string;
  readonly cluster?: ClusterRead;
  readonly namespace?: string;
}

function printRender(loaded: { objects: readonly Loaded[]; errors: readonly string[] }, o: PrintOptions, io: Pick<CliIO, 'out' | 'err'>): number {
  const result = renderObjects(loaded.objects, o.namespace);
  const errors = [...loaded.errors, ...result.errors];
  // An empty output would tell `kubectl apply` that all is well: a render of nothing is a mistake in the input.
  const where = o.namespace === undefined ? o.input : `namespace ${o.namespace} of ${o.input}`;
  if (result.intents === 0) errors.push(`no ${KIND} or ${CLUSTER_KIND} in ${where}: nothing to render`);
  if (result.errors.length > 0 && !o.cluster?.read && result.unresolvedInput) {
    errors.push('the intents reference objects the files do not hold: give them with -f (kubectl get ns,svc,deploy,sts,ds,rs,ing -A -o yaml), or read them from the cluster with --kubeconfig or --context');
  }
  if (errors.length > 0) {
    io.err(errors.map((e) => `netseg render: ${e}\n`).join(''));
    return 1;
  }
  if (result.warnings.length > 0) io.err(result.warnings.map((w) => `netseg render: warning: ${w}\n`).join(''));
  io.out(formatPolicies(result.policies, o.format));
  return 0;
}

/**
 * Validates and compiles the intents among `objects`, in file order; policies of all intents, or all errors.
 * With `namespace`, only the intents of that namespace, and the baselines' policies in it.
 */
export function renderObjects(objects: readonly Loaded[], namespace?: string): RenderResult {
  const sorted = sortObjects(objects);
  const { baselines } = sorted;
  const intents = namespace === undefined ? sorted.intents : sorted.intents.filter((i) => i.intent.metadata?.namespace === namespace);
  const namespaces = namespace === undefined ? sorted.namespaces : sorted.namespaces.filter((n) => n.metadata?.name === namespace);
  const referenced = referencedObjects(sorted);
  const { compiled, errors } = compileIntents(intents, referenced);
  const uncovered = compiled.flatMap((c) => c.uncoveredBackends.map((b) => `${c.source}: intent ${c.intent.namespace}/${c.intent.name}: Ingress backend ${b} is covered by no workload's service, so it opens nothing`));
  const base = compileBaselines(baselines, namespaces, referenced);
  // A baseline renders one set per selected Namespace of the input: none given, nothing would show. (With -n,
  // a baseline that leaves that namespace out simply has nothing there.)
  const empty = namespace !== undefined ? [] : base.compiled.filter((c) => c.namespaces.length === 0).map((c) =>
    `${c.source}: ${CLUSTER_KIND} ${c.baseline.name} selects no Namespace of the input: give the Namespaces it should cover (kubectl get ns -o yaml)`,
  );
  const policies = [...compiled.flatMap((c) => c.policies), ...base.compiled.flatMap((c) => c.policies)];
  const unresolvedInput = sorted.referenced.length === 0 && intents.some((i) => namesReferences(i.intent.spec));
  return { policies, intents: intents.length + baselines.length, errors: [...errors, ...base.errors, ...empty], warnings: uncovered, unresolvedInput };
}

export function formatPolicies(policies: readonly NetworkPolicy[], format: OutputFormat): string {
  if (format === 'json') {
    return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: policies }, null, 2)}\n`;
  }
  return policies.map((p) => `---\n${stringify(p, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}

/** Whether a raw (unvalidated) spec names objects by reference: a service or workloadRef endpoint, or ingressRoutes. */
function namesReferences(spec: unknown): boolean {
  if (typeof spec !== 'object' || spec === null) return false;
  const s = spec as { workloads?: unknown; peers?: unknown; ingressRoutes?: unknown };
  const byRef = (list: unknown): boolean => Array.isArray(list) && list.some((e) => typeof e === 'object' && e !== null && ('service' in e || 'workloadRef' in e));
  return byRef(s.workloads) || byRef(s.peers) || (Array.isArray(s.ingressRoutes) && s.ingressRoutes.length > 0);
}

function isNetsegIntent({ object }: Loaded): boolean {
  return isSegmentationIntent(object) || isClusterSegmentationIntent(object);
}
