/**
 * What the CLI reads from a cluster (`audit`, `render`, `reach`, `verify`, `learn` given a cluster): every
 * Namespace, Pod, NetworkPolicy, SegmentationIntent, ClusterSegmentationIntent and every kind intents reference,
 * read-only (list calls only; docs/rbac.md, "Who runs the CLI"). Each list is all its pages or an ApiError
 * (Kube.listAll), never a partial list: an audit of half the pods would report the other half as fine.
 * Lists omit each item's apiVersion and kind; they are set here, so that the objects look as in a file.
 */
import { type KubeSelection, type ResolvedKube, resolveKube } from './config';
import { API_VERSION, KIND } from '../intent/types';
import { CLUSTER_KIND } from '../intent/baseline';
import type { KubeObject } from '../model/kubernetes';
import { Kube, KIND_BASELINE, KIND_INTENT, KIND_POLICY } from './client';
import { isNotFound } from './errors';

export interface ClusterObjects {
  readonly namespaces: KubeObject[];
  readonly pods: KubeObject[];
  readonly policies: KubeObject[];
  readonly intents: KubeObject[];
  /** ClusterSegmentationIntents (baselines). */
  readonly baselines: KubeObject[];
  /** Services, Deployments, StatefulSets, DaemonSets, ReplicaSets, Ingresses: what intents may reference. */
  readonly referenced: KubeObject[];
}

/** The kinds intents may reference (src/resolve), with the apiVersion a file would carry. */
const REFERENCED: readonly (readonly [string, string])[] = [
  ['Service', 'v1'],
  ['Deployment', 'apps/v1'],
  ['StatefulSet', 'apps/v1'],
  ['DaemonSet', 'apps/v1'],
  ['ReplicaSet', 'apps/v1'],
  ['Ingress', 'networking.k8s.io/v1'],
];

/** A Kube over the cluster the user selected, resolved as kubectl would (throws KubeConfigError if it cannot be). */
export function kubeFor(sel: KubeSelection): { kube: Kube; resolved: ResolvedKube } {
  const resolved = resolveKube(sel);
  return { kube: new Kube(resolved.kc), resolved };
}

export async function readClusterObjects(kube: Kube): Promise<ClusterObjects> {
  const tag = (apiVersion: string, kind: string) => (items: KubeObject[]): KubeObject[] => items.map((o) => ({ ...o, apiVersion, kind }));
  const [namespaces, pods, policies, intents, baselines, ...referenced] = await Promise.all([
    kube.listAll<KubeObject>('Namespace').then(tag('v1', 'Namespace')),
    kube.listAll<KubeObject>('Pod').then(tag('v1', 'Pod')),
    kube.listAll<KubeObject>(KIND_POLICY).then(tag('networking.k8s.io/v1', 'NetworkPolicy')),
    kube.listAll<KubeObject>(KIND_INTENT).then(tag(API_VERSION, KIND), noCrd),
    kube.listAll<KubeObject>(KIND_BASELINE).then(tag(API_VERSION, CLUSTER_KIND), noCrd),
    ...REFERENCED.map(([kind, apiVersion]) => kube.listAll<KubeObject>(kind).then(tag(apiVersion, kind))),
  ]);
  return { namespaces, pods, policies, intents, baselines, referenced: referenced.flat() };
}

/** No CRD installed: a cluster without intents, not an error. */
function noCrd(e: unknown): KubeObject[] {
  if (isNotFound(e)) return [];
  throw e;
}
