/**
 * The node agent of the test-bed data plane: it plays scheduler, kubelet and container runtime for ONE node, so
 * that kube-router (the real NetworkPolicy enforcer) has real pods to filter. Started by `scripts/dataplane up`
 * in the host network namespace. For every Pod it sees (the operator's shared cache, src/operator/cache.ts, over
 * src/kube's watch source):
 *  - unscheduled → bind it to this node (pods/binding);
 *  - bound here → a network namespace with a veth into the node's bridge, an IP of the pod CIDR and a MAC
 *    derived from it (a pod re-created with the same IP must not meet a stale ARP entry), a sandbox process
 *    (./sandbox.ts) listening on every declared containerPort, then status Running/Ready with podIP and
 *    hostIP = the Node's InternalIP (kube-router ignores pods whose hostIP is not its node's);
 *  - deleted, or deleting (there is no kubelet to finish a graceful delete) → sandbox stopped, netns removed,
 *    the delete finished with grace 0.
 * Every connection a listener accepts is appended to the flow log ($RUN/dataplane/flows.jsonl), one
 * {from, to, port, protocol} per line: API.md's `netseg` flow shape (NAMESPACE/POD, or an IP for what is not a pod).
 * This is test-bed tooling, not the product: it lives under test/ (see docs/dataplane.md).
 */
import { spawn, execFile } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import winston from 'winston';
import { Kube } from '../../src/kube/client';
import { loadKubeConfig } from '../../src/kube/config';
import { NodeClient } from '../../src/kube/node-client';
import { kubeWatchSource, watchTarget } from '../../src/kube/watch';
import { SharedCache } from '../../src/operator/cache';
import { objectKey, parseKey } from '../../src/operator/ownership';
import { WorkQueue } from '../../src/operator/queue';
import { type DataPlaneConfig, podId, podSocket, readConfig } from './config';
import { SENTINEL_NAMESPACE } from './probe';

const POD_KIND = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' };

export interface PodShape {
  metadata?: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec?: { nodeName?: string; hostNetwork?: boolean; containers?: { name?: string; ports?: { containerPort?: number; protocol?: string }[] }[] };
  status?: { podIP?: string; hostIP?: string; phase?: string };
}

