/**
 * What `netseg audit` looks for, as a pure function of the listed objects: gaps in isolation, policies that
 * open to everyone, intents that select nothing, and generated policies that no longer match their intent.
 * Pure, like src/reach and src/verify: src/cli/audit.ts loads the input and prints what this returns.
 */
import { CLUSTER_INTENT_LABEL, INTENT_LABEL, SPEC_HASH_ANNOTATION, belongsTo, isManaged, specHash } from '../compile';
import type { NamespaceView, ValidBaseline } from '../intent/baseline';
import type { ValidIntent } from '../intent/types';
import type { KubeObject, LabelSelector, Namespace, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Pod } from '../model/kubernetes';
import { isReferencedKind, parseIngress } from '../resolve';
import { labelValue } from '../model/labels';
import { buildCluster, effectivePolicyTypes, matchesSelector, parseCidr, policyId } from '../reach';

/** The objects audited: a cluster's, or those of files. */
export interface AuditedObjects {
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly policies: readonly NetworkPolicy[];
  /** Services, workload objects and Ingresses (src/resolve): for the Ingress backends and references findings. */
  readonly referenced?: readonly KubeObject[];
}

/** An intent of the input with the policies it compiles to. */
export interface CompiledIntent {
  readonly intent: ValidIntent;
  readonly policies: readonly NetworkPolicy[];
  /** Ingress backends its ingressRoutes opened (`<ingress>/<service>:<port>`). */
  readonly coveredBackends?: readonly string[];
  /** Its endpoints given by reference, with the object each names (`Service shop/api`). */
  readonly references?: readonly { readonly endpoint: string; readonly object: string }[];
  /**
   * True when the operator reports having applied this very generation (`status.observedGeneration` equals
   * `metadata.generation`): then a policy it generates that is absent was deleted (missing-policy). Otherwise,
   * as for intent files of a pull request (no status), what differs is a pending change.
   */
  readonly applied?: boolean;
}

export type Direction = 'Ingress' | 'Egress';

export type Finding =
  | { readonly kind: 'unisolated-pod'; readonly pod: string; readonly direction: Direction }
  | { readonly kind: 'admits-everyone'; readonly policy: string; readonly direction: Direction; readonly rule: number; readonly reason: string }
  | { readonly kind: 'intent-selects-nothing'; readonly intent: string; readonly workload: string }
  | { readonly kind: 'drifted-policy'; readonly policy: string; readonly intent: string; readonly reason: string }
  | { readonly kind: 'pending-change'; readonly policy: string; readonly intent: string; readonly change: 'add' | 'update' | 'remove'; readonly reason: string }
  | { readonly kind: 'missing-policy'; readonly policy: string; readonly intent: string }
  | { readonly kind: 'no-default-deny'; readonly namespace: string; readonly directions: readonly Direction[] }
  | { readonly kind: 'uncovered-backend'; readonly ingress: string; readonly backend: string }
  | { readonly kind: 'reference-selects-nothing'; readonly intent: string; readonly endpoint: string; readonly object: string };

export type FindingKind = Finding['kind'];
export const FINDING_KINDS: readonly FindingKind[] = [
  'unisolated-pod',
  'admits-everyone',
  'intent-selects-nothing',
  'drifted-policy',
  'pending-change',
  'missing-policy',
  'no-default-deny',
  'uncovered-backend',
  'reference-selects-nothing',
];

export interface AuditInput {
  readonly objects: AuditedObjects;
  readonly compiled: readonly CompiledIntent[];
  /** True when the policies were listed from a cluster or files that hold policies: then absence means missing. */
  readonly policiesListed: boolean;
  /** ClusterSegmentationIntents of the input, with the namespaces of the input each selects. */
  readonly baselines?: readonly { readonly baseline: ValidBaseline; readonly namespaces: readonly NamespaceView[] }[];
}

export function audit(input: AuditInput): Finding[] {
  const { objects } = input;
  return [
    ...unisolatedPods(input),
    ...objects.policies.flatMap(admitsEveryone),
    ...(objects.pods.length > 0 ? selectsNothing(input) : []),
    ...drift(input),
    ...noDefaultDeny(input),
    ...uncoveredBackends(input),
    ...(objects.pods.length > 0 ? referencesSelectNothing(input) : []),
  ];
}

