/**
 * checkBaseline(): any JSON value in, a DeclaredBaseline or every problem with its path and fix. Peers, ports,
 * selectors and directions are parsed by the SegmentationIntent validator's own functions (./parse.ts), so a
 * peer is the same thing, checked the same way, in both kinds (`service` and `workloadRef` peers included: kept
 * as references for src/resolve's resolveBaseline, as checkIntent keeps an intent's). What is the baseline's own:
 * it is cluster-scoped (no metadata.namespace), `namespaceSelector` is required, and every flow has the reserved
 * name `namespace` on exactly one side with only peers on the other.
 * validateBaseline(): the same, as a ValidBaseline, for a baseline without references (one with references is
 * refused, each object it needs named, as validateIntent does).
 * Never throws; bounded by LIMITS like validateIntent.
 */
import type { LabelSelector } from '../model/kubernetes';
import { LIMITS } from './limits';
import { dnsSubdomainProblem, quote } from './syntax';
import type { Direction, Enforcement, Issue, Peer } from './types';
import { API_VERSION } from './types';
import type { BaselineFlow, DeclaredBaseline, DeclaredBaselineFlow, ValidBaseline } from './baseline';
import { CLUSTER_KIND, NAMESPACE_ENDPOINT } from './baseline';
import { localPort, needsObjects, referencesOf } from './references';
import type { DeclaredPeer, DeclaredPort } from './references';
import type { Ctx, Shape } from './parse';
import {
  NameTable,
  asObject,
  booleanOf,
  checkSelectorText,
  checkedName,
  child,
  closest,
  describe,
  directionsOf,
  field,
  listOf,
  namesOf,
  oneOf,
  optional,
  peerOf,
  portsOf,
  rangesNotToServices,
  report,
  selectorOf,
} from './parse';

export type BaselineValidation =
  | { readonly ok: true; readonly baseline: ValidBaseline }
  | { readonly ok: false; readonly issues: readonly Issue[] };

export type BaselineCheck =
  | { readonly ok: true; readonly baseline: DeclaredBaseline }
  | { readonly ok: false; readonly issues: readonly Issue[] };

const ROOT: Shape = { fields: ['apiVersion', 'kind', 'metadata', 'spec', 'status'], what: 'a ClusterSegmentationIntent object' };
const METADATA: Shape = { fields: [
  'name', 'uid', 'generation', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds',
  'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields', 'generateName', 'selfLink',
], what: 'a mapping with name (a ClusterSegmentationIntent is cluster-scoped: no namespace)' };
const SPEC: Shape = {
  fields: ['enforcement', 'namespaceSelector', 'directions', 'allowDNS', 'allowSameNamespace', 'peers', 'flows'],
  what: 'a mapping',
};
const FLOW: Shape = { fields: ['from', 'to', 'ports'], what: 'a flow (from, to, ports)' };
const ENFORCEMENTS: readonly Enforcement[] = ['Enforce', 'DryRun'];

/** A self-contained baseline as the compiler's ValidBaseline; one naming Services or workloads is refused, each named. */
export function validateBaseline(obj: unknown): BaselineValidation {
  const checked = checkBaseline(obj);
  return checked.ok ? localBaseline(checked.baseline) : checked;
}

/** A baseline without references as a ValidBaseline; else the issues naming every object it needs. */
export function localBaseline(b: DeclaredBaseline): BaselineValidation {
  const issues = needsObjects(referencesOf(b));
  if (issues.length > 0) return { ok: false, issues };
  const flows: BaselineFlow[] = b.flows.map((f) => ({ index: f.index, direction: f.direction, peers: f.peers as Peer[], ports: (f.ports ?? []).map(localPort) }));
  return { ok: true, baseline: { ...b, peers: b.peers as Peer[], flows } };
}

/** Everything the baseline alone can tell, checked; `service`/`workloadRef` peers kept for src/resolve. */
export function checkBaseline(obj: unknown): BaselineCheck {
  const ctx: Ctx = { issues: [] };
  const root = asObject(ctx, obj, '', ROOT);
  if (!root) return { ok: false, issues: ctx.issues };
  if (field(root, 'apiVersion') !== API_VERSION) report(ctx, 'apiVersion', `must be ${API_VERSION}, not ${describe(field(root, 'apiVersion'))}`);
  if (field(root, 'kind') !== CLUSTER_KIND) report(ctx, 'kind', `must be ${CLUSTER_KIND}, not ${describe(field(root, 'kind'))}`);
  const meta = metadataOf(ctx, field(root, 'metadata'));
  const spec = specOf(ctx, field(root, 'spec'));
  if (ctx.issues.length > 0 || !meta || !spec) return { ok: false, issues: ctx.issues };
  return { ok: true, baseline: { ...meta, ...spec } };
}

