/**
 * An informer-style store of the managed NetworkPolicies: a sink of the shared cache's informer of
 * `managed-by=netseg-operator` policies (./cache.ts), indexed by namespace and controller owner uid, so that
 * reconcile's gather reads memory instead of listing the namespace from the apiserver each time.
 *
 * It keeps what reconcile needs of each policy, not the policy: metadata (without managedFields) and the sha256
 * of the spec, computed once when the object arrives. A spec's size is the intent author's choice (up to the
 * compile budget, and more for a hand-made policy carrying our label), so holding specs would let any tenant
 * grow the operator's memory; a hash and the metadata do not grow with them.
 *
 * Why reading it is as safe as a fresh list (docs/operator.md, "How gather reads"):
 *  - it answers only once a COMPLETE list has replaced it; before that `owned()` throws NotSyncedError and the
 *    key is requeued: an empty store is never mistaken for "owns nothing";
 *  - a failed or partial list never touches it (the informer only calls `replace` with a whole, successful list);
 *  - it may lag the apiserver by the watch's latency, but every write reconcile derives from it is conditional:
 *    updates carry the cached resourceVersion (stale → 409 → retry), deletes a uid precondition (NotFound is
 *    success, a different object → 409), and a create that finds the name taken re-reads that one object;
 *  - every change the watch delivers re-enqueues the owner intent, so a reconcile that read a lagging store is
 *    followed by one that reads the caught-up store (level-based convergence, as with controller-runtime).
 * Ownership is by uid (the controller ownerReference), never by the intent label: a label value is chosen by
 * whoever names the intent, and a long one is shortened.
 */
import type { KubeObject, NetworkPolicy, ObjectMeta } from '../model/kubernetes';
import { specHash } from './ownership';
import type { WatchEventType } from '../kube/watch';
import type { ObjectSink } from './cache';

/** reconcile asked before the first complete list: requeue, never act on an empty store. */
export class NotSyncedError extends Error {
  override readonly name = 'NotSyncedError';
  constructor(namespace: string) {
    super(`the managed NetworkPolicy cache of namespace "${namespace}" has not listed yet`);
  }
}

/**
 * What reconcile knows of a live policy: enough to own, compare, update (resourceVersion, others' labels and
 * annotations) and delete it (uid precondition). `specHash` is specHash() of the live spec.
 */
export interface LivePolicy {
  readonly metadata: ObjectMeta;
  readonly specHash: string;
}

/** A live policy as the store keeps it: metadata without managedFields, spec reduced to its hash. */
export function livePolicyOf(p: NetworkPolicy): LivePolicy {
  const { name, namespace, uid, resourceVersion, labels, annotations, ownerReferences, deletionTimestamp } = p.metadata;
  const metadata: ObjectMeta = { name, namespace, uid, resourceVersion };
  if (labels) metadata.labels = labels;
  if (annotations) metadata.annotations = annotations;
  if (ownerReferences) metadata.ownerReferences = ownerReferences;
  if (deletionTimestamp) metadata.deletionTimestamp = deletionTimestamp;
  return { metadata, specHash: specHash(p) };
}

/** What reconcile reads: the policies of one namespace controlled by one intent (by uid). */
export interface PolicyReader {
  /** False until the store covering `namespace` has replaced itself with one complete list. */
  hasSynced(namespace: string): boolean;
  /** The managed policies whose controller is `ownerUid` in `namespace`; throws NotSyncedError before the first list. */
  owned(namespace: string, ownerUid: string): LivePolicy[];
}

export type { ObjectSink } from './cache';

type ByName = Map<string, LivePolicy>;

/** Policies without a controller ownerReference are filed here: owned by no intent. */
const NO_OWNER = '';

export class PolicyStore implements PolicyReader, ObjectSink {
  /** namespace → controller uid → name → policy. */
  private index = new Map<string, Map<string, ByName>>();
  /** namespace/name → controller uid it is filed under (an owner change moves it). */
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

  /** Only ever called with a complete, successful list (./cache.ts): the first call marks the store synced. */
  replace(items: readonly KubeObject[]): void {
    this.index = new Map();
    this.filed = new Map();
    for (const o of items) this.put(asPolicy(o));
    this.synced = true;
  }

  apply(type: WatchEventType, obj: KubeObject): void {
    if (type === 'DELETED') this.remove(asPolicy(obj).metadata);
    else this.put(asPolicy(obj));
  }

  owned(namespace: string, ownerUid: string): LivePolicy[] {
    if (!this.synced) throw new NotSyncedError(namespace);
    if (ownerUid === NO_OWNER) return [];
    const byName = this.index.get(namespace)?.get(ownerUid);
    return byName ? [...byName.values()] : [];
  }