/** Every backend of every Ingress given that no intent's ingressRoutes opened. */
function uncoveredBackends({ objects, compiled }: AuditInput): Finding[] {
  const out: Finding[] = [];
  for (const o of objects.referenced ?? []) {
    if (o.kind !== 'Ingress' || !isReferencedKind(o)) continue;
    const ing = parseIngress(o);
    if (typeof ing === 'string') continue;
    const covered = new Set(compiled.filter((c) => c.intent.namespace === ing.namespace).flatMap((c) => c.coveredBackends ?? []));
    const seen = new Set<string>();
    for (const b of ing.backends) {
      const backend = `${b.service}:${b.port}`;
      if (seen.has(backend) || covered.has(`${ing.name}/${backend}`)) continue;
      seen.add(backend);
      out.push({ kind: 'uncovered-backend', ingress: `${ing.namespace}/${ing.name}`, backend });
    }
  }
  return out;
}

/** A Service or workload object named by an intent whose selector selects no pod given. */
function referencesSelectNothing({ objects, compiled }: AuditInput): Finding[] {
  const out: Finding[] = [];
  for (const { intent, references = [] } of compiled) {
    for (const r of references) {
      const target = podsOf(intent, r.endpoint);
      if (!target) continue;
      const hit = objects.pods.some((p) => (p.metadata.namespace ?? 'default') === target.namespace && matchesSelector(target.selector, p.metadata.labels ?? {}));
      if (!hit) out.push({ kind: 'reference-selects-nothing', intent: `${intent.namespace}/${intent.name}`, endpoint: r.endpoint, object: r.object });
    }
  }
  return out;
}

/** The namespace and pod selector a resolved endpoint stands for (a reference is one namespace, by name). */
function podsOf(intent: ValidIntent, name: string): { namespace: string; selector: LabelSelector } | undefined {
  const w = intent.workloads.find((x) => x.name === name);
  if (w) return { namespace: intent.namespace, selector: w.selector };
  const p = intent.peers.find((x) => x.name === name);
  const ns = p?.kind === 'selector-peer' ? p.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name'] : undefined;
  return p?.kind === 'selector-peer' && ns !== undefined ? { namespace: ns, selector: p.podSelector ?? {} } : undefined;
}

function unisolatedPods({ objects }: AuditInput): Finding[] {
  const cluster = buildCluster({ namespaces: objects.namespaces, pods: objects.pods, policies: objects.policies });
  return cluster.pods.flatMap((p, i) => [
    ...((cluster.ingressOf[i] ?? []).length === 0 ? [{ kind: 'unisolated-pod' as const, pod: p.key, direction: 'Ingress' as const }] : []),
    ...((cluster.egressOf[i] ?? []).length === 0 ? [{ kind: 'unisolated-pod' as const, pod: p.key, direction: 'Egress' as const }] : []),
  ]);
}

function admitsEveryone(p: NetworkPolicy): Finding[] {
  return openRules(p).filter((r) => !r.byDesign).map(({ byDesign: _, ...f }) => f);
}

/** A rule open to everyone, and whether it is one netseg's own policy opens by design. */
type OpenRule = Extract<Finding, { kind: 'admits-everyone' }> & { readonly byDesign: boolean };

function openRules(p: NetworkPolicy): OpenRule[] {
  const types = effectivePolicyTypes(p);
  const own = isOperatorPolicy(p);
  const out: OpenRule[] = [];
  const check = (direction: Direction, rules: readonly { readonly peers?: readonly NetworkPolicyPeer[]; readonly ports?: readonly NetworkPolicyPort[] }[]): void => {
    rules.forEach(({ peers, ports }, rule) => {
      const reason = openPeersReason(peers ?? [], direction);
      const byDesign = own && portsWithin(ports, direction === 'Ingress' ? OPERATOR_OPEN_INGRESS : OPERATOR_OPEN_EGRESS);
      if (reason) out.push({ kind: 'admits-everyone', policy: policyId(p), direction, rule, reason, byDesign });
    });
  };
  if (types.ingress) check('Ingress', (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })));
  if (types.egress) check('Egress', (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports })));
  return out;
}

/**
 * netseg's own NetworkPolicy (deploy/base/networkpolicy.yaml, the Helm chart's copy): it selects the operator's
 * pods by `app.kubernetes.io/name: netseg-operator` and opens, to every address, only the metrics/probe port
 * (ingress 8080/TCP: Prometheus and the kubelet are anywhere) and the API server's ports (egress 443 and
 * 6443/TCP: its address differs per cluster). Those two openings are by design and not findings; any other
 * open rule of it is. Recognised by what it selects and opens, not by its name: a copy elsewhere opens no more.
 */
