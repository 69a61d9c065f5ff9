/**
 * The audit trail: one structured info line for every write the operator makes, so that a SIEM can keep what
 * Events (expired after an hour) can't. Written by the write guard (./writes.ts), the one place every write
 * passes; the caller (reconcile, the sweep) says why, because only it knows.
 *
 * A record names the object and the intent it was written for, never a spec or a credential: the line is
 * safe to ship anywhere the operator's logs go. docs/operator.md ("Audit trail") describes the fields.
 */
import type { Logger } from 'winston';

/** Why a write was made: the reason field of an audit record. */
export const WriteReason = {
  /** A policy the intent asks for did not exist. */
  Created: 'created',
  /** The intent's spec changed: a policy rewritten to the new form, or one it no longer asks for deleted. */
  IntentChanged: 'intent changed',
  /** A policy was edited or deleted out of band and is put back as the intent says. */
  DriftRestored: 'drift restored',
  /** A managed policy whose intent no longer exists (by uid), deleted by the periodic sweep. */
  OrphanSwept: 'orphan swept',
  /** The intent's status subresource (conditions, policies, counts) changed. */
  StatusChanged: 'status changed',
  /** A Kubernetes Event recorded on the intent. */
  EventRecorded: 'event recorded',
} as const;
export type WriteReason = (typeof WriteReason)[keyof typeof WriteReason];

/** What the caller knows of a write: why, and for which intent. */
export interface WriteCause {
  readonly reason: WriteReason;
  /** The intent the write is for (an orphan's: its former controller, from its ownerReference). */
  readonly intent: { readonly namespace: string; readonly name: string; readonly uid?: string };
  /** The logger to write the record with (reconcile's carries its key and reconcileId); else the operator's. */
  readonly log?: Logger;
}

export type AuditVerb = 'create' | 'update' | 'delete';

/** One audit line's fields (besides winston's level, message, timestamp and the logger's defaultMeta). */
export interface AuditRecord {
  readonly audit: 'write';
  readonly verb: AuditVerb;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly intent: string;
  readonly intentUid?: string;
  readonly reason: WriteReason;
  /** create/update: the version the apiserver stored; delete: the version that was deleted. */
  readonly resourceVersion?: string;
  readonly outcome: 'ok' | 'failed';
  /** On failure: the HTTP code (0: no answer) and the apiserver's reason. */
  readonly code?: number;
  readonly error?: string;
}

/** The message every audit line carries, so that a log pipeline can route on it alone. */
export const AUDIT_MESSAGE = 'netseg write';

export interface WriteTarget {
  readonly verb: AuditVerb;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export function auditRecord(t: WriteTarget, why: WriteCause, result: { resourceVersion?: string } | { error: unknown }): AuditRecord {
  const intent = `${why.intent.namespace}/${why.intent.name}`;
  const base = { audit: 'write' as const, ...t, intent, ...(why.intent.uid ? { intentUid: why.intent.uid } : {}), reason: why.reason };
  if ('error' in result) {
    const e = result.error as { code?: unknown; reason?: unknown };
    const code = typeof e?.code === 'number' ? e.code : undefined;
    const error = typeof e?.reason === 'string' ? e.reason : String(result.error);
    return { ...base, outcome: 'failed', ...(code !== undefined ? { code } : {}), error };
  }
  return { ...base, ...(result.resourceVersion ? { resourceVersion: result.resourceVersion } : {}), outcome: 'ok' };
}

export function logWrite(log: Logger, rec: AuditRecord): void {
  log.info(AUDIT_MESSAGE, rec);
}

/** The resourceVersion of what a write returned, when it returned an object. */
export function storedVersion(stored: unknown): string | undefined {
  const rv = (stored as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}
