/**
 * What a user means by `--from shop/web --to shop/api --port http`: the pods and pod ports a question is about.
 * NetworkPolicies are about pods and pod ports, but people think in workloads, Services and port names, so a
 * side may be:
 *
 *   NAMESPACE/POD                  that pod (as before)
 *   IP                             an address (a pod's IP is that pod)
 *   NAMESPACE/NAME                 a workload NAME (controlling owner, a Deployment's ReplicaSet hash removed, or
 *                                  the app / app.kubernetes.io/name label), or else a Service NAME: its pods
 *   NAMESPACE/workload/NAME        only the workload; NAMESPACE/service/NAME only the Service
 *
 * and the port a number or a name: a Service's port (name or number; its targetPort is what reaches the pod,
 * and what a NetworkPolicy sees after the Service's DNAT), else a container port name of each destination pod.
 * Pure: the caller answers each pod pair (reach.ts), and says when the pairs' verdicts differ.
 */
import { PROTOCOLS, type Protocol } from '../model/kubernetes';
import { type Cluster, type Endpoint, type Traffic, endpointName, resolveEndpoint } from '../reach';
import { namedPortKey } from '../reach/ports';
import { workloadOf } from './reach-render';

/** The fields of a Service a question needs; read defensively (a file may hold anything). */
export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly { readonly name?: string; readonly port: number; readonly protocol: Protocol; readonly targetPort: number | string }[];
}

export interface Side {
  /** How the answer names this side: the text as given, with its kind ("shop/web (workload, 3 pods)"). */
  readonly label: string;
  readonly endpoints: readonly Endpoint[];
  readonly service?: ServiceInfo;
}

/** One question about pods: every pod pair it covers, or why a pair has no port to ask about. */
export interface Expanded {
  readonly from: Side;
  readonly to: Side;
  readonly portText: string;
  readonly protocol: Protocol;
  readonly pairs: readonly Traffic[];
  /** Destination pods that have no port by that name: named, not silently dropped. */
  readonly noPort: readonly string[];
}

export function servicesFrom(objects: readonly unknown[]): ServiceInfo[] {
  const out: ServiceInfo[] = [];
  for (const o of objects) {
    if (!isRecord(o) || o['apiVersion'] !== 'v1' || o['kind'] !== 'Service') continue;
    const meta = isRecord(o['metadata']) ? o['metadata'] : {};
    const spec = isRecord(o['spec']) ? o['spec'] : {};
    if (typeof meta['name'] !== 'string') continue;
    const selector = isRecord(spec['selector']) ? (Object.fromEntries(Object.entries(spec['selector']).filter(([, v]) => typeof v === 'string')) as Record<string, string>) : undefined;
    const ports = (Array.isArray(spec['ports']) ? spec['ports'] : []).filter(isRecord).flatMap((p) => {
      const port = p['port'];
      if (typeof port !== 'number') return [];
      const protocol = PROTOCOLS.find((x) => x === (p['protocol'] ?? 'TCP'));
      if (!protocol) return [];
      const target = p['targetPort'];
      const targetPort = typeof target === 'number' || (typeof target === 'string' && target !== '') ? (/^\d+$/.test(String(target)) ? Number(target) : target) : port;
      return [{ ...(typeof p['name'] === 'string' ? { name: p['name'] } : {}), port, protocol, targetPort }];
    });
    out.push({ namespace: typeof meta['namespace'] === 'string' ? meta['namespace'] : 'default', name: meta['name'], selector, ports });
  }
  return out;
}

/** A side of a question, or a message saying what was not found and what may be given. */
export function resolveSide(cluster: Cluster, services: readonly ServiceInfo[], text: string): Side | string {
  const direct = resolveEndpoint(cluster, text);
  if (direct) return { label: text, endpoints: [direct] };
  const parts = text.split('/');
  const [ns, kind, name] = parts.length === 3 ? parts : [parts[0], undefined, parts[1]];
  if (parts.length < 2 || parts.length > 3 || !ns || !name) return unknown(text);
  if (kind !== undefined && kind !== 'workload' && kind !== 'service') return `${unknown(text)} (the middle part may be "workload" or "service")`;
  const workload = kind === 'service' ? [] : workloadPods(cluster, ns, name);
  const service = kind === 'workload' ? undefined : services.find((s) => s.namespace === ns && s.name === name);
  const servicePods = service ? selectedPods(cluster, service) : [];
  if (workload.length > 0 && service && !sameSet(workload, servicePods)) {
    return `${text} is both a workload (${plural(workload.length, 'pod')}) and a Service (${plural(servicePods.length, 'pod')}) with different pods: say ${ns}/workload/${name} or ${ns}/service/${name}`;
  }
  if (workload.length > 0) return { label: `${text} (workload, ${plural(workload.length, 'pod')})`, endpoints: workload.map(pod) };
  if (service) {
    if (servicePods.length === 0) return `Service ${ns}/${name} selects no pod in the files${service.selector ? '' : ' (it has no selector)'}`;
    return { label: `${text} (Service, ${plural(servicePods.length, 'pod')})`, endpoints: servicePods.map(pod), service };
  }
  return unknown(text);
}

