/**
 * validateIntent(): any JSON value in, either a ValidIntent (defaults applied, names resolved) or every problem
 * found, each with its path and the fix. It repeats the CRD's schema and CEL rules (a file never went through
 * the apiserver) and adds what they can't express: CIDR syntax, label syntax, flows between two peers.
 * It never throws, and its work is bounded by LIMITS whatever the input's size.
 */
import { LIMITS } from './limits';
import { dnsLabelProblem, dnsSubdomainProblem, quote } from './syntax';
import type { Direction, Enforcement, IsolationScope, Issue, ValidationResult, ValidIntent, Workload } from './types';
import { API_VERSION, KIND } from './types';
import { localIntent } from './references';
import type { CheckResult, DeclaredEndpoint, DeclaredFlow, DeclaredIntent, DeclaredPeer, DeclaredWorkload, IngressRoute, WorkloadKind } from './references';
import type { Ctx, Obj, ObjectRefOf, Shape } from './parse';
import { asObject, booleanOf, checkedName, checkSelectorText, child, describe, directionsOf, endpointName, field, listOf, namesOf, NameTable, oneOf, optional, peerOf, portsOf, rangesNotToServices, report, endpointByName, selectorOf, stringEntries, workloadRefOf } from './parse';

const ROOT: Shape = { fields: ['apiVersion', 'kind', 'metadata', 'spec', 'status'], what: 'a SegmentationIntent object' };
const METADATA: Shape = { fields: [
  'name', 'namespace', 'uid', 'generation', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
  'generateName', 'selfLink',
], what: 'a mapping with name and namespace' };
const SPEC: Shape = { fields: ['enforcement', 'isolation', 'allowDNS', 'workloads', 'peers', 'flows', 'ingressRoutes'], what: 'a mapping' };
const ISOLATION: Shape = { fields: ['directions', 'scope'], what: 'a mapping' };
const WORKLOAD: Shape = { fields: ['name', 'selector', 'service', 'workloadRef'], what: 'a workload (name, and selector, service or workloadRef)' };
const WORKLOAD_REF: Shape = { fields: ['kind', 'name'], what: 'a workload reference (kind, name)' };
const INGRESS_ROUTE: Shape = { fields: ['from', 'ingressClassName'], what: 'an ingress route (from, ingressClassName)' };
const FLOW: Shape = { fields: ['from', 'to', 'ports'], what: 'a flow (from, to, ports)' };

const ENFORCEMENTS: readonly Enforcement[] = ['Enforce', 'DryRun'];
const SCOPES: readonly IsolationScope[] = ['Workloads', 'Namespace'];

/**
 * A self-contained intent (no Service, workloadRef or Ingress route) as the compiler's ValidIntent. An intent
 * with references is refused here, each reference named: use checkIntent() and src/resolve with the objects.
 */
export function validateIntent(obj: unknown): ValidationResult {
  const checked = checkIntent(obj);
  return checked.ok ? localIntent(checked.intent) : checked;
}

/** Everything the intent alone can tell, checked; references are kept for src/resolve. */
export function checkIntent(obj: unknown): CheckResult {
  const ctx: Ctx = { issues: [] };
  const root = asObject(ctx, obj, '', ROOT);
  if (!root) return { ok: false, issues: ctx.issues };
  checkTypeMeta(ctx, root);
  const meta = metadataOf(ctx, field(root, 'metadata'));
  if (meta) ctx.namespace = meta.namespace;
  const spec = specOf(ctx, field(root, 'spec'));
  if (ctx.issues.length > 0 || !meta || !spec) return { ok: false, issues: ctx.issues };
  return { ok: true, intent: { ...meta, ...spec } };
}

