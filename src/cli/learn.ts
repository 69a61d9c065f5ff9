/**
 * `netseg learn --flows FILE... [-f CLUSTER...|--kubeconfig PATH] [--directions Ingress[,Egress]] [-o yaml|json]`:
 * one DryRun SegmentationIntent per namespace from observed traffic (API.md, "Learning intents from observed
 * traffic"). The flows are read streamed (./flow-files.ts), the learning is pure (src/learn), and this module
 * prints: YAML with each flow port commented with its count of connections, or a JSON List whose intents carry
 * the counts in an annotation. What was read, ignored, malformed or left out goes to stderr; the intents alone
 * go to stdout, so `netseg learn ... > learned.yaml` is the file to review.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { FLOW_FORMATS, type FlowFormat } from '../flows';
import type { Direction } from '../intent/types';
import { type LearnedIntent, learnIntents } from '../learn';
import type { KubeObject } from '../model/kubernetes';
import { sortObjects } from './cluster-input';
import { readFlowFiles, reportReading } from './flow-files';
import { loadInput } from './input';
import { type KubeFlags, addKubeFlags, namesCluster, selection } from './kube-flags';
import type { CliIO } from './io';

/** The annotation of `-o json` output: spec.flows[i].ports[j]'s count of connections, as a JSON array of arrays. */
export const COUNTS_ANNOTATION = 'netseg.io/observed-connections';

interface LearnOptions extends KubeFlags {
  flows: string[];
  filename?: string[];
  directions: string;
  output: 'yaml' | 'json';
  format?: FlowFormat;
}

export function register(program: Command, io: CliIO): void {
  const cmd = program
    .command('learn')
    .description('Write DryRun SegmentationIntents that allow exactly the traffic observed in flow logs')
    .requiredOption('--flows <files...>', 'flow files: hubble observe -o json, Inspektor Gadget trace_tcp -o json, or the --queries shape')
    .addOption(new Option('--format <format>', 'the flow files\' format (default: told from each file\'s content)').choices([...FLOW_FORMATS]))
    .option('-f, --filename <paths...>', 'cluster input: Pods, Deployments, ReplicaSets, StatefulSets, DaemonSets, Services (YAML/JSON)')
    .option('--directions <list>', 'directions the learned intents isolate: Ingress or Ingress,Egress', 'Ingress')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action(async (opts: LearnOptions) => io.setExitCode(await runLearn(opts, io)));
  // --kubeconfig/--context: read the cluster input from a cluster (read-only) instead of files.
  addKubeFlags(cmd);
}

export async function runLearn(opts: LearnOptions, io: Pick<CliIO, 'out' | 'err'>): Promise<number> {
  const directions = parseDirections(opts.directions);
  if (!directions) {
    io.err(`error: --directions ${JSON.stringify(opts.directions)}: use Ingress, Egress or Ingress,Egress\n`);
    return 2;
  }
  if (opts.filename && namesCluster(opts)) {
    io.err('error: give the cluster input either as files (-f) or with --kubeconfig/--context, not both\n');
    return 2;
  }
  const cluster = opts.filename
    ? await loadInput({ filenames: opts.filename })
    : namesCluster(opts)
      ? await loadInput({ cluster: selection(opts) })
      : { objects: [], errors: [] };
  const reading = readFlowFiles(opts.flows, opts.format);
  const errors = [...cluster.errors, ...reading.errors];
  reportReading(reading, io);
  if (errors.length > 0) {
    for (const e of errors) io.err(`error: ${e}\n`);
    return 1;
  }
  const objects: KubeObject[] = cluster.objects.map((o) => o.object);
  const result = learnIntents({ tally: reading.tally, pods: sortObjects(cluster.objects).pods, objects, directions });
  for (const w of result.warnings) io.err(`warning: ${w}\n`);
  if (result.errors.length > 0) {
    for (const e of result.errors) io.err(`error: ${e}\n`);
    return 1;
  }
  if (result.intents.length === 0) {
    io.err('error: no flow could be learned: nothing to write\n');
    return 1;
  }
  io.err(`learned ${result.intents.length} ${result.intents.length === 1 ? 'intent' : 'intents'} from ${result.learnedConnections} of ${result.connections} connections\n`);
  io.out(opts.output === 'json' ? formatJson(result.intents) : formatYaml(result.intents));
  return 0;
}

function parseDirections(text: string): Direction[] | undefined {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 1 && parts[0] === 'Ingress') return ['Ingress'];
  if (parts.length === 2 && parts.includes('Ingress') && parts.includes('Egress')) return ['Ingress', 'Egress'];
  return undefined;
}

export function formatYaml(intents: readonly LearnedIntent[]): string {
  return intents
    .map(({ intent, counts }) => {
      const doc = new Document(intent, { aliasDuplicateObjects: false });
      const total = counts.flat().reduce((a, n) => a + n, 0);
      doc.commentBefore =
        ` Learned by netseg from observed traffic: ${total} ${total === 1 ? 'connection' : 'connections'}. Every flow below was observed;` +
        '\n nothing else is allowed. Review it, then set enforcement: Enforce.';
      const flows = doc.getIn(['spec', 'flows']) as YAMLSeq<YAMLMap>;
      flows.items.forEach((flow, i) => {
        const ports = flow.get('ports') as YAMLSeq<YAMLMap>;
        ports.items.forEach((port, j) => {
          port.flow = true;
          const n = counts[i]?.[j] ?? 0;
          port.comment = ` ${n} ${n === 1 ? 'connection' : 'connections'}`;
        });
      });
      return `---\n${doc.toString({ lineWidth: 0 })}`;
    })
    .join('');
}

export function formatJson(intents: readonly LearnedIntent[]): string {
  const items = intents.map(({ intent, counts }) => ({
    ...intent,
    metadata: { ...intent.metadata, annotations: { [COUNTS_ANNOTATION]: JSON.stringify(counts) } },
  }));
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)}\n`;
}