type Meta = Pick<DeclaredBaseline, 'name' | 'uid' | 'generation'>;

function metadataOf(ctx: Ctx, value: unknown): Meta | undefined {
  const meta = asObject(ctx, value, 'metadata', METADATA);
  if (!meta) return undefined;
  const name = checkedName(ctx, field(meta, 'name'), 'metadata.name', dnsSubdomainProblem);
  const uid = field(meta, 'uid');
  const generation = field(meta, 'generation');
  if (name === undefined) return undefined;
  return {
    name,
    ...(typeof uid === 'string' && uid !== '' ? { uid } : {}),
    ...(typeof generation === 'number' ? { generation } : {}),
  };
}

type SpecPart = Omit<DeclaredBaseline, keyof Meta>;

function specOf(ctx: Ctx, value: unknown): SpecPart | undefined {
  if (value === undefined) {
    report(ctx, 'spec', 'is required (spec: {namespaceSelector: {...}, directions: [Ingress, Egress]})');
    return undefined;
  }
  const spec = asObject(ctx, value, 'spec', SPEC);
  if (!spec) return undefined;
  const enforcement = optional(field(spec, 'enforcement'), 'Enforce', (v) => oneOf(ctx, v, 'spec.enforcement', ENFORCEMENTS));
  const namespaceSelector = namespaceSelectorOf(ctx, field(spec, 'namespaceSelector'));
  const directions = optional(field(spec, 'directions'), ['Ingress'] as Direction[], (v) => directionsOf(ctx, v, 'spec.directions'));
  const allowDNS = optional(field(spec, 'allowDNS'), true, (v) => booleanOf(ctx, v, 'spec.allowDNS'));
  const allowSameNamespace = optional(field(spec, 'allowSameNamespace'), false, (v) => booleanOf(ctx, v, 'spec.allowSameNamespace'));
  const table = new NameTable();
  const peers = listOf(ctx, field(spec, 'peers'), { path: 'spec.peers', max: LIMITS.peers }, (v, p) => baselinePeerOf(ctx, v, p, table));
  const flows = listOf(ctx, field(spec, 'flows'), { path: 'spec.flows', max: LIMITS.flows }, (v, p, i) => flowOf(ctx, v, { path: p, index: i }, table));
  if (peers) checkSelectorText(ctx, [], peers);
  if (!enforcement || !namespaceSelector || !directions || allowDNS === undefined || allowSameNamespace === undefined || !peers || !flows) {
    return undefined;
  }
  return { enforcement, namespaceSelector, directions, allowDNS, allowSameNamespace, peers, flows };
}

function namespaceSelectorOf(ctx: Ctx, value: unknown): LabelSelector | undefined {
  if (value === undefined) {
    report(
      ctx,
      'spec.namespaceSelector',
      'is required: the namespaces this baseline covers ({} for every namespace, or e.g. ' +
        '{matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}]})',
    );
    return undefined;
  }
  return selectorOf(ctx, value, 'spec.namespaceSelector');
}

/**
 * A SegmentationIntent peer (selectors, ipBlock, `service` or `workloadRef` with its namespace), except that
 * `namespace` is taken: it names the selected namespace in flows. A reference may name any namespace, even a
 * selected one: in that namespace's own policies the NotIn rule leaves it out, as for a selector peer.
 */
function baselinePeerOf(ctx: Ctx, value: unknown, path: string, table: NameTable): DeclaredPeer | undefined {
  const name = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['name'] : undefined;
  if (name === NAMESPACE_ENDPOINT) {
    report(ctx, child(path, 'name'), `"${NAMESPACE_ENDPOINT}" is reserved: in flows it names every pod of each selected namespace; call the peer something else`);
    return undefined;
  }
  return peerOf(ctx, value, path, table);
}

// ---------------------------------------------------------------------------------------------- flows

/** One side of a flow: the reserved `namespace`, or peers only. */
type Side = { readonly kind: 'namespace' } | { readonly kind: 'peers'; readonly peers: readonly DeclaredPeer[] };

