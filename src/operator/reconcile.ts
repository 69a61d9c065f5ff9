/**
 * reconcile(key): level-based, re-reads everything, safe to run any number of times.
 *   gather (intent + the policies it controls, by uid) → plan (pure diff of compile's output) → apply → status.
 * Gather reads the policies from the watch-fed store (./store.ts), never before its first complete list.
 * Safety rules (API.md): an invalid intent keeps what it owns; nothing is deleted unless the list it was
 * computed from succeeded; a policy not owned by this intent (labels + controller ownerReference uid) is never
 * written; creates and updates go before deletes so a change never passes through "fewer policies" (an
 * unselected pod is wide open, so deleting first would briefly allow everything).
 */
import type { Logger } from 'winston';
import { compileChecked } from '../compile';
import { checkIntent, formatIssue } from '../intent';
import { type ClusterObjects, resolveIntent } from '../resolve';
import type { SegmentationIntent, ValidIntent } from '../intent/types';
import type { NetworkPolicy } from '../model/kubernetes';
import { ApiError, isAlreadyExists, isConflict } from '../kube/errors';
import { KIND_POLICY } from '../kube/client';
import type { EventObject } from '../kube/client';
import { WriteReason, storedVersion } from './audit';
import type { WriteCause } from './audit';
import { statusEqual } from './conditions';
import type { IntentStates } from './intent-states';
import { parseKey } from './ownership';
import { diff, isDrift, ownedBy, upToDate, updateBody } from './plan';
import type { IntentRef, Plan } from './plan';
import { EventReason } from './reasons';
import { nextStatus, reconcilingStatus, transitionEvent, uncoveredEvent } from './status';
import type { Outcome, StatusEvent } from './status';
import { NotSyncedError, livePolicyOf } from './store';
import type { LivePolicy, PolicyReader } from './store';

/** The API calls reconcile needs: src/kube's Kube implements it; unit tests may pass an in-memory fake. */
export interface KubeApi {
  getIntent(namespace: string, name: string): Promise<SegmentationIntent | undefined>;
  /** One object straight from the apiserver: only to tell who holds a name a create found taken. */
  getPolicy(namespace: string, name: string): Promise<NetworkPolicy | undefined>;
  // Every write says why (./audit.ts): the write guard (./writes.ts) logs it with that reason.
  createPolicy(p: NetworkPolicy, why: WriteCause): Promise<unknown>;
  replacePolicy(p: NetworkPolicy, why: WriteCause): Promise<unknown>;
  deletePolicy(p: Pick<NetworkPolicy, 'metadata'>, why: WriteCause): Promise<void>;
  replaceIntentStatus(intent: SegmentationIntent, status: NonNullable<SegmentationIntent['status']>, why: WriteCause): Promise<unknown>;
  createEvent(e: EventObject, why: WriteCause): Promise<unknown>;
}

export interface Deps {
  readonly kube: KubeApi;
  /** The policies an intent controls, by uid (the watch-fed store; throws NotSyncedError before it listed). */
  readonly policies: PolicyReader;
  /** The Services, workload objects and Ingresses intents reference (./references.ts; throws NotSyncedError before it listed). */
  readonly objects: ClusterObjects;
  readonly now: () => Date;
  readonly log: Logger;
  readonly onDriftCorrected?: (count: number) => void;
  /**
   * The intent as the watch last saw it (./intent-cache.ts; throws NotSyncedError before its informer listed).
   * Without it, reconcile GETs the intent from the apiserver.
   */
  readonly readIntent?: (namespace: string, name: string) => SegmentationIntent | undefined;
  /** Where each intent's Ready state is kept for the per-intent metric (./intent-states.ts). */
  readonly intents?: Pick<IntentStates, 'set' | 'delete'>;
}

export type ReconcileResult = 'reconciled' | 'gone' | 'invalid' | 'conflict' | 'dryrun';

export interface ReconcileOutcome {
  readonly result: ReconcileResult;
  /** A timed recheck (a name conflict may clear without any event we watch). */
  readonly requeueAfterMs?: number;
}

const CONFLICT_RECHECK_MS = 30_000;

export async function reconcile(key: string, d: Deps): Promise<ReconcileOutcome> {
  const { namespace, name } = parseKey(key);
  // Before any I/O: never act on a store that has not listed yet (it would look like "owns nothing").
  if (!d.policies.hasSynced(namespace)) throw new NotSyncedError(namespace);
  const intent = d.readIntent ? d.readIntent(namespace, name) : await d.kube.getIntent(namespace, name);
  // Gone or going: kube-controller-manager's GC removes owned policies, the sweep catches the rest.
  if (!intent || intent.metadata.deletionTimestamp) {
    d.intents?.delete(namespace, name);
    return { result: 'gone' };
  }
  return reconcileIntent(await markReconciling(intent, d), d);
}

