/**
 * An informer-style store of the managed NetworkPolicies, fed by the operator's list-then-watch of
 * `managed-by=netseg-operator` policies (./watch.ts), indexed by namespace and intent label, so that reconcile's
 * gather reads memory instead of listing the namespace from the apiserver each time (O(namespace) per reconcile,
 * plus one more per echo of its own writes).
 *
 * Why reading it is as safe as a fresh list (docs/operator.md, "How gather reads"):
 *  - it answers only once a COMPLETE list has replaced it; before that `owned()` throws NotSyncedError and the
 *    key is requeued: an empty store is never mistaken for "owns nothing";
 *  - a failed or partial list never touches it (the watch only calls `replace` with a whole, successful list);
 *  - it may lag the apiserver by the watch's latency, but every write reconcile derives from it is conditional:
 *    updates carry the cached resourceVersion (stale → 409 → retry), deletes a uid precondition (NotFound is
 *    success, a different object → 409), and a create that finds the name taken re-reads that one object;
 *  - every change the watch delivers re-enqueues the owner intent, so a reconcile that read a lagging store is
 *    followed by one that reads the caught-up store (level-based convergence, as with controller-runtime).
 */
import type { KubeObject, NetworkPolicy } from '../model/kubernetes';
import { INTENT_LABEL, intentLabelValue } from './ownership';
import type { WatchEventType } from './watch';

/** reconcile asked before the first complete list: requeue, never act on an empty store. */
export class NotSyncedError extends Error {
  override readonly name = 'NotSyncedError';
  constructor(namespace: string) {
    super(`the managed NetworkPolicy cache of namespace "${namespace}" has not listed yet`);
  }
}

/** What reconcile reads: the policies of one namespace carrying one intent's labels. */
export interface PolicyReader {
  /** False until the store covering `namespace` has replaced itself with one complete list. */
  hasSynced(namespace: string): boolean;
  /** The managed policies labelled for `intentName` in `namespace`; throws NotSyncedError before the first list. */
  owned(namespace: string, intentName: string): NetworkPolicy[];
}

/** What the watch feeds: a complete list replaces everything, then one event at a time. */
export interface ObjectSink {
  replace(items: readonly KubeObject[]): void;
  apply(type: WatchEventType, obj: KubeObject): void;
}

type ByName = Map<string, NetworkPolicy>;

export class PolicyStore implements PolicyReader, ObjectSink {
  /** namespace → intent label value → name → policy. */
  private index = new Map<string, Map<string, ByName>>();
  /** namespace/name → intent label it is filed under (a relabel moves it). */
  private filed = new Map<string, string>();
  private synced = false;

  /**
   * @param covers which namespaces this store's watch sees: one (--namespaces) or all (undefined).
   */
  constructor(private readonly covers?: string) {}

  hasSynced(namespace?: string): boolean {
    return this.synced && (namespace === undefined || this.covering(namespace));
  }

  /** True if this store's watch lists `namespace`. */
  covering(namespace: string): boolean {
    return this.covers === undefined || this.covers === namespace;
  }

  size(): number {
    return this.filed.size;
  }

  /** Only ever called with a complete, successful list (./watch.ts): the first call marks the store synced. */
  replace(items: readonly KubeObject[]): void {
    this.index = new Map();
    this.filed = new Map();
    for (const o of items) this.put(asPolicy(o));
    this.synced = true;
  }

  apply(type: WatchEventType, obj: KubeObject): void {
    if (type === 'DELETED') this.remove(asPolicy(obj));
    else this.put(asPolicy(obj));
  }

  owned(namespace: string, intentName: string): NetworkPolicy[] {
    if (!this.synced) throw new NotSyncedError(namespace);
    const byName = this.index.get(namespace)?.get(intentLabelValue(intentName));
    return byName ? [...byName.values()] : [];
  }

  /** One cached policy, e.g. to compare a watch event with what is stored. */
  get(namespace: string, name: string): NetworkPolicy | undefined {
    const label = this.filed.get(`${namespace}/${name}`);
    return label === undefined ? undefined : this.index.get(namespace)?.get(label)?.get(name);
  }

  private put(p: NetworkPolicy): void {
    const { namespace = '', name = '' } = p.metadata;
    this.remove(p);
    const label = p.metadata.labels?.[INTENT_LABEL] ?? '';
    let byLabel = this.index.get(namespace);
    if (!byLabel) this.index.set(namespace, (byLabel = new Map()));
    let byName = byLabel.get(label);
    if (!byName) byLabel.set(label, (byName = new Map()));
    byName.set(name, slim(p));
    this.filed.set(`${namespace}/${name}`, label);
  }

  private remove(p: NetworkPolicy): void {
    const { namespace = '', name = '' } = p.metadata;
    const key = `${namespace}/${name}`;
    const label = this.filed.get(key);
    if (label === undefined) return;
    this.filed.delete(key);
    const byLabel = this.index.get(namespace);
    const byName = byLabel?.get(label);
    byName?.delete(name);
    if (byName?.size === 0) byLabel?.delete(label);
    if (byLabel?.size === 0) this.index.delete(namespace);
  }
}

/** This store is fed by a watch of networkpolicies only: what it gets are NetworkPolicies. */
function asPolicy(o: KubeObject): NetworkPolicy {
  return o as unknown as NetworkPolicy;
}

/**
 * What reconcile compares and writes from (spec, labels, annotations, ownerReferences, uid, resourceVersion),
 * without managedFields: those are most of a policy's bytes and nothing here reads them.
 */
function slim(p: NetworkPolicy): NetworkPolicy {
  const metadata: NetworkPolicy['metadata'] & { managedFields?: unknown } = { ...p.metadata };
  delete metadata.managedFields;
  return { ...p, apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata };
}

/** Routes reads to the store whose watch covers the namespace (one per --namespaces entry, or one for all). */
export class PolicyCache implements PolicyReader {
  private readonly stores: PolicyStore[] = [];

  add(store: PolicyStore): void {
    this.stores.push(store);
  }

  owned(namespace: string, intentName: string): NetworkPolicy[] {
    const store = this.stores.find((s) => s.covering(namespace));
    if (!store) throw new NotSyncedError(namespace);
    return store.owned(namespace, intentName);
  }

  get(namespace: string, name: string): NetworkPolicy | undefined {
    return this.stores.find((s) => s.covering(namespace))?.get(namespace, name);
  }

  /** With a namespace: has its store listed; without: have all. */
  hasSynced(namespace?: string): boolean {
    if (namespace !== undefined) return this.stores.some((s) => s.hasSynced(namespace));
    return this.stores.length > 0 && this.stores.every((s) => s.hasSynced());
  }

  size(): number {
    return this.stores.reduce((n, s) => n + s.size(), 0);
  }

  clear(): void {
    this.stores.length = 0;
  }
}