/** "path: message", or the message alone for the whole object. */
export function formatIssue(issue: Issue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

// ------------------------------------------------------------------------------------------- top level

function checkTypeMeta(ctx: Ctx, root: Obj): void {
  const apiVersion = field(root, 'apiVersion');
  if (apiVersion !== API_VERSION) report(ctx, 'apiVersion', `must be ${API_VERSION}, not ${describe(apiVersion)}`);
  const kind = field(root, 'kind');
  if (kind !== KIND) report(ctx, 'kind', `must be ${KIND}, not ${describe(kind)}`);
}

type Meta = Pick<ValidIntent, 'name' | 'namespace' | 'uid' | 'generation' | 'labels'>;

function metadataOf(ctx: Ctx, value: unknown): Meta | undefined {
  const meta = asObject(ctx, value, 'metadata', METADATA);
  if (!meta) return undefined;
  const name = checkedName(ctx, field(meta, 'name'), 'metadata.name', dnsSubdomainProblem);
  const namespace = checkedName(ctx, field(meta, 'namespace'), 'metadata.namespace', dnsLabelProblem);
  const uid = field(meta, 'uid');
  const generation = field(meta, 'generation');
  if (name === undefined || namespace === undefined) return undefined;
  return {
    name,
    namespace,
    ...(typeof uid === 'string' && uid !== '' ? { uid } : {}),
    ...(typeof generation === 'number' ? { generation } : {}),
    labels: stringEntries(field(meta, 'labels')),
  };
}

type SpecPart = Omit<DeclaredIntent, keyof Meta>;

function specOf(ctx: Ctx, value: unknown): SpecPart | undefined {
  if (value === undefined) {
    report(ctx, 'spec', 'is required (spec: {workloads: [...], flows: [...]})');
    return undefined;
  }
  const spec = asObject(ctx, value, 'spec', SPEC);
  if (!spec) return undefined;
  const enforcement = optional(field(spec, 'enforcement'), 'Enforce', (v) =>
    oneOf(ctx, v, 'spec.enforcement', ENFORCEMENTS),
  );
  const isolation = isolationOf(ctx, field(spec, 'isolation'));
  const allowDNS = optional(field(spec, 'allowDNS'), true, (v) => booleanOf(ctx, v, 'spec.allowDNS'));
  const table = new NameTable();
  const workloads = listOf(ctx, field(spec, 'workloads'), { path: 'spec.workloads', max: LIMITS.workloads }, (v, p) =>
    workloadOf(ctx, v, p, table),
  );
  const peers = listOf(ctx, field(spec, 'peers'), { path: 'spec.peers', max: LIMITS.peers }, (v, p) =>
    peerOf(ctx, v, p, table),
  );
  const flows = listOf(ctx, field(spec, 'flows'), { path: 'spec.flows', max: LIMITS.flows }, (v, p, i) =>
    flowOf(ctx, v, { path: p, index: i }, table),
  );
  const ingressRoutes = listOf(ctx, field(spec, 'ingressRoutes'), { path: 'spec.ingressRoutes', max: LIMITS.ingressRoutes }, (v, p, i) =>
    ingressRouteOf(ctx, v, { path: p, index: i }, table),
  );
  if (workloads && peers) checkSelectorText(ctx, workloads, peers);
  if (!enforcement || !isolation || allowDNS === undefined || !workloads || !peers || !flows || !ingressRoutes) return undefined;
  return { enforcement, ...isolation, allowDNS, workloads, peers, flows, ingressRoutes };
}

function isolationOf(ctx: Ctx, value: unknown): Pick<ValidIntent, 'directions' | 'scope'> | undefined {
  const isolation = asObject(ctx, value ?? {}, 'spec.isolation', ISOLATION);
  if (!isolation) return undefined;
  const directions = optional(field(isolation, 'directions'), ['Ingress'] as Direction[], (v) =>
    directionsOf(ctx, v, 'spec.isolation.directions'),
  );
  const scope = optional(field(isolation, 'scope'), 'Workloads', (v) =>
    oneOf(ctx, v, 'spec.isolation.scope', SCOPES),
  );
  return directions && scope ? { directions, scope } : undefined;
}

// ------------------------------------------------------------------------------------ workloads, peers

function workloadOf(ctx: Ctx, value: unknown, path: string, table: NameTable): DeclaredWorkload | undefined {
  const w = asObject(ctx, value, path, WORKLOAD);
  if (!w) return undefined;
  const name = endpointName(ctx, field(w, 'name'), child(path, 'name'), table);
  const shape = workloadShapeOf(ctx, w, path);
  if (name === undefined || !shape) return undefined;
  const workload = { ...shape, name } as DeclaredWorkload;
  table.define(workload);
  return workload;
}

type WorkloadShape = Omit<Workload, 'name'> | { kind: 'service-workload'; ref: ObjectRefOf<'Service'> } | { kind: 'ref-workload'; ref: ObjectRefOf<WorkloadKind> };

/** Exactly one of selector, service, workloadRef. */
function workloadShapeOf(ctx: Ctx, w: Obj, path: string): WorkloadShape | undefined {
  const given = ['selector', 'service', 'workloadRef'].filter((k) => field(w, k) !== undefined);
  if (given.length !== 1) {
    if (given.length === 0) {
      report(ctx, child(path, 'selector'), 'is required (or, instead, service: a Service of this namespace, or workloadRef: {kind: Deployment, name: web}): the labels of this workload\'s pods, e.g. {matchLabels: {app: web}}');
    } else report(ctx, path, `gives ${given.join(' and ')}: a workload is exactly one of selector, service or workloadRef; keep one`);
    return undefined;
  }
  const namespace = ctx.namespace ?? '';
  if (given[0] === 'service') {
    const at = child(path, 'service');
    const svc = checkedName(ctx, field(w, 'service'), at, dnsLabelProblem);
    return svc === undefined ? undefined : { kind: 'service-workload', ref: { kind: 'Service', namespace, name: svc, path: at } };
  }
  if (given[0] === 'workloadRef') {
    const at = child(path, 'workloadRef');
    const r = asObject(ctx, field(w, 'workloadRef'), at, WORKLOAD_REF);
    const ref = r && workloadRefOf(ctx, r, at, namespace);
    return ref ? { kind: 'ref-workload', ref } : undefined;
  }
  const selector = selectorOf(ctx, field(w, 'selector'), child(path, 'selector'));
  return selector ? { kind: 'workload', selector } : undefined;
}

// ---------------------------------------------------------------------------------------------- flows

function flowOf(ctx: Ctx, value: unknown, at: { path: string; index: number }, table: NameTable): DeclaredFlow | undefined {
  const { path, index } = at;
  const f = asObject(ctx, value, path, FLOW);
  if (!f) return undefined;
  const from = endpointsOf(ctx, field(f, 'from'), child(path, 'from'), table);
  const to = endpointsOf(ctx, field(f, 'to'), child(path, 'to'), table);
  const rawPorts = field(f, 'ports');
  const ports = rawPorts === undefined ? undefined : portsOf(ctx, rawPorts, child(path, 'ports'));
  if (!from || !to || (rawPorts !== undefined && !ports)) return undefined;
  if (!touchesWorkload(ctx, from, to, path)) return undefined;
  if (ports && !rangesNotToServices(ctx, to, ports, child(path, 'ports'))) return undefined;
  return ports ? { index, from, to, ports } : { index, from, to };
}

function ingressRouteOf(ctx: Ctx, value: unknown, at: { path: string; index: number }, table: NameTable): IngressRoute | undefined {
  const { path, index } = at;
  const r = asObject(ctx, value, path, INGRESS_ROUTE);
  if (!r) return undefined;
  const from = endpointsOf(ctx, field(r, 'from'), child(path, 'from'), table);
  const rawClass = field(r, 'ingressClassName');
  const className = rawClass === undefined ? undefined : checkedName(ctx, rawClass, child(path, 'ingressClassName'), dnsSubdomainProblem);
  if (!from || (rawClass !== undefined && className === undefined)) return undefined;
  const workload = from.find(isWorkloadEndpoint);
  if (workload) {
    report(ctx, child(path, 'from'), `names workload ${quote(workload.name)}: ingressRoutes[].from names peers only (the ingress controller's pods, outside this namespace)`);
    return undefined;
  }
  return { index, from: from as DeclaredPeer[], ...(className !== undefined ? { ingressClassName: className } : {}) };
}

function isWorkloadEndpoint(e: DeclaredEndpoint): boolean {
  return e.kind === 'workload' || e.kind === 'service-workload' || e.kind === 'ref-workload';
}

function endpointsOf(ctx: Ctx, value: unknown, path: string, table: NameTable): DeclaredEndpoint[] | undefined {
  if (value === undefined) {
    report(ctx, path, 'is required: a workload or peer name, or a list of them');
    return undefined;
  }
  const names = namesOf(ctx, value, path);
  if (!names) return undefined;
  const resolved = names.map(({ name, at }) => endpointByName(ctx, name, at, table));
  if (resolved.some((e) => e === undefined)) return undefined;
  const unique = new Map((resolved as DeclaredEndpoint[]).map((e) => [e.name, e]));
  return [...unique.values()];
}

/** Every (from, to) pair needs a workload on one side: this namespace's policies can't govern peer-to-peer. */
function touchesWorkload(ctx: Ctx, from: readonly DeclaredEndpoint[], to: readonly DeclaredEndpoint[], path: string): boolean {
  const source = from.find((e) => !isWorkloadEndpoint(e));
  const destination = to.find((e) => !isWorkloadEndpoint(e));
  if (!source || !destination) return true;
  report(
    ctx,
    path,
    `the flow from peer ${quote(source.name)} to peer ${quote(destination.name)} touches no workload of this namespace, ` +
      'so its policies can\'t govern it; name a workload on one side, or write the flow in the intent of a namespace it touches',
  );
  return false;
}
