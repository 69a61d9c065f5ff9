/**
 * The periodic full pass: re-enqueue every intent (level-based recovery from anything a watch missed) and delete
 * orphaned managed policies the garbage collector can't see (no ownerReference).
 *
 * It reads the shared cache, not fresh lists (issue 17: at start, a second list of every policy next to the
 * watch's own doubled the operator's peak memory): the managed policies from the policy store, the intents from
 * the intent informers. Two caches are two snapshots taken at different moments, so "no live intent in the cache"
 * proves nothing (an intent and its policies just created, the policy event first): each candidate orphan is
 * confirmed by a GET of its controller intent from the apiserver, and swept only if that intent is gone or is
 * another incarnation (another uid). A uid never comes back, so once confirmed, the policy is an orphan for good.
 * A failed GET throws: nothing more is swept in this pass. The delete carries a uid precondition.
 */
import type { Logger } from 'winston';
import type { SegmentationIntent } from '../intent/types';
import type { NetworkPolicy, ObjectMeta } from '../model/kubernetes';
import { intentControllerRef } from '../compile';
import { WriteReason } from './audit';
import type { WriteCause } from './audit';
import { controllerUid, objectKey, ownerKey, parseKey } from './ownership';
import { orphans } from './plan';

type Swept = Pick<NetworkPolicy, 'metadata'>;

export interface SweepApi {
  /** The managed policies of the namespaces swept (the policy store; complete once it has listed). */
  managed(): Promise<readonly Swept[]>;
  /** The intents the cache holds in those namespaces: each is re-enqueued. */
  intents(): Promise<readonly { readonly metadata?: ObjectMeta }[]>;
  /** From the apiserver: the controller intent of a candidate orphan, to confirm it is gone. */
  getIntent(namespace: string, name: string): Promise<SegmentationIntent | undefined>;
  deletePolicy(p: Swept, why: WriteCause): Promise<void>;
}

/** Returns the number of orphans deleted. Without `enqueue`, intents are not re-enqueued (the pass at start). */
export async function resyncAndSweep(api: SweepApi, h: { enqueue?: (key: string) => void; log: Logger }): Promise<number> {
  const managed = await api.managed();
  const intents = await api.intents();
  if (h.enqueue) for (const i of intents) h.enqueue(objectKey(i));
  const live = intents.map((i) => ({ namespace: i.metadata?.namespace ?? '', name: i.metadata?.name ?? '', uid: i.metadata?.uid ?? '' }));
  const confirmed = new Map<string, SegmentationIntent | undefined>();
  let swept = 0;
  for (const p of orphans(managed, live)) {
    if (!(await isOrphan(p, api, confirmed))) continue;
    await api.deletePolicy(p, orphanCause(p, h.log));
    swept++;
  }
  return swept;
}

/** The candidate's controller intent, read from the apiserver (once per intent per pass), does not own it. */
async function isOrphan(p: Swept, api: SweepApi, confirmed: Map<string, SegmentationIntent | undefined>): Promise<boolean> {
  const namespace = p.metadata.namespace ?? '';
  const name = intentControllerRef(p)?.name ?? '';
  const key = `${namespace}/${name}`;
  if (!confirmed.has(key)) confirmed.set(key, await api.getIntent(namespace, name));
  const intent = confirmed.get(key);
  const live = intent ? [{ namespace, name, uid: intent.metadata.uid ?? '' }] : [];
  return orphans([p], live).length === 1;
}

/** An orphan's intent, for the audit line: its former controller (name and uid from the ownerReference). */
function orphanCause(p: Swept, log: Logger): WriteCause {
  const intent = { ...parseKey(ownerKey(p) ?? `${p.metadata.namespace ?? ''}/`), uid: controllerUid(p) };
  return { reason: WriteReason.OrphanSwept, intent, log };
}
