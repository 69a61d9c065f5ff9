/**
 * What `netseg audit` looks for, as a pure function of the listed objects: gaps in isolation, policies that
 * open to everyone, intents that select nothing, and generated policies that no longer match their intent.
 * Pure, like src/reach and src/verify: src/cli/audit.ts loads the input and prints what this returns.
 */
import { CLUSTER_INTENT_LABEL, INTENT_LABEL, SPEC_HASH_ANNOTATION, belongsTo, isManaged, specHash } from '../compile';
import type { NamespaceView, ValidBaseline } from '../intent/baseline';
import type { ValidIntent } from '../intent/types';
import type { KubeObject, LabelSelector, Namespace, NetworkPolicy, NetworkPolicyPeer, Pod } from '../model/kubernetes';
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
}

export type Direction = 'Ingress' | 'Egress';

export type Finding =
  | { readonly kind: 'unisolated-pod'; readonly pod: string; readonly direction: Direction }
  | { readonly kind: 'admits-everyone'; readonly policy: string; readonly direction: Direction; readonly rule: number; readonly reason: string }
  | { readonly kind: 'intent-selects-nothing'; readonly intent: string; readonly workload: string }
  | { readonly kind: 'drifted-policy'; readonly policy: string; readonly intent: string; readonly reason: string }
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
  const types = effectivePolicyTypes(p);
  const out: Finding[] = [];
  const check = (direction: Direction, rules: readonly (readonly NetworkPolicyPeer[] | undefined)[]): void => {
    rules.forEach((peers, rule) => {
      const reason = openPeersReason(peers ?? [], direction);
      if (reason) out.push({ kind: 'admits-everyone', policy: policyId(p), direction, rule, reason });
    });
  };
  if (types.ingress) check('Ingress', (p.spec.ingress ?? []).map((r) => r.from));
  if (types.egress) check('Egress', (p.spec.egress ?? []).map((r) => r.to));
  return out;
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

function driftedPolicies({ objects, compiled }: AuditInput): Finding[] {
  const out: Finding[] = [];
  for (const p of objects.policies) {
    if (!isManaged(p)) continue;
    const intentLabel = labelValue(p.metadata.labels, INTENT_LABEL);
    const owner = compiled.find((c) => belongsTo(p, c.intent));
    const intentName = owner ? `${owner.intent.namespace}/${owner.intent.name}` : `${p.metadata.namespace ?? 'default'}/${intentLabel ?? '?'}`;
    for (const reason of driftReasons(p, owner)) out.push({ kind: 'drifted-policy', policy: policyId(p), intent: intentName, reason });
  }
  return out;
}

function missingPolicies({ objects, compiled }: AuditInput): Finding[] {
  const out: Finding[] = [];
  const live = new Set(objects.policies.map(policyId));
  for (const c of compiled) {
    if (c.intent.enforcement !== 'Enforce') continue;
    for (const want of c.policies) {
      if (!live.has(policyId(want))) out.push({ kind: 'missing-policy', policy: policyId(want), intent: `${c.intent.namespace}/${c.intent.name}` });
    }
  }
  return out;
}

function driftReasons(p: NetworkPolicy, owner: CompiledIntent | undefined): string[] {
  const reasons: string[] = [];
  const annotated = labelValue(p.metadata.annotations, SPEC_HASH_ANNOTATION);
  const actual = specHash(p);
  if (annotated === undefined) reasons.push(`no ${SPEC_HASH_ANNOTATION} annotation`);
  else if (annotated !== actual) reasons.push('spec edited since it was generated (spec hash differs from its annotation)');
  if (!owner) return reasons; // its intent is not in the input: nothing to compare with
  const want = owner.policies.find((w) => policyId(w) === policyId(p));
  if (!want) reasons.push('its intent no longer generates it (stale)');
  else if (specHash(want) !== actual) reasons.push('spec differs from what its intent compiles to now');
  return reasons;
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

/** A default deny selects every pod of its namespace (podSelector {}) and has no rule in that direction. */
export function isDefaultDeny(p: NetworkPolicy, d: Direction): boolean {
  const types = effectivePolicyTypes(p);
  if (!isEmptySelector(p.spec.podSelector ?? {})) return false;
  return d === 'Ingress' ? types.ingress && (p.spec.ingress ?? []).length === 0 : types.egress && (p.spec.egress ?? []).length === 0;
}
