/**
 * resolveIntent(): a checked intent (src/intent checkIntent) and the cluster's objects → the compiler's
 * ValidIntent of plain selectors and container ports, or every issue naming the field and the object (API.md,
 * "Endpoints by reference", "Ingress routes"). Pure: the objects come in through ClusterObjects.
 *
 *  - `service` endpoint → the pods its spec.selector selects (matchLabels); `workloadRef` → its spec.selector.
 *    A peer reference is ONE peer entry: the namespace by its kubernetes.io/metadata.name label AND the pods.
 *  - Ports to a Service are the Service's ports: a flow port matches a Service port's number or name (never a
 *    targetPort), its protocol (optional) filters, and it compiles to the targetPort with the Service port's
 *    protocol. No ports = exactly the Service's ports, never "every port".
 *  - A flow whose `to` mixes Services and other endpoints becomes one flow per Service plus one for the rest,
 *    all with the flow's index: each destination gets the ports that mean something for it.
 *  - Ingress routes add one flow per (route, workload) from the route's peers to the workloads whose `service`
 *    some matching Ingress backend names; every other backend is listed as uncovered, opening nothing.
 * resolveBaseline(): the same for a ClusterSegmentationIntent's peers and flows, by the same Resolver: its
 * `namespace` endpoint is a workload of every pod, so a flow `namespace → service peer` gets the Service's
 * ports exactly as an intent's flow to a Service does.
 */
import { LIMITS } from '../intent/limits';
import { selectorText } from '../intent/parse';
import { intentBase, localPort, refText } from '../intent/references';
import type {
  DeclaredEndpoint,
  DeclaredFlow,
  DeclaredIntent,
  DeclaredPort,
  DeclaredWorkload,
  IngressRoute,
  ObjectRef,
  ServicePeer,
  ServiceWorkload,
} from '../intent/references';
import type { BaselineFlow, DeclaredBaseline, DeclaredBaselineFlow, ValidBaseline } from '../intent/baseline';
import { NAMESPACE_ENDPOINT } from '../intent/baseline';
import type { Endpoint, Flow, FlowPort, Issue, Peer, ValidIntent, Workload } from '../intent/types';
import type { LabelSelector } from '../model/kubernetes';
import type { ClusterObjects, IngressBackend, IngressInfo, ServiceInfo, ServicePortInfo } from './objects';

/** The label the apiserver puts on every namespace with its own name. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export type Resolution =
  | {
      readonly ok: true;
      readonly intent: ValidIntent;
      /** Backends of matching Ingresses that open nothing: `<ingress>/<service>:<port>`, sorted. */
      readonly uncoveredBackends: readonly string[];
      /** Backends that opened a flow, in the same form (what `netseg audit` subtracts from every backend). */
      readonly coveredBackends: readonly string[];
    }
  | { readonly ok: false; readonly issues: readonly Issue[] };

export function resolveIntent(declared: DeclaredIntent, objects: ClusterObjects): Resolution {
  const r = new Resolver(declared, objects);
  const workloads = declared.workloads.map((w) => r.endpoint(w)).filter((e): e is Workload => e?.kind === 'workload');
  const peers = declared.peers.map((p) => r.endpoint(p)).filter((e): e is Peer => e !== undefined && e.kind !== 'workload');
  if (r.issues.length > 0) return { ok: false, issues: r.issues };
  r.checkSelectorText(workloads, peers);
  const flows = declared.flows.flatMap((f) => r.flow(f));
  const ingress = r.ingressFlows(declared.ingressRoutes, declared.flows.length);
  if (r.issues.length > 0) return { ok: false, issues: r.issues };
  const rest = intentBase(declared);
  return { ok: true, intent: { ...rest, workloads, peers, flows: [...flows, ...ingress.flows] }, uncoveredBackends: ingress.uncovered, coveredBackends: ingress.covered };
}

export type BaselineResolution =
  | { readonly ok: true; readonly baseline: ValidBaseline }
  | { readonly ok: false; readonly issues: readonly Issue[] };

/** A baseline's `namespace`, as the Resolver sees it: a workload of every pod (its ports are container ports). */
const NAMESPACE_WORKLOAD: Workload = { kind: 'workload', name: NAMESPACE_ENDPOINT, selector: {} };

export function resolveBaseline(declared: DeclaredBaseline, objects: ClusterObjects): BaselineResolution {
  const r = new Resolver({ namespace: '', workloads: [] }, objects);
  r.endpoint(NAMESPACE_WORKLOAD);
  const peers = declared.peers.map((p) => r.endpoint(p)).filter((e): e is Peer => e !== undefined && e.kind !== 'workload');
  if (r.issues.length > 0) return { ok: false, issues: r.issues };
  r.checkSelectorText([], peers);
  const flows = declared.flows.flatMap((f) => r.flow(asIntentFlow(f)).map((x) => baselineFlow(f, x)));
  if (r.issues.length > 0) return { ok: false, issues: r.issues };
  return { ok: true, baseline: { ...declared, peers, flows } };
}

