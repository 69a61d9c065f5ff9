/**
 * The checked form of an intent that may name Services, workload objects and Ingress routes (API.md, "Endpoints
 * by reference", "Ingress routes"). checkIntent() (./validate.ts) returns a DeclaredIntent: everything the intent
 * alone can tell is checked, and each reference is kept as a reference. Only src/resolve turns it into a
 * ValidIntent, with the cluster's objects in hand; the compiler never sees a reference.
 *
 * An intent without references needs no objects: localIntent() converts it, so validateIntent() still returns
 * a ValidIntent for such an intent, and refuses one with references, naming each object it would need.
 */
import type { Protocol } from '../model/kubernetes';
import type { Flow, FlowPort, Issue, Peer, ValidIntent, Workload } from './types';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** A referenced object; `path` is the intent field that names it (`spec.workloads[1].service`). */
export type ObjectRef =
  | { readonly kind: 'Service'; readonly namespace: string; readonly name: string; readonly path: string }
  | { readonly kind: WorkloadKind; readonly namespace: string; readonly name: string; readonly path: string };

/** The pods a Service of the intent's namespace selects. */
export interface ServiceWorkload {
  readonly kind: 'service-workload';
  readonly name: string;
  readonly ref: ObjectRef & { readonly kind: 'Service' };
}

/** The pods of a Deployment, StatefulSet or DaemonSet of the intent's namespace (its spec.selector). */
export interface RefWorkload {
  readonly kind: 'ref-workload';
  readonly name: string;
  readonly ref: ObjectRef & { readonly kind: WorkloadKind };
}

/** Pods of another namespace, by a Service or a workload object there (never the intent's own namespace). */
export interface ServicePeer {
  readonly kind: 'service-peer';
  readonly name: string;
  readonly ref: ObjectRef & { readonly kind: 'Service' };
}

export interface RefPeer {
  readonly kind: 'ref-peer';
  readonly name: string;
  readonly ref: ObjectRef & { readonly kind: WorkloadKind };
}

export type DeclaredWorkload = Workload | ServiceWorkload | RefWorkload;
export type DeclaredPeer = Peer | ServicePeer | RefPeer;
export type DeclaredEndpoint = DeclaredWorkload | DeclaredPeer;
export type ReferenceEndpoint = ServiceWorkload | RefWorkload | ServicePeer | RefPeer;

/**
 * A port as written. `protocol` stays absent when not written: to a Service it filters (absent = every Service
 * port of that number or name); elsewhere it defaults to TCP (localPort).
 */
export type DeclaredPort =
  | { readonly protocol?: Protocol; readonly port?: undefined; readonly endPort?: undefined }
  | { readonly protocol?: Protocol; readonly port: number; readonly endPort?: number }
  | { readonly protocol?: Protocol; readonly port: string; readonly endPort?: undefined };

export interface DeclaredFlow {
  readonly index: number;
  readonly from: readonly DeclaredEndpoint[];
  readonly to: readonly DeclaredEndpoint[];
  /** undefined: `ports` absent (every port; to a Service, every port of the Service). */
  readonly ports?: readonly DeclaredPort[];
}

export interface IngressRoute {
  readonly index: number;
  /** Peers only (validation refuses workloads): the ingress controller's pods. */
  readonly from: readonly DeclaredPeer[];
  /** Absent: every Ingress of the namespace. */
  readonly ingressClassName?: string;
}

export interface DeclaredIntent extends Omit<ValidIntent, 'workloads' | 'peers' | 'flows'> {
  readonly workloads: readonly DeclaredWorkload[];
  readonly peers: readonly DeclaredPeer[];
  readonly flows: readonly DeclaredFlow[];
  readonly ingressRoutes: readonly IngressRoute[];
}

export type CheckResult =
  | { readonly ok: true; readonly intent: DeclaredIntent }
  | { readonly ok: false; readonly issues: readonly Issue[] };

export function isReference(e: DeclaredEndpoint): e is ReferenceEndpoint {
  return e.kind === 'service-workload' || e.kind === 'ref-workload' || e.kind === 'service-peer' || e.kind === 'ref-peer';
}

/** Every object an intent (or a baseline: peers only) names, in spec order (what an operator watches for it). */
export function referencesOf(spec: { readonly workloads?: readonly DeclaredWorkload[]; readonly peers: readonly DeclaredPeer[] }): ObjectRef[] {
  return [...(spec.workloads ?? []), ...spec.peers].filter(isReference).map((e) => e.ref);
}

/** One issue per object named, for a caller that has no objects to resolve them with (validateIntent, validateBaseline). */
export function needsObjects(refs: readonly ObjectRef[]): Issue[] {
  return refs.map((ref) => ({
    path: ref.path,
    message: `names ${refText(ref)}, which only the cluster's objects can resolve (give them to the command, or run the operator)`,
  }));
}

/** `Service shop/api`: how messages name an object. */
export function refText(ref: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** The fields a DeclaredIntent and a ValidIntent share: everything but endpoints, flows and routes. */
export function intentBase(intent: DeclaredIntent): Omit<ValidIntent, 'workloads' | 'peers' | 'flows'> {
  const { name, namespace, uid, generation, labels, enforcement, directions, scope, allowDNS } = intent;
  return {
    name,
    namespace,
    ...(uid !== undefined ? { uid } : {}),
    ...(generation !== undefined ? { generation } : {}),
    labels,
    enforcement,
    directions,
    scope,
    allowDNS,
  };
}

/** A port to a selector or workloadRef endpoint: a container port, TCP unless written otherwise. */
export function localPort(p: DeclaredPort): FlowPort {
  return { ...p, protocol: p.protocol ?? 'TCP' } as FlowPort;
}

/**
 * An intent without references or Ingress routes as the compiler's ValidIntent; otherwise the issues naming
 * every object it needs (resolve it with src/resolve and the cluster's objects instead).
 */
export function localIntent(intent: DeclaredIntent): { ok: true; intent: ValidIntent } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = needsObjects(referencesOf(intent));
  intent.ingressRoutes.forEach((r) =>
    issues.push({ path: `spec.ingressRoutes[${r.index}]`, message: `needs the Ingresses of namespace ${intent.namespace} to resolve` }),
  );
  if (issues.length > 0) return { ok: false, issues };
  const rest = intentBase(intent);
  const flows: Flow[] = intent.flows.map((f) => ({
    index: f.index,
    from: f.from as Flow['from'],
    to: f.to as Flow['to'],
    ports: (f.ports ?? []).map(localPort),
  }));
  return { ok: true, intent: { ...rest, workloads: intent.workloads as Workload[], peers: intent.peers as Peer[], flows } };
}
