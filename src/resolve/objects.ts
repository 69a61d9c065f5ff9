/**
 * The cluster objects an intent may reference (Services, Deployments, StatefulSets, DaemonSets, Ingresses), read
 * defensively from plain JSON: from files (the CLI) or the operator's watch cache, the same code.
 *
 * A referenced object is chosen by the intent's author, but its content by whoever owns it. Everything read
 * here is bounded and checked before it can reach a policy: at most MAX_SERVICE_PORTS ports, selectors of at
 * most LIMITS.matchLabels labels of valid syntax, never an empty selector (that would be every pod), at most
 * MAX_INGRESS_BACKENDS backends per Ingress. An object outside these bounds is a problem naming it, never a
 * partial or widened reading. Parsing happens on lookup: objects no intent names cost nothing.
 */
import { LIMITS } from '../intent/limits';
import { labelKeyProblem, labelValueProblem, portNameProblem } from '../intent/syntax';
import type { KubeObject, LabelSelector, LabelSelectorRequirement, Protocol } from '../model/kubernetes';
import type { WorkloadKind } from '../intent/references';

/** More ports than any real Service has (the apiserver sets no bound); each may become a policy port. */
export const MAX_SERVICE_PORTS = 64;
/** Paths and default backend of one Ingress. */
export const MAX_INGRESS_BACKENDS = 256;
/** Ingresses of one namespace that one intent reads. */
export const MAX_INGRESSES = 256;

export interface ServicePortInfo {
  readonly name?: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** A number, or a container port name resolved per pod; absent in the object = port. */
  readonly targetPort: number | string;
}

export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  /** Absent: the Service has no selector (its endpoints are managed by hand). */
  readonly selector?: Readonly<Record<string, string>>;
  readonly ports: readonly ServicePortInfo[];
}

export interface WorkloadInfo {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly selector: LabelSelector;
}

export interface IngressBackend {
  readonly service: string;
  readonly port: number | string;
}

export interface IngressInfo {
  readonly namespace: string;
  readonly name: string;
  /** spec.ingressClassName, else the kubernetes.io/ingress.class annotation; absent when neither. */
  readonly className?: string;
  readonly backends: readonly IngressBackend[];
}

/** A lookup: found and well-formed, absent, or present but unusable (the problem names what is wrong). */
export type Lookup<T> = { readonly found: true; readonly value: T } | { readonly found: false; readonly problem?: string };

/** What resolution reads: an index over cluster objects. The operator and the CLI both build one. */
export interface ClusterObjects {
  service(namespace: string, name: string): Lookup<ServiceInfo>;
  workload(kind: WorkloadKind, namespace: string, name: string): Lookup<WorkloadInfo>;
  /** Every Ingress of the namespace, sorted by name; a problem when one is unusable. */
  ingresses(namespace: string): Lookup<readonly IngressInfo[]>;
}

const API_VERSIONS: Readonly<Record<string, string>> = {
  Service: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Ingress: 'networking.k8s.io/v1',
};

/** The kinds resolution reads, with their apiVersion: what the CLI keeps from files and the operator watches. */
export const REFERENCED_KINDS: readonly { readonly kind: string; readonly apiVersion: string }[] = Object.entries(API_VERSIONS).map(
  ([kind, apiVersion]) => ({ kind, apiVersion }),
);

export function isReferencedKind(o: { readonly apiVersion?: unknown; readonly kind?: unknown }): boolean {
  return typeof o.kind === 'string' && API_VERSIONS[o.kind] !== undefined && API_VERSIONS[o.kind] === o.apiVersion;
}