function asIntentFlow(f: DeclaredBaselineFlow): DeclaredFlow {
  const [from, to] = f.direction === 'Egress' ? [[NAMESPACE_WORKLOAD], f.peers] : [f.peers, [NAMESPACE_WORKLOAD]];
  return { index: f.index, from, to, ...(f.ports ? { ports: f.ports } : {}) };
}

/** Back to the baseline's orientation: the peers are the side that is not `namespace`. */
function baselineFlow(f: DeclaredBaselineFlow, x: Flow): BaselineFlow {
  const side = f.direction === 'Egress' ? x.to : x.from;
  return { index: f.index, direction: f.direction, peers: side.filter((e): e is Peer => e.kind !== 'workload'), ports: x.ports };
}

/** What resolution needs of the object declaring the endpoints: its namespace (intents) and its workloads (Ingress routes). */
interface Declaring {
  readonly namespace: string;
  readonly workloads: readonly DeclaredWorkload[];
}

class Resolver {
  readonly issues: Issue[] = [];
  private readonly resolved = new Map<string, Endpoint>();
  private readonly services = new Map<string, ServiceInfo>();

  constructor(
    private readonly intent: Declaring,
    private readonly objects: ClusterObjects,
  ) {}

  private report(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** The endpoint as the compiler's Workload or Peer; undefined when unresolved (reported). */
  endpoint(e: DeclaredEndpoint): Endpoint | undefined {
    const done = this.resolved.get(e.name);
    if (done) return done;
    const out = this.resolveEndpoint(e);
    if (out) this.resolved.set(e.name, out);
    return out;
  }

  private resolveEndpoint(e: DeclaredEndpoint): Endpoint | undefined {
    switch (e.kind) {
      case 'workload':
      case 'selector-peer':
      case 'ip-peer':
        return e;
      case 'service-workload':
      case 'service-peer': {
        const svc = this.service(e.ref);
        if (!svc) return undefined;
        this.services.set(e.name, svc);
        return this.fromSelector(e.name, e.kind === 'service-peer' ? e.ref.namespace : undefined, { matchLabels: { ...svc.selector } });
      }
      case 'ref-workload':
      case 'ref-peer': {
        const found = this.objects.workload(e.ref.kind, e.ref.namespace, e.ref.name);
        if (!found.found) return this.missing(e.ref, found.problem);
        return this.fromSelector(e.name, e.kind === 'ref-peer' ? e.ref.namespace : undefined, found.value.selector);
      }
    }
  }

  private fromSelector(name: string, peerNamespace: string | undefined, selector: LabelSelector): Endpoint {
    if (peerNamespace === undefined) return { kind: 'workload', name, selector };
    return { kind: 'selector-peer', name, namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peerNamespace } }, podSelector: selector };
  }

  private service(ref: ObjectRef): ServiceInfo | undefined {
    const found = this.objects.service(ref.namespace, ref.name);
    if (!found.found) return this.missing(ref, found.problem);
    if (!found.value.selector) {
      this.report(ref.path, `${refText(ref)} has no selector (its endpoints are managed by hand), so netseg can't tell its pods: give it a selector, or declare the pods with selector:`);
      return undefined;
    }
    return found.value;
  }

  private missing(ref: ObjectRef, problem: string | undefined): undefined {
    this.report(ref.path, problem
      ? `${refText(ref)} can't be used: ${problem}`
      : `${refText(ref)} not found: create it, or correct the name${ref.namespace !== this.intent.namespace ? ' and namespace' : ''}`);
    return undefined;
  }

  /** The same bound as validation's, over the selectors the referenced objects contributed. */
  checkSelectorText(workloads: readonly Workload[], peers: readonly Peer[]): void {
    const selectors = [...workloads.map((w) => w.selector), ...peers.flatMap((p) => (p.kind === 'selector-peer' ? [p.namespaceSelector, p.podSelector] : []))];
    const total = selectors.reduce((n, s) => n + (s ? selectorText(s) : 0), 0);
    if (total > LIMITS.selectorText) {
      this.report('spec', `the selectors of spec.workloads and spec.peers, with those of the referenced objects, total ${total} characters; at most ${LIMITS.selectorText}: split the intent`);
    }
  }

  // ------------------------------------------------------------------------------------------- flows

  flow(f: DeclaredFlow): Flow[] {
    const from = f.from.map((e) => this.resolved.get(e.name)).filter((e): e is Endpoint => e !== undefined);
    const plain = f.to.filter((e) => !isService(e));
    const out: Flow[] = [];
    if (plain.length > 0) {
      const to = plain.map((e) => this.resolved.get(e.name)).filter((e): e is Endpoint => e !== undefined);
      out.push({ index: f.index, from, to, ports: (f.ports ?? []).map(localPort) });
    }
    for (const s of f.to.filter(isService)) {
      const svc = this.services.get(s.name);
      const to = this.resolved.get(s.name);
      if (!svc || !to) continue;
      const ports = this.servicePorts(svc, f, s);
      if (ports) out.push({ index: f.index, from, to: [to], ports });
    }
    return out;
  }

  /** Never empty: an empty list would mean every port. */
  private servicePorts(svc: ServiceInfo, f: DeclaredFlow, s: ServiceWorkload | ServicePeer): FlowPort[] | undefined {
    const path = `spec.flows[${f.index}]`;
    if (svc.ports.length === 0) {
      this.report(`${path}.to`, `${refText(s.ref)} has no ports, so a flow to it opens nothing: give the Service its ports, or write the flow to a selector workload`);
      return undefined;
    }
    if (!f.ports) return targets(svc.ports);
    const out: FlowPort[] = [];
    let ok = true;
    f.ports.forEach((p, j) => {
      const matches = svc.ports.filter((sp) => matchesServicePort(sp, p));
      if (matches.length === 0) {
        ok = false;
        this.report(`${path}.ports[${j}]${p.port === undefined ? '' : '.port'}`, `${refText(s.ref)} (${quoteName(s.name)}) has no port ${portText(p)}; its ports: ${svc.ports.map(servicePortText).join(', ')}`);
      }
      out.push(...targets(matches));
    });
    return ok ? dedupe(out) : undefined;
  }

  // ----------------------------------------------------------------------------------------- ingress

  ingressFlows(routes: readonly IngressRoute[], firstIndex: number): { flows: Flow[]; uncovered: string[]; covered: string[] } {
    if (routes.length === 0) return { flows: [], uncovered: [], covered: [] };
    const found = this.objects.ingresses(this.intent.namespace);
    if (!found.found) {
      this.report('spec.ingressRoutes', `the Ingresses of namespace ${this.intent.namespace} can't be read: ${found.problem ?? 'not available'}`);
      return { flows: [], uncovered: [], covered: [] };
    }
    const flows: Flow[] = [];
    const uncovered = new Set<string>();
    const covered = new Set<string>();
    for (const route of routes) {
      const from = route.from.map((p) => this.resolved.get(p.name)).filter((e): e is Endpoint => e !== undefined);
      const ports = new Map<string, FlowPort[]>();
      for (const ing of found.value.filter((i) => classMatches(route, i))) {
        for (const b of ing.backends) {
          const text = `${ing.name}/${b.service}:${b.port}`;
          const opened = this.backendPorts(b);
          if (!opened) uncovered.add(text);
          else {
            covered.add(text);
            ports.set(opened.workload, [...(ports.get(opened.workload) ?? []), ...opened.ports]);
          }
        }
      }
      for (const [name, p] of [...ports].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const to = this.resolved.get(name);
        if (to) flows.push({ index: firstIndex + route.index, from, to: [to], ports: dedupe(p) });
      }
    }
    // A backend covered by one route is not uncovered because another route's class skipped it.
    return { flows, uncovered: [...uncovered].filter((b) => !covered.has(b)).sort(), covered: [...covered].sort() };
  }

  /**
   * The workload whose `service` is the backend's Service, and the targetPorts of the backend's port (TCP: an
   * Ingress speaks HTTP); undefined when none (a selector or workloadRef workload on the same pods doesn't count).
   */
  private backendPorts(b: IngressBackend): { workload: string; ports: FlowPort[] } | undefined {
    const w = this.intent.workloads.find((x): x is ServiceWorkload => x.kind === 'service-workload' && x.ref.name === b.service);
    const svc = w && this.services.get(w.name);
    if (!w || !svc) return undefined;
    const matches = svc.ports.filter((sp) => sp.protocol === 'TCP' && (typeof b.port === 'number' ? sp.port === b.port : sp.name === b.port));
    return matches.length > 0 ? { workload: w.name, ports: targets(matches) } : undefined;
  }
}

