/**
 * The operator's side of references (API.md v2, "Endpoints by reference"): what intents name, and the named
 * objects themselves, both fed by the shared cache (./cache.ts), so that
 *  - a change to a Service, Deployment, StatefulSet, DaemonSet or Ingress enqueues exactly the intents that
 *    name it (IntentReferences, an index kept by a sink of the intent informers: it sees full intents, where the
 *    cache's own indexes see only skeletons);
 *  - reconcile resolves from memory (ReferencedObjects implements src/resolve's ClusterObjects over sinks of the
 *    referenced kinds' informers), never listing from the apiserver, and never before those informers have
 *    listed: an unlisted cache would read as "object missing".
 * Objects are kept trimmed (src/resolve trimReferenced): a Deployment's pod template is never held.
 */
import type { KubeObject } from '../model/kubernetes';
import type { WorkloadKind } from '../intent/references';
import type { KindSpec, WatchEventType } from '../kube/watch';
import { keyOfObject, parseIngresses, parseService, parseWorkload, parsed, referenceKeysOf, trimReferenced } from '../resolve';
import type { ClusterObjects, IngressInfo, Lookup, ServiceInfo, WorkloadInfo } from '../resolve';
import type { CacheEvent, ObjectSink } from './cache';
import type { Predicate } from './controller';
import { objectKey } from './ownership';
import { NotSyncedError } from './store';

export const SERVICES: KindSpec = { group: '', version: 'v1', plural: 'services', kind: 'Service' };
export const DEPLOYMENTS: KindSpec = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment' };
export const STATEFULSETS: KindSpec = { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet' };
export const DAEMONSETS: KindSpec = { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet' };
export const INGRESSES: KindSpec = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress' };

/** Every kind an intent may reference: watched (list, watch) in the namespaces in scope. */
export const REFERENCED_KINDS: readonly KindSpec[] = [SERVICES, DEPLOYMENTS, STATEFULSETS, DAEMONSETS, INGRESSES];

/** Reconcile asked for a referenced object before its informer listed: requeue, never call it missing. */
export class ReferencesNotSyncedError extends NotSyncedError {
  constructor(kind: string, namespace: string) {
    super(namespace);
    this.message = `the ${kind} cache covering namespace "${namespace}" has not listed yet`;
  }
}

// --------------------------------------------------------------------------------------- intents → objects

/** intent key ("ns/name"), or baseline key ("/name"), ↔ the reference keys it names (`Service/ns/name`, `Ingress/ns`). */
export class IntentReferences {
  private readonly byIntent = new Map<string, readonly string[]>();
  private readonly byRef = new Map<string, Set<string>>();

  /** A sink for one intent informer; each informer's list replaces only the intents it had filed. */
  sink(): ObjectSink {
    let mine = new Set<string>();
    return {
      replace: (items) => {
        for (const k of mine) this.set(k, []);
        mine = new Set(items.map(objectKey));
        for (const o of items) this.set(objectKey(o), referenceKeysOf(o));
      },
      apply: (type: WatchEventType, o: KubeObject) => {
        const k = objectKey(o);
        if (type === 'DELETED') mine.delete(k);
        else mine.add(k);
        this.set(k, type === 'DELETED' ? [] : referenceKeysOf(o));
      },
    };
  }

  /** The intents naming the object of this event. */
  intentsFor(e: CacheEvent): string[] {
    return [...(this.byRef.get(keyOfObject(e.object)) ?? [])].sort();
  }

  private set(intent: string, refs: readonly string[]): void {
    for (const r of this.byIntent.get(intent) ?? []) {
      const s = this.byRef.get(r);
      s?.delete(intent);
      if (s?.size === 0) this.byRef.delete(r);
    }
    if (refs.length === 0) this.byIntent.delete(intent);
    else this.byIntent.set(intent, refs);
    for (const r of refs) this.byRef.set(r, (this.byRef.get(r) ?? new Set()).add(intent));
  }
}

/**
 * A referenced object's content changed in a way resolution can see. Deployments, StatefulSets, DaemonSets and
 * Ingresses bump metadata.generation on every spec change and never on status (a Deployment's status changes
 * at every rollout step): same generation, nothing to do. Services carry no generation: every change counts.
 */
export const referenceChanged: Predicate = (e) => {
  if (e.type !== 'MODIFIED' || !e.old) return true;
  const before = e.old.metadata?.generation;
  const after = e.object.metadata?.generation;
  return before === undefined || after === undefined || before !== after;
};

// ---------------------------------------------------------------------------------------------- objects

/** The trimmed objects of one informer (one kind, one namespace or all). */
class ObjectStore implements ObjectSink {
  readonly objects = new Map<string, KubeObject>();
  synced = false;

  constructor(
    readonly kind: string,
    readonly namespace: string | undefined,
  ) {}

  /** List items carry no kind: set it, or trimming would not know which fields to keep. */
  private trim(o: KubeObject): KubeObject {
    return trimReferenced({ ...(o as Record<string, unknown>), kind: this.kind });
  }

  replace(items: readonly KubeObject[]): void {
    this.objects.clear();
    for (const o of items) this.objects.set(objectKey(o), this.trim(o));
    this.synced = true;
  }

  apply(type: WatchEventType, o: KubeObject): void {
    if (type === 'DELETED') this.objects.delete(objectKey(o));
    else this.objects.set(objectKey(o), this.trim(o));
  }

  covers(namespace: string): boolean {
    return this.namespace === undefined || this.namespace === namespace;
  }
}

/** src/resolve's ClusterObjects over the referenced kinds' stores. */
export class ReferencedObjects implements ClusterObjects {
  private readonly stores = new Map<string, ObjectStore[]>();

  /** A sink for the informer of `kind` in `namespace` (undefined: all namespaces). */
  sink(kind: string, namespace: string | undefined): ObjectSink {
    const store = new ObjectStore(kind, namespace);
    this.stores.set(kind, [...(this.stores.get(kind) ?? []), store]);
    return store;
  }

  /** Forget everything (leadership lost: the next leader term lists again). */
  clear(): void {
    for (const list of this.stores.values()) {
      for (const s of list) {
        s.objects.clear();
        s.synced = false;
      }
    }
  }

  service(namespace: string, name: string): Lookup<ServiceInfo> {
    const found = this.find('Service', namespace, name);
    return 'problem' in found ? found.problem : parsed(found.object, parseService);
  }

  workload(kind: WorkloadKind, namespace: string, name: string): Lookup<WorkloadInfo> {
    const found = this.find(kind, namespace, name);
    return 'problem' in found ? found.problem : parsed(found.object, (o) => parseWorkload(kind, o));
  }

  ingresses(namespace: string): Lookup<readonly IngressInfo[]> {
    const store = this.covering('Ingress', namespace);
    if ('problem' in store) return store.problem;
    return parseIngresses([...store.objects.values()].filter((o) => o.metadata?.namespace === namespace));
  }

  private covering(kind: string, namespace: string): ObjectStore | { problem: { found: false; problem: string } } {
    const store = (this.stores.get(kind) ?? []).find((s) => s.covers(namespace));
    if (!store) return { problem: { found: false, problem: `namespace ${namespace} is outside the namespaces this operator watches` } };
    if (!store.synced) throw new ReferencesNotSyncedError(kind, namespace);
    return store;
  }

  private find(kind: string, namespace: string, name: string): { object: KubeObject | undefined } | { problem: { found: false; problem: string } } {
    const store = this.covering(kind, namespace);
    if ('problem' in store) return store;
    return { object: store.objects.get(`${namespace}/${name}`) };
  }
}
