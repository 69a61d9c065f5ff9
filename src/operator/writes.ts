/**
 * The write side of the operator's API access, as reconcile and the sweep see it, for intents (guardWrites) and
 * baselines (guardBaselineWrites) alike; every write passes here:
 *  - only the leader writes: each write checks, so a reconcile in flight when the lease is lost writes nothing more;
 *  - policy writes are remembered (./echo.ts) so that their watch echo enqueues nothing;
 *  - every write sent is logged (./audit.ts), with the reason its caller gives, succeeded or failed.
 */
import type { Logger } from 'winston';
import type { NetworkPolicy } from '../model/kubernetes';
import type { Kube } from '../kube/client';
import { KIND_BASELINE, KIND_INTENT, KIND_POLICY } from '../kube/client';
import { ApiError } from '../kube/errors';
import { auditRecord, logWrite, storedVersion } from './audit';
import type { WriteCause, WriteTarget } from './audit';
import type { OwnWrites } from './echo';
import type { CreateExpectations } from './store';
import { EventRecorder } from './event-recorder';
import type { EventWrites } from './event-recorder';
import { ownerKey } from './ownership';
import type { KubeApi } from './reconcile';
import type { BaselineKube } from './baseline';

/** What the operator calls on the apiserver (a FakeKube implements it in tests). */
export type OperatorKube = Pick<
  Kube,
  | 'getIntent'
  | 'getPolicy'
  | 'createPolicy'
  | 'replacePolicy'
  | 'deletePolicy'
  | 'replaceIntentStatus'
  | 'createEvent'
  | 'replaceEvent'
  | 'listIntents'
  | 'listPolicies'
  | 'getBaseline'
  | 'listBaselines'
  | 'replaceBaselineStatus'
>;

export interface EchoFilter {
  readonly writes: OwnWrites;
  /** An event held while the write was in flight turned out not to be its echo. */
  enqueue(key: string): void;
  /** The owner's key of a written policy (default: its intent's, ownerKey). */
  readonly keyOf?: (p: NetworkPolicy) => string | undefined;
  /** The policy store, told of each create until its watch event arrives (./store.ts, CreateExpectations). */
  readonly creates?: CreateExpectations;
}

function target(verb: WriteTarget['verb'], kind: string, o: { readonly metadata: { readonly namespace?: string; readonly name?: string } }): WriteTarget {
  return { verb, kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' };
}

/** What the intents' guarded writes call. */
type IntentKube = Pick<OperatorKube, 'getIntent' | 'getPolicy' | 'createPolicy' | 'replacePolicy' | 'deletePolicy' | 'replaceIntentStatus' | 'createEvent' | 'replaceEvent'>;
/** What the baselines' guarded writes call. */
type BaselineOperatorKube = Pick<OperatorKube, 'getBaseline' | 'getPolicy' | 'createPolicy' | 'replacePolicy' | 'deletePolicy' | 'replaceBaselineStatus' | 'createEvent' | 'replaceEvent'>;

type AuditedWrite = <T>(t: WriteTarget, why: WriteCause, f: () => Promise<T>, version: (r: T) => string | undefined) => Promise<T>;

/** Leader check, the write, its audit line; `version` says which resourceVersion the record carries. */
function auditedWrite(leading: () => boolean, log: Logger): AuditedWrite {
  return async (t, why, f, version) => {
    if (!leading()) throw new ApiError(0, 'NotLeader', { verb: t.verb, kind: t.kind }, { detail: 'this replica does not hold the leader lease' });
    const out = why.log ?? log;
    try {
      const r = await f();
      logWrite(out, auditRecord(t, why, { resourceVersion: version(r) }));
      return r;
    } catch (e) {
      logWrite(out, auditRecord(t, why, { error: e }));
      throw e;
    }
  };
}

/** The policy writes and Events, the same for intents and baselines (echo-tracked, audited, leader only). */
function policyWrites(kube: Pick<OperatorKube, 'createPolicy' | 'replacePolicy' | 'deletePolicy' | 'createEvent' | 'replaceEvent'>, own: EchoFilter, write: AuditedWrite): Pick<KubeApi, 'createPolicy' | 'replacePolicy' | 'deletePolicy' | 'createEvent'> {
  // A repeated Event updates the one recorded (./event-recorder.ts); the audit line says which write was sent.
  const events = new EventRecorder();
  const eventWrites = (why: WriteCause): EventWrites => ({
    create: (e) => write(target('create', 'Event', e.involved), why, () => kube.createEvent(e), () => undefined),
    update: (r, e) => write(target('update', 'Event', e.involved), why, () => kube.replaceEvent(r, e), () => undefined),
  });
  return {
    createPolicy: (p, why) => write(target('create', KIND_POLICY, p), why, () => expected(p, own.creates, () => tracked(p, own, () => kube.createPolicy(p))), storedVersion),
    replacePolicy: (p, why) => write(target('update', KIND_POLICY, p), why, () => tracked(p, own, () => kube.replacePolicy(p)), storedVersion),
    // A delete answers with a Status, not the object: the record carries the version that was deleted.
    deletePolicy: (p, why) => write(target('delete', KIND_POLICY, p), why, () => kube.deletePolicy(p), () => p.metadata.resourceVersion),
    // The Event's own name is generated in src/kube: the record names the object it is about.
    createEvent: (e, why) => events.record(e, eventWrites(why)),
  };
}

export function guardWrites(kube: IntentKube, leading: () => boolean, own: EchoFilter, log: Logger): KubeApi {
  const write = auditedWrite(leading, log);
  return {
    getIntent: (ns, n) => kube.getIntent(ns, n),
    getPolicy: (ns, n) => kube.getPolicy(ns, n),
    ...policyWrites(kube, own, write),
    replaceIntentStatus: (i, s, why) => write(target('update', `${KIND_INTENT}/status`, i), why, () => kube.replaceIntentStatus(i, s), storedVersion),
  };
}

/** The baseline controller's writes: the same guard, so every baseline write is an audit record too. */
export function guardBaselineWrites(kube: BaselineOperatorKube, leading: () => boolean, own: EchoFilter, log: Logger): BaselineKube {
  const write = auditedWrite(leading, log);
  return {
    getBaseline: (n) => kube.getBaseline(n),
    getPolicy: (ns, n) => kube.getPolicy(ns, n),
    ...policyWrites(kube, own, write),
    replaceBaselineStatus: (b, s, why) => write(target('update', `${KIND_BASELINE}/status`, b), why, () => kube.replaceBaselineStatus(b, s), storedVersion),
  };
}

/** A create the policy store stands in for until its watch event arrives. */
async function expected(p: NetworkPolicy, creates: CreateExpectations | undefined, create: () => Promise<NetworkPolicy | undefined>): Promise<NetworkPolicy | undefined> {
  creates?.expectCreate(p);
  let stored: NetworkPolicy | undefined;
  try {
    stored = await create();
  } finally {
    creates?.createAnswered(p, stored);
  }
  return stored;
}

/** A policy write whose watch echo will be recognised (./echo.ts); returns the object as stored. */
export async function tracked(p: NetworkPolicy, own: EchoFilter, write: () => Promise<NetworkPolicy>): Promise<NetworkPolicy | undefined> {
  let stored: NetworkPolicy | undefined;
  own.writes.begin(p);
  try {
    stored = await write();
  } finally {
    const key = own.writes.end(p, stored) ? (own.keyOf ?? ownerKey)(p) : undefined;
    if (key) own.enqueue(key);
  }
  return stored;
}
