/**
 * An informer-style store of the managed NetworkPolicies: a sink of the shared cache's informer of
 * `managed-by=netseg-operator` policies (./cache.ts), indexed by namespace and controller owner uid, so that
 * reconcile's gather reads memory instead of listing the namespace from the apiserver each time.
 *
 * It keeps what reconcile needs of each policy, not the policy (issue 17: ≤ 300 bytes of heap per policy,
 * bench/store-memory.bench.ts): per policy, its name (the index's key) and ONE packed string of its uid,
 * resourceVersion, the sha256 of its spec (computed once when the object arrives, held as 32 bytes) and the id
 * of its marks (labels, annotations other than the spec hash, ownerReferences, deletionTimestamp), which are
 * shared, frozen, by every policy carrying the same ones: an intent's policies all carry the same. Reads make a
 * PolicyRecord from these. A spec's size is the intent author's choice, so holding specs would let any tenant
 * grow the operator's memory; a hash does not grow with it.
 * The store is also what the policy informer holds (./cache.ts `Held`): each policy is held once, not as a
 * skeleton in the informer and a copy in the store.
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
import { MANAGED_BY_VALUE, SPEC_HASH_ANNOTATION, objectKey, parseKey, specHash } from './ownership';
import { API_VERSION } from '../intent/types';
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
  /** A digest of all of the above: marks with the same one are the same marks (MarksTable). */
  readonly digest: string;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HASH_CHARS = 32;
const UUID_CHARS = 16;
/** The marks id in front of a packed policy: 4 bytes, so ids up to 2^32 - 1 (they are reused once released). */
const ID_CHARS = 4;
/** The id of marks not filed in a store (a record not held, e.g. one just read from the apiserver). */
const UNFILED = 0;
/** How many recently made marks a store remembers unfiled (MarksTable.shared): more than an intent's policies. */
const RECENT = 64;

/**
 * Everything the store holds of one policy but its name, in ONE string, each part as its bytes where it can be
 * (held by the hundred thousand, a string per part costs a header each; a hex sha256 is 64 characters for 32
 * bytes, a UUID 36 for 16). Layout: [marks id: 4][flag][hash: 32][uid: 16, or length + the uid as it is]
 * [resourceVersion]. `flag` says which form the uid has. Nothing is lost: each part reads back exactly.
 */
