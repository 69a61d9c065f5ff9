/**
 * reconcileBaseline(key): one ClusterSegmentationIntent, every namespace at once, level-based.
 *   gather (the baseline, the namespaces from the shared cache, the policies it controls by uid from the
 *   watch-fed store) → compile per selected namespace (pure) → per-namespace diff (plan.ts) → apply → status.
 * The same safety rules as intents (./reconcile.ts): an invalid baseline, one whose `service`/`workloadRef` peer
 * does not resolve (src/resolve resolveBaseline, from the operator's referenced-object stores), or one over the
 * compile budget in any namespace, keeps every policy it owns; nothing is read from a cache that has not listed
 * (NotSyncedError);
 * creates and updates go before deletes; a name held by a policy it doesn't own is a conflict, never touched.
 * Only namespaces the operator governs (--namespaces, --namespace-selector) are written or cleaned up; a
 * terminating namespace is left alone (the apiserver refuses creates there, and its policies go with it).
 * A namespace that stops matching loses its policies: they are owned but no longer desired.
 * Every write says why (./audit.ts): the write guard (./writes.ts guardBaselineWrites) logs it as for intents.
 */
import type { Logger } from 'winston';
import { belongsToBaseline, compileBaselineChecked, selectsNamespace } from '../compile';
import { checkBaseline, formatIssue } from '../intent';
import type { ClusterSegmentationIntent, NamespaceView, ValidBaseline } from '../intent/baseline';
import type { NetworkPolicy } from '../model/kubernetes';
import { ApiError, isConflict } from '../kube/errors';
import type { EventObject } from '../kube/client';
import { type ClusterObjects, resolveBaseline } from '../resolve';
import { WriteReason } from './audit';
import type { WriteCause } from './audit';
import { nextBaselineStatus, baselineStatusEqual, baselineTransitionEvent } from './baseline-status';
import type { BaselineOutcome } from './baseline-status';
import { actionEvents, emitEvent } from './events';
import { parseKey } from './ownership';
import { diff, updateBody } from './plan';
import type { IntentRef, Plan, PolicyUpdate } from './plan';
import { createOrSettle } from './reconcile';
import type { Created } from './reconcile';
import type { StatusEvent } from './status';
import { NotSyncedError } from './store';
import type { LivePolicy } from './store';

/** The API calls a baseline's reconcile needs; every write says why (./audit.ts). */
export interface BaselineKube {
  getBaseline(name: string): Promise<ClusterSegmentationIntent | undefined>;
  getPolicy(namespace: string, name: string): Promise<NetworkPolicy | undefined>;
  createPolicy(p: NetworkPolicy, why: WriteCause): Promise<unknown>;
  replacePolicy(p: NetworkPolicy, why: WriteCause): Promise<unknown>;
  deletePolicy(p: Pick<NetworkPolicy, 'metadata'>, why: WriteCause): Promise<void>;
  replaceBaselineStatus(b: ClusterSegmentationIntent, status: NonNullable<ClusterSegmentationIntent['status']>, why: WriteCause): Promise<unknown>;
  createEvent(e: EventObject, why: WriteCause): Promise<unknown>;
}

/** A namespace as the Namespace cache holds it. */
export interface CachedNamespace extends NamespaceView {
  readonly terminating: boolean;
}

export interface BaselineDeps {
  readonly kube: BaselineKube;
  /** The managed policies by controller uid, in every namespace the operator watches. */
  readonly policies: { hasSynced(namespace?: string): boolean; ownedEverywhere(uid: string): LivePolicy[] };
  /** Every namespace, from the shared cache; undefined until it has listed. */
  readonly namespaces: () => readonly CachedNamespace[] | undefined;
  /** The operator's namespace scope. */
  readonly governed: (namespace: string) => boolean;
  /** The Services and workload objects `service`/`workloadRef` peers name (./references.ts; NotSyncedError before listed). */
  readonly objects: ClusterObjects;
  readonly now: () => Date;
  readonly log: Logger;
  readonly onDriftCorrected?: (count: number) => void;
}

export type BaselineResult = 'reconciled' | 'gone' | 'invalid' | 'conflict' | 'dryrun';

/** Writes in flight at once: 500 new namespaces are 1,000 creates, which must not arrive as one burst. */
const WRITE_CONCURRENCY = 8;
const CONFLICT_RECHECK_MS = 30_000;