const OPERATOR_POD_LABEL = { key: 'app.kubernetes.io/name', value: 'netseg-operator' } as const;
const OPERATOR_OPEN_INGRESS: readonly number[] = [8080];
const OPERATOR_OPEN_EGRESS: readonly number[] = [443, 6443];

function isOperatorPolicy(p: NetworkPolicy): boolean {
  const sel = p.spec.podSelector ?? {};
  const labels = Object.entries(sel.matchLabels ?? {});
  return labels.length === 1 && labels[0]?.[0] === OPERATOR_POD_LABEL.key && labels[0]?.[1] === OPERATOR_POD_LABEL.value && (sel.matchExpressions ?? []).length === 0;
}

/** Ports that are all TCP numbers (no range) among `allowed`; no ports at all means every port: not within. */
function portsWithin(ports: readonly NetworkPolicyPort[] | undefined, allowed: readonly number[]): boolean {
  if (!ports || ports.length === 0) return false;
  return ports.every((p) => (p.protocol ?? 'TCP') === 'TCP' && typeof p.port === 'number' && allowed.includes(p.port) && (p.endPort === undefined || p.endPort === p.port));
}

/** The open rules of netseg's own policy that audit does not flag, so the output can say what it left out. */
export function openByDesign(policies: readonly NetworkPolicy[]): { readonly policy: string; readonly direction: Direction; readonly rule: number }[] {
  return policies.flatMap((p) => openRules(p).filter((r) => r.byDesign).map((r) => ({ policy: r.policy, direction: r.direction, rule: r.rule })));
}

function openPeersReason(peers: readonly NetworkPolicyPeer[], direction: Direction): string | undefined {
  const side = direction === 'Ingress' ? 'from' : 'to';
  if (peers.length === 0) return `no "${side}" peers: every address, inside the cluster or not`;
  for (const peer of peers) {
    const cidr = peer.ipBlock ? parseCidr(peer.ipBlock.cidr) : undefined;
    if (cidr && cidr.prefix === 0) return `ipBlock ${peer.ipBlock?.cidr}: every address of the family`;
    if (peer.namespaceSelector && isEmptySelector(peer.namespaceSelector) && (!peer.podSelector || isEmptySelector(peer.podSelector))) {
      return 'namespaceSelector {}: every pod in every namespace';
    }
  }
  return undefined;
}

