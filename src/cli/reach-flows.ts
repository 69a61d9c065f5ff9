/**
 * `netseg reach -f CLUSTER... --flows FILE... [--enforce-dry-run] [-o table|json]`: "what would break?". Every
 * observed flow that `learn` would count (same readers, same tally: not replies, not DROPPED, one count per
 * connection) is answered once per distinct (from, to, port, protocol) against the cluster's policies plus the
 * intents in the files (`--enforce-dry-run`: DryRun intents too). Denied flows come first, each with the policies
 * that deny it; the exit code is 1 when any observed flow would be denied.
 *
 * Pods the flows name that the files lack are added with the labels the flows carry (Hubble and Inspektor Gadget
 * report them), so a flow log and the policies are enough; a pod without known labels, or a Service the files
 * lack, cannot be judged: it is reported with its connections, never guessed, and the exit code is 1 then too.
 */
import type { FlowFormat } from '../flows';
import { serviceBackends, servicesByName } from '../learn';
import type { Pod, Protocol } from '../model/kubernetes';
import { type Cluster, type Endpoint, type SideVerdict, buildCluster, endpointName, evaluate, resolveEndpoint } from '../reach';
import type { LoadedCluster } from './cluster-input';
import { readFlowFiles, reportReading } from './flow-files';
import type { CliIO } from './io';

export interface FlowQuestion {
  readonly flows: readonly string[];
  readonly format?: FlowFormat;
  readonly output: 'table' | 'json';
}

interface Answer {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly allowed: boolean;
  readonly deniedBy?: string[];
}

export function answerFlows(loaded: LoadedCluster, q: FlowQuestion, io: Pick<CliIO, 'out' | 'err'>): number {
  const reading = readFlowFiles(q.flows, q.format);
  reportReading(reading, io);
  if (reading.errors.length > 0) {
    for (const e of reading.errors) io.err(`error: ${e}\n`);
    return 1;
  }
  const { tally } = reading;
  const known = new Set(loaded.input.pods.map((p) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name ?? ''}`));
  const added: Pod[] = [];
  for (const key of tally.endpointKeys()) {
    const e = tally.endpoint(key);
    if (e?.kind !== 'pod' || known.has(key) || e.labels === undefined) continue;
    added.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: e.name, namespace: e.namespace, labels: { ...e.labels } }, ...(e.ip ? { status: { podIP: e.ip } } : {}) });
  }
  if (added.length > 0) io.err(`note: ${added.length} pods named by the flows but not in the files were added with the labels the flows carry\n`);
  const cluster = buildCluster({ ...loaded.input, pods: [...loaded.input.pods, ...added] });
  for (const issue of cluster.issues) io.err(`warning: ${issue}\n`);
  const services = servicesByName(loaded.loaded.map((l) => l.object));
  const servicePods = cluster.pods.map((p) => ({ key: p.key, namespace: p.namespace, labels: p.labels, ports: (p.pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []) }));
  const questions = new Map<string, { from: Endpoint; to: Endpoint; port: number; protocol: Protocol; count: number }>();
  const unanswered = new Map<string, number>();
  const ask = (from: Endpoint, to: Endpoint, port: number, protocol: Protocol, count: number): void => {
    const key = `${endpointName(cluster, from)}\n${endpointName(cluster, to)}\n${protocol}\n${port}`;
    const known = questions.get(key);
    if (known) known.count += count;
    else questions.set(key, { from, to, port, protocol, count });
  };
  for (const f of tally.flows()) {
    const from = resolve(cluster, f.from);
    const dst = tally.endpoint(f.to);
    if (typeof from === 'string') {
      unanswered.set(from, (unanswered.get(from) ?? 0) + f.count);
      continue;
    }
    if (dst?.kind === 'service') {
      const backends = serviceBackends(services.get(`${dst.namespace}/${dst.name}`), f.port, f.protocol, servicePods);
      if (typeof backends === 'string') {
        const why = `Service ${dst.namespace}/${dst.name} port ${f.protocol}/${f.port}: ${backends}`;
        unanswered.set(why, (unanswered.get(why) ?? 0) + f.count);
      } else for (const b of backends) ask(from, { kind: 'pod', index: cluster.podByKey.get(b.pod) as number }, b.port, f.protocol, f.count);
      continue;
    }
    const to = resolve(cluster, f.to);
    if (typeof to === 'string') unanswered.set(to, (unanswered.get(to) ?? 0) + f.count);
    else ask(from, to, f.port, f.protocol, f.count);
  }
  for (const [why, n] of [...unanswered].sort(([a], [b]) => (a < b ? -1 : 1))) io.err(`warning: ${why} (${n} connections): not answered\n`);
  const answers = [...questions.values()].map((qn) => ({ ...qn, answer: answerOf(cluster, qn) }));
  answers.sort((a, b) => Number(a.answer.allowed) - Number(b.answer.allowed));
  if (q.output === 'json') io.out(`${JSON.stringify({ results: answers.map((a) => a.answer) })}\n`);
  else for (const a of answers) io.out(line(a.answer, a.count));
  const denied = answers.filter((a) => !a.answer.allowed);
  const notAnswered = [...unanswered.values()].reduce((n, c) => n + c, 0);
  io.err(
    `${answers.length} observed flows (${answers.reduce((n, a) => n + a.count, 0)} connections): ${denied.length} denied` +
      (notAnswered > 0 ? `; ${notAnswered} connections could not be judged` : '') +
      '\n',
  );
  // A flow that could not be judged is no evidence that nothing breaks: a pre-flight check must not pass on it.
  return denied.length > 0 || notAnswered > 0 ? 1 : 0;
}

/** A pod ("ns/name", in the files or added from the flows) or an address; a reason when it is neither. */
function resolve(cluster: Cluster, key: string): Endpoint | string {
  if (key.startsWith('svc:')) return `${key.slice(4)}: a Service as a source`;
  return resolveEndpoint(cluster, key) ?? `pod ${key}: not in the files and the flows carry no labels for it`;
}

function answerOf(cluster: Cluster, q: { from: Endpoint; to: Endpoint; port: number; protocol: Protocol }): Answer {
  const v = evaluate(cluster, q);
  const base = { from: endpointName(cluster, q.from), to: endpointName(cluster, q.to), port: q.port, protocol: q.protocol, allowed: v.allowed };
  if (v.allowed) return base;
  const deniedBy = [...new Set([v.egress, v.ingress].flatMap((s: SideVerdict) => (s.kind === 'denied' ? s.isolatedBy : [])))].sort();
  return { ...base, deniedBy };
}

function line(a: Answer, count: number): string {
  const head = `${a.allowed ? 'allowed' : 'DENIED '} ${a.from} -> ${a.to} ${a.protocol}/${a.port} (${count} ${count === 1 ? 'connection' : 'connections'})`;
  return a.allowed ? `${head}\n` : `${head}: denied by ${(a.deniedBy ?? []).join(', ')}\n`;
}