function pack(marksId: number, uid: string | undefined, resourceVersion: string | undefined, hash: string): string {
  if (!HEX_SHA256.test(hash)) throw new Error(`not a sha256 spec hash: ${hash}`);
  const u = uid ?? '';
  let flag: string;
  let id: Buffer;
  if (UUID.test(u)) {
    flag = 'U';
    id = Buffer.from(u.replace(/-/g, ''), 'hex');
  } else {
    flag = 'R';
    const raw = Buffer.from(u, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(Math.min(raw.length, 0xffff));
    id = Buffer.concat([length, raw.subarray(0, 0xffff)]);
  }
  const head = Buffer.alloc(ID_CHARS + 1);
  head.writeUInt32BE(marksId);
  head.write(flag, ID_CHARS, 'latin1');
  // Built as bytes and decoded once: a sequential one-byte string, not a rope of concatenated pieces.
  return Buffer.concat([head, Buffer.from(hash, 'hex'), id, Buffer.from(resourceVersion ?? '', 'utf8')]).toString('latin1');
}

/** `packed` with another marks id in front (the rest as it is). */
function refiled(packed: string, marksId: number): string {
  const b = Buffer.from(packed, 'latin1');
  b.writeUInt32BE(marksId);
  return b.toString('latin1');
}

function marksIdOf(packed: string): number {
  return Buffer.from(packed.slice(0, ID_CHARS), 'latin1').readUInt32BE(0);
}

function unpack(packed: string): { uid: string; resourceVersion: string; hash: string } {
  const b = Buffer.from(packed, 'latin1').subarray(ID_CHARS);
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
 * A live policy as reconcile and the informer's handlers see it. The store does not hold these: it holds one
 * packed string per policy (PolicyStore) and makes a record when one is read (reads happen per reconcile,
 * holding happens for every policy all the time). `metadata` is rebuilt from the packed fields and the marks.
 */
export class PolicyRecord implements LivePolicy {
  /** A KubeObject to the cache's handlers (no other field is ever set). */
  [field: string]: unknown;

  constructor(
    readonly name: string,
    readonly namespace: string,
    /** pack(marks id, uid, resourceVersion, specHash(spec)). */
    readonly packed: string,
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

/**
 * Values every managed policy's marks repeat, held once: each parsed object brings its own copy of each string,
 * and the marks of every intent would keep one. A fixed set: nothing an intent author writes can grow it.
 */
const COMMON = new Map([MANAGED_BY_VALUE, API_VERSION, 'SegmentationIntent', 'ClusterSegmentationIntent'].map((v) => [v, v]));

function common(v: string): string {
  return COMMON.get(v) ?? v;
}

function commonValues(o: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) out[k] = common(v);
  return out;
}

/** The marks of a policy's metadata, fresh (not shared until a store files them: MarksTable.file). */
function marksOf(m: ObjectMeta, hash: string): Marks {
  const annotations = { ...m.annotations };
  const note = annotations[SPEC_HASH_ANNOTATION];
  delete annotations[SPEC_HASH_ANNOTATION];
  const labels = m.labels && Object.freeze(commonValues(m.labels));
  const rest = Object.keys(annotations).length ? Object.freeze(annotations) : undefined;
  const ownerReferences = m.ownerReferences && Object.freeze(m.ownerReferences.map((r) => Object.freeze({ ...r, apiVersion: common(r.apiVersion), kind: common(r.kind) })));
  const deletionTimestamp = m.deletionTimestamp ?? undefined;
  const hashNote = note === undefined ? null : note === hash ? undefined : note;
  // Filed under a digest of the content, not the content (a few hundred characters per intent): its 32 bytes.
  const content = [labels, rest, ownerReferences, deletionTimestamp, hashNote === undefined ? '=' : hashNote];
  const digest = createHash('sha256').update(JSON.stringify(content)).digest().toString('latin1');
  const controller = (m.ownerReferences ?? []).find((r) => r.controller === true)?.uid || NO_OWNER;
  return Object.freeze({ labels, annotations: rest, ownerReferences, deletionTimestamp, controller, hashNote, digest });
}

/**
 * The marks a store's policies share: one frozen Marks per distinct content, counted by the policies filed with
 * it, found by a small id (what a packed policy carries). Counting happens when a store files a policy and when
 * it drops one, never when a record is merely made: a record that is read and let go leaves nothing behind.
 */
class MarksTable {
  private readonly byDigest = new Map<string, { readonly id: number; readonly marks: Marks; refs: number }>();
  private readonly byId = new Map<number, Marks>();
  private readonly freeIds: number[] = [];
  private nextId = UNFILED + 1;
  /** The last marks made, by digest (see shared). */
  private readonly recent = new Map<string, Marks>();

  /** Files one more policy with marks like `marks`: returns the id of the shared copy. */
  file(marks: Marks): number {
    const entry = this.byDigest.get(marks.digest);
    if (entry) {
      entry.refs++;
      return entry.id;
    }
    const id = this.freeIds.pop() ?? this.nextId++;
    if (id > 0xffffffff) throw new Error('more than 2^32 distinct policy marks');
    this.byDigest.set(marks.digest, { id, marks, refs: 1 });
    this.byId.set(id, marks);
    return id;
  }

  /**
   * An equal Marks already made, if there is one: the filed copy, or one of the last RECENT made (a list brings
   * an intent's policies one after the other). Not counted: records that are made and dropped leave nothing. So
   * that a list of 100,000 policies, kept as records page by page, does not hold a Marks object per policy.
   */
  shared(fresh: Marks): Marks {
    const known = this.byDigest.get(fresh.digest)?.marks ?? this.recent.get(fresh.digest);
    if (known) return known;
    this.recent.set(fresh.digest, fresh);
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value as string);
    return fresh;
  }

  marks(id: number): Marks {
    const m = this.byId.get(id);
    if (!m) throw new Error(`no policy marks filed under ${id}`);
    return m;
  }

  release(id: number): void {
    const marks = this.byId.get(id);
    const entry = marks && this.byDigest.get(marks.digest);
    if (!entry || --entry.refs > 0) return;
    this.byDigest.delete(entry.marks.digest);
    this.byId.delete(id);
    this.freeIds.push(id);
  }

  size(): number {
    return this.byId.size;
  }

  clear(): void {
    this.byDigest.clear();
    this.byId.clear();
    this.recent.clear();
    this.freeIds.length = 0;
    this.nextId = UNFILED + 1;
  }
}

/** What reconcile reads: the policies of one namespace controlled by one intent (by uid). */
export interface PolicyReader {
  /** False until the store covering `namespace` has replaced itself with one complete list. */
  hasSynced(namespace: string): boolean;
  /** The managed policies whose controller is `ownerUid` in `namespace`; throws NotSyncedError before the first list. */
  owned(namespace: string, ownerUid: string): LivePolicy[];
}

/**
 * The operator's own creates, told to the store that will see their watch events (client-go's "expectations").
 * Without it a reconcile that runs between a create's answer and its watch event finds the policy missing in
 * the store and creates it again (answered 409: a wasted write, seen a few times per 1,000 creates under load).
 */
export interface CreateExpectations {
  /** Before the create of `p` is sent. */
  expectCreate(p: NetworkPolicy): void;
  /** Its answer: the object as stored, or undefined if the create failed. */
  createAnswered(p: NetworkPolicy, stored: NetworkPolicy | undefined): void;
}

/**
 * How long an answered create stands in for its watch event. The event normally follows within milliseconds; a
 * watch that broke meanwhile relists, which replaces the store and drops every expectation. This only bounds
 * what a lost event could leave behind.
 */
const EXPECTATION_TTL_MS = 60_000;

/** A create sent (record undefined) or answered (record set) whose watch event the store has not seen yet. */
interface Expected {
  readonly since: number;
  record?: PolicyRecord;
}

export type { ObjectSink } from './cache';

/**
 * The policies of one namespace: packed (see pack) by name, and their names by controller uid (an array: a few
 * per owner, cheaper than a Set). The name strings are the Map's keys, shared by the owner index.
 */
interface InNamespace {
  readonly name: string;
  readonly byName: Map<string, string>;
  readonly byOwner: Map<string, string[]>;
}

/** Policies without a controller ownerReference are filed here: owned by no intent. */
const NO_OWNER = '';

export class PolicyStore implements PolicyReader, ObjectSink, Held, CreateExpectations {
  private index = new Map<string, InNamespace>();
  private readonly marks = new MarksTable();
  private count = 0;
  private synced = false;
  /** Own creates not yet seen by the watch, by namespace and name (see CreateExpectations). */
  private readonly expected = new Map<string, Map<string, Expected>>();

  /**
   * @param covers which namespaces this store's watch sees: one (--namespaces) or all (undefined).
   * @param now the clock of the expectations' TTL.
   */
  constructor(
    private readonly covers?: string,
    private readonly now: () => number = Date.now,
  ) {}

  // ------------------------------------------------------------------ expectations of own creates

  /**
   * Registered before the create is sent, so that a watch event for the name that arrives before the answer
   * (its echo, or someone's change after it) cancels it: the store then knows better than the answer.
   */
  expectCreate(p: NetworkPolicy): void {
    const { namespace = '', name = '' } = p.metadata;
    let ns = this.expected.get(namespace);
    if (!ns) this.expected.set(namespace, (ns = new Map()));
    ns.set(name, { since: this.now() });
  }

  createAnswered(p: NetworkPolicy, stored: NetworkPolicy | undefined): void {
    const { namespace = '', name = '' } = p.metadata;
    const e = this.expected.get(namespace)?.get(name);
    if (!e) return;
    if (stored) e.record = recordOf(stored);
    else this.forget(namespace, name);
  }

  /** How many own creates wait for their watch event. */
  expectedCreates(): number {
    let n = 0;
    for (const ns of this.expected.values()) n += ns.size;
    return n;
  }

  private forget(namespace: string, name: string): void {
    const ns = this.expected.get(namespace);
    if (!ns?.delete(name) || ns.size > 0) return;
    this.expected.delete(namespace);
  }

  /** Answered creates of `ownerUid` in `ns` the watch has not shown yet (expired ones are dropped). */
  private expectedOf(ns: string, ownerUid: string): PolicyRecord[] {
    const waiting = this.expected.get(ns);
    if (!waiting) return [];
    const out: PolicyRecord[] = [];
    const now = this.now();
    const held = this.index.get(ns)?.byName;
    for (const [name, e] of waiting) {
      if (now - e.since > EXPECTATION_TTL_MS) this.forget(ns, name);
      else if (e.record?.marks.controller === ownerUid && !held?.has(name)) out.push(e.record);
    }
    return out;
  }

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

  /** How many distinct marks the held policies share (about one per intent): what a leak would grow. */
  marksHeld(): number {
    return this.marks.size();
  }

  // ------------------------------------------------------------------ as the informer's Held (./cache.ts)

  keep(o: KubeObject): PolicyRecord {
    return o instanceof PolicyRecord ? o : recordOf(asPolicy(o), (m) => this.marks.shared(m));
  }

  get(key: string): PolicyRecord | undefined;
  get(namespace: string, name: string): PolicyRecord | undefined;
  get(a: string, b?: string): PolicyRecord | undefined {
    const { namespace, name } = b === undefined ? parseKey(a) : { namespace: a, name: b };
    const ns = this.index.get(namespace);
    const packed = ns?.byName.get(name);
    return ns && packed !== undefined ? this.record(ns, name, packed) : undefined;
  }

  set(_key: string, kept: KubeObject): void {
    this.put(this.keep(kept));
  }

  delete(key: string): void {
    const { namespace, name } = parseKey(key);
    this.forget(namespace, name);
    const ns = this.index.get(namespace);
    if (ns) this.remove(ns, name);
  }

  *entries(): IterableIterator<[string, KubeObject]> {
    for (const r of this.values()) yield [objectKey(r), r];
  }

  *values(): IterableIterator<PolicyRecord> {
    for (const ns of this.index.values()) yield* this.records(ns);
  }

  /** A complete list has been held: from now on the store answers. */
  listed(): void {
    this.synced = true;
  }

  // ------------------------------------------------- as a sink (unit tests, and a store fed on its own)

  /** Only ever called with a complete, successful list: the first call marks the store synced. */
  replace(items: readonly KubeObject[]): void {
    this.index = new Map();
    this.expected.clear();
    this.marks.clear();
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
    const ns = this.index.get(namespace);
    return [...(ns ? this.ownedIn(ns, ownerUid) : []), ...this.expectedOf(namespace, ownerUid)];
  }

  /** The managed policies controlled by `ownerUid` in every namespace this store covers (a baseline's). */
  ownedEverywhere(ownerUid: string): LivePolicy[] {
    if (!this.synced) throw new NotSyncedError('*');
    if (ownerUid === NO_OWNER) return [];
    const held = [...this.index.values()].flatMap((ns) => this.ownedIn(ns, ownerUid));
    return [...held, ...[...this.expected.keys()].flatMap((ns) => this.expectedOf(ns, ownerUid))];
  }

  /** Every managed policy of `namespace` (undefined: of every namespace covered), whoever controls it. */
  inNamespace(namespace: string | undefined): LivePolicy[] {
    if (!this.synced) throw new NotSyncedError(namespace ?? '*');
    if (namespace === undefined) return [...this.values()];
    const ns = this.index.get(namespace);
    return ns ? [...this.records(ns)] : [];
  }

  private ownedIn(ns: InNamespace, ownerUid: string): PolicyRecord[] {
    return (ns.byOwner.get(ownerUid) ?? []).map((name) => this.record(ns, name, ns.byName.get(name) ?? ''));
  }

  private *records(ns: InNamespace): IterableIterator<PolicyRecord> {
    for (const [name, packed] of ns.byName) yield this.record(ns, name, packed);
  }

  private record(ns: InNamespace, name: string, packed: string): PolicyRecord {
    return new PolicyRecord(name, ns.name, packed, this.marks.marks(marksIdOf(packed)));
  }

  // ---------------------------------------------------------------------------------------- writes

  private put(r: PolicyRecord): void {
    this.forget(r.namespace, r.name);
    const id = this.marks.file(r.marks);
    const packed = refiled(r.packed, id);
    let ns = this.index.get(r.namespace);
    const old = ns?.byName.get(r.name);
    if (old === packed) {
      this.marks.release(id);
      return;
    }
    if (ns && old !== undefined) this.remove(ns, r.name);
    ns = this.index.get(r.namespace);
    if (!ns) this.index.set(r.namespace, (ns = { name: r.namespace, byName: new Map(), byOwner: new Map() }));
    ns.byName.set(r.name, packed);
    const owner = this.marks.marks(id).controller;
    // A new array of exactly the right length: push() would leave room for 17 where an intent has 10.
    ns.byOwner.set(owner, [...(ns.byOwner.get(owner) ?? []), r.name]);
    this.count++;
  }

  private remove(ns: InNamespace, name: string): void {
    this.forget(ns.name, name);
    const packed = ns.byName.get(name);
    if (packed === undefined) return;
    ns.byName.delete(name);
    const id = marksIdOf(packed);
    const owner = this.marks.marks(id).controller;
    const owned = (ns.byOwner.get(owner) ?? []).filter((n) => n !== name);
    if (owned.length === 0) ns.byOwner.delete(owner);
    else ns.byOwner.set(owner, owned);
    if (ns.byName.size === 0) this.index.delete(ns.name);
    this.marks.release(id);
    this.count--;
  }
}

/** `share` may swap the fresh marks for an equal object already made (MarksTable.shared). */
function recordOf(p: NetworkPolicy, share: (m: Marks) => Marks = (m) => m): PolicyRecord {
  const m = p.metadata;
  const hash = specHash(p);
  return new PolicyRecord(m.name ?? '', m.namespace ?? '', pack(UNFILED, m.uid, m.resourceVersion, hash), share(marksOf(m, hash)));
}

/** A live policy as the store keeps it (for one read from the apiserver, e.g. a create that found the name taken). */
export function livePolicyOf(p: NetworkPolicy): LivePolicy {
  return recordOf(p);
}

/** This store is fed by a watch of networkpolicies only: what it gets are NetworkPolicies. */
function asPolicy(o: KubeObject): NetworkPolicy {
  return o as unknown as NetworkPolicy;
}

/** Routes reads to the store whose watch covers the namespace (one per --namespaces entry, or one for all). */
export class PolicyCache implements PolicyReader, CreateExpectations {
  private readonly stores: PolicyStore[] = [];

  add(store: PolicyStore): void {
    this.stores.push(store);
  }

  expectCreate(p: NetworkPolicy): void {
    this.stores.find((s) => s.covering(p.metadata.namespace ?? ''))?.expectCreate(p);
  }

  createAnswered(p: NetworkPolicy, stored: NetworkPolicy | undefined): void {
    this.stores.find((s) => s.covering(p.metadata.namespace ?? ''))?.createAnswered(p, stored);
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
