/**
 * Probing the data plane with packets: a question {from, to, port, protocol} (the `--queries` shape of
 * `netseg reach`) is answered by connecting from INSIDE the source pod's network namespace (its sandbox,
 * ./sandbox.ts, over its Unix socket) to the destination's IP, with a fresh source port. Traffic from the node
 * itself is never filtered, so a probe never starts outside a pod.
 *
 * "As the policies are now": before probing, a barrier proves kube-router has caught up with every change made
 * before the call. kube-router rebuilds all its rules from its informers' caches on each sync, and each informer
 * sees its kind's changes in the order the apiserver made them. The sentinel: a namespace with two source pods
 * (src0, src1) and a destination (dst, TCP 7) whose policy admits only pods AND namespaces labelled round=R.
 * Round R writes, after everything the caller wrote: a NEW policy `sentinel-R` (admitting round=R; the one of
 * round R-1 is deleted, a deny-all `sentinel-isolate` keeps dst isolated throughout), the namespace's label (R)
 * and ONE source's label (src<R mod 2>: R; the other keeps R-1), then waits until that source CONNECTS.
 * Before round R that source carried R-2 and was refused; it can only be admitted by rules built from a policy
 * cache, a namespace cache and a pod cache that all hold round R's writes — so every NetworkPolicy, Namespace and
 * Pod written before the call is in them. Why a new policy each round: kube-router restores the ipsets first and
 * the iptables rules second; a policy that keeps its name keeps its chain and set names, so a changed label flips
 * its verdict as soon as the SETS are restored, while the same sync's new rules (new pods, new policies) are not
 * in the kernel yet — a barrier that returned early, seen as probes allowed for a few hundred ms. A new policy's
 * chain exists only once the sync's iptables-restore (atomic, last) is done. One kube-router sync per barrier.
 */
import { setTimeout as sleep } from 'timers/promises';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { type DataPlaneConfig, podSocket } from './config';
import type { ProbeProtocol, ProbeReply } from './sandbox';

export interface Query {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol?: ProbeProtocol;
}

/** One row of `netseg reach --queries -o json`'s `results`. */
export interface QueryResult {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: ProbeProtocol;
  readonly allowed: boolean;
}

export const SENTINEL_NAMESPACE = 'netseg-dataplane-sentinel';
const ROUND = 'netseg.io/sentinel-round';
const ROLE = 'netseg.io/sentinel';
const SENTINEL_PORT = 7;
const SOURCES = ['src0', 'src1'] as const;
/** Always there: isolates the sentinel destination, whatever round policy comes and goes. */
const ISOLATE = 'sentinel-isolate';
const POLICY_PREFIX = 'sentinel-';

/** Sends one probe request to a pod's sandbox and waits for its reply. */
function askSandbox(socket: string, req: { ip: string; port: number; protocol: ProbeProtocol; timeoutMs: number }): Promise<ProbeReply> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket);
    let buf = '';
    c.setTimeout(req.timeoutMs + 5_000, () => c.destroy(new Error(`no answer from ${socket}`)));
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('data', (d) => {
      buf += d.toString('utf8');
      const i = buf.indexOf('\n');
      if (i >= 0) {
        c.end();
        resolve(JSON.parse(buf.slice(0, i)) as ProbeReply);
      }
    });
    c.on('error', (e) => reject(new Error(`cannot reach the sandbox (${socket}): ${e.message}`)));
  });
}

async function inBatches<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return out;
}

export class Prober {
  private readonly core: k8s.CoreV1Api;
  private readonly netApi: k8s.NetworkingV1Api;
    /** Probes that timed out and were measured again (a timeout is a fault: reported, never a verdict). */
  readonly timeouts: string[] = [];

  constructor(
    readonly cfg: DataPlaneConfig,
    kc: k8s.KubeConfig,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.netApi = kc.makeApiClient(k8s.NetworkingV1Api);
  }

  /** A pod's IP (it must be running on the data plane), or the text itself when it is an IP address. */
  async address(endpoint: string): Promise<string> {
    if (net.isIP(endpoint)) return endpoint;
    const [ns, name] = endpoint.split('/');
    if (!ns || !name) throw new Error(`"${endpoint}" is neither NAMESPACE/POD nor an IP address`);
    const pod = await this.core.readNamespacedPod(name, ns).catch(() => undefined);
    const ip = pod?.body.status?.podIP;
    if (!pod) throw new Error(`no pod ${endpoint}`);
    if (!ip || pod.body.status?.hostIP !== this.cfg.nodeIP) throw new Error(`pod ${endpoint} is not running on the data plane (no podIP from node ${this.cfg.nodeName} yet)`);
    return ip;
  }

