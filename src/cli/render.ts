/**
 * `netseg render -f FILE|DIR... [-o yaml|json]`: the NetworkPolicies of every SegmentationIntent in the files,
 * exactly as the operator would apply them. Services, Deployments, StatefulSets, DaemonSets and Ingresses in the
 * files resolve the intents' references (src/resolve); a reference they can't resolve is an error naming the
 * object (`Service shop/api not found`). Other kinds are ignored; lookalikes of netseg's kinds are errors, see
 * src/intent/kinds.ts). Any invalid input, or no intent at all: exit 1, every problem on stderr with its file and
 * document, and nothing on stdout, so that a pipe into `kubectl apply` gets all or nothing.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { stringify } from 'yaml';
import { CLUSTER_KIND, KIND } from '../intent';
import type { NetworkPolicy } from '../model/kubernetes';
import { referencedObjects, sortObjects } from './cluster-input';
import { loadFiles } from './input';
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
}

export function register(program: Command, io: CliIO): void {
  program
    .command('render')
    .description('Print the NetworkPolicies that the SegmentationIntents and ClusterSegmentationIntents (for each Namespace given) in the files compile to.')
    .requiredOption('-f, --filename <path...>', 'files or folders of manifests (YAML or JSON), or - for stdin: intents, baselines, the Namespaces baselines cover, and the Services, Deployments, StatefulSets, DaemonSets and Ingresses intents reference; other kinds are ignored')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action((opts: { filename: string[]; output: OutputFormat }) => {
      io.setExitCode(runRender(opts.filename, opts.output, io));
    });
}

/** The whole command without commander: returns the exit code. */
export function runRender(paths: readonly string[], format: OutputFormat, io: Pick<CliIO, 'out' | 'err'>): number {
  const loaded = loadFiles(paths);
  const result = renderObjects(loaded.objects);
  const errors = [...loaded.errors, ...result.errors];
  // An empty output would tell `kubectl apply` that all is well: a render of nothing is a mistake in the input.
  if (result.intents === 0) errors.push(`no ${KIND} or ${CLUSTER_KIND} in ${paths.join(', ')}: nothing to render`);
  if (errors.length > 0) {
    io.err(errors.map((e) => `netseg render: ${e}\n`).join(''));
    return 1;
  }
  if (result.warnings.length > 0) io.err(result.warnings.map((w) => `netseg render: warning: ${w}\n`).join(''));
  io.out(formatPolicies(result.policies, format));
  return 0;
}

/** Validates and compiles the intents among `objects`, in file order; policies of all intents, or all errors. */
export function renderObjects(objects: readonly Loaded[]): RenderResult {
  const sorted = sortObjects(objects);
  const { intents, baselines, namespaces } = sorted;
  const { compiled, errors } = compileIntents(intents, referencedObjects(sorted));
  const uncovered = compiled.flatMap((c) => c.uncoveredBackends.map((b) => `${c.source}: intent ${c.intent.namespace}/${c.intent.name}: Ingress backend ${b} is covered by no workload's service, so it opens nothing`));
  const base = compileBaselines(baselines, namespaces, referencedObjects(sorted));
  // A baseline renders one set per selected Namespace of the input: none given, nothing would show.
  const empty = base.compiled.filter((c) => c.namespaces.length === 0).map((c) =>
    `${c.source}: ${CLUSTER_KIND} ${c.baseline.name} selects no Namespace of the input: give the Namespaces it should cover (kubectl get ns -o yaml)`,
  );
  const policies = [...compiled.flatMap((c) => c.policies), ...base.compiled.flatMap((c) => c.policies)];
  return { policies, intents: intents.length + baselines.length, errors: [...errors, ...base.errors, ...empty], warnings: uncovered };
}

export function formatPolicies(policies: readonly NetworkPolicy[], format: OutputFormat): string {
  if (format === 'json') {
    return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: policies }, null, 2)}\n`;
  }
  return policies.map((p) => `---\n${stringify(p, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}