function isService(e: DeclaredEndpoint): e is ServiceWorkload | ServicePeer {
  return e.kind === 'service-workload' || e.kind === 'service-peer';
}

/** A flow port names a Service port by its port number or its name, never by targetPort; protocol filters. */
function matchesServicePort(sp: ServicePortInfo, p: DeclaredPort): boolean {
  if (p.protocol !== undefined && sp.protocol !== p.protocol) return false;
  if (p.port === undefined) return true;
  return typeof p.port === 'number' ? sp.port === p.port : sp.name === p.port;
}

function targets(ports: readonly ServicePortInfo[]): FlowPort[] {
  return dedupe(ports.map((sp) => ({ protocol: sp.protocol, port: sp.targetPort }) as FlowPort));
}

function dedupe(ports: readonly FlowPort[]): FlowPort[] {
  const seen = new Map<string, FlowPort>();
  for (const p of ports) seen.set(`${p.protocol}/${String(p.port)}/${String(p.endPort)}`, p);
  return [...seen.values()];
}

function classMatches(route: IngressRoute, ing: IngressInfo): boolean {
  return route.ingressClassName === undefined || route.ingressClassName === ing.className;
}

function portText(p: DeclaredPort): string {
  const port = p.port === undefined ? '(any)' : String(p.port);
  return p.protocol ? `${port}/${p.protocol}` : port;
}

function servicePortText(sp: ServicePortInfo): string {
  return `${sp.name ? `${sp.name} ` : ''}${sp.port}/${sp.protocol}→${sp.targetPort}`;
}

function quoteName(name: string): string {
  return JSON.stringify(name);
}