async function reconcileIntent(intent: SegmentationIntent, d: Deps): Promise<ReconcileOutcome> {
  try {
    const outcome = await act(intent, d.policies.owned(intent.metadata.namespace ?? '', intent.metadata.uid ?? ''), d);
    await writeStatus(intent, outcome, d);
    return resultOf(outcome);
  } catch (e) {
    await reportFailure(intent, e, d);
    throw e instanceof PartialApplyError ? e.cause : e;
  }
}

function refOf(intent: SegmentationIntent): IntentRef {
  const { name = '', namespace = '', uid = '' } = intent.metadata;
  return { name, namespace, uid };
}

/** The audit cause of a write for this intent, logged with this reconcile's logger (key, reconcileId). */
function cause(intent: SegmentationIntent, reason: WriteReason, d: Deps): WriteCause {
  return { reason, intent: refOf(intent), log: d.log };
}

async function act(intent: SegmentationIntent, current: readonly LivePolicy[], d: Deps): Promise<Outcome> {
  const ref = refOf(intent);
  const counts = { flows: intent.spec?.flows?.length ?? 0, workloads: intent.spec?.workloads?.length ?? 0 };
  const kept = (): string[] => current.filter((p) => ownedBy(p, ref)).map(name);
  const checked = checkIntent(intent);
  // A reference that does not resolve keeps what the intent owns, like an invalid spec, under its own reason.
  const resolved = checked.ok ? resolveIntent(checked.intent, d.objects) : checked;
  if (checked.ok && !resolved.ok) return { kind: 'UnresolvedReference', kept: kept(), issues: resolved.issues.map(formatIssue).join('; ') };
  const validation = resolved;
  // Over the compile budget counts as invalid: refused before anything is written, what it owns is kept.
  const compiled = validation.ok ? compileChecked(validation.intent) : validation;
  if (!validation.ok || !compiled.ok) {
    const issues = (compiled.ok ? [] : compiled.issues).map(formatIssue).join('; ');
    return { kind: 'InvalidSpec', kept: kept(), issues };
  }
  const uncoveredBackends = validation.uncoveredBackends;
  const plan = diff(compiled.policies, current, ref);
  const desiredNames = (p: Plan): string[] => [...p.unchanged, ...p.update.map((u) => name(u.desired)), ...p.create.map(name)];
  if (validation.intent.enforcement === 'DryRun') {
    d.log.info('dry run', { create: plan.create.length, update: plan.update.length, delete: plan.delete.length });
    return { kind: 'DryRun', policies: desiredNames(plan), conflicts: plan.conflicts, ...counts, wouldChange: summary(plan), uncoveredBackends };
  }
  const clashes = await applyPlan(plan, { intent, valid: validation.intent, owned: current }, d);
  const conflicts = [...plan.conflicts, ...clashes].sort();
  const policies = desiredNames(plan).filter((n) => !clashes.includes(n));
  return { kind: 'Reconciled', policies, conflicts, ...counts, uncoveredBackends };
}

function name(p: { readonly metadata: { readonly name?: string } }): string {
  return p.metadata.name ?? '';
}

function summary(p: Plan): string {
  const part = (verb: string, names: string[]): string => `${verb} ${names.length}${names.length ? ` (${names.join(', ')})` : ''}`;
  return [part('would create', p.create.map(name)), part('update', p.update.map((u) => name(u.desired))), part('delete', p.delete.map(name))].join(', ');
}

/**
 * A write failed part-way: the others were still attempted. `existing` is what this intent owns now, as far as
 * the writes' answers tell (owned before + created − deleted), so the status names what exists, not what was
 * meant or what was there before.
 */