export async function reconcileBaseline(key: string, d: BaselineDeps): Promise<{ result: BaselineResult; requeueAfterMs?: number }> {
  const { name } = parseKey(key);
  if (!d.policies.hasSynced()) throw new NotSyncedError('*');
  const namespaces = d.namespaces();
  if (!namespaces) throw new NotSyncedError('namespaces');
  const b = await d.kube.getBaseline(name);
  if (!b || b.metadata.deletionTimestamp) return { result: 'gone' };
  const uid = b.metadata.uid ?? '';
  const ref: IntentRef = { name, namespace: '', uid };
  const why = (reason: WriteReason): WriteCause => cause(b, reason, d);
  const owns = (p: { readonly metadata: NetworkPolicy['metadata'] }): boolean => belongsToBaseline(p, { name, uid });
  const current = d.policies.ownedEverywhere(uid).filter((p) => owns(p) && d.governed(p.metadata.namespace ?? ''));
  try {
    const outcome = await act(b, { namespaces, current, ref, owns, why }, d);
    await writeStatus(b, outcome, d);
    return outcome.kind === 'Reconciled' && outcome.conflicts.length > 0
      ? { result: 'conflict', requeueAfterMs: CONFLICT_RECHECK_MS }
      : { result: outcome.kind === 'InvalidSpec' ? 'invalid' : outcome.kind === 'DryRun' ? 'dryrun' : 'reconciled' };
  } catch (e) {
    await reportFailure(b, e, d);
    throw e;
  }
}

interface World {
  readonly namespaces: readonly CachedNamespace[];
  readonly current: readonly LivePolicy[];
  readonly ref: IntentRef;
  readonly owns: (p: { readonly metadata: NetworkPolicy['metadata'] }) => boolean;
  /** The audit cause of a write for this baseline. */
  readonly why: (reason: WriteReason) => WriteCause;
}

async function act(b: ClusterSegmentationIntent, w: World, d: BaselineDeps): Promise<BaselineOutcome> {
  const checked = checkBaseline(b);
  if (!checked.ok) return kept(w, 'InvalidSpec', checked.issues.map(formatIssue).join('; '));
  // A reference that does not resolve keeps what the baseline owns, like an invalid spec, under its own reason.
  const resolved = resolveBaseline(checked.baseline, d.objects);
  if (!resolved.ok) return kept(w, 'UnresolvedReference', resolved.issues.map(formatIssue).join('; '));
  const valid = resolved.baseline;
  const selected = w.namespaces.filter((n) => !n.terminating && d.governed(n.name) && selectsNamespace(valid, n));
  const desired = compileAll(valid, selected);
  if (typeof desired === 'string') return kept(w, 'InvalidSpec', desired);
  const plan = planAll(desired, w);
  const total = desired.length;
  if (valid.enforcement === 'DryRun') {
    d.log.info('dry run', { create: plan.create.length, update: plan.update.length, delete: plan.delete.length });
    return { kind: 'DryRun', namespaces: selected.length, policies: total, conflicts: plan.conflicts, wouldChange: summary(plan) };
  }
  const clashes = await applyPlan(b, plan, w, d);
  const conflicts = [...plan.conflicts, ...clashes].sort();
  return { kind: 'Reconciled', namespaces: selected.length, policies: total - conflicts.length, conflicts };
}

/** Nothing written: every policy it owns stays, and the status says why. */
function kept(w: World, kind: 'InvalidSpec' | 'UnresolvedReference', issues: string): BaselineOutcome {
  return { kind, namespaces: new Set(w.current.map((p) => p.metadata.namespace)).size, kept: w.current.length, issues };
}

/** Every selected namespace's policies, or the first budget issue, naming the namespace. */
function compileAll(b: ValidBaseline, selected: readonly NamespaceView[]): NetworkPolicy[] | string {
  const out: NetworkPolicy[] = [];
  for (const n of [...selected].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    const r = compileBaselineChecked(b, n);
    if (!r.ok) return `in namespace ${n.name}: ${r.issues.map(formatIssue).join('; ')}`;
    out.push(...r.policies);
  }
  return out;
}

/** A baseline's plan: names with their namespace (`ns/name`), since one baseline spans namespaces. */
interface BaselinePlan {
  readonly create: NetworkPolicy[];
  readonly update: PolicyUpdate[];
  readonly delete: LivePolicy[];
  readonly conflicts: string[];
}

/** diff() per namespace: names are unique only within one. */
function planAll(desired: readonly NetworkPolicy[], w: World): BaselinePlan {
  const group = <T extends { readonly metadata: NetworkPolicy['metadata'] }>(list: readonly T[]): Map<string, T[]> => {
    const m = new Map<string, T[]>();
    for (const p of list) {
      const ns = p.metadata.namespace ?? '';
      m.set(ns, [...(m.get(ns) ?? []), p]);
    }
    return m;
  };
  const want = group(desired);
  const have = group(w.current);
  const out: BaselinePlan = { create: [], update: [], delete: [], conflicts: [] };
  for (const ns of new Set([...want.keys(), ...have.keys()])) {
    const p: Plan = diff(want.get(ns) ?? [], have.get(ns) ?? [], { ...w.ref, namespace: ns }, w.owns);
    out.create.push(...p.create);
    out.update.push(...p.update);
    out.delete.push(...p.delete);
    out.conflicts.push(...p.conflicts.map((n) => `${ns}/${n}`));
  }
  return out;
}