/** Every pod pair of a question, with the port each destination pod is asked on. */
export function expand(cluster: Cluster, from: Side, to: Side, portText: string, protocol: Protocol): Expanded | string {
  if (from.endpoints.every((e) => e.kind === 'ip') && to.endpoints.every((e) => e.kind === 'ip')) {
    return 'at least one side must be a pod: no policy governs IP-to-IP traffic';
  }
  const servicePort = to.service?.ports.find((p) => p.protocol === protocol && (p.name === portText || String(p.port) === portText));
  const asked: number | string = servicePort ? servicePort.targetPort : /^\d+$/.test(portText) ? Number(portText) : portText;
  const badPort = `port ${JSON.stringify(portText)} must be a number from 1 to 65535, or a port name`;
  if (typeof asked === 'number' && !(Number.isInteger(asked) && asked >= 1 && asked <= 65535)) return badPort;
  if (typeof asked === 'string' && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(asked)) return badPort;
  const pairs: Traffic[] = [];
  const noPort: string[] = [];
  for (const dst of to.endpoints) {
    const port = typeof asked === 'number' ? asked : namedPort(cluster, dst, asked, protocol);
    if (port === undefined) {
      noPort.push(endpointName(cluster, dst));
      continue;
    }
    for (const src of from.endpoints) pairs.push({ from: src, to: dst, port, protocol });
  }
  const translated = servicePort && String(servicePort.targetPort) !== String(servicePort.port);
  return { from, to, portText: translated ? `${portText} (Service port ${servicePort.port} -> pod port ${String(servicePort.targetPort)})` : portText, protocol, pairs, noPort };
}

function unknown(text: string): string {
  return `unknown ${JSON.stringify(text)}: give NAMESPACE/POD, NAMESPACE/WORKLOAD or NAMESPACE/SERVICE of the files, or an IP address`;
}

function workloadPods(cluster: Cluster, ns: string, name: string): number[] {
  const out: number[] = [];
  cluster.pods.forEach((p, i) => {
    if (p.namespace !== ns) return;
    if (workloadOf(p) === `${ns}/${name}` || controllerName(p) === name || p.labels['app'] === name || p.labels['app.kubernetes.io/name'] === name) out.push(i);
  });
  return out;
}

/** The controlling owner as named in the pod (a ReplicaSet keeps its hash here: `web-6d4f9c8b7` finds its pods too). */
function controllerName(p: Cluster['pods'][number]): string | undefined {
  const refs = Array.isArray(p.pod.metadata.ownerReferences) ? p.pod.metadata.ownerReferences : [];
  return refs.find((o) => o?.controller === true)?.name;
}

/** A Service's pods: those of its namespace whose labels include its whole selector (no selector: none). */
function selectedPods(cluster: Cluster, s: ServiceInfo): number[] {
  const sel = s.selector;
  if (!sel || Object.keys(sel).length === 0) return [];
  const out: number[] = [];
  cluster.pods.forEach((p, i) => {
    if (p.namespace === s.namespace && Object.entries(sel).every(([k, v]) => p.labels[k] === v)) out.push(i);
  });
  return out;
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function pod(index: number): Endpoint {
  return { kind: 'pod', index };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A destination pod's container port of that name and protocol, if it declares one. */
export function namedPort(cluster: Cluster, e: Endpoint, name: string, protocol: Protocol): number | undefined {
  return e.kind === 'pod' ? cluster.pods[e.index]?.named.get(namedPortKey(name, protocol)) : undefined;
}

/** A question as written (flags, or an entry of a --queries file): every field checked before it becomes pod pairs. */
export interface RawQuery {
  readonly from: unknown;
  readonly to: unknown;
  readonly port: unknown;
  readonly protocol: unknown;
}

export function expandQuery(cluster: Cluster, services: readonly ServiceInfo[], q: RawQuery): Expanded | string {
  if (typeof q.from !== 'string') return `source ${JSON.stringify(q.from)} must be text: NAMESPACE/POD, NAMESPACE/WORKLOAD, NAMESPACE/SERVICE or an IP address`;
  if (typeof q.to !== 'string') return `destination ${JSON.stringify(q.to)} must be text: NAMESPACE/POD, NAMESPACE/WORKLOAD, NAMESPACE/SERVICE or an IP address`;
  const from = resolveSide(cluster, services, q.from);
  if (typeof from === 'string') return `source: ${from}`;
  const to = resolveSide(cluster, services, q.to);
  if (typeof to === 'string') return `destination: ${to}`;
  const portText = typeof q.port === 'number' ? String(q.port) : typeof q.port === 'string' ? q.port : undefined;
  if (portText === undefined) return `port ${JSON.stringify(q.port)} must be a number from 1 to 65535, or a port name`;
  const protocol = q.protocol === undefined ? 'TCP' : PROTOCOLS.find((p) => p === q.protocol);
  if (!protocol) return `protocol ${JSON.stringify(q.protocol)} must be one of ${PROTOCOLS.join(', ')}`;
  return expand(cluster, from, to, portText, protocol);
}