/** An index over plain objects (any kinds; only the referenced ones are kept). */
export function indexObjects(objects: Iterable<KubeObject>): ClusterObjects {
  const byKey = new Map<string, KubeObject>();
  const ingresses = new Map<string, KubeObject[]>();
  for (const o of objects) {
    if (!isReferencedKind(o)) continue;
    const ns = o.metadata?.namespace ?? '';
    const name = o.metadata?.name ?? '';
    if (o.kind === 'Ingress') ingresses.set(ns, [...(ingresses.get(ns) ?? []), o]);
    else byKey.set(`${o.kind}/${ns}/${name}`, o);
  }
  return {
    service: (ns, name) => parsed(byKey.get(`Service/${ns}/${name}`), parseService),
    workload: (kind, ns, name) => parsed(byKey.get(`${kind}/${ns}/${name}`), (o) => parseWorkload(kind, o)),
    ingresses: (ns) => parseIngresses(ingresses.get(ns) ?? []),
  };
}

export function parsed<T>(o: KubeObject | undefined, parse: (o: KubeObject) => T | string): Lookup<T> {
  if (!o) return { found: false };
  const v = parse(o);
  return typeof v === 'string' ? { found: false, problem: v } : { found: true, value: v };
}

export function parseIngresses(objects: readonly KubeObject[]): Lookup<readonly IngressInfo[]> {
  if (objects.length > MAX_INGRESSES) return { found: false, problem: `the namespace has ${objects.length} Ingresses; netseg reads at most ${MAX_INGRESSES}` };
  const out: IngressInfo[] = [];
  for (const o of objects) {
    const i = parseIngress(o);
    if (typeof i === 'string') return { found: false, problem: i };
    out.push(i);
  }
  return { found: true, value: out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}

// ----------------------------------------------------------------------------------------------- parsing

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function get(o: unknown, key: string): unknown {
  return isObj(o) && Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

function isPortNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/** Labels as a selector's matchLabels: bounded, each key and value of label syntax. */
function labelsOf(v: unknown, what: string): Record<string, string> | string {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) return `${what} is not a mapping`;
  const entries = Object.entries(v);
  if (entries.length > LIMITS.matchLabels) return `${what} has ${entries.length} labels; netseg reads at most ${LIMITS.matchLabels}`;
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    const bad = labelKeyProblem(k) ?? (typeof val === 'string' ? labelValueProblem(val) : 'not a string');
    if (bad) return `${what} label ${JSON.stringify(k.slice(0, 64))}: ${bad}`;
    Object.defineProperty(out, k, { value: val, enumerable: true, writable: true });
  }
  return out;
}

export function parseService(o: KubeObject): ServiceInfo | string {
  const spec = get(o, 'spec');
  const selector = labelsOf(get(spec, 'selector'), 'its spec.selector');
  if (typeof selector === 'string') return selector;
  const rawPorts = get(spec, 'ports') ?? [];
  if (!Array.isArray(rawPorts)) return 'its spec.ports is not a list';
  if (rawPorts.length > MAX_SERVICE_PORTS) return `it has ${rawPorts.length} ports; netseg resolves Services of at most ${MAX_SERVICE_PORTS}`;
  const ports: ServicePortInfo[] = [];
  for (const [i, p] of rawPorts.entries()) {
    const sp = servicePortOf(p);
    if (typeof sp === 'string') return `its spec.ports[${i}] ${sp}`;
    ports.push(sp);
  }
  return {
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
    ...(Object.keys(selector).length > 0 ? { selector } : {}),
    ports,
  };
}

function servicePortOf(p: unknown): ServicePortInfo | string {
  const port = get(p, 'port');
  if (!isPortNumber(port)) return 'has no valid port number';
  const protocol = get(p, 'protocol') ?? 'TCP';
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') return 'has an unknown protocol';
  const name = get(p, 'name');
  if (name !== undefined && (typeof name !== 'string' || name.length > 63)) return 'has an invalid name';
  const rawTarget = get(p, 'targetPort') ?? port;
  let targetPort: number | string;
  if (isPortNumber(rawTarget)) targetPort = rawTarget;
  else if (typeof rawTarget === 'string' && /^[0-9]+$/.test(rawTarget) && isPortNumber(Number(rawTarget))) targetPort = Number(rawTarget);
  else if (typeof rawTarget === 'string' && !portNameProblem(rawTarget)) targetPort = rawTarget;
  else return 'has an invalid targetPort';
  return { ...(typeof name === 'string' && name !== '' ? { name } : {}), port, protocol, targetPort };
}

