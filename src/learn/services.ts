/**
 * A connection to a ClusterIP (Inspektor Gadget sees the address before it is translated) reached one of the
 * Service's pods, on the Service port's targetPort (API.md: a number, or a container port name resolved per pod;
 * absent = the port). Which pod is not known, so every pod the Service selects counts. Used by `learn` and by
 * `reach --flows`; unresolvable, the reason is returned, never a guess.
 */
import { byString } from '../compile/canonical';
import type { ContainerPort, KubeObject, Protocol } from '../model/kubernetes';
import { matchesSelector } from '../reach/selector';

export interface ServicePod {
  readonly key: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ContainerPort[];
}

export type Backends = { readonly pod: string; readonly port: number }[] | string;

export function serviceBackends(svc: KubeObject | undefined, port: number, protocol: Protocol, pods: Iterable<ServicePod>): Backends {
  if (!svc) return 'not in the cluster input (give it with -f)';
  const spec = svc['spec'] as { selector?: unknown; ports?: unknown } | undefined;
  const selector = spec?.selector;
  if (!selector || typeof selector !== 'object' || Array.isArray(selector) || Object.keys(selector).length === 0) return 'has no selector';
  const ports = Array.isArray(spec?.ports) ? (spec.ports as { port?: unknown; protocol?: unknown; targetPort?: unknown }[]) : [];
  const sp = ports.find((p) => p?.port === port && (p.protocol ?? 'TCP') === protocol);
  if (!sp) return 'has no such port';
  const ns = svc.metadata?.namespace ?? 'default';
  const out: { pod: string; port: number }[] = [];
  for (const p of [...pods].sort((a, b) => byString(a.key, b.key))) {
    if (p.namespace !== ns || !p.labels || !matchesSelector({ matchLabels: selector as Record<string, string> }, p.labels)) continue;
    const target = targetPort(sp.targetPort, port, p, protocol);
    if (target !== undefined) out.push({ pod: p.key, port: target });
  }
  return out.length > 0 ? out : 'selects no pod of the cluster input that serves the port';
}

function targetPort(t: unknown, port: number, pod: ServicePod, protocol: Protocol): number | undefined {
  if (t === undefined || t === null) return port;
  if (typeof t === 'number') return t;
  if (typeof t === 'string' && /^\d+$/.test(t)) return Number(t);
  return pod.ports.find((p) => p.name === t && (p.protocol ?? 'TCP') === protocol)?.containerPort;
}

/** Services of the cluster input by "namespace/name". */
export function servicesByName(objects: readonly KubeObject[]): Map<string, KubeObject> {
  const out = new Map<string, KubeObject>();
  for (const o of objects) {
    if (o.apiVersion === 'v1' && o.kind === 'Service' && typeof o.metadata?.name === 'string') out.set(`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o);
  }
  return out;
}