/**
 * Ports stay as written: to a `service` peer they name the Service's ports (absent = exactly its ports, endPort
 * refused), elsewhere they are container ports, TCP unless written (src/resolve decides, as for intents).
 */
function flowOf(ctx: Ctx, value: unknown, at: { path: string; index: number }, table: NameTable): DeclaredBaselineFlow | undefined {
  const { path, index } = at;
  const f = asObject(ctx, value, path, FLOW);
  if (!f) return undefined;
  const from = sideOf(ctx, field(f, 'from'), child(path, 'from'), table);
  const to = sideOf(ctx, field(f, 'to'), child(path, 'to'), table);
  const rawPorts = field(f, 'ports');
  const ports = rawPorts === undefined ? undefined : portsOf(ctx, rawPorts, child(path, 'ports'));
  if (!from || !to || (rawPorts !== undefined && !ports)) return undefined;
  if (ports && to.kind === 'peers' && !rangesNotToServices(ctx, to.peers, ports, child(path, 'ports'))) return undefined;
  return oriented(ctx, { path, index, written: ports ? { ports } : {} }, from, to);
}

/** `namespace → peers` is Egress, `peers → namespace` Ingress; both sides alike is an error. */
function oriented(ctx: Ctx, f: { path: string; index: number; written: { ports?: DeclaredPort[] } }, from: Side, to: Side): DeclaredBaselineFlow | undefined {
  const { path, index, written } = f;
  if (from.kind === 'namespace' && to.kind === 'peers') return { index, direction: 'Egress', peers: to.peers, ...written };
  if (from.kind === 'peers' && to.kind === 'namespace') return { index, direction: 'Ingress', peers: from.peers, ...written };
  if (from.kind === 'namespace') {
    report(ctx, path, `a flow from "${NAMESPACE_ENDPOINT}" to "${NAMESPACE_ENDPOINT}" is traffic within each namespace: set spec.allowSameNamespace: true instead`);
    return undefined;
  }
  const a = from.kind === 'peers' ? from.peers[0]?.name : undefined;
  const b = to.kind === 'peers' ? to.peers[0]?.name : undefined;
  report(
    ctx,
    path,
    `the flow between peers ${quote(a ?? '')} and ${quote(b ?? '')} does not touch "${NAMESPACE_ENDPOINT}", ` +
      `so no selected namespace's policies can govern it; put "${NAMESPACE_ENDPOINT}" on one side`,
  );
  return undefined;
}

/**
 * `namespace` alone, or peer names only. `namespace` next to a peer on one side would make a second flow
 * between that peer and the other side, which is peer-to-peer or namespace-to-namespace: an error either way.
 */
function sideOf(ctx: Ctx, value: unknown, path: string, table: NameTable): Side | undefined {
  if (value === undefined) {
    report(ctx, path, `is required: "${NAMESPACE_ENDPOINT}", or a peer name or a list of them`);
    return undefined;
  }
  const names = namesOf(ctx, value, path);
  if (!names) return undefined;
  const ns = names.filter((n) => n.name === NAMESPACE_ENDPOINT);
  const others = names.filter((n) => n.name !== NAMESPACE_ENDPOINT);
  if (ns.length > 0 && others.length > 0) {
    report(ctx, path, `lists "${NAMESPACE_ENDPOINT}" together with peers; a flow has "${NAMESPACE_ENDPOINT}" alone on one side and peers on the other: split it`);
    return undefined;
  }
  if (ns.length > 0) return { kind: 'namespace' };
  const peers = others.map(({ name, at }) => resolvePeer(ctx, name, at, table));
  if (peers.some((p) => p === undefined)) return undefined;
  const unique = new Map((peers as DeclaredPeer[]).map((p) => [p.name, p]));
  return { kind: 'peers', peers: [...unique.values()] };
}

function resolvePeer(ctx: Ctx, name: string, path: string, table: NameTable): DeclaredPeer | undefined {
  if (table.has(name)) return table.get(name) as DeclaredPeer | undefined;
  const known = table.names();
  const guess = closest(name, [...known, NAMESPACE_ENDPOINT]);
  const shown = known.length > 20 ? `${known.slice(0, 20).join(', ')}, …` : known.join(', ');
  report(
    ctx,
    path,
    `unknown peer ${quote(name)} (known: "${NAMESPACE_ENDPOINT}"${shown ? `, ${shown}` : '; declare peers under spec.peers'})` +
      (guess ? `; did you mean ${quote(guess)}?` : ''),
  );
  return undefined;
}