export class PartialApplyError extends Error {
  override readonly name = 'PartialApplyError';
  constructor(
    readonly cause: unknown,
    readonly existing: readonly string[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

interface ApplyInput {
  readonly intent: SegmentationIntent;
  readonly valid: ValidIntent;
  /** What the plan was computed from: the policies the intent owned before. */
  readonly owned: readonly LivePolicy[];
}

/** Applies the plan; returns the names whose create found a foreign object (409 AlreadyExists, not ours). */
async function applyPlan(plan: Plan, input: ApplyInput, d: Deps): Promise<string[]> {
  const { intent, valid } = input;
  const found = new Map<string, Created>();
  const deleted = new Set<string>();
  const ref = refOf(intent);
  const had = hadForThisGeneration(intent, valid);
  const why = (r: WriteReason): WriteCause => cause(intent, r, d);
  const create = async (p: NetworkPolicy): Promise<void> =>
    void found.set(name(p), await createOrSettle(p, { owns: (live) => ownedBy(live, ref), why: why(had.has(name(p)) ? WriteReason.DriftRestored : WriteReason.Created) }, d.kube));
  const update = async (u: Plan['update'][number]): Promise<void> =>
    void (await d.kube.replacePolicy(updateBody(u.desired, u.current), why(u.drift ? WriteReason.DriftRestored : WriteReason.IntentChanged)));
  const remove = async (p: LivePolicy): Promise<void> => void (await d.kube.deletePolicy(p, why(WriteReason.IntentChanged)), deleted.add(name(p)));
  try {
    await settleAll([...plan.create.map(create), ...plan.update.map(update)]);
    await settleAll(plan.delete.map(remove));
  } catch (e) {
    const made = [...found].filter(([, how]) => how !== 'clash').map(([n]) => n);
    const existing = [...new Set([...input.owned.map(name), ...made])].filter((n) => !deleted.has(n));
    throw new PartialApplyError(e, existing.sort());
  }
  const created = plan.create.map(name).filter((n) => found.get(n) === 'created');
  await emitActionEvents(intent, { created, plan, restored: created.filter((n) => had.has(n)) }, d);
  return plan.create.map(name).filter((n) => found.get(n) === 'clash');
}

/** What a create did: made the object, found it already ours, or found a name held by something else. */
export type Created = 'created' | 'ours' | 'clash';

/** The policy writes a create needs to settle a taken name (an intent's guarded writes, or a baseline's). */
export interface PolicyWrites {
  getPolicy(namespace: string, name: string): Promise<NetworkPolicy | undefined>;
  createPolicy(p: NetworkPolicy, why?: WriteCause): Promise<unknown>;
  replacePolicy(p: NetworkPolicy, why?: WriteCause): Promise<unknown>;
}

/**
 * `owns`: the owner's ownership predicate (an intent's or a baseline's), applied to the object found; `why`: the
 * audit cause of the create (and of a settling update, as drift or an intent change), when the writer logs one.
 */
export async function createOrSettle(p: NetworkPolicy, w: { owns: (live: NetworkPolicy) => boolean; why?: WriteCause }, kube: PolicyWrites): Promise<Created> {
  try {
    await kube.createPolicy(p, w.why);
    return 'created';
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  return settleExisting(p, w, kube);
}

/**
 * A create answered AlreadyExists. Gather read the watch-fed store, which may not have seen a policy we wrote a
 * moment ago (or that the previous leader wrote): re-read that one object before calling it a NameConflict.
 * Ours → brought up to date if needed (a PUT guarded by the resourceVersion just read); anything else → a
 * conflict, left untouched; gone meanwhile → a 409 so the key is retried.
 */
async function settleExisting(p: NetworkPolicy, w: { owns: (live: NetworkPolicy) => boolean; why?: WriteCause }, kube: PolicyWrites): Promise<Created> {
  const namespace = p.metadata.namespace ?? '';
  const live = await kube.getPolicy(namespace, name(p));
  if (!live) {
    const ctx = { verb: 'create' as const, kind: KIND_POLICY, namespace, name: name(p) };
    throw new ApiError(409, 'Conflict', ctx, { detail: 'the name was taken, then freed again: retry' });
  }
  if (!w.owns(live)) return 'clash';
  const current = livePolicyOf(live);
  if (!upToDate(p, current)) {
    const reason = isDrift(p, current) ? WriteReason.DriftRestored : WriteReason.IntentChanged;
    await kube.replacePolicy(updateBody(p, current), w.why ? { ...w.why, reason } : undefined);
  }
  return 'ours';
}

/** Runs all, then throws the first failure: one failing write doesn't stop the others from being attempted. */
export async function settleAll(work: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** What the status says we had for this generation: one of these created again was deleted by someone. */
function hadForThisGeneration(intent: SegmentationIntent, valid: ValidIntent): ReadonlySet<string> {
  const st = intent.status;
  return new Set(st && st.observedGeneration === valid.generation ? (st.policies ?? []) : []);
}

async function emitActionEvents(intent: SegmentationIntent, a: { created: string[]; plan: Plan; restored: string[] }, d: Deps): Promise<void> {
  const drifted = [...a.plan.update.filter((u) => u.drift).map((u) => name(u.desired)), ...a.restored].sort();
  if (drifted.length > 0) d.onDriftCorrected?.(drifted.length);
  const list = (verb: string, names: string[]): string => `${verb} ${names.length} NetworkPolicies: ${names.join(', ')}`;
  // A restore is one Event (DriftCorrected), not also a PolicyCreated or PolicyUpdated for the same write (issue 17).
  const created = a.created.filter((n) => !a.restored.includes(n));
  const updated = a.plan.update.filter((u) => !u.drift).map((u) => name(u.desired));
  const events: StatusEvent[] = [];
  if (created.length) events.push({ type: 'Normal', reason: EventReason.PolicyCreated, message: list('created', created) });
  if (updated.length) events.push({ type: 'Normal', reason: EventReason.PolicyUpdated, message: list('updated', updated) });
  if (a.plan.delete.length) events.push({ type: 'Normal', reason: EventReason.PolicyDeleted, message: list('deleted', a.plan.delete.map(name)) });
  if (drifted.length) events.push({ type: 'Warning', reason: EventReason.DriftCorrected, message: list('restored out-of-band changes to', drifted) });
  for (const e of events) await emit(intent, e, d);
}

/** Events are best-effort, as client-go's recorder makes them: a failed Event never fails a reconcile. */
async function emit(intent: SegmentationIntent, e: StatusEvent, d: Deps): Promise<void> {
  await d.kube.createEvent({ involved: intent, ...e, now: d.now() }, cause(intent, WriteReason.EventRecorded, d)).catch((err: unknown) =>
    d.log.warn('could not record event', { reason: e.reason, error: String(err) }),
  );
}

/**
 * A new generation while Ready says True (of the previous one): say Unknown/Reconciling before acting, so that
 * `kubectl get` never shows Ready True for a spec that is not applied yet. One status write per spec change; the
 * intent returned carries the resourceVersion it produced, for the final status write.
 */
async function markReconciling(intent: SegmentationIntent, d: Deps): Promise<SegmentationIntent> {
  const marked = reconcilingStatus(intent.status, { now: d.now(), generation: intent.metadata.generation });
  if (!marked) return intent;
  const stored = await d.kube.replaceIntentStatus(intent, marked, cause(intent, WriteReason.StatusChanged, d));
  return { ...intent, metadata: { ...intent.metadata, resourceVersion: storedVersion(stored) ?? intent.metadata.resourceVersion }, status: marked };
}

async function writeStatus(intent: SegmentationIntent, o: Outcome, d: Deps): Promise<void> {
  const next = nextStatus(intent.status, o, { now: d.now(), generation: intent.metadata.generation });
  const ready = next.conditions?.find((c) => c.type === 'Ready');
  if (ready) d.intents?.set({ namespace: intent.metadata.namespace ?? '', intent: intent.metadata.name ?? '', reason: ready.reason, ready: ready.status === 'True' });
  if (statusEqual(intent.status, next)) return;
  await d.kube.replaceIntentStatus(intent, next, cause(intent, WriteReason.StatusChanged, d));
  d.log.debug('status updated', { ready: ready?.reason, policies: next.policies?.length });
  const ev = transitionEvent(intent.status, next);
  if (ev) await emit(intent, ev, d);
  const uncovered = uncoveredEvent(intent.status, next);
  if (uncovered) await emit(intent, uncovered, d);
}

function resultOf(o: Outcome): ReconcileOutcome {
  switch (o.kind) {
    case 'InvalidSpec':
    case 'UnresolvedReference':
      return { result: 'invalid' };
    case 'DryRun':
      return { result: 'dryrun' };
    case 'Reconciled':
      return o.conflicts.length > 0 ? { result: 'conflict', requeueAfterMs: CONFLICT_RECHECK_MS } : { result: 'reconciled' };
    case 'ApiError':
      return { result: 'reconciled' };
  }
}

/**
 * Surfaces a failure on the intent (ApiError condition, on transition an Event) before the queue retries it.
 * Not for conflicts (routine optimistic-concurrency retries) nor when the apiserver can't be reached at all.
 */
async function reportFailure(intent: SegmentationIntent, e: unknown, d: Deps): Promise<void> {
  const cause = e instanceof PartialApplyError ? e.cause : e;
  if (!(cause instanceof ApiError) || isConflict(cause) || cause.code === 0) return;
  const message = `${cause.verb} ${cause.kind} ${cause.objectName ?? ''}: ${cause.code} ${cause.reason}`.replace(/\s+:/, ':');
  const existing = e instanceof PartialApplyError ? e.existing : undefined;
  await writeStatus(intent, { kind: 'ApiError', message, existing }, d).catch((err: unknown) =>
    d.log.warn('could not record the API error on the status', { error: String(err) }),
  );
}