  /** The managed policies controlled by `ownerUid` in every namespace this store covers (a baseline's). */
  ownedEverywhere(ownerUid: string): LivePolicy[] {
    if (!this.synced) throw new NotSyncedError('*');
    if (ownerUid === NO_OWNER) return [];
    return [...this.index.values()].flatMap((byOwner) => [...(byOwner.get(ownerUid)?.values() ?? [])]);
  }

  /** Every managed policy of `namespace` (undefined: of every namespace covered), whoever controls it. */
  inNamespace(namespace: string | undefined): LivePolicy[] {
    if (!this.synced) throw new NotSyncedError(namespace ?? '*');
    const byOwner = namespace === undefined ? [...this.index.values()] : [this.index.get(namespace) ?? new Map<string, ByName>()];
    return byOwner.flatMap((m) => [...m.values()].flatMap((byName) => [...byName.values()]));
  }

  /** One cached policy, e.g. to compare a watch event with what is stored. */
  get(namespace: string, name: string): LivePolicy | undefined {
    const owner = this.filed.get(`${namespace}/${name}`);
    return owner === undefined ? undefined : this.index.get(namespace)?.get(owner)?.get(name);
  }

  private put(p: NetworkPolicy): void {
    const { namespace = '', name = '' } = p.metadata;
    this.remove(p.metadata);
    const owner = controllerOf(p) ?? NO_OWNER;
    let byOwner = this.index.get(namespace);
    if (!byOwner) this.index.set(namespace, (byOwner = new Map()));
    let byName = byOwner.get(owner);
    if (!byName) byOwner.set(owner, (byName = new Map()));
    byName.set(name, livePolicyOf(p));
    this.filed.set(`${namespace}/${name}`, owner);
  }

  private remove(m: ObjectMeta): void {
    const { namespace = '', name = '' } = m;
    const key = `${namespace}/${name}`;
    const owner = this.filed.get(key);
    if (owner === undefined) return;
    this.filed.delete(key);
    const byOwner = this.index.get(namespace);
    const byName = byOwner?.get(owner);
    byName?.delete(name);
    if (byName?.size === 0) byOwner?.delete(owner);
    if (byOwner?.size === 0) this.index.delete(namespace);
  }
}

/**
 * The uid of the policy's controller, whatever its kind (a SegmentationIntent or a ClusterSegmentationIntent):
 * each reader gets only what that uid controls and checks the kind itself (plan.ts, baseline-plan.ts).
 */
function controllerOf(p: NetworkPolicy): string | undefined {
  return (p.metadata.ownerReferences ?? []).find((r) => r.controller === true)?.uid || undefined;
}

/** This store is fed by a watch of networkpolicies only: what it gets are NetworkPolicies. */
function asPolicy(o: KubeObject): NetworkPolicy {
  return o as unknown as NetworkPolicy;
}

/** Routes reads to the store whose watch covers the namespace (one per --namespaces entry, or one for all). */
export class PolicyCache implements PolicyReader {
  private readonly stores: PolicyStore[] = [];

  add(store: PolicyStore): void {
    this.stores.push(store);
  }

  owned(namespace: string, ownerUid: string): LivePolicy[] {
    const store = this.stores.find((s) => s.covering(namespace));
    if (!store) throw new NotSyncedError(namespace);
    return store.owned(namespace, ownerUid);
  }

  get(namespace: string, name: string): LivePolicy | undefined {
    return this.stores.find((s) => s.covering(namespace))?.get(namespace, name);
  }

  /** A baseline's policies in every covered namespace; throws NotSyncedError until every store has listed. */
  ownedEverywhere(ownerUid: string): LivePolicy[] {
    if (!this.hasSynced()) throw new NotSyncedError('*');
    return this.stores.flatMap((s) => s.ownedEverywhere(ownerUid));
  }

  /**
   * The managed policies of `namespace` (undefined: every covered namespace), for the sweeps: read from memory
   * instead of listing the apiserver again (one list per kind, shared by the watch and the sweeps; issue 17).
   * Throws NotSyncedError until the stores concerned have listed.
   */
  inNamespace(namespace: string | undefined): LivePolicy[] {
    if (namespace !== undefined) {
      const store = this.stores.find((s) => s.covering(namespace));
      if (!store) throw new NotSyncedError(namespace);
      return store.inNamespace(namespace);
    }
    if (!this.hasSynced()) throw new NotSyncedError('*');
    return this.stores.flatMap((s) => s.inNamespace(undefined));
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