interface Sandbox {
  readonly uid: string;
  readonly ip: string;
  readonly netns: string;
  readonly proc: ChildProcess;
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** 10.a.b.c → 02:00:0a:0a:bb:cc: a locally administered MAC that only this IP ever gets. */
export function macFor(ip: string): string {
  return ['02', '00', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

function declaredPorts(p: PodShape): string[] {
  const ports = (p.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  const specs = ports.filter((x) => x.containerPort).map((x) => `${x.containerPort}/${(x.protocol ?? 'TCP').toUpperCase()}`);
  // SCTP sockets are not available in this kernel; such ports get no listener (a probe to them is refused).
  return [...new Set(specs.filter((s) => !s.endsWith('/SCTP')))];
}

/**
 * What the agent does about a pod: nothing of ours (gone, host network, another node's) → 'none' (its network
 * goes if it had one); marked for deletion → 'finish-delete' (no kubelet will); unscheduled → 'bind'; bound
 * here → 'run'.
 */
export type PodStep = 'none' | 'finish-delete' | 'bind' | 'run';

export function podStep(pod: PodShape | undefined, node: string): PodStep {
  if (!pod || pod.spec?.hostNetwork) return 'none';
  const boundTo = pod.spec?.nodeName;
  if (pod.metadata?.deletionTimestamp) return !boundTo || boundTo === node ? 'finish-delete' : 'none';
  if (!boundTo) return 'bind';
  return boundTo === node ? 'run' : 'none';
}

export class NodeAgent {
  private readonly pods = new Map<string, PodShape>();
  private readonly sandboxes = new Map<string, Sandbox>();
  /** IP → pod key, taken synchronously when allocated: four workers set pods up at once. */
  private readonly leases = new Map<string, string>();
  private readonly queue = new WorkQueue({ backoff: { baseDelayMs: 200, maxDelayMs: 5_000, jitter: 0.2 } });
  private readonly client: NodeClient;
  private readonly cache: SharedCache;
  private readonly prefixOctets: string;
  private stopping = false;
  private nextHost = 1;

  constructor(
    private readonly cfg: DataPlaneConfig,
    private readonly log: winston.Logger,
  ) {
    const kc = loadKubeConfig({ kubeconfig: cfg.kubeconfig });
    this.client = new NodeClient(kc);
    const kube = new Kube(kc);
    this.cache = new SharedCache((kind, scope) => kubeWatchSource(kube, watchTarget(kind, scope)), { log });
    this.prefixOctets = cfg.podCIDR.split('/')[0]?.split('.').slice(0, 3).join('.') ?? '';
  }

  async start(): Promise<void> {
    await this.client.registerNode({ name: this.cfg.nodeName, internalIP: this.cfg.nodeIP, podCIDR: this.cfg.podCIDR });
    await this.removeStaleNetns();
    fs.mkdirSync(this.cfg.socketDir, { recursive: true });
    const inf = this.cache.informer(POD_KIND);
    inf.addSink({
      replace: (items) => {
        this.pods.clear();
        for (const o of items) this.pods.set(objectKey(o), o as PodShape);
        for (const key of this.sandboxes.keys()) if (!this.pods.has(key)) this.queue.add(key);
      },
      apply: (type, o) => {
        if (type === 'DELETED') this.pods.delete(objectKey(o));
        else this.pods.set(objectKey(o), o as PodShape);
      },
    });
    inf.addHandler((e) => this.queue.add(objectKey(e.object)));
    this.cache.start();
    for (let i = 0; i < 4; i++) void this.worker();
    while (!this.cache.synced()) await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(this.cfg.readyFile, `${new Date().toISOString()}\n`);
    this.log.info('node agent ready', { node: this.cfg.nodeName, podCIDR: this.cfg.podCIDR });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.cache.stop();
    this.queue.shutdown();
    for (const [key] of this.sandboxes) await this.teardown(key);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcile(key);
        this.queue.forget(key);
      } catch (e) {
        const delay = this.queue.addRateLimited(key);
        this.log.warn('pod reconcile failed; retrying', { pod: key, delayMs: delay, error: (e as Error).message });
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcile(key: string): Promise<void> {
    if (this.stopping) return;
    const pod = this.pods.get(key);
    const step = podStep(pod, this.cfg.nodeName);
    const { namespace, name } = parseKey(key);
    const running = this.sandboxes.get(key);
    if (running && (step !== 'run' || running.uid !== pod?.metadata?.uid)) await this.teardown(key);
    if (step === 'finish-delete') await this.client.deletePodNow(namespace, name, pod?.metadata?.uid);
    else if (step === 'bind') {
      this.log.info('binding', { pod: key, node: this.cfg.nodeName });
      await this.client.bindPod(namespace, name, this.cfg.nodeName);
    } else if (step === 'run' && pod) await this.run(key, pod);
  }

  /** Network, sandbox, then status: Running/Ready with the pod's IP and the node's (written only when it differs). */
  private async run(key: string, pod: PodShape): Promise<void> {
    const { namespace, name } = parseKey(key);
    const sandbox = this.sandboxes.get(key) ?? (await this.setup(key, pod));
    const s = pod.status;
    if (s?.podIP === sandbox.ip && s.hostIP === this.cfg.nodeIP && s.phase === 'Running') return;
    await this.client.writeRunning(namespace, name, {
      podIP: sandbox.ip,
      hostIP: this.cfg.nodeIP,
      startTime: new Date().toISOString(),
      containers: (pod.spec?.containers ?? []).map((c) => c.name ?? ''),
    });
    this.log.info('pod running', { pod: key, ip: sandbox.ip });
  }

  /** A free host address of the pod CIDR (.1 is the node); a pod that had one keeps it (agent restart). */
  private allocate(key: string, pod: PodShape): string {
    const take = (ip: string): string => {
      this.leases.set(ip, key);
      return ip;
    };
    const had = pod.status?.podIP;
    if (had && had.startsWith(`${this.prefixOctets}.`) && !this.leases.has(had) && had !== this.cfg.nodeIP) return take(had);
    // Round robin, not lowest-free: an address is reused as late as possible, so a new pod never inherits the
    // conntrack entries or neighbour-cache state of one deleted moments before (real IPAMs do the same).
    for (let n = 0; n < 253; n++) {
      this.nextHost = this.nextHost >= 254 ? 2 : this.nextHost + 1;
      const ip = `${this.prefixOctets}.${this.nextHost}`;
      if (!this.leases.has(ip)) return take(ip);
    }
    throw new Error(`pod CIDR ${this.cfg.podCIDR} is full`);
  }

  private async setup(key: string, pod: PodShape): Promise<Sandbox> {
    const { namespace, name } = parseKey(key);
    const id = podId(namespace, name);
    const netns = `${this.cfg.podNetnsPrefix}${id}`;
    const ip = this.allocate(key, pod);
    try {
      return await this.plumb(key, pod, netns, ip);
    } catch (e) {
      this.leases.delete(ip);
      await run('ip', ['netns', 'delete', netns]).catch(() => undefined);
      throw e;
    }
  }

  private async plumb(key: string, pod: PodShape, netns: string, ip: string): Promise<Sandbox> {
    const hostSide = `vp${ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
    const prefixLen = this.cfg.podCIDR.split('/')[1] ?? '24';
    await run('ip', ['netns', 'delete', netns]).catch(() => undefined);
    await run('ip', ['-n', this.cfg.nodeNetns, 'link', 'delete', hostSide]).catch(() => undefined);
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['-n', this.cfg.nodeNetns, 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await run('ip', ['-n', this.cfg.nodeNetns, '-b', '-'], `link set ${hostSide} master ${this.cfg.bridge}\nlink set ${hostSide} up\n`);
    await run('ip', ['-n', netns, '-b', '-'], [
      'link set lo up',
      `link set eth0 address ${macFor(ip)}`,
      `addr add ${ip}/${prefixLen} dev eth0`,
      'link set eth0 up',
      `route add default via ${this.cfg.nodeIP}`,
      '',
    ].join('\n'));
    const proc = await this.startSandbox(key, netns, declaredPorts(pod));
    const sb: Sandbox = { uid: pod.metadata?.uid ?? '', ip, netns, proc };
    this.sandboxes.set(key, sb);
    this.log.info('pod network up', { pod: key, netns, ip, ports: declaredPorts(pod) });
    return sb;
  }

  private startSandbox(key: string, netns: string, ports: string[]): Promise<ChildProcess> {
    const { namespace, name } = parseKey(key);
    const script = path.join(__dirname, 'sandbox.js');
    const sock = podSocket(this.cfg, namespace, name);
    const proc = spawn('ip', ['netns', 'exec', netns, process.execPath, script, sock, ...ports], { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => this.log.warn('sandbox stderr', { pod: key, text: d.toString('utf8').trim() }));
    return new Promise((resolve, reject) => {
      const lines = readline.createInterface({ input: proc.stdout as NodeJS.ReadableStream });
      let ready = false;
      lines.on('line', (line) => {
        let m: { ready?: boolean; remote?: string; port?: number; protocol?: string };
        try {
          m = JSON.parse(line) as typeof m;
        } catch {
          return;
        }
        if (m.ready && !ready) {
          ready = true;
          resolve(proc);
        } else if (m.remote !== undefined) this.recordFlow(key, m.remote, m.port ?? 0, m.protocol ?? 'TCP');
      });
      proc.once('exit', (code) => {
        if (!ready) reject(new Error(`the sandbox of ${key} exited (code ${code}) before listening`));
        else if (!this.stopping && this.sandboxes.get(key)?.proc === proc) {
          this.log.warn('sandbox exited', { pod: key, code });
          // Its network goes too; the pod is set up again from scratch.
          void this.teardown(key).then(() => this.queue.add(key));
        }
      });
    });
  }

  private recordFlow(to: string, remote: string, port: number, protocol: string): void {
    // The barrier's sentinel probes are the data plane's own machinery, not workload traffic.
    if (to.startsWith(`${SENTINEL_NAMESPACE}/`)) return;
    const from = [...this.sandboxes.entries()].find(([, s]) => s.ip === remote)?.[0] ?? remote;
    fs.appendFileSync(this.cfg.flowLog, `${JSON.stringify({ from, to, port, protocol })}\n`);
  }

  private async teardown(key: string): Promise<void> {
    const sb = this.sandboxes.get(key);
    if (!sb) return;
    this.sandboxes.delete(key);
    const { namespace, name } = parseKey(key);
    fs.rmSync(podSocket(this.cfg, namespace, name), { force: true });
    // The process first (a netns lives on while a process is in it), then the netns: deleting it deletes its end
    // of the veth, and with it the bridge's end. Only then is the IP free for another pod.
    await new Promise<void>((resolve) => {
      if (sb.proc.exitCode !== null || sb.proc.signalCode !== null) return resolve();
      sb.proc.once('exit', () => resolve());
      sb.proc.kill('SIGKILL');
    });
    await run('ip', ['netns', 'delete', sb.netns]).catch((e: Error) => this.log.warn('netns delete failed', { pod: key, error: e.message }));
    this.leases.delete(sb.ip);
    this.log.info('pod network down', { pod: key, netns: sb.netns, ip: sb.ip });
  }

  /** Pod namespaces of this data plane left by an agent that died: gone before any pod is set up again. */
  private async removeStaleNetns(): Promise<void> {
    const out = await run('ip', ['netns', 'list']);
    const names = out.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(this.cfg.podNetnsPrefix));
    for (const n of names) await run('ip', ['netns', 'delete', n]).catch(() => undefined);
  }
}

function main(): void {
  const cfg = readConfig(process.argv[2]);
  const log = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream: process.stderr })] });
  const agent = new NodeAgent(cfg, log);
  const stop = (): void => {
    void agent.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  agent.start().catch((e: Error) => {
    log.error('node agent failed to start', { error: e.message });
    process.exit(1);
  });
}

if (require.main === module) main();