function qualified(p: { readonly metadata: NetworkPolicy['metadata'] }): string {
  return `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
}

function summary(p: BaselinePlan): string {
  return `would create ${p.create.length}, update ${p.update.length}, delete ${p.delete.length} NetworkPolicies`;
}

/** Runs `work` over `items`, at most `limit` at once; every item is attempted, then the first failure is thrown. */
async function bounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item).catch((error: unknown) => void (failure ??= { error }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}

/** Creates and updates, then deletes; returns the `ns/name` whose create found a foreign object. */
async function applyPlan(b: ClusterSegmentationIntent, plan: BaselinePlan, w: World, d: BaselineDeps): Promise<string[]> {
  const found = new Map<string, Created>();
  await bounded([...plan.create.map((p) => ({ create: p })), ...plan.update.map((u) => ({ update: u }))], WRITE_CONCURRENCY, async (job) => {
    if ('create' in job) found.set(qualified(job.create), await createOrSettle(job.create, { owns: (live) => w.owns(live), why: w.why(WriteReason.Created) }, d.kube));
    else await d.kube.replacePolicy(updateBody(job.update.desired, job.update.current), w.why(job.update.drift ? WriteReason.DriftRestored : WriteReason.IntentChanged));
  });
  // A policy is deleted because its namespace stopped matching or the spec no longer asks for it.
  await bounded(plan.delete, WRITE_CONCURRENCY, (p) => d.kube.deletePolicy(p, w.why(WriteReason.IntentChanged)));
  const created = plan.create.map(qualified).filter((n) => found.get(n) === 'created');
  if (created.length + plan.update.length + plan.delete.length > 0) {
    d.log.info('applied', { created: created.length, updated: plan.update.length, deleted: plan.delete.length });
  }
  const drifted = plan.update.filter((u) => u.drift).map((u) => qualified(u.desired));
  if (drifted.length > 0) d.onDriftCorrected?.(drifted.length);
  const events = actionEvents({ created, updated: plan.update.map((u) => qualified(u.desired)), deleted: plan.delete.map(qualified), drifted });
  for (const e of events) await emit(b, e, d);
  return plan.create.map(qualified).filter((n) => found.get(n) === 'clash');
}

/** The audit cause of a write for this baseline (`intent` is `/<name>`, its key), logged with the reconcile's logger. */
function cause(b: ClusterSegmentationIntent, reason: WriteReason, d: Pick<BaselineDeps, 'log'>): WriteCause {
  return { reason, intent: { namespace: '', name: b.metadata.name ?? '', uid: b.metadata.uid ?? '' }, log: d.log };
}

function emit(b: ClusterSegmentationIntent, e: StatusEvent, d: BaselineDeps): Promise<void> {
  return emitEvent(d.kube, b, e, { now: d.now(), why: cause(b, WriteReason.EventRecorded, d), log: d.log });
}

async function writeStatus(b: ClusterSegmentationIntent, o: BaselineOutcome, d: BaselineDeps): Promise<void> {
  const next = nextBaselineStatus(b.status, o, { now: d.now(), generation: b.metadata.generation });
  if (baselineStatusEqual(b.status, next)) return;
  await d.kube.replaceBaselineStatus(b, next, cause(b, WriteReason.StatusChanged, d));
  d.log.info('status updated', { ready: next.conditions?.find((c) => c.type === 'Ready')?.reason, namespaces: next.namespaces, policies: next.policies });
  const ev = baselineTransitionEvent(b.status, next);
  if (ev) await emit(b, ev, d);
}

/** An API failure on the baseline's status (not conflicts, not an unreachable apiserver), then the queue retries. */
async function reportFailure(b: ClusterSegmentationIntent, e: unknown, d: BaselineDeps): Promise<void> {
  if (!(e instanceof ApiError) || isConflict(e) || e.code === 0) return;
  const message = `${e.verb} ${e.kind} ${e.objectName ?? ''}: ${e.code} ${e.reason}`.replace(/\s+:/, ':');
  await writeStatus(b, { kind: 'ApiError', message }, d).catch((err: unknown) => d.log.warn('could not record the API error on the status', { error: String(err) }));
}
