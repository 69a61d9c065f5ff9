/**
 * Which workload a pod belongs to, from its owners, as `netseg learn` names it (API.md, "Learning intents"):
 * a ReplicaSet's pods belong to its Deployment (the ReplicaSet's controller ownerReference when the cluster input
 * has the ReplicaSet, else the ReplicaSet's name without the pod-template-hash), a StatefulSet's or DaemonSet's
 * to it, any other controller (a Job…) to that object, and a pod without an owner is its own workload. The
 * workload's selector is its object's `spec.selector` when the cluster input has the object.
 *
 * This module reads the owner objects (apps/v1 Deployment, StatefulSet, DaemonSet, ReplicaSet) itself, from the
 * objects the CLI loaded, so that it does not depend on how the shared cluster loader sorts them.
 */
import type { KubeObject, LabelSelector, LabelSelectorRequirement, OwnerReference } from '../model/kubernetes';
import { labelValue } from '../model/labels';
import type { ReportedOwner } from '../flows/types';

/** Kinds whose `spec.selector` selects exactly their pods. */
const SELECTING_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);
const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

export interface WorkloadRef {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
}

export function workloadId(w: WorkloadRef): string {
  return `${w.namespace}/${w.kind}/${w.name}`;
}

/** The owner objects of the cluster input, by kind, namespace and name. */
export class OwnerIndex {
  private readonly objects = new Map<string, KubeObject>();

  constructor(objects: readonly KubeObject[]) {
    for (const o of objects) {
      if (o.apiVersion !== 'apps/v1' || typeof o.kind !== 'string' || !SELECTING_KINDS.has(o.kind)) continue;
      const name = o.metadata?.name;
      if (typeof name !== 'string') continue;
      this.objects.set(`${o.kind}/${o.metadata?.namespace ?? 'default'}/${name}`, o);
    }
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(`${kind}/${namespace}/${name}`);
  }

  /** The object's `spec.selector`, when the input has the object and the selector is well formed. */
  selectorOf(w: WorkloadRef): LabelSelector | undefined {
    const o = this.get(w.kind, w.namespace, w.name);
    const spec = o?.['spec'];
    return isRecord(spec) ? selectorOf(spec['selector']) : undefined;
  }
}

export interface PodOwnerFacts {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>> | undefined;
  /** From the cluster input's Pod. */
  readonly ownerReferences?: readonly OwnerReference[] | undefined;
  /** What a flow tool said the owner is, used when the cluster input has no such Pod. */
  readonly reported?: ReportedOwner | undefined;
}

export function workloadOf(pod: PodOwnerFacts, index: OwnerIndex): WorkloadRef {
  const ns = pod.namespace;
  const ref = controllerOf(pod.ownerReferences);
  if (ref) return fromOwner(ns, ref.kind, ref.name, pod.labels, index);
  if (pod.reported) return fromOwner(ns, pod.reported.kind, pod.reported.name, pod.labels, index);
  return { namespace: ns, kind: 'Pod', name: pod.name };
}

function fromOwner(ns: string, kind: string, name: string, labels: PodOwnerFacts['labels'], index: OwnerIndex): WorkloadRef {
  if (kind !== 'ReplicaSet') return { namespace: ns, kind, name };
  const rs = index.get('ReplicaSet', ns, name);
  if (rs) {
    const deployment = controllerOf(rs.metadata?.ownerReferences);
    return deployment?.kind === 'Deployment' ? { namespace: ns, kind: 'Deployment', name: deployment.name } : { namespace: ns, kind, name };
  }
  return { namespace: ns, kind: 'Deployment', name: withoutHash(name, labels) };
}

/** A Deployment names its ReplicaSets `<deployment>-<pod-template-hash>`. */
function withoutHash(rsName: string, labels: PodOwnerFacts['labels']): string {
  const hash = labels ? labelValue(labels, 'pod-template-hash') : undefined;
  if (hash && rsName.endsWith(`-${hash}`) && rsName.length > hash.length + 1) return rsName.slice(0, -hash.length - 1);
  const m = /^(.+)-[a-z0-9]{5,10}$/.exec(rsName);
  return m ? (m[1] as string) : rsName;
}

function controllerOf(refs: unknown): { kind: string; name: string } | undefined {
  if (!Array.isArray(refs)) return undefined;
  const valid = refs.filter((r): r is OwnerReference => isRecord(r) && typeof r['kind'] === 'string' && typeof r['name'] === 'string' && r['name'] !== '');
  const ref = valid.find((r) => r.controller === true) ?? valid[0];
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A well-formed, non-empty metav1.LabelSelector, or undefined (then the pods' labels are used instead). */
function selectorOf(raw: unknown): LabelSelector | undefined {
  if (!isRecord(raw)) return undefined;
  const out: LabelSelector = {};
  const ml = raw['matchLabels'];
  if (ml !== undefined && ml !== null) {
    if (!isRecord(ml) || !Object.values(ml).every((v) => typeof v === 'string')) return undefined;
    if (Object.keys(ml).length > 0) out.matchLabels = Object.fromEntries(Object.entries(ml as Record<string, string>));
  }
  const me = raw['matchExpressions'];
  if (me !== undefined && me !== null) {
    if (!Array.isArray(me)) return undefined;
    const exprs: LabelSelectorRequirement[] = [];
    for (const e of me) {
      if (!isRecord(e) || typeof e['key'] !== 'string' || typeof e['operator'] !== 'string' || !OPERATORS.has(e['operator'])) return undefined;
      const values = e['values'];
      if (values !== undefined && values !== null && !(Array.isArray(values) && values.every((v) => typeof v === 'string'))) return undefined;
      const list = (values ?? []) as string[];
      exprs.push({ key: e['key'], operator: e['operator'] as LabelSelectorRequirement['operator'], ...(list.length > 0 ? { values: list } : {}) });
    }
    if (exprs.length > 0) out.matchExpressions = exprs;
  }
  return out.matchLabels || out.matchExpressions ? out : undefined;
}
