/**
 * The typed slice of the Kubernetes API that netseg's operator uses, over client-node 0.20's positional calls.
 * Every call: (1) is counted by verb and HTTP code through the injected observer (metrics, and the tests'
 * write counter), (2) rethrows failures as ApiError, (3) returns plain JSON shapes from src/model, never
 * client-node's classes (whose Dates and undefined-valued keys would upset comparisons).
 */
import * as k8s from '@kubernetes/client-node';
import type { NetworkPolicy } from '../model/kubernetes';
import type { SegmentationIntent, SegmentationIntentStatus } from '../intent/types';
import type { ClusterSegmentationIntent, ClusterSegmentationIntentStatus } from '../intent/baseline';
import { CLUSTER_KIND, CLUSTER_PLURAL } from '../intent/baseline';
import { GROUP, PLURAL, VERSION } from '../intent/types';
import { ApiError, codeLabel, isNotFound, toApiError } from './errors';
import type { ApiErrorContext, Verb } from './errors';

export type ApiObserver = (verb: Verb, resource: string, code: string) => void;

export const FIELD_MANAGER = 'netseg-operator';
const PAGE = 500;

export interface LeaseObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface EventObject {
  /** A SegmentationIntent, or a cluster-scoped ClusterSegmentationIntent (its Events go to namespace default). */
  readonly involved: SegmentationIntent | ClusterSegmentationIntent;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly now: Date;
}

/** An Event as recorded: enough to update it when it repeats. */
export interface RecordedEvent {
  readonly name: string;
  readonly namespace: string;
  readonly resourceVersion?: string;
  readonly count: number;
  readonly firstTimestamp: Date;
}

function eventBody(e: EventObject, r: Omit<RecordedEvent, 'resourceVersion'> & { resourceVersion?: string }): k8s.CoreV1Event {
  const { name = '', namespace: involvedNamespace, uid, resourceVersion } = e.involved.metadata;
  return {
    metadata: { name: r.name, namespace: r.namespace, resourceVersion: r.resourceVersion },
    involvedObject: { apiVersion: e.involved.apiVersion, kind: e.involved.kind, name, namespace: involvedNamespace || undefined, uid, resourceVersion },
    type: e.type,
    reason: e.reason,
    message: e.message.slice(0, 1024),
    source: { component: FIELD_MANAGER },
    reportingComponent: FIELD_MANAGER,
    count: r.count,
    firstTimestamp: r.firstTimestamp,
    lastTimestamp: e.now,
  };
}

function keepAlive(options: { forever?: boolean }): void {
  options.forever = true;
}

/**
 * `api` with its connections kept alive: client-node 0.20's `request` opens a new TLS connection per call unless
 * told otherwise, and at thousands of calls the handshakes dominate (on both sides). Exported for the benchmarks'
 * floor writer, which must be at least as fast a client as the operator.
 */
export function keptAlive<T extends { addInterceptor(i: (options: { forever?: boolean }) => void): void }>(api: T): T {
  api.addInterceptor(keepAlive);
  return api;
}

/**
 * NetworkPolicies are read and written through the custom-objects client, as plain JSON both ways: the typed
 * client's ObjectSerializer walk of each body and answer, and the copy back to plain JSON, were 0.75 s of the
 * operator's 10 s of CPU for 500 intents' first apply (a CPU profile; issue 17), CPU that on a small control
 * plane is taken from the apiserver.
 */
const [POLICY_GROUP, POLICY_VERSION, POLICY_PLURAL] = ['networking.k8s.io', 'v1', 'networkpolicies'] as const;

function plain<T>(x: unknown): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

export function isWrite(verb: Verb): boolean {
  return verb === 'create' || verb === 'update' || verb === 'patch' || verb === 'delete';
}

export class Kube {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;
  private readonly coord: k8s.CoordinationV1Api;

  constructor(
    readonly kc: k8s.KubeConfig,
    private readonly observe: ApiObserver = () => undefined,
  ) {
    this.custom = keptAlive(kc.makeApiClient(k8s.CustomObjectsApi));
    this.core = keptAlive(kc.makeApiClient(k8s.CoreV1Api));
    this.coord = keptAlive(kc.makeApiClient(k8s.CoordinationV1Api));
  }