export function parseWorkload(kind: WorkloadKind, o: KubeObject): WorkloadInfo | string {
  const raw = get(get(o, 'spec'), 'selector');
  if (!isObj(raw)) return 'it has no spec.selector';
  const matchLabels = labelsOf(get(raw, 'matchLabels'), 'its spec.selector.matchLabels');
  if (typeof matchLabels === 'string') return matchLabels;
  const matchExpressions = expressionsOf(get(raw, 'matchExpressions'));
  if (typeof matchExpressions === 'string') return matchExpressions;
  if (Object.keys(matchLabels).length === 0 && matchExpressions.length === 0) return 'its spec.selector is empty (it would select every pod)';
  const selector: LabelSelector = {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
  return { kind, namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '', selector };
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function expressionsOf(v: unknown): LabelSelectorRequirement[] | string {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return 'its spec.selector.matchExpressions is not a list';
  if (v.length > LIMITS.matchExpressions) return `its spec.selector has ${v.length} matchExpressions; netseg reads at most ${LIMITS.matchExpressions}`;
  const out: LabelSelectorRequirement[] = [];
  for (const e of v) {
    const key = get(e, 'key');
    const operator = get(e, 'operator');
    const values = get(e, 'values') ?? [];
    if (typeof key !== 'string' || labelKeyProblem(key)) return 'its spec.selector has a requirement with an invalid key';
    if (typeof operator !== 'string' || !OPERATORS.includes(operator)) return 'its spec.selector has a requirement with an unknown operator';
    const needsValues = operator === 'In' || operator === 'NotIn';
    if (!Array.isArray(values) || values.length > LIMITS.expressionValues || (needsValues && values.length === 0) || (!needsValues && values.length > 0)) {
      return `its spec.selector has a ${operator} requirement with invalid values`;
    }
    if (values.some((x) => typeof x !== 'string' || labelValueProblem(x))) return 'its spec.selector has an invalid label value';
    out.push({ key, operator: operator as LabelSelectorRequirement['operator'], ...(needsValues ? { values: [...(values as string[])] } : {}) });
  }
  return out;
}

const CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export function parseIngress(o: KubeObject): IngressInfo | string {
  const name = o.metadata?.name ?? '';
  const spec = get(o, 'spec');
  const specClass = get(spec, 'ingressClassName');
  const annotation = o.metadata?.annotations?.[CLASS_ANNOTATION];
  const className = typeof specClass === 'string' && specClass !== '' ? specClass : typeof annotation === 'string' && annotation !== '' ? annotation : undefined;
  const backends: IngressBackend[] = [];
  const add = (b: unknown): void => {
    const svc = get(b, 'service');
    const svcName = get(svc, 'name');
    const port = get(svc, 'port');
    const value = get(port, 'number') ?? get(port, 'name');
    // A resource backend (not a Service) opens nothing: it is not a flow to pods netseg can name.
    if (typeof svcName === 'string' && (isPortNumber(value) || typeof value === 'string')) backends.push({ service: svcName, port: value });
  };
  if (get(spec, 'defaultBackend') !== undefined) add(get(spec, 'defaultBackend'));
  const rules = get(spec, 'rules') ?? [];
  if (!Array.isArray(rules)) return `Ingress ${o.metadata?.namespace ?? ''}/${name}: its spec.rules is not a list`;
  for (const r of rules) {
    const paths = get(get(r, 'http'), 'paths') ?? [];
    if (!Array.isArray(paths)) return `Ingress ${o.metadata?.namespace ?? ''}/${name}: a rule's http.paths is not a list`;
    for (const p of paths) {
      add(get(p, 'backend'));
      if (backends.length > MAX_INGRESS_BACKENDS) {
        return `Ingress ${o.metadata?.namespace ?? ''}/${name} has more than ${MAX_INGRESS_BACKENDS} backends; netseg reads at most ${MAX_INGRESS_BACKENDS}`;
      }
    }
  }
  return { namespace: o.metadata?.namespace ?? '', name, ...(className !== undefined ? { className } : {}), backends };
}
