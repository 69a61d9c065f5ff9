/**
 * The write side of the operator's API access, as reconcile and the sweep see it:
 *  - only the leader writes: each write checks, so a reconcile in flight when the lease is lost writes nothing more;
 *  - policy writes are remembered (./echo.ts) so that their watch echo enqueues nothing.
 */
import type { NetworkPolicy } from '../model/kubernetes';
import type { Kube } from '../kube/client';
import { KIND_INTENT, KIND_POLICY } from '../kube/client';
import type { Verb } from '../kube/errors';
import { ApiError } from '../kube/errors';
import type { OwnWrites } from './echo';
import { ownerKey } from './ownership';
import type { KubeApi } from './reconcile';

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
}

/** Wraps a write so that it fails with NotLeader, sending nothing, once this replica no longer leads. */
export function leaderOnly(leading: () => boolean) {
  return <A extends unknown[]>(verb: Verb, kind: string, f: (...a: A) => Promise<unknown>) =>
    async (...a: A): Promise<void> => {
      if (!leading()) throw new ApiError(0, 'NotLeader', { verb, kind }, { detail: 'this replica does not hold the leader lease' });
      await f(...a);
    };
}

export function guardWrites(kube: OperatorKube, leading: () => boolean, own: EchoFilter): KubeApi {
  const guard = leaderOnly(leading);
  return {
    getIntent: (ns, n) => kube.getIntent(ns, n),
    getPolicy: (ns, n) => kube.getPolicy(ns, n),
    createPolicy: guard('create', KIND_POLICY, (p: NetworkPolicy) => tracked(p, own, () => kube.createPolicy(p))),
    replacePolicy: guard('update', KIND_POLICY, (p: NetworkPolicy) => tracked(p, own, () => kube.replacePolicy(p))),
    deletePolicy: guard('delete', KIND_POLICY, (p) => kube.deletePolicy(p)),
    replaceIntentStatus: guard('update', KIND_INTENT, (i, s) => kube.replaceIntentStatus(i, s)),
    createEvent: guard('create', 'Event', (e) => kube.createEvent(e)),
  };
}

/** A policy write whose watch echo will be recognised (./echo.ts). */
export async function tracked(p: NetworkPolicy, own: EchoFilter, write: () => Promise<NetworkPolicy>): Promise<void> {
  let stored: NetworkPolicy | undefined;
  own.writes.begin(p);
  try {
    stored = await write();
  } finally {
    const key = own.writes.end(p, stored) ? (own.keyOf ?? ownerKey)(p) : undefined;
    if (key) own.enqueue(key);
  }
}