  private async call<T>(ctx: ApiErrorContext, fn: () => Promise<{ body: T; response: { statusCode?: number } }>): Promise<T> {
    try {
      const r = await fn();
      this.observe(ctx.verb, ctx.kind, String(r.response.statusCode ?? 200));
      return r.body;
    } catch (e) {
      const err = toApiError(e, ctx);
      this.observe(ctx.verb, ctx.kind, codeLabel(err));
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------------ intents

  async getIntent(namespace: string, name: string): Promise<SegmentationIntent | undefined> {
    const ctx: ApiErrorContext = { verb: 'get', kind: KIND_INTENT, namespace, name };
    try {
      return (await this.call(ctx, () => this.custom.getNamespacedCustomObject(GROUP, VERSION, namespace, PLURAL, name))) as SegmentationIntent;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Every intent of one namespace (or all): all pages or an error, never a partial list. */
  async listIntents(namespace?: string): Promise<SegmentationIntent[]> {
    const ctx: ApiErrorContext = { verb: 'list', kind: KIND_INTENT, namespace };
    return this.paginate<SegmentationIntent>(ctx, (cont) =>
      namespace
        ? this.custom.listNamespacedCustomObject(GROUP, VERSION, namespace, PLURAL, undefined, undefined, cont, undefined, undefined, PAGE)
        : this.custom.listClusterCustomObject(GROUP, VERSION, PLURAL, undefined, undefined, cont, undefined, undefined, PAGE),
    );
  }

  /** Replaces the status subresource, guarded by the intent's resourceVersion (409 if it changed meanwhile); returns the stored intent. */
  async replaceIntentStatus(intent: SegmentationIntent, status: SegmentationIntentStatus): Promise<SegmentationIntent> {
    const { name = '', namespace = '', resourceVersion } = intent.metadata;
    const ctx: ApiErrorContext = { verb: 'update', kind: `${KIND_INTENT}/status`, namespace, name };
    const body = { apiVersion: intent.apiVersion, kind: intent.kind, metadata: { name, namespace, resourceVersion }, status };
    const stored = await this.call(ctx, () =>
      this.custom.replaceNamespacedCustomObjectStatus(GROUP, VERSION, namespace, PLURAL, name, body, undefined, FIELD_MANAGER),
    );
    return stored as SegmentationIntent;
  }

  // -------------------------------------------------------------------- baselines (ClusterSegmentationIntents)

  async getBaseline(name: string): Promise<ClusterSegmentationIntent | undefined> {
    const ctx: ApiErrorContext = { verb: 'get', kind: KIND_BASELINE, name };
    try {
      return (await this.call(ctx, () => this.custom.getClusterCustomObject(GROUP, VERSION, CLUSTER_PLURAL, name))) as ClusterSegmentationIntent;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Every baseline: all pages or an error, never a partial list. */
  async listBaselines(): Promise<ClusterSegmentationIntent[]> {
    return this.listAll<ClusterSegmentationIntent>(KIND_BASELINE);
  }

  /** Replaces the status subresource, guarded by the baseline's resourceVersion. */
  /** Returns the object as stored (its resourceVersion goes into the audit record). */
  async replaceBaselineStatus(b: ClusterSegmentationIntent, status: ClusterSegmentationIntentStatus): Promise<ClusterSegmentationIntent> {
    const { name = '', resourceVersion } = b.metadata;
    const ctx: ApiErrorContext = { verb: 'update', kind: `${KIND_BASELINE}/status`, name };
    const body = { apiVersion: b.apiVersion, kind: b.kind, metadata: { name, resourceVersion }, status };
    const stored = await this.call(ctx, () => this.custom.replaceClusterCustomObjectStatus(GROUP, VERSION, CLUSTER_PLURAL, name, body, undefined, FIELD_MANAGER));
    return stored as ClusterSegmentationIntent;
  }

  // ------------------------------------------------------------------------------------- NetworkPolicies

  /** By label selector, in one namespace or all; all pages or an error. */
  async listPolicies(namespace: string | undefined, labelSelector: string): Promise<NetworkPolicy[]> {
    const { items } = await this.listForWatch<NetworkPolicy>({ kind: KIND_POLICY, namespace, labelSelector });
    return items.map(withKind);
  }

  async getPolicy(namespace: string, name: string): Promise<NetworkPolicy | undefined> {
    const ctx: ApiErrorContext = { verb: 'get', kind: KIND_POLICY, namespace, name };
    try {
      return withKind((await this.call(ctx, () => this.custom.getNamespacedCustomObject(POLICY_GROUP, POLICY_VERSION, namespace, POLICY_PLURAL, name))) as NetworkPolicy);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Returns the object as stored (its resourceVersion lets the operator recognise its own write's watch event). */
  async createPolicy(p: NetworkPolicy): Promise<NetworkPolicy> {
    const { name, namespace = '' } = p.metadata;
    const ctx: ApiErrorContext = { verb: 'create', kind: KIND_POLICY, namespace, name };
    const body = await this.call(ctx, () => this.custom.createNamespacedCustomObject(POLICY_GROUP, POLICY_VERSION, namespace, POLICY_PLURAL, p, undefined, undefined, FIELD_MANAGER));
    return withKind(body as NetworkPolicy);
  }

  /** PUT with the resourceVersion in `p`: a concurrent change makes it fail with 409 instead of being lost. */
  async replacePolicy(p: NetworkPolicy): Promise<NetworkPolicy> {
    const { name = '', namespace = '' } = p.metadata;
    const ctx: ApiErrorContext = { verb: 'update', kind: KIND_POLICY, namespace, name };
    const body = await this.call(ctx, () => this.custom.replaceNamespacedCustomObject(POLICY_GROUP, POLICY_VERSION, namespace, POLICY_PLURAL, name, p, undefined, FIELD_MANAGER));
    return withKind(body as NetworkPolicy);
  }

  /**
   * Deletes only the very object that was read (uid precondition), so a foreign policy re-created under the
   * same name in between is never deleted. NotFound is success: the goal is reached.
   */
  async deletePolicy(p: Pick<NetworkPolicy, 'metadata'>): Promise<void> {
    const { name = '', namespace = '', uid } = p.metadata;
    const ctx: ApiErrorContext = { verb: 'delete', kind: KIND_POLICY, namespace, name };
    const body: k8s.V1DeleteOptions = uid ? { preconditions: { uid } } : {};
    try {
      await this.call(ctx, () => this.custom.deleteNamespacedCustomObject(POLICY_GROUP, POLICY_VERSION, namespace, POLICY_PLURAL, name, undefined, undefined, undefined, undefined, body));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  // ------------------------------------------------------------------------------------- events, namespaces

  /** Creates the Event; returns what an update of it (./../operator/events.ts, a repeat) needs. */
  async createEvent(e: EventObject): Promise<RecordedEvent> {
    const { name = '', namespace: involvedNamespace } = e.involved.metadata;
    // Events about a cluster-scoped object live in "default", as kubectl describe and client-go's recorder expect.
    const namespace = involvedNamespace || 'default';
    const ctx: ApiErrorContext = { verb: 'create', kind: 'Event', namespace, name };
    const eventName = `${name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
    const body = eventBody(e, { name: eventName, namespace, count: 1, firstTimestamp: e.now });
    const stored = await this.call(ctx, () => this.core.createNamespacedEvent(namespace, body));
    return { name: eventName, namespace, resourceVersion: stored.metadata?.resourceVersion, count: 1, firstTimestamp: e.now };
  }

  /**
   * The same Event again (client-go's recorder): the recorded one's count+1 and lastTimestamp, by an update
   * guarded by its resourceVersion. Returns it as now stored.
   */
  async replaceEvent(recorded: RecordedEvent, e: EventObject): Promise<RecordedEvent> {
    const { name, namespace } = recorded;
    const ctx: ApiErrorContext = { verb: 'update', kind: 'Event', namespace, name };
    const count = recorded.count + 1;
    const body = eventBody(e, { ...recorded, count });
    const stored = await this.call(ctx, () => this.core.replaceNamespacedEvent(name, namespace, body));
    return { ...recorded, resourceVersion: stored.metadata?.resourceVersion, count };
  }

  async listNamespaceNames(labelSelector: string): Promise<string[]> {
    const ctx: ApiErrorContext = { verb: 'list', kind: 'Namespace' };
    // Only the names are read: no copy of the typed items.
    const items = await this.paginate<{ metadata?: { name?: string } }>(ctx, (cont) => this.core.listNamespace(undefined, undefined, cont, undefined, labelSelector, PAGE));
    return items.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
  }

  // -------------------------------------------------------------------------------------------- leases

  async getLease(namespace: string, name: string): Promise<LeaseObject | undefined> {
    const ctx: ApiErrorContext = { verb: 'get', kind: 'Lease', namespace, name };
    try {
      return plain<LeaseObject>(await this.call(ctx, () => this.coord.readNamespacedLease(name, namespace)));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async createLease(lease: LeaseObject): Promise<LeaseObject> {
    const { name, namespace } = lease.metadata;
    const ctx: ApiErrorContext = { verb: 'create', kind: 'Lease', namespace, name };
    return plain<LeaseObject>(await this.call(ctx, () => this.coord.createNamespacedLease(namespace, lease as unknown as k8s.V1Lease)));
  }

  async replaceLease(lease: LeaseObject): Promise<LeaseObject> {
    const { name, namespace } = lease.metadata;
    const ctx: ApiErrorContext = { verb: 'update', kind: 'Lease', namespace, name };
    return plain<LeaseObject>(await this.call(ctx, () => this.coord.replaceNamespacedLease(name, namespace, lease as unknown as k8s.V1Lease)));
  }

  // ---------------------------------------------------------------------------------------------- paging

  private async paginate<T>(ctx: ApiErrorContext, page: PageFn): Promise<T[]> {
    return (await this.paginateWithVersion<T>(ctx, page)).items;
  }

  /**
   * All pages of one consistent snapshot (continue tokens pin the first page's resourceVersion). Pages arrive as
   * plain JSON (the custom-objects client does not deserialize), and are kept as they are: no copy of a whole
   * page (issue 17: a JSON round trip of every page of 30,000 policies at start). Only the core kinds, which
   * client-node turns into classes (Dates, undefined-valued keys), are made plain, one item at a time.
   */
  private async paginateWithVersion<T>(ctx: ApiErrorContext, page: PageFn, typed = false, keep?: (item: T) => T): Promise<{ items: T[]; resourceVersion: string }> {
    const out: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const body = (await this.call(ctx, () => page(cont))) as ListBody<T>;
      if (!Array.isArray(body.items)) throw new ApiError(500, 'MalformedList', ctx, { detail: 'list without items' });
      for (const item of body.items) {
        const plainItem = typed ? plain<T>(item) : item;
        out.push(keep ? keep(plainItem) : plainItem);
      }
      resourceVersion ||= body.metadata?.resourceVersion ?? '';
      cont = continueToken(body);
    } while (cont);
    return { items: out, resourceVersion };
  }

  /** Every object of a kind (listPage's kinds), in one namespace or all: all pages or an ApiError, never a partial list. */
  async listAll<T>(kind: string, namespace?: string): Promise<T[]> {
    return (await this.listForWatch<T>({ kind, namespace })).items;
  }

  /**
   * A list for a watch to start from: the items and the collection's resourceVersion. `keep`, if given, is what
   * is kept of each item, applied as each page arrives: a page's parsed objects are then garbage before the next
   * one is read, instead of every item of every page being held until the last (issue 17: 100,000 policies
   * parsed at once, at a restart, were more than the operator's heap cap).
   */
  async listForWatch<T>(target: { kind: string; namespace?: string; labelSelector?: string }, keep?: (item: T) => T): Promise<{ items: T[]; resourceVersion: string }> {
    const { kind, namespace, labelSelector } = target;
    const ctx: ApiErrorContext = { verb: 'list', kind, namespace };
    return this.paginateWithVersion<T>(ctx, (cont) => this.listPage(target, cont, { namespace, labelSelector }), TYPED_LISTS.has(kind), keep);
  }

  private listPage(target: { kind: string }, cont: string | undefined, o: { namespace?: string; labelSelector?: string }): ReturnType<PageFn> {
    const { namespace: ns, labelSelector: sel } = o;
    switch (target.kind) {
      case KIND_INTENT:
        return ns
          ? this.custom.listNamespacedCustomObject(GROUP, VERSION, ns, PLURAL, undefined, undefined, cont, undefined, sel, PAGE)
          : this.custom.listClusterCustomObject(GROUP, VERSION, PLURAL, undefined, undefined, cont, undefined, sel, PAGE);
      case KIND_POLICY:
        return this.listGroupPage([POLICY_GROUP, POLICY_VERSION, POLICY_PLURAL], cont, o);
      case KIND_BASELINE:
        return this.custom.listClusterCustomObject(GROUP, VERSION, CLUSTER_PLURAL, undefined, undefined, cont, undefined, sel, PAGE);
      case 'Namespace':
        return this.core.listNamespace(undefined, undefined, cont, undefined, sel, PAGE);
      case 'Pod':
        return ns
          ? this.core.listNamespacedPod(ns, undefined, undefined, cont, undefined, sel, PAGE)
          : this.core.listPodForAllNamespaces(undefined, cont, undefined, sel, PAGE);
      default:
        return this.listReferencedPage(target.kind, cont, o);
    }
  }

  /** The kinds an intent may reference (src/resolve): read, never written. */
  private listReferencedPage(kind: string, cont: string | undefined, o: { namespace?: string; labelSelector?: string }): ReturnType<PageFn> {
    const { namespace: ns, labelSelector: sel } = o;
    switch (kind) {
      case 'Service':
        return ns ? this.core.listNamespacedService(ns, undefined, undefined, cont, undefined, sel, PAGE) : this.core.listServiceForAllNamespaces(undefined, cont, undefined, sel, PAGE);
      case 'Deployment':
        return this.listGroupPage(['apps', 'v1', 'deployments'], cont, o);
      case 'StatefulSet':
        return this.listGroupPage(['apps', 'v1', 'statefulsets'], cont, o);
      case 'DaemonSet':
        return this.listGroupPage(['apps', 'v1', 'daemonsets'], cont, o);
      case 'ReplicaSet':
        return this.listGroupPage(['apps', 'v1', 'replicasets'], cont, o);
      case 'Ingress':
        return this.listGroupPage(['networking.k8s.io', 'v1', 'ingresses'], cont, o);
      default:
        return Promise.reject(new Error(`no lister for ${kind}`));
    }
  }

  /**
   * A page of a kind of a named API group, through the custom-objects client: the same request as the typed one
   * (/apis/<group>/<version>/...), answered as plain JSON, where the typed client would build a class per item.
   */
  private listGroupPage(gvr: readonly [string, string, string], cont: string | undefined, o: { namespace?: string; labelSelector?: string }): ReturnType<PageFn> {
    const [group, version, plural] = gvr;
    const { namespace: ns, labelSelector: sel } = o;
    return ns
      ? this.custom.listNamespacedCustomObject(group, version, ns, plural, undefined, undefined, cont, undefined, sel, PAGE)
      : this.custom.listClusterCustomObject(group, version, plural, undefined, undefined, cont, undefined, sel, PAGE);
  }
}

/** The kinds listed through client-node's typed core client (no named group): their items are made plain. */
const TYPED_LISTS: ReadonlySet<string> = new Set(['Namespace', 'Pod', 'Service']);

type PageFn = (cont: string | undefined) => Promise<{ body: unknown; response: { statusCode?: number } }>;

interface ListBody<T> {
  items?: T[];
  /** `continue` in raw JSON (custom objects); `_continue` in client-node's typed lists (V1ListMeta). */
  metadata?: { continue?: string; _continue?: string; resourceVersion?: string };
}

/**
 * The next page's token, wherever client-node put it. Missing it would end a list after its first page and pass
 * a partial list off as complete, which the sweep and the policy store must never see.
 */
function continueToken(body: ListBody<unknown>): string | undefined {
  return body.metadata?.continue || body.metadata?._continue || undefined;
}

export const KIND_INTENT = 'SegmentationIntent';
export const KIND_POLICY = 'NetworkPolicy';
export const KIND_BASELINE = CLUSTER_KIND;

/** Lists omit each item's kind and apiVersion; the model (and compile's output) carries them. */
function withKind(p: NetworkPolicy): NetworkPolicy {
  return { ...p, apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' };
}
