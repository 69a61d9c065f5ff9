/**
 * `netseg operator`: runs the operator until SIGTERM/SIGINT. On SIGTERM in-flight reconciles finish, the watches
 * stop and the leader lease is released (so a standby takes over at once); exit 0. Losing the lease exits 1,
 * so the pod restarts as a clean standby.
 */
import type { Command } from 'commander';
import { loadKubeConfig } from '../kube/config';
import type { CliIO } from './io';
import { type KubeFlags, addKubeFlags, selection } from './kube-flags';
import { parseDuration, parseList, parsePositiveInt } from '../operator/config';
import { createLogger } from '../operator/logger';
import { startOperator } from '../operator/operator';

interface Flags extends KubeFlags {
  namespaces?: string;
  namespaceSelector?: string;
  workers: string;
  resync: string;
  metricsAddr: string;
  leaderElect?: boolean;
  leaseNamespace: string;
  leaseName: string;
  logLevel: string;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(sig);
    };
    const onTerm = (): void => on('SIGTERM');
    const onInt = (): void => on('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

async function run(f: Flags, io: CliIO): Promise<number> {
  const log = createLogger({ level: f.logLevel });
  let lost = false;
  let wake: () => void = () => undefined;
  const lostLease = new Promise<string>((resolve) => (wake = () => resolve('lease lost')));
  const op = await startOperator({
    kubeConfig: loadKubeConfig(selection(f)),
    namespaces: f.namespaces ? parseList(f.namespaces) : undefined,
    namespaceSelector: f.namespaceSelector,
    workers: parsePositiveInt(f.workers, '--workers'),
    resyncMs: parseDuration(f.resync),
    metricsAddr: f.metricsAddr,
    leaderElect: f.leaderElect ?? false,
    leaseNamespace: f.leaseNamespace,
    leaseName: f.leaseName,
    log,
    onLostLeadership: () => {
      lost = true;
      wake();
    },
  });
  log.info('operator started', { metricsPort: op.metricsPort, identity: op.identity, leaderElect: f.leaderElect ?? false });
  const why = await Promise.race([waitForSignal(), lostLease]);
  log.info('stopping', { why });
  await op.stop();
  if (lost) io.err('netseg operator: lost the leader lease\n');
  return lost ? 1 : 0;
}

export function register(program: Command, io: CliIO): void {
  // No -n: the operator's scope is --namespaces / --namespace-selector, never a single default namespace.
  addKubeFlags(program.command('operator'))
    .description('Run the operator: keep NetworkPolicies equal to SegmentationIntents until SIGTERM.')
    .option('--namespaces <a,b>', 'only these namespaces (default: all)')
    .option('--namespace-selector <selector>', 'only namespaces whose labels match (e.g. netseg.io/enabled=true)')
    .option('--workers <n>', 'concurrent reconciles', '4')
    .option('--resync <duration>', 'full resync and orphan sweep period', '10m')
    .option('--metrics-addr <addr>', '/metrics, /healthz, /readyz listen address', ':8080')
    .option('--leader-elect', 'elect a leader through a Lease; only the leader writes')
    .option('--lease-namespace <ns>', 'namespace of the leader Lease', 'netseg-system')
    .option('--lease-name <name>', 'name of the leader Lease', 'netseg-operator')
    .option('--log-level <level>', 'error, warn, info or debug', 'info')
    .action(async (f: Flags) => {
      try {
        io.setExitCode(await run(f, io));
      } catch (e) {
        io.err(`netseg operator: ${e instanceof Error ? e.message : String(e)}\n`);
        io.setExitCode(2);
      }
    });
}
