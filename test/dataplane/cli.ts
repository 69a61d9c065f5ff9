/**
 * `scripts/dataplane probe|barrier`: the packet-level counterpart of `netseg reach`.
 *   probe --from NS/POD --to NS/POD|IP --port P [--protocol TCP|UDP]   prints allowed or denied, exit 0
 *   probe --queries FILE          prints {"results": [...]}: the shape of `netseg reach --queries FILE -o json`
 *   barrier [--init] [--timeout S]  waits until kube-router has caught up with every change made so far
 * Exit 1 when it could not probe (no data plane, pod not running, a timeout: a fault, never a verdict);
 * exit 2 on a usage error.
 */
import * as fs from 'fs';
import { Command, CommanderError } from 'commander';
import { loadKubeConfig } from '../../src/kube/config';
import { defaultRunDir, readConfig } from './config';
import { Prober, type Query } from './probe';

function prober(runDir: string): Prober {
  const cfg = readConfig(runDir);
  return new Prober(cfg, loadKubeConfig({ kubeconfig: cfg.kubeconfig }));
}

function parseQueries(file: string): Query[] {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected a JSON array of {"from", "to", "port", "protocol"}`);
  return parsed.map((q: Partial<Query>, i) => {
    const port = Number(q.port);
    if (typeof q.from !== 'string' || typeof q.to !== 'string' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`${file}: query ${i}: needs "from", "to" (NAMESPACE/POD or IP) and "port" (1-65535)`);
    }
    const protocol = q.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') throw new Error(`${file}: query ${i}: protocol must be TCP or UDP (SCTP: not in this kernel)`);
    return { from: q.from, to: q.to, port, protocol };
  });
}

interface ProbeOptions {
  from?: string;
  to?: string;
  port?: string;
  protocol: string;
  queries?: string;
  runDir: string;
}

async function probeCommand(o: ProbeOptions): Promise<void> {
  if (o.queries) {
    const results = await prober(o.runDir).probe(parseQueries(o.queries));
    process.stdout.write(`${JSON.stringify({ results })}\n`);
    return;
  }
  if (!o.from || !o.to || !o.port) throw new CommanderError(2, 'usage', 'give --from, --to and --port, or --queries FILE');
  const [query] = parseQueriesFromArgs(o);
  const [r] = await prober(o.runDir).probe([query as Query]);
  process.stdout.write(`${r?.allowed ? 'allowed' : 'denied'}\n`);
}

function parseQueriesFromArgs(o: ProbeOptions): Query[] {
  const protocol = o.protocol.toUpperCase();
  if (protocol !== 'TCP' && protocol !== 'UDP') throw new CommanderError(2, 'usage', '--protocol must be TCP or UDP');
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CommanderError(2, 'usage', '--port must be a number from 1 to 65535');
  return [{ from: o.from ?? '', to: o.to ?? '', port, protocol }];
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('dataplane').exitOverride();
  program
    .command('probe')
    .option('--from <source>', 'NAMESPACE/POD the connection starts in')
    .option('--to <destination>', 'NAMESPACE/POD or an IP address')
    .option('--port <port>', 'destination port')
    .option('--protocol <protocol>', 'TCP or UDP', 'TCP')
    .option('--queries <file>', 'a JSON array of {from, to, port, protocol}')
    .option('--run-dir <dir>', 'the data plane run dir', defaultRunDir())
    .action((o: ProbeOptions) => probeCommand(o));
  program
    .command('barrier')
    .option('--init', 'set the sentinel up first (scripts/dataplane up does)')
    .option('--timeout <seconds>', 'give up after', '60')
    .option('--run-dir <dir>', 'the data plane run dir', defaultRunDir())
    .action(async (o: { init?: boolean; timeout: string; runDir: string }) => {
      const p = prober(o.runDir);
      const t0 = Date.now();
      if (o.init) await p.init(Number(o.timeout) * 1000);
      else await p.barrier(Number(o.timeout) * 1000);
      process.stderr.write(`kube-router caught up in ${Date.now() - t0} ms\n`);
    });
  await program.parseAsync(argv, { from: 'user' });
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) return;
    if (e.code === 'usage') process.stderr.write(`error: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
});