  /** One packet-level answer, without a barrier: for continuous probing (the window measurement). */
  async once(from: string, toIP: string, port: number, protocol: ProbeProtocol = 'TCP', timeoutMs = 5_000): Promise<ProbeReply> {
    const [ns, name] = from.split('/');
    if (!ns || !name || net.isIP(from)) throw new Error(`a probe starts inside a pod: --from must be NAMESPACE/POD, not "${from}"`);
    return askSandbox(podSocket(this.cfg, ns, name), { ip: toIP, port, protocol, timeoutMs });
  }

  /** Answers every query with packets, for the policies as they are now (barrier first). Throws when it cannot probe. */
  async probe(queries: readonly Query[], o: { barrier?: boolean; concurrency?: number } = {}): Promise<QueryResult[]> {
    const addresses = new Map<string, string>();
    for (const q of queries) for (const e of [q.to]) if (!addresses.has(e)) addresses.set(e, await this.address(e));
    if (o.barrier !== false) await this.barrier();
    return inBatches(queries, o.concurrency ?? 8, async (q) => {
      const protocol = q.protocol ?? 'TCP';
      let r = await this.once(q.from, addresses.get(q.to) ?? '', q.port, protocol);
      // A timeout is a fault, never a verdict: measured again (fresh source port), and counted.
      for (let retry = 0; retry < 2 && r.outcome === 'timeout'; retry++) {
        this.timeouts.push(`${q.from} -> ${q.to} ${protocol}/${q.port}`);
        r = await this.once(q.from, addresses.get(q.to) ?? '', q.port, protocol);
      }
      if (r.outcome !== 'allowed' && r.outcome !== 'denied') {
        throw new Error(`could not probe ${q.from} -> ${q.to} ${protocol}/${q.port}: ${r.outcome}${r.detail ? ` (${r.detail})` : ''}`);
      }
      return { from: q.from, to: q.to, port: q.port, protocol, allowed: r.outcome === 'allowed' };
    });
  }

  // ------------------------------------------------------------------------------------------- barrier

  private async sentinelVerdict(src: string, dstIP: string): Promise<'allowed' | 'denied'> {
    const r = await this.once(`${SENTINEL_NAMESPACE}/${src}`, dstIP, SENTINEL_PORT, 'TCP', 3_000);
    if (r.outcome === 'allowed' || r.outcome === 'denied') return r.outcome;
    throw new Error(`sentinel probe failed: ${r.outcome} ${r.detail ?? ''}`);
  }

  private async waitFor(src: string, dstIP: string, want: 'allowed' | 'denied', deadline: number): Promise<void> {
    for (;;) {
      if ((await this.sentinelVerdict(src, dstIP)) === want) return;
      if (Date.now() > deadline) throw new Error(`kube-router did not make the sentinel ${want} in time: is it running? (logs/kube-router.log)`);
      await sleep(50);
    }
  }

  /** The policy of one round: its own name, so its chain and ipsets are new (see the class comment). */
  private policy(round: string | undefined): k8s.V1NetworkPolicy {
    const sel = { matchLabels: { [ROUND]: round ?? 'none' } };
    return {
      metadata: { name: round === undefined ? ISOLATE : `${POLICY_PREFIX}${round}`, namespace: SENTINEL_NAMESPACE },
      spec: {
        podSelector: { matchLabels: { [ROLE]: 'dst' } },
        policyTypes: ['Ingress'],
        ingress: round === undefined ? [] : [{ from: [{ namespaceSelector: sel, podSelector: sel }], ports: [{ port: SENTINEL_PORT, protocol: 'TCP' }] }],
      },
    };
  }

