/**
 * "This policy belongs to this intent": the one predicate that the operator's plan and sweep, and the CLI's verify
 * and audit, all use. Pure: no I/O.
 *
 * A policy belongs to an intent only if it carries our managed-by label, and then:
 * - the intent has a uid (read from a cluster, live): the policy's controller ownerReference, a SegmentationIntent
 *   of group netseg.io, has that very uid. Nothing else proves it: a label value is chosen by whoever names an
 *   intent, and a same-named intent may be a newer incarnation. A policy without such a controller is nobody's.
 * - the intent has no uid (read from files, which carry none): the controller ownerReference's NAME when the
 *   policy has one, else its `netseg.io/intent` label equals intentLabelValue(intent name); and the namespaces
 *   agree. The best a file allows, and what `netseg verify` and `netseg audit -f` use.
 */
import { CLUSTER_KIND } from '../intent/baseline';
import { GROUP, KIND } from '../intent/types';
import type { ObjectMeta, OwnerReference } from '../model/kubernetes';
import { labelValue } from '../model/labels';
import { CLUSTER_INTENT_LABEL, INTENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, intentLabelValue } from './labels';

export interface IntentIdentity {
  readonly name: string;
  readonly namespace: string;
  /** Present for an intent read from a cluster; absent for one read from a file. */
  readonly uid?: string;
}

type WithMetadata = { readonly metadata: ObjectMeta };

export function isManaged(p: WithMetadata): boolean {
  return labelValue(p.metadata.labels, MANAGED_BY_LABEL) === MANAGED_BY_VALUE;
}

/** The controller ownerReference, if it points at a SegmentationIntent (of any version of our group). */
export function intentControllerRef(p: WithMetadata): OwnerReference | undefined {
  const ref = (p.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  return ref && ref.kind === KIND && ref.apiVersion.split('/')[0] === GROUP ? ref : undefined;
}

export function belongsTo(p: WithMetadata, intent: IntentIdentity): boolean {
  if (!isManaged(p)) return false;
  const ref = intentControllerRef(p);
  if (intent.uid !== undefined) return intent.uid !== '' && ref?.uid === intent.uid;
  if ((p.metadata.namespace ?? 'default') !== intent.namespace) return false;
  if (ref) return ref.name === intent.name;
  return labelValue(p.metadata.labels, INTENT_LABEL) === intentLabelValue(intent.name);
}

/** The controller ownerReference, if it points at a ClusterSegmentationIntent (of any version of our group). */
export function baselineControllerRef(p: WithMetadata): OwnerReference | undefined {
  const ref = (p.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  return ref && ref.kind === CLUSTER_KIND && ref.apiVersion.split('/')[0] === GROUP ? ref : undefined;
}

/** A baseline (cluster-scoped): its name, and its uid when read from a cluster. */
export interface BaselineIdentity {
  readonly name: string;
  readonly uid?: string;
}

/**
 * "This policy belongs to this baseline", as belongsTo() for intents: our managed-by label and then, live, the
 * controller ownerReference's uid; from files, the controller's name, else the `netseg.io/cluster-intent` label.
 */
export function belongsToBaseline(p: WithMetadata, baseline: BaselineIdentity): boolean {
  if (!isManaged(p)) return false;
  const ref = baselineControllerRef(p);
  if (baseline.uid !== undefined) return baseline.uid !== '' && ref?.uid === baseline.uid;
  if (ref) return ref.name === baseline.name;
  return labelValue(p.metadata.labels, CLUSTER_INTENT_LABEL) === intentLabelValue(baseline.name);
}
