/**
 * What the baseline controller watches, and which baselines each event concerns:
 *  - ClusterSegmentationIntents: their own key ("/name") when uid, generation, labels or deletion changed;
 *  - managed NetworkPolicies controlled by a baseline: that baseline's key (a hand edit or delete is restored);
 *  - Namespaces, from the shared cache: a namespace created, deleted, relabelled or set terminating enqueues
 *    every baseline whose namespaceSelector matches its labels before OR after the change (one that starts
 *    matching gets its policies, one that stops loses them). The selectors come from a sink on the baseline
 *    informer (the cache keeps only metadata), parsed once per baseline change.
 * And the periodic sweep of policies whose baseline is gone (the garbage collector normally removes them).
 */
import type { Logger } from 'winston';
import { baselineControllerRef, isManaged } from '../compile';
import { validateBaseline } from '../intent';
import type { LabelSelector, KubeObject, NetworkPolicy } from '../model/kubernetes';
import { matchesSelector } from '../reach/selector';
import type { WatchEventType } from '../kube/watch';
import type { CacheEvent, ObjectSink } from './cache';
import type { KeyMapper, Predicate } from './controller';
import { MANAGED_SELECTOR } from './ownership';

/** The work-queue key of a cluster-scoped baseline: objectKey's spelling with an empty namespace. */
export function baselineKey(name: string): string {
  return `/${name}`;
}

/**
 * name → the baseline's namespaceSelector, or `undefined` when its spec doesn't validate (then every namespace
 * event enqueues it: its reconcile reports the problem and keeps what it owns).
 */
export class BaselineSelectors implements ObjectSink {
  private readonly byName = new Map<string, LabelSelector | undefined>();

  replace(items: readonly KubeObject[]): void {
    this.byName.clear();
    for (const o of items) this.apply('ADDED', o);
  }

  apply(type: WatchEventType, o: KubeObject): void {
    const name = o.metadata?.name ?? '';
    if (type === 'DELETED') {
      this.byName.delete(name);
      return;
    }
    const v = validateBaseline(o);
    this.byName.set(name, v.ok ? v.baseline.namespaceSelector : undefined);
  }

  /** Keys of the baselines that select (or may select) a namespace with any of these label sets. */
  selecting(labelSets: readonly Readonly<Record<string, string>>[]): string[] {
    const out: string[] = [];
    for (const [name, selector] of this.byName) {
      if (!selector || labelSets.some((labels) => matchesSelector(selector, labels))) out.push(baselineKey(name));
    }
    return out;
  }
}

function labelsOf(o: KubeObject | undefined): Readonly<Record<string, string>> | undefined {
  if (!o) return undefined;
  const name = o.metadata?.name ?? '';
  return { ...(o.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': name };
}

/** Added, deleted, relabelled, or set terminating: what can change a namespace's membership. */
export const namespaceChanged: Predicate = (e) => {
  if (e.type !== 'MODIFIED' || !e.old) return true;
  const mark = (o: KubeObject): string => JSON.stringify([o.metadata?.labels ?? {}, o.metadata?.deletionTimestamp ?? null]);
  return mark(e.old) !== mark(e.object);
};

/** The baselines selecting the namespace before or after the event. */
export function baselinesSelecting(selectors: BaselineSelectors): KeyMapper {
  return (e: CacheEvent) => {
    const sets = [labelsOf(e.object), labelsOf(e.old)].filter((l): l is Readonly<Record<string, string>> => l !== undefined);
    return selectors.selecting(sets);
  };
}

/** Only policies whose controller is a baseline. */
export const controlledByBaseline: Predicate = (e) => baselineControllerRef(e.object as unknown as NetworkPolicy) !== undefined;

/** The baseline that controls a policy (Owns()). */
export const baselineOwner: KeyMapper = (e) => {
  const ref = baselineControllerRef(e.object as unknown as NetworkPolicy);
  return ref ? [baselineKey(ref.name)] : [];
};

// ------------------------------------------------------------------------------------------------ sweep

export interface BaselineSweepApi {
  listBaselines(): Promise<{ metadata: { name?: string; uid?: string } }[]>;
  /** The managed policies of a namespace (undefined: all): the policy store, or a list by MANAGED_SELECTOR. */
  listPolicies(namespace: string | undefined, labelSelector: string): Promise<readonly Pick<NetworkPolicy, 'metadata'>[]>;
  deletePolicy(p: Pick<NetworkPolicy, 'metadata'>): Promise<void>;
}

/**
 * Re-enqueue every baseline and delete managed policies whose controller is a baseline uid no longer live.
 * Policies are listed BEFORE baselines (as ./sweep.ts does for intents): a policy is only created after its
 * baseline exists, so a live owner is always in the later list. Every list is complete or throws.
 */
export async function resyncBaselines(
  api: BaselineSweepApi,
  namespaces: readonly (string | undefined)[],
  h: { enqueue(key: string): void; log: Logger },
): Promise<number> {
  const managed = (await Promise.all(namespaces.map((ns) => api.listPolicies(ns, MANAGED_SELECTOR)))).flat();
  const baselines = await api.listBaselines();
  for (const b of baselines) h.enqueue(baselineKey(b.metadata.name ?? ''));
  const live = new Set(baselines.map((b) => b.metadata.uid ?? ''));
  const doomed = managed.filter((p) => {
    const ref = isManaged(p) ? baselineControllerRef(p) : undefined;
    return ref !== undefined && ref.uid !== '' && !live.has(ref.uid);
  });
  for (const p of doomed) {
    await api.deletePolicy(p);
    h.log.info('swept orphaned baseline policy', { namespace: p.metadata.namespace, name: p.metadata.name });
  }
  return doomed.length;
}
