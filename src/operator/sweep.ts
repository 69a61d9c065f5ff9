/**
 * The periodic full pass: re-enqueue every intent (level-based recovery from anything a watch missed) and delete
 * orphaned managed policies the garbage collector can't see (no ownerReference).
 *
 * Order matters: policies are listed BEFORE intents. A policy is only ever created after its intent exists, so
 * any intent a listed policy belongs to is in the later intent list, unless it was deleted in between (then the
 * policy is an orphan indeed). The other order would sweep the fresh policies of an intent created between the
 * two lists, opening its pods for a moment.
 * Every list is complete or throws (src/kube paginates all-or-nothing): a failed list sweeps nothing.
 */
import type { Logger } from 'winston';
import type { SegmentationIntent } from '../intent/types';
import type { NetworkPolicy } from '../model/kubernetes';
import { WriteReason } from './audit';
import type { WriteCause } from './audit';
import { MANAGED_SELECTOR, controllerUid, objectKey, ownerKey, parseKey } from './ownership';
import { orphans } from './plan';

export interface SweepApi {
  listIntents(namespace?: string): Promise<SegmentationIntent[]>;
  listPolicies(namespace: string | undefined, labelSelector: string): Promise<NetworkPolicy[]>;
  deletePolicy(p: Pick<NetworkPolicy, 'metadata'>, why: WriteCause): Promise<void>;
}

/** Returns the number of orphans deleted. `namespaces`: undefined entry = cluster-wide. */
export async function resyncAndSweep(
  api: SweepApi,
  namespaces: readonly (string | undefined)[],
  h: { enqueue(key: string): void; log: Logger },
): Promise<number> {
  const managed = (await Promise.all(namespaces.map((ns) => api.listPolicies(ns, MANAGED_SELECTOR)))).flat();
  const intents = (await Promise.all(namespaces.map((ns) => api.listIntents(ns)))).flat();
  for (const i of intents) h.enqueue(objectKey(i));
  const live = intents.map((i) => ({ namespace: i.metadata.namespace ?? '', name: i.metadata.name ?? '', uid: i.metadata.uid ?? '' }));
  const doomed = orphans(managed, live);
  for (const p of doomed) await api.deletePolicy(p, orphanCause(p, h.log));
  return doomed.length;
}

/** An orphan's intent, for the audit line: its former controller (name and uid from the ownerReference). */
function orphanCause(p: NetworkPolicy, log: Logger): WriteCause {
  const intent = { ...parseKey(ownerKey(p) ?? `${p.metadata.namespace ?? ''}/`), uid: controllerUid(p) };
  return { reason: WriteReason.OrphanSwept, intent, log };
}