function isEmptySelector(s: { matchLabels?: object; matchExpressions?: unknown[] }): boolean {
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

function selectsNothing({ objects, compiled }: AuditInput): Finding[] {
  const out: Finding[] = [];
  for (const { intent, references = [] } of compiled) {
    // A workload given by reference is reported once, as reference-selects-nothing, naming its object.
    for (const w of intent.workloads.filter((x) => !references.some((r) => r.endpoint === x.name))) {
      const hit = objects.pods.some(
        (p) => (p.metadata.namespace ?? 'default') === intent.namespace && matchesSelector(w.selector, p.metadata.labels ?? {}),
      );
      if (!hit) out.push({ kind: 'intent-selects-nothing', intent: `${intent.namespace}/${intent.name}`, workload: w.name });
    }
  }
  return out;
}

function drift(input: AuditInput): Finding[] {
  return [...driftedPolicies(input), ...(input.policiesListed ? missingPolicies(input) : [])];
}

/**
 * A managed policy whose spec no longer matches its own spec-hash annotation was edited out-of-band: drift (the
 * operator restores it). One that is as the operator wrote it but differs from what its intent, as given,
 * compiles to (or that the intent no longer generates) is a pending change, not drift: the intent changed (a pull
 * request, a generation not yet reconciled) or an object it references did, and the next reconcile writes it.
 */
function driftedPolicies({ objects, compiled }: AuditInput): Finding[] {
  const out: Finding[] = [];
  for (const p of objects.policies) {
    if (!isManaged(p)) continue;
    const intentLabel = labelValue(p.metadata.labels, INTENT_LABEL);
    const owner = compiled.find((c) => belongsTo(p, c.intent));
    const intentName = owner ? `${owner.intent.namespace}/${owner.intent.name}` : `${p.metadata.namespace ?? 'default'}/${intentLabel ?? '?'}`;
    const edited = editReason(p);
    if (edited) {
      out.push({ kind: 'drifted-policy', policy: policyId(p), intent: intentName, reason: edited });
      continue;
    }
    if (!owner) continue; // its intent is not in the input: nothing to compare with
    const want = owner.policies.find((w) => policyId(w) === policyId(p));
    const why = owner.applied ? 'the operator writes it at its next reconcile (an object the intent references changed, or netseg did)' : 'the intent as given is not applied yet';
    if (!want) out.push({ kind: 'pending-change', policy: policyId(p), intent: intentName, change: 'remove', reason: `its intent no longer generates it: ${why}` });
    else if (specHash(want) !== specHash(p)) out.push({ kind: 'pending-change', policy: policyId(p), intent: intentName, change: 'update', reason: `its intent compiles to a different spec: ${why}` });
  }
  return out;
}

/** An absent policy of an applied intent was deleted (missing-policy); of any other, the intent adds it. */
function missingPolicies({ objects, compiled }: AuditInput): Finding[] {
  const out: Finding[] = [];
  const live = new Set(objects.policies.map(policyId));
  for (const c of compiled) {
    if (c.intent.enforcement !== 'Enforce') continue;
    const intent = `${c.intent.namespace}/${c.intent.name}`;
    for (const want of c.policies) {
      if (live.has(policyId(want))) continue;
      if (c.applied) out.push({ kind: 'missing-policy', policy: policyId(want), intent });
      else out.push({ kind: 'pending-change', policy: policyId(want), intent, change: 'add', reason: 'the intent as given adds it and is not applied yet' });
    }
  }
  return out;
}

function editReason(p: NetworkPolicy): string | undefined {
  const annotated = labelValue(p.metadata.annotations, SPEC_HASH_ANNOTATION);
  if (annotated === undefined) return `no ${SPEC_HASH_ANNOTATION} annotation`;
  if (annotated !== specHash(p)) return 'spec edited since it was generated (spec hash differs from its annotation)';
  return undefined;
}

/**
 * A namespace is covered in a direction by a default-deny policy, by a baseline's deny-all (a managed `{}`
 * policy of a ClusterSegmentationIntent isolating that direction: it has rules, its few allowed flows), or by an
 * enforced baseline of the input that selects it.
 */
function noDefaultDeny({ objects, baselines = [] }: AuditInput): Finding[] {
  const byBaseline = (ns: string, d: Direction): boolean =>
    baselines.some((b) => b.baseline.enforcement === 'Enforce' && b.baseline.directions.includes(d) && b.namespaces.some((n) => n.name === ns));
  const names = new Set([
    ...objects.namespaces.map((n) => n.metadata.name ?? ''),
    ...objects.pods.map((p) => p.metadata.namespace ?? 'default'),
  ]);
  const out: Finding[] = [];
  for (const ns of [...names].filter((n) => n !== '').sort()) {
    const inNs = objects.policies.filter((p) => (p.metadata.namespace ?? 'default') === ns);
    const missing = (['Ingress', 'Egress'] as const).filter((d) => !inNs.some((p) => isDefaultDeny(p, d) || isBaselineDenyAll(p, d)) && !byBaseline(ns, d));
    if (missing.length > 0) out.push({ kind: 'no-default-deny', namespace: ns, directions: missing });
  }
  return out;
}

/** A baseline's deny-all of a direction: managed, of a ClusterSegmentationIntent, selecting every pod. */
function isBaselineDenyAll(p: NetworkPolicy, d: Direction): boolean {
  if (!isManaged(p) || labelValue(p.metadata.labels, CLUSTER_INTENT_LABEL) === undefined || !isEmptySelector(p.spec.podSelector ?? {})) return false;
  const types = effectivePolicyTypes(p);
  return d === 'Ingress' ? types.ingress : types.egress;
}

/**
 * A default deny selects every pod of its namespace (podSelector {}) and has no rule in that direction, except,
 * for Egress, rules that only open DNS: netseg's default-deny keeps DNS (allowDNS, API.md) and so do most
 * hand-written ones. A DNS rule opens only port 53 (UDP or TCP); whoever it opens port 53 to, admits-everyone
 * judges its peers separately.
 */
export function isDefaultDeny(p: NetworkPolicy, d: Direction): boolean {
  const types = effectivePolicyTypes(p);
  if (!isEmptySelector(p.spec.podSelector ?? {})) return false;
  return d === 'Ingress' ? types.ingress && (p.spec.ingress ?? []).length === 0 : types.egress && (p.spec.egress ?? []).every((r) => isDnsOnly(r.ports));
}

function isDnsOnly(ports: readonly NetworkPolicyPort[] | undefined): boolean {
  if (!ports || ports.length === 0) return false; // every port
  return ports.every((p) => p.port === 53 && (p.protocol ?? 'TCP') !== 'SCTP' && (p.endPort === undefined || p.endPort === 53));
}
