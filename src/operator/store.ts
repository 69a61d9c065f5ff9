/**
 * An informer-style store of the managed NetworkPolicies: a sink of the shared cache's informer of
 * `managed-by=netseg-operator` policies (./cache.ts), indexed by namespace and controller owner uid, so that
 * reconcile's gather reads memory instead of listing the namespace from the apiserver each time.
 *
 * It keeps what reconcile needs of each policy, not the policy (issue 17: ≤ 300 bytes of heap per policy,
 * bench/store-memory.bench.ts): a PolicyRecord of name, namespace, uid, resourceVersion and the sha256 of the
 * spec (computed once when the object arrives, held as 32 bytes), plus the marks (labels, annotations other than
 * the spec hash, ownerReferences, deletionTimestamp) shared, frozen, by every policy carrying the same ones: an
 * intent's policies all carry the same. A spec's size is the intent author's choice, so holding specs would let
 * any tenant grow the operator's memory; a hash does not grow with it.
 * The store is also what the policy informer holds (./cache.ts `Held`): one record per policy, not a skeleton
 * in the informer and a copy in the store.
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
import { createHash } from 'crypto';
import type { KubeObject, NetworkPolicy, ObjectMeta, OwnerReference } from '../model/kubernetes';
import { SPEC_HASH_ANNOTATION, objectKey, parseKey, specHash } from './ownership';
import type { WatchEventType } from '../kube/watch';
import type { Held, ObjectSink } from './cache';

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

/** What policies share: their marks. Frozen, since one object serves many policies. */
interface Marks {
  readonly labels?: Readonly<Record<string, string>>;
  /** Without SPEC_HASH_ANNOTATION (see hashNote). */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
  readonly deletionTimestamp?: string;
  /** The uid of the controller ownerReference ('' for none): the owner index's key. */
  readonly controller: string;
  /**
   * The spec-hash annotation: undefined when it equals the policy's own spec hash (the usual case: then policies
   * share their marks), null when absent, else its value (a drifted policy has marks of its own).
   */
  readonly hashNote?: string | null;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HASH_CHARS = 32;
const UUID_CHARS = 16;

/**
 * uid, resourceVersion and spec hash of a policy in ONE string, each as its bytes where it can be (held by the
 * hundred thousand, three strings cost three headers; a hex sha256 is 64 characters for 32 bytes, a UUID 36 for
 * 16). Layout: [flag][hash: 32][uid: 16, or length + the uid as it is][resourceVersion]. `flag` says which
 * form the uid has. Nothing is lost: each part reads back exactly.
 */
function pack(uid: string | undefined, resourceVersion: string | undefined, hash: string): string {
  if (!HEX_SHA256.test(hash)) throw new Error(`not a sha256 spec hash: ${hash}`);
  const u = uid ?? '';
  let id: Buffer;
  if (UUID.test(u)) id = Buffer.concat([Buffer.from('U'), Buffer.from(u.replace(/-/g, ''), 'hex')]);
  else {
    const raw = Buffer.from(u, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(Math.min(raw.length, 0xffff));
    id = Buffer.concat([Buffer.from('R'), length, raw.subarray(0, 0xffff)]);
  }
  // Built as bytes and decoded once: a sequential one-byte string, not a rope of concatenated pieces.
  return Buffer.concat([id.subarray(0, 1), Buffer.from(hash, 'hex'), id.subarray(1), Buffer.from(resourceVersion ?? '', 'utf8')]).toString('latin1');
}

function unpack(packed: string): { uid: string; resourceVersion: string; hash: string } {
  const b = Buffer.from(packed, 'latin1');
  const hash = b.subarray(1, 1 + HASH_CHARS).toString('hex');
  const rest = b.subarray(1 + HASH_CHARS);
  if (b[0] === 0x55 /* U */) {
    const h = rest.subarray(0, UUID_CHARS).toString('hex');
    const uid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    return { uid, resourceVersion: rest.subarray(UUID_CHARS).toString('utf8'), hash };
  }
  const n = rest.readUInt16BE(0);
  return { uid: rest.subarray(2, 2 + n).toString('utf8'), resourceVersion: rest.subarray(2 + n).toString('utf8'), hash };
}

/**
 * A live policy as the stores keep it. `metadata` is rebuilt on each read from the record's fields and its
 * shared marks (reads happen per reconcile, holding happens for every policy all the time).
 */
export class PolicyRecord implements LivePolicy {
  /** A KubeObject to the cache's handlers (no other field is ever set). */
  [field: string]: unknown;

  constructor(
    readonly name: string,
    readonly namespace: string,
    /** pack(uid, resourceVersion, specHash(spec)). */
    private readonly packed: string,
    readonly marks: Marks,
  ) {}

  get apiVersion(): string {
    return 'networking.k8s.io/v1';
  }

  get kind(): string {
    return 'NetworkPolicy';
  }

  get specHash(): string {
    return unpack(this.packed).hash;
  }

  get metadata(): ObjectMeta {
    const { labels, ownerReferences, deletionTimestamp } = this.marks;
    const { uid, resourceVersion, hash } = unpack(this.packed);
    const metadata: ObjectMeta = { name: this.name, namespace: this.namespace, uid: uid || undefined, resourceVersion: resourceVersion || undefined };
    if (labels) metadata.labels = labels as Record<string, string>;
    const annotations = this.annotations(hash);
    if (annotations) metadata.annotations = annotations;
    if (ownerReferences) metadata.ownerReferences = ownerReferences as OwnerReference[];
    if (deletionTimestamp) metadata.deletionTimestamp = deletionTimestamp;
    return metadata;
  }

  private annotations(hash: string): Record<string, string> | undefined {
    const note = this.marks.hashNote === undefined ? hash : this.marks.hashNote;
    if (note === null) return this.marks.annotations as Record<string, string> | undefined;
    return { ...this.marks.annotations, [SPEC_HASH_ANNOTATION]: note };
  }
}

/** One frozen Marks per distinct content, counted, so that a store's policies share them. */
class MarksTable {
  private readonly byContent = new Map<string, { marks: Marks; refs: number }>();

  take(m: ObjectMeta, hash: string): Marks {
    const annotations = { ...m.annotations };
    const note = annotations[SPEC_HASH_ANNOTATION];
    delete annotations[SPEC_HASH_ANNOTATION];
    const fresh: Marks = {
      labels: m.labels && Object.freeze({ ...m.labels }),
      annotations: Object.keys(annotations).length ? Object.freeze(annotations) : undefined,
      ownerReferences: m.ownerReferences && Object.freeze(m.ownerReferences.map((r) => Object.freeze({ ...r }))),
      deletionTimestamp: m.deletionTimestamp ?? undefined,
      controller: (m.ownerReferences ?? []).find((r) => r.controller === true)?.uid || NO_OWNER,
      hashNote: note === undefined ? null : note === hash ? undefined : note,
    };
    // Filed under a digest of the content, not the content (a few hundred characters per intent).
    const content = [fresh.labels, fresh.annotations, fresh.ownerReferences, fresh.deletionTimestamp, fresh.hashNote === undefined ? '=' : fresh.hashNote];
    const key = createHash('sha256').update(JSON.stringify(content)).digest('base64');
    const entry = this.byContent.get(key);
    if (entry) {
      entry.refs++;
      return entry.marks;
    }
    const marks = Object.freeze(fresh);
    this.byContent.set(key, { marks, refs: 1 });
    this.keys.set(marks, key);
    return marks;
  }

  release(marks: Marks): void {
    const key = this.keys.get(marks);
    const entry = key === undefined ? undefined : this.byContent.get(key);
    if (!entry || --entry.refs > 0) return;
    this.byContent.delete(key as string);
    this.keys.delete(marks);
  }

  clear(): void {
    this.byContent.clear();
    this.keys.clear();
  }

  private readonly keys = new Map<Marks, string>();
}

/** What reconcile reads: the policies of one namespace controlled by one intent (by uid). */
export interface PolicyReader {
  /** False until the store covering `namespace` has replaced itself with one complete list. */
  hasSynced(namespace: string): boolean;
  /** The managed policies whose controller is `ownerUid` in `namespace`; throws NotSyncedError before the first list. */
  owned(namespace: string, ownerUid: string): LivePolicy[];
}

export type { ObjectSink } from './cache';

/** The policies of one namespace: by name, and by controller uid (an array: a few per owner, cheaper than a Set). */
interface InNamespace {
  readonly byName: Map<string, PolicyRecord>;
  readonly byOwner: Map<string, PolicyRecord[]>;
}

/** Policies without a controller ownerReference are filed here: owned by no intent. */
const NO_OWNER = '';

export class PolicyStore implements PolicyReader, ObjectSink, Held {
  private index = new Map<string, InNamespace>();
  private readonly marks = new MarksTable();
  private readonly namespaces = new Map<string, string>();
  private count = 0;
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
    return this.count;
  }

  // ------------------------------------------------------------------ as the informer's Held (./cache.ts)

  keep(o: KubeObject): PolicyRecord {
    return o instanceof PolicyRecord ? o : this.recordOf(asPolicy(o));
  }

  get(key: string): PolicyRecord | undefined;
  get(namespace: string, name: string): PolicyRecord | undefined;
  get(a: string, b?: string): PolicyRecord | undefined {
    const { namespace, name } = b === undefined ? parseKey(a) : { namespace: a, name: b };
    return this.index.get(namespace)?.byName.get(name);
  }

  set(_key: string, kept: KubeObject): void {
    this.put(this.keep(kept));
  }

  delete(key: string): void {
    const { namespace, name } = parseKey(key);
    const old = this.index.get(namespace)?.byName.get(name);
    if (old) this.remove(old);
  }

  *entries(): IterableIterator<[string, KubeObject]> {
    for (const r of this.values()) yield [objectKey(r), r];
  }

  *values(): IterableIterator<PolicyRecord> {
    for (const ns of this.index.values()) yield* ns.byName.values();
  }

  /** A complete list has been held: from now on the store answers. */
  listed(): void {
    this.synced = true;
  }

  // ------------------------------------------------- as a sink (unit tests, and a store fed on its own)

  /** Only ever called with a complete, successful list: the first call marks the store synced. */
  replace(items: readonly KubeObject[]): void {
    this.index = new Map();
    this.marks.clear();
    this.namespaces.clear();
    this.count = 0;
    for (const o of items) this.put(this.keep(o));
    this.synced = true;
  }

  apply(type: WatchEventType, obj: KubeObject): void {
    if (type === 'DELETED') this.delete(objectKey(obj));
    else this.put(this.keep(obj));
  }

  // ---------------------------------------------------------------------------------------- reads

  owned(namespace: string, ownerUid: string): LivePolicy[] {
    if (!this.synced) throw new NotSyncedError(namespace);
    if (ownerUid === NO_OWNER) return [];
    return [...(this.index.get(namespace)?.byOwner.get(ownerUid) ?? [])];
  }

  /** The managed policies controlled by `ownerUid` in every namespace this store covers (a baseline's). */
  ownedEverywhere(ownerUid: string): LivePolicy[] {
    if (!this.synced) throw new NotSyncedError('*');
    if (ownerUid === NO_OWNER) return [];
    return [...this.index.values()].flatMap((ns) => [...(ns.byOwner.get(ownerUid) ?? [])]);
  }

  /** Every managed policy of `namespace` (undefined: of every namespace covered), whoever controls it. */
  inNamespace(namespace: string | undefined): LivePolicy[] {
    if (!this.synced) throw new NotSyncedError(namespace ?? '*');
    if (namespace !== undefined) return [...(this.index.get(namespace)?.byName.values() ?? [])];
    return [...this.values()];
  }

  private recordOf(p: NetworkPolicy): PolicyRecord {
    const m = p.metadata;
    const hash = specHash(p);
    return new PolicyRecord(m.name ?? '', this.namespaceName(m.namespace ?? ''), pack(m.uid, m.resourceVersion, hash), this.marks.take(m, hash));
  }

  /** One string per namespace name, shared by its policies (each parsed object brings its own copy). */
  private namespaceName(ns: string): string {
    let shared = this.namespaces.get(ns);
    if (shared === undefined) this.namespaces.set(ns, (shared = ns));
    return shared;
  }

  private put(r: PolicyRecord): void {
    const old = this.index.get(r.namespace)?.byName.get(r.name);
    if (old === r) return;
    if (old) this.remove(old);
    let ns = this.index.get(r.namespace);
    if (!ns) this.index.set(r.namespace, (ns = { byName: new Map(), byOwner: new Map() }));
    ns.byName.set(r.name, r);
    const owner = r.marks.controller;
    const owned = ns.byOwner.get(owner);
    if (owned) owned.push(r);
    else ns.byOwner.set(owner, [r]);
    this.count++;
  }

  private remove(r: PolicyRecord): void {
    const ns = this.index.get(r.namespace);
    if (ns?.byName.get(r.name) !== r) return;
    ns.byName.delete(r.name);
    const owned = ns.byOwner.get(r.marks.controller) ?? [];
    const at = owned.indexOf(r);
    if (at >= 0) owned.splice(at, 1);
    if (owned.length === 0) ns.byOwner.delete(r.marks.controller);
    if (ns.byName.size === 0) this.index.delete(r.namespace);
    this.marks.release(r.marks);
    this.count--;
  }
}

/** A live policy as the store keeps it (for one read from the apiserver, e.g. a create that found the name taken). */
export function livePolicyOf(p: NetworkPolicy): LivePolicy {
  return new PolicyStore().keep(p as unknown as KubeObject);
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
