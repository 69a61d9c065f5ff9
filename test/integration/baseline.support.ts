/** ClusterSegmentationIntents on the real control plane: create, read, change, delete, and what they should own. */
import * as k8s from '@kubernetes/client-node';
import { compileBaseline, selectsNamespace } from '../../src/compile';
import { checkBaseline } from '../../src/intent';
import type { ClusterSegmentationIntent } from '../../src/intent/baseline';
import type { KubeObject, NetworkPolicy } from '../../src/model/kubernetes';
import { indexObjects, resolveBaseline } from '../../src/resolve';

const GROUP = 'netseg.io';
const VERSION = 'v1alpha1';
const PLURAL = 'clustersegmentationintents';

export function baseline(name: string, spec: ClusterSegmentationIntent['spec']): ClusterSegmentationIntent {
  return { apiVersion: 'netseg.io/v1alpha1', kind: 'ClusterSegmentationIntent', metadata: { name }, spec };
}

export class BaselineView {
  readonly custom: k8s.CustomObjectsApi;
  readonly core: k8s.CoreV1Api;
  constructor(kc: k8s.KubeConfig) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async create(b: ClusterSegmentationIntent): Promise<ClusterSegmentationIntent> {
    return (await this.custom.createClusterCustomObject(GROUP, VERSION, PLURAL, b)).body as ClusterSegmentationIntent;
  }

  async get(name: string): Promise<ClusterSegmentationIntent> {
    return (await this.custom.getClusterCustomObject(GROUP, VERSION, PLURAL, name)).body as ClusterSegmentationIntent;
  }

  /** Replaces the spec (read-modify-write, retried on 409). */
  async updateSpec(name: string, spec: ClusterSegmentationIntent['spec']): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.get(name);
      try {
        await this.custom.replaceClusterCustomObject(GROUP, VERSION, PLURAL, name, { ...cur, spec });
        return;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 409 || attempt > 5) throw e;
      }
    }
  }

  async delete(name: string): Promise<void> {
    await this.custom.deleteClusterCustomObject(GROUP, VERSION, PLURAL, name).catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 404) throw e;
    });
  }

  /** Sets a namespace's labels (read-modify-write), as a tenant with patch rights on it would. */
  async relabel(ns: string, labels: Record<string, string>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const cur = (await this.core.readNamespace(ns)).body;
      cur.metadata = { ...cur.metadata, labels: { ...labels, 'kubernetes.io/metadata.name': ns } };
      try {
        await this.core.replaceNamespace(ns, cur);
        return;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 409 || attempt > 5) throw e;
      }
    }
  }

  /** Reasons of the Events about a baseline (cluster-scoped: they are in namespace default). */
  async reasons(name: string): Promise<string[]> {
    const r = await this.core.listNamespacedEvent('default', undefined, undefined, undefined, `involvedObject.name=${name}`);
    return r.body.items.filter((e) => e.involvedObject.kind === 'ClusterSegmentationIntent').map((e) => e.reason ?? '');
  }
}

/**
 * compileBaseline()'s policies for a namespace with these labels, for the baseline as stored (uid included),
 * its `service`/`workloadRef` peers resolved from `objects` (as the apiserver now holds them).
 */
export function expectedBaselinePolicies(stored: ClusterSegmentationIntent, ns: string, labels: Record<string, string>, objects: readonly KubeObject[] = []): NetworkPolicy[] {
  const c = checkBaseline(stored);
  const v = c.ok ? resolveBaseline(c.baseline, indexObjects(objects)) : c;
  if (!v.ok) throw new Error(`test baseline is invalid: ${JSON.stringify(v.issues)}`);
  const view = { name: ns, labels: { ...labels, 'kubernetes.io/metadata.name': ns } };
  return selectsNamespace(v.baseline, view) ? compileBaseline(v.baseline, view) : [];
}

export function readyOfBaseline(b: ClusterSegmentationIntent): { status?: string; reason?: string; message?: string } {
  return b.status?.conditions?.find((c) => c.type === 'Ready') ?? {};
}
