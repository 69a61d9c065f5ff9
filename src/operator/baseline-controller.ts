/**
 * The ClusterSegmentationIntent controller, wired from the operator's shared parts (./operator.ts): its own
 * keyed queue ("/<baseline>"), the shared cache's informers (baselines, every Namespace, the managed policies,
 * and the Services and workload objects `service`/`workloadRef` peers name, with an index object → baselines
 * like the intents' own), the policy store, the referenced-object stores, the intents' write guard (leader
 * only, audited) with its own echo filter, and its part of the periodic resync.
 *
 * Namespace scope (--namespaces, --namespace-selector): a baseline is cluster-scoped, the operator may not be.
 * The baseline writes and cleans up only in namespaces the operator governs; the others are neither given
 * policies nor stripped of them (docs/baseline.md, "With a namespace-scoped operator").
 */
import type { Logger } from 'winston';
import { CLUSTER_PLURAL } from '../intent/baseline';
import { GROUP, VERSION } from '../intent/types';
import { KIND_BASELINE, KIND_POLICY } from '../kube/client';
import type { KindSpec } from '../kube/watch';
import type { NetworkPolicy } from '../model/kubernetes';
import type { CachedNamespace } from './baseline';
import { reconcileBaseline } from './baseline';
import {
  BaselineSelectors,
  baselineOwner,
  baselinesSelecting,
  controlledByBaseline,
  namespaceChanged,
  resyncBaselines,
} from './baseline-sources';
import type { SharedCache } from './cache';
import { Controller, inNamespaces, specChanged, self } from './controller';
import type { ControllerEnv } from './controller';
import { OwnWrites, notEcho } from './echo';
import { MANAGED_SELECTOR } from './ownership';
import { DAEMONSETS, DEPLOYMENTS, IntentReferences, SERVICES, STATEFULSETS, referenceChanged } from './references';
import type { ClusterObjects } from '../resolve';
import type { PolicyCache } from './store';
import { guardBaselineWrites } from './writes';
import type { OperatorKube } from './writes';

export const BASELINES: KindSpec = { group: GROUP, version: VERSION, plural: CLUSTER_PLURAL, kind: KIND_BASELINE };
const ALL_NAMESPACES: KindSpec = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };
const POLICIES: KindSpec = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: KIND_POLICY };

export interface BaselineWiring {
  readonly cache: SharedCache;
  readonly kube: OperatorKube;
  readonly policies: PolicyCache;
  /** The namespaces the policy informers cover (undefined = all). */
  readonly policyNamespaces: readonly (string | undefined)[];
  /** The operator's namespace scope. */
  readonly governed: (namespace: string) => boolean;
  /** With --namespace-selector: its label selector, whose namespace informer decides `governed`. */
  readonly scopeSelector?: string;
  readonly leading: () => boolean;
  /** The operator's referenced-object stores (./references.ts ReferencedObjects), shared with the intents. */
  readonly objects: ClusterObjects;
  readonly env: ControllerEnv & { readonly now: () => Date; readonly onDriftCorrected?: (n: number) => void };
}

export interface BaselineParts {
  readonly controller: Controller;
  /** Its part of the periodic resync: re-enqueue every baseline, sweep policies of deleted ones. */
  resync(namespaces: readonly (string | undefined)[], log: Logger): Promise<number>;
}

export function baselineController(w: BaselineWiring): BaselineParts {
  const { cache, kube } = w;
  const selectors = new BaselineSelectors();
  cache.informer(BASELINES).addSink(selectors);
  // Baseline key ("/name") ↔ the objects its peers name: the intents' index, fed by the baseline informer.
  const references = new IntentReferences();
  cache.informer(BASELINES).addSink(references.sink());
  const namespaceInformer = cache.informer(ALL_NAMESPACES);
  const namespaces = (): CachedNamespace[] | undefined =>
    namespaceInformer.isSynced
      ? namespaceInformer.objects().map((n) => ({
          name: n.metadata?.name ?? '',
          labels: n.metadata?.labels ?? {},
          terminating: n.metadata?.deletionTimestamp !== undefined && n.metadata?.deletionTimestamp !== null,
        }))
      : undefined;

  const writes = new OwnWrites();
  // The write guard and the resync enqueue into the controller made below from the reconcile that uses them.
  const late: { controller?: Controller } = {};
  const echo = { writes, enqueue: (k: string): void => late.controller?.enqueue(k), keyOf: (p: NetworkPolicy) => baselineOwner({ type: 'MODIFIED', object: p as never })[0], creates: w.policies };
  const guarded = guardBaselineWrites(kube, w.leading, echo, w.env.log);
  const deps = { kube: guarded, policies: w.policies, namespaces, governed: w.governed, objects: w.objects, now: w.env.now, onDriftCorrected: w.env.onDriftCorrected };
  const controller = new Controller('clustersegmentationintent', cache, (key, log) => reconcileBaseline(key, { ...deps, log }), w.env)
    .watch({ kind: BASELINES, predicates: [specChanged], keys: self })
    .watch({
      kind: POLICIES,
      namespaces: w.policyNamespaces,
      labelSelector: MANAGED_SELECTOR,
      predicates: [controlledByBaseline, inNamespaces((ns) => w.governed(ns ?? '')), notEcho(writes)],
      keys: baselineOwner,
    })
    .watch({ kind: ALL_NAMESPACES, predicates: [namespaceChanged], keys: baselinesSelecting(selectors) });
  // A change to a Service or workload object a peer names recompiles exactly the baselines naming it, at once.
  for (const kind of [SERVICES, DEPLOYMENTS, STATEFULSETS, DAEMONSETS]) {
    controller.watch({ kind, namespaces: w.policyNamespaces, predicates: [referenceChanged], keys: (e) => references.intentsFor(e) });
  }
  late.controller = controller;
  // A namespace entering or leaving the operator's scope changes what is governed: the scope's own informer
  // may see it after the one above, and the reconcile in between would have skipped it.
  if (w.scopeSelector !== undefined) {
    controller.watch({ kind: ALL_NAMESPACES, labelSelector: w.scopeSelector, predicates: [namespaceChanged], keys: baselinesSelecting(selectors) });
  }

  const resync = async (nss: readonly (string | undefined)[], log: Logger): Promise<number> => {
    // The managed policies from the policy store (one list per kind, not one per namespace: issue 17), read
    // before the fresh list of baselines, so a live baseline of any of them is in that list.
    const api = { listBaselines: () => kube.listBaselines(), listPolicies: async (ns: string | undefined) => w.policies.inNamespace(ns), deletePolicy: guarded.deletePolicy };
    return resyncBaselines(api, nss, { enqueue: (k) => controller.enqueue(k), log });
  };
  return { controller, resync };
}
