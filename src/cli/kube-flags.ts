/**
 * The flags of every command that talks to a cluster, spelled and resolved as kubectl's (`--kubeconfig`,
 * `--context`, `-n/--namespace`), so that `netseg audit --context prod` and `kubectl netseg audit` find the
 * same cluster as `kubectl get pods` does. Resolution itself is src/kube/config.ts's (resolveKube).
 */
import type { Command } from 'commander';
import type { KubeSelection } from '../kube/config';

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** Adds --kubeconfig and --context; `-n/--namespace` too when the command has a namespace to default. */
export function addKubeFlags(cmd: Command, opts: { namespace?: string } = {}): Command {
  cmd
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, merged as kubectl does, else ~/.kube/config, else in-cluster)')
    .option('--context <name>', 'the kubeconfig context to use (default: its current-context)');
  if (opts.namespace) cmd.option('-n, --namespace <name>', opts.namespace);
  return cmd;
}

/** Whether the user named a cluster explicitly (as opposed to the defaults applying). */
export function namesCluster(f: KubeFlags): boolean {
  return f.kubeconfig !== undefined || f.context !== undefined;
}

export function selection(f: KubeFlags): KubeSelection {
  return { kubeconfig: f.kubeconfig, context: f.context, namespace: f.namespace };
}