  /** Creates the policy (or keeps it), and deletes every other round's. */
  private async putPolicy(round: string | undefined): Promise<void> {
    const want = this.policy(round);
    const name = want.metadata?.name ?? '';
    await this.netApi.createNamespacedNetworkPolicy(SENTINEL_NAMESPACE, want).catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 409) throw e;
    });
    const all = (await this.netApi.listNamespacedNetworkPolicy(SENTINEL_NAMESPACE)).body.items;
    for (const p of all) {
      const n = p.metadata?.name ?? '';
      if (n !== name && n !== ISOLATE) await this.netApi.deleteNamespacedNetworkPolicy(n, SENTINEL_NAMESPACE).catch(() => undefined);
    }
  }

  private async labelNamespace(round: string): Promise<void> {
    const ns = (await this.core.readNamespace(SENTINEL_NAMESPACE)).body;
    ns.metadata = { ...ns.metadata, labels: { ...ns.metadata?.labels, [ROUND]: round } };
    await this.core.replaceNamespace(SENTINEL_NAMESPACE, ns);
  }

  private async labelPod(pod: string, round: string): Promise<void> {
    const p = (await this.core.readNamespacedPod(pod, SENTINEL_NAMESPACE)).body;
    p.metadata = { ...p.metadata, labels: { ...p.metadata?.labels, [ROUND]: round } };
    await this.core.replaceNamespacedPod(pod, SENTINEL_NAMESPACE, p);
  }

  private async ensureSentinel(timeoutMs: number): Promise<string> {
    const ok = (p: Promise<unknown>): Promise<unknown> => p.catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 409) throw e;
    });
    await ok(this.core.createNamespace({ metadata: { name: SENTINEL_NAMESPACE } }));
    const pod = (role: string, ports: k8s.V1ContainerPort[]): k8s.V1Pod => ({
      metadata: { name: role, namespace: SENTINEL_NAMESPACE, labels: { [ROLE]: role } },
      spec: { containers: [{ name: 'sentinel', image: 'netseg.invalid/sentinel', ports }] },
    });
    for (const src of SOURCES) await ok(this.core.createNamespacedPod(SENTINEL_NAMESPACE, pod(src, [])));
    await ok(this.core.createNamespacedPod(SENTINEL_NAMESPACE, pod('dst', [{ containerPort: SENTINEL_PORT, protocol: 'TCP' }])));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        for (const src of SOURCES) await this.address(`${SENTINEL_NAMESPACE}/${src}`);
        return await this.address(`${SENTINEL_NAMESPACE}/dst`);
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`the sentinel pods never ran: is the node agent up? (${(e as Error).message})`);
        await sleep(100);
      }
    }
  }

  /**
   * Makes the sentinel known-good: deny-all, then wait for DENIED from both sources (kube-router enforces
   * policies on this node at all, and no source carries a round the next one could be confused with).
   */
  async init(timeoutMs = 60_000): Promise<void> {
    const dstIP = await this.ensureSentinel(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    await this.putPolicy(undefined);
    for (const src of SOURCES) await this.labelPod(src, 'none');
    for (const src of SOURCES) await this.waitFor(src, dstIP, 'denied', deadline);
    await this.barrier(timeoutMs);
  }

  /** Returns once kube-router's rules reflect every Pod, Namespace and NetworkPolicy written before the call. */
  async barrier(timeoutMs = 60_000): Promise<{ ms: number }> {
    const t0 = Date.now();
    return this.locked(async () => {
      const dstIP = await this.address(`${SENTINEL_NAMESPACE}/dst`);
      const n = this.nextRound();
      const round = `r${n}`;
      const src = SOURCES[n % 2] ?? 'src0';
      await Promise.all([this.putPolicy(round), this.labelNamespace(round), this.labelPod(src, round)]);
      await this.waitFor(src, dstIP, 'allowed', Date.now() + timeoutMs);
      return { ms: Date.now() - t0 };
    });
  }

  /** Rounds count up across processes (a file under the lock): the parity picks the source. */
  private nextRound(): number {
    const file = path.join(this.cfg.runDir, 'dataplane', 'barrier.round');
    const n = Number(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '0') + 1;
    fs.writeFileSync(file, String(n));
    return n;
  }

  /** One barrier at a time on a data plane, across processes (a directory is created atomically). */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = path.join(this.cfg.runDir, 'dataplane', 'barrier.lock');
    for (;;) {
      try {
        fs.mkdirSync(lock);
        break;
      } catch {
        const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > 120_000) fs.rmSync(lock, { recursive: true, force: true });
        await sleep(50);
      }
    }
    try {
      return await fn();
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}
