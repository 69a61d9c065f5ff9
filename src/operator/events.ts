/**
 * The one builder of the Events a reconcile records about what it did (PolicyCreated, PolicyUpdated,
 * PolicyDeleted, DriftCorrected), for intents (./reconcile.ts) and baselines (./baseline.ts) alike, and the one
 * way they are sent. An Event names at most EVENT_NAMES objects and counts the rest: a baseline may write a
 * thousand policies in one pass, and an Event's size must not grow with that.
 */
import type { Logger } from 'winston';
import type { EventObject } from '../kube/client';
import type { WriteCause } from './audit';
import { EventReason } from './reasons';
import type { StatusEvent } from './status';

/** Names listed in one Event message; the rest are counted. */
export const EVENT_NAMES = 10;

/** What one reconcile did, by name (`name` for an intent's policies, `namespace/name` for a baseline's). */
export interface Actions {
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly deleted: readonly string[];
  /** Updated or re-created because someone changed or deleted them by hand. */
  readonly drifted: readonly string[];
}

/** `created 12 NetworkPolicies: a, b, …(10 names), and 2 more` (sorted, so the same work gives the same message). */
export function namesMessage(verb: string, names: readonly string[]): string {
  const sorted = [...names].sort();
  const more = sorted.length > EVENT_NAMES ? `, and ${sorted.length - EVENT_NAMES} more` : '';
  return `${verb} ${sorted.length} NetworkPolicies: ${sorted.slice(0, EVENT_NAMES).join(', ')}${more}`;
}

export function actionEvents(a: Actions): StatusEvent[] {
  const events: StatusEvent[] = [];
  if (a.created.length) events.push({ type: 'Normal', reason: EventReason.PolicyCreated, message: namesMessage('created', a.created) });
  if (a.updated.length) events.push({ type: 'Normal', reason: EventReason.PolicyUpdated, message: namesMessage('updated', a.updated) });
  if (a.deleted.length) events.push({ type: 'Normal', reason: EventReason.PolicyDeleted, message: namesMessage('deleted', a.deleted) });
  if (a.drifted.length) events.push({ type: 'Warning', reason: EventReason.DriftCorrected, message: namesMessage('restored out-of-band changes to', a.drifted) });
  return events;
}

/** Where an Event goes: the owner's createEvent (through the write guard, with the audit cause). */
export interface EventSink {
  createEvent(e: EventObject, why: WriteCause): Promise<unknown>;
}

/** Events are best-effort, as client-go's recorder makes them: a failed Event never fails a reconcile. */
export async function emitEvent(kube: EventSink, involved: EventObject['involved'], e: StatusEvent, at: { now: Date; why: WriteCause; log: Logger }): Promise<void> {
  await kube.createEvent({ involved, ...e, now: at.now }, at.why).catch((err: unknown) => at.log.warn('could not record event', { reason: e.reason, error: String(err) }));
}
