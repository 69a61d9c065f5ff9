/**
 * ClusterSegmentationIntent (netseg.io/v1alpha1, cluster-scoped): the baseline for every namespace it selects
 * (../shared/design/API.md, "ClusterSegmentationIntent"). Written by cluster admins.
 *
 * As for SegmentationIntent, three shapes: `ClusterSegmentationIntent` is what is written or stored (trust
 * nothing); `DeclaredBaseline` is what checkBaseline() returns (defaults applied, names resolved, every flow
 * oriented, `service`/`workloadRef` peers kept as references); `ValidBaseline` is what src/resolve's
 * resolveBaseline() makes of it with the cluster's objects (plain selectors and container ports), and the only
 * thing compileBaseline() takes. validateBaseline() gives it directly for a baseline without references.
 */
import type { Condition, LabelSelector, ObjectMeta } from '../model/kubernetes';
import type { Direction, Enforcement, FlowPort, FlowSpec, Peer, PeerSpec } from './types';
import type { API_VERSION } from './types';
import type { DeclaredPeer, DeclaredPort } from './references';

export const CLUSTER_KIND = 'ClusterSegmentationIntent';
export const CLUSTER_PLURAL = 'clustersegmentationintents';

/** The reserved endpoint name of a baseline's flows: every pod of each selected namespace. */
export const NAMESPACE_ENDPOINT = 'namespace';

/** status.conflicts holds at most this many `namespace/name` entries (API.md: "first 20"). */
export const MAX_REPORTED_CONFLICTS = 20;

export interface ClusterSegmentationIntentSpec {
  enforcement?: Enforcement;
  namespaceSelector?: LabelSelector;
  directions?: Direction[];
  allowDNS?: boolean;
  allowSameNamespace?: boolean;
  peers?: PeerSpec[];
  flows?: FlowSpec[];
}

export interface ClusterSegmentationIntentStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** How many namespaces the baseline selects now. */
  namespaces?: number;
  /** How many NetworkPolicies it owns now, in all selected namespaces (in DryRun: would own). */
  policies?: number;
  /** The first MAX_REPORTED_CONFLICTS `namespace/name` of desired policies held by objects it does not own. */
  conflicts?: string[];
}

export interface ClusterSegmentationIntent {
  apiVersion: typeof API_VERSION;
  kind: typeof CLUSTER_KIND;
  metadata: ObjectMeta;
  spec: ClusterSegmentationIntentSpec;
  status?: ClusterSegmentationIntentStatus;
}

// ------------------------------------------------------------------------------------------ validated form

/**
 * One flow of a baseline, oriented: `Ingress` = from `peers` into every pod of the namespace, `Egress` = from
 * every pod of the namespace to `peers`. Validation guarantees `namespace` is on exactly one side and only
 * peers are on the other, so "peer to peer" and "namespace to namespace" can't be represented.
 */
export interface BaselineFlow {
  readonly index: number;
  readonly direction: Direction;
  readonly peers: readonly Peer[];
  /** Empty = all ports and protocols. */
  readonly ports: readonly FlowPort[];
}

export interface ValidBaseline {
  readonly name: string;
  /** Absent for baselines read from files: the compiler then writes no ownerReference. */
  readonly uid?: string;
  readonly generation?: number;
  readonly enforcement: Enforcement;
  readonly namespaceSelector: LabelSelector;
  readonly directions: readonly Direction[];
  readonly allowDNS: boolean;
  readonly allowSameNamespace: boolean;
  readonly peers: readonly Peer[];
  readonly flows: readonly BaselineFlow[];
}

/** A baseline flow as checked: its peers may be references, its ports as written (see DeclaredPort). */
export interface DeclaredBaselineFlow {
  readonly index: number;
  readonly direction: Direction;
  readonly peers: readonly DeclaredPeer[];
  /** undefined: `ports` absent (every port; to a `service` peer, exactly the Service's ports). */
  readonly ports?: readonly DeclaredPort[];
}

export interface DeclaredBaseline extends Omit<ValidBaseline, 'peers' | 'flows'> {
  readonly peers: readonly DeclaredPeer[];
  readonly flows: readonly DeclaredBaselineFlow[];
}

/** A namespace as the baseline sees it: its name and labels (what namespaceSelectors match). */
export interface NamespaceView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}
