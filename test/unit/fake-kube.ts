/**
 * An in-memory apiserver for the operator's unit tests (reconcile, the sweep, the write guard): writes answer
 * with the object as stored, as src/kube's do, so it also stands in for src/kube's Kube behind guardWrites.
 */
import type { SegmentationIntent, SegmentationIntentStatus } from '../../src/intent/types';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import { ApiError } from '../../src/kube/errors';
import type { EventObject, RecordedEvent } from '../../src/kube/client';
import { MANAGED_SELECTOR, controllerUid } from '../../src/operator/ownership';
import { livePolicyOf } from '../../src/operator/store';
import type { LivePolicy, PolicyReader } from '../../src/operator/store';

function matches(p: NetworkPolicy, selector: string): boolean {
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return p.metadata.labels?.[k ?? ''] === v;
  });
}

/** An in-memory apiserver; as a PolicyReader it is an always up-to-date store (what a synced watch converges to). */
export class FakeKube implements PolicyReader {
  intents = new Map<string, SegmentationIntent>();
  policies = new Map<string, NetworkPolicy>();
  events: string[] = [];
  writes = 0;
  failLists = false;
  failWrites = false;
  failDeletes = false;
  private rv = 1;

  private fail(verb: 'list' | 'create', kind: string): ApiError {
    return new ApiError(500, 'InternalError', { verb, kind }, { detail: 'injected' });
  }

  async getIntent(ns: string, name: string): Promise<SegmentationIntent | undefined> {
    const i = this.intents.get(`${ns}/${name}`);
    return i && (JSON.parse(JSON.stringify(i)) as SegmentationIntent);
  }
  async listIntents(ns?: string): Promise<SegmentationIntent[]> {
    if (this.failLists) throw this.fail('list', 'SegmentationIntent');
    return [...this.intents.values()].filter((i) => !ns || i.metadata.namespace === ns);
  }
  async listPolicies(ns: string | undefined, selector: string): Promise<NetworkPolicy[]> {
    return this.select(ns, selector);
  }
  hasSynced(): boolean {
    return true;
  }
  owned(ns: string, ownerUid: string): LivePolicy[] {
    return this.select(ns, MANAGED_SELECTOR).filter((p) => controllerUid(p) === ownerUid).map(livePolicyOf);
  }
  private select(ns: string | undefined, selector: string): NetworkPolicy[] {
    if (this.failLists) throw this.fail('list', 'NetworkPolicy');
    return [...this.policies.values()].filter((p) => (!ns || p.metadata.namespace === ns) && matches(p, selector)).map((p) => JSON.parse(JSON.stringify(p)) as NetworkPolicy);
  }
  async getPolicy(ns: string, name: string): Promise<NetworkPolicy | undefined> {
    const p = this.policies.get(`${ns}/${name}`);
    return p && (JSON.parse(JSON.stringify(p)) as NetworkPolicy);
  }
  private write(): void {
    if (this.failWrites) throw this.fail('create', 'NetworkPolicy');
    this.writes++;
  }
  async createPolicy(p: NetworkPolicy): Promise<NetworkPolicy> {
    this.write();
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    if (this.policies.has(key)) throw new ApiError(409, 'AlreadyExists', { verb: 'create', kind: 'NetworkPolicy' }, { detail: 'exists' });
    return this.store(key, { ...p, metadata: { ...p.metadata, uid: `u${this.rv}`, resourceVersion: String(this.rv++) } });
  }
  private store(key: string, p: NetworkPolicy): NetworkPolicy {
    this.policies.set(key, p);
    return JSON.parse(JSON.stringify(p)) as NetworkPolicy;
  }
  /** As the apiserver: a stale resourceVersion is a 409 Conflict. */
  async replacePolicy(p: NetworkPolicy): Promise<NetworkPolicy> {
    this.write();
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    const cur = this.policies.get(key);
    if (!cur || cur.metadata.resourceVersion !== p.metadata.resourceVersion) throw this.conflict('update');
    return this.store(key, { ...p, metadata: { ...p.metadata, uid: cur.metadata.uid, resourceVersion: String(this.rv++) } });
  }
  /** As the apiserver: the uid precondition must hold; NotFound is success (as src/kube makes it). */
  async deletePolicy(p: Pick<NetworkPolicy, 'metadata'>): Promise<void> {
    this.write();
    if (this.failDeletes) throw new ApiError(500, 'InternalError', { verb: 'delete', kind: 'NetworkPolicy' }, { detail: 'injected' });
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    const cur = this.policies.get(key);
    if (cur && p.metadata.uid && cur.metadata.uid !== p.metadata.uid) throw this.conflict('delete');
    this.policies.delete(key);
  }
  private conflict(verb: 'update' | 'delete'): ApiError {
    return new ApiError(409, 'Conflict', { verb, kind: 'NetworkPolicy' }, { detail: 'stale' });
  }
  async replaceIntentStatus(i: SegmentationIntent, status: SegmentationIntentStatus): Promise<SegmentationIntent> {
    this.writes++;
    const key = `${i.metadata.namespace}/${i.metadata.name}`;
    const cur = this.intents.get(key) as SegmentationIntent;
    const stored = { ...cur, metadata: { ...cur.metadata, resourceVersion: String(this.rv++) }, status };
    this.intents.set(key, stored);
    return JSON.parse(JSON.stringify(stored)) as SegmentationIntent;
  }
  /** Each Event recorded (reason), and each update of one that repeated (reason ×count). */
  async createEvent(e: EventObject): Promise<RecordedEvent> {
    this.events.push(e.reason);
    return { name: `ev-${this.events.length}`, namespace: e.involved.metadata.namespace ?? 'default', resourceVersion: String(this.rv++), count: 1, firstTimestamp: e.now };
  }
  async replaceEvent(r: RecordedEvent, e: EventObject): Promise<RecordedEvent> {
    this.events.push(`${e.reason} x${r.count + 1}`);
    return { ...r, resourceVersion: String(this.rv++), count: r.count + 1 };
  }

  addIntent(spec: SegmentationIntent['spec'], generation = 1): void {
    this.intents.set('shop/shop', { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'shop', namespace: 'shop', uid: 'uid-1', generation }, spec });
  }
  names(): string[] {
    return [...this.policies.values()].map((p) => p.metadata.name ?? '').sort();
  }
  ready(): string | undefined {
    return this.intents.get('shop/shop')?.status?.conditions?.find((c) => c.type === 'Ready')?.reason;
  }
}

