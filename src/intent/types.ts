/**
 * SegmentationIntent (netseg.io/v1alpha1), as written by users (../shared/design/API.md).
 *
 * Two shapes on purpose:
 *  - `SegmentationIntent` is what a user writes or the apiserver stores: optional fields, defaults not applied,
 *    `from`/`to` as a name or a list. Nothing downstream may trust it.
 *  - `ValidIntent` is what `validateIntent()` returns when the spec is valid: defaults applied, names resolved,
 *    lists normalised. The compiler takes only this, so an unvalidated intent can't be compiled by mistake.
 */
import type { Condition, IPBlock, LabelSelector, ObjectMeta, Protocol } from '../model/kubernetes';

export const GROUP = 'netseg.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'SegmentationIntent';
export const PLURAL = 'segmentationintents';

export type Enforcement = 'Enforce' | 'DryRun';
export type Direction = 'Ingress' | 'Egress';
export type IsolationScope = 'Workloads' | 'Namespace';

/** Exactly one of selector, service, workloadRef (./references.ts has the validated forms). */
export interface WorkloadSpec {
  name: string;
  selector?: LabelSelector;
  service?: string;
  workloadRef?: { kind: string; name: string };
}

/** Exactly one of the selector pair, ipBlock, service, workloadRef. */
export interface PeerSpec {
  name: string;
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  ipBlock?: IPBlock;
  service?: { namespace: string; name: string };
  workloadRef?: { namespace: string; kind: string; name: string };
}

export interface IngressRouteSpec {
  from: string | string[];
  ingressClassName?: string;
}

export interface FlowPortSpec {
  port?: number | string;
  endPort?: number;
  protocol?: Protocol;
}

export interface FlowSpec {
  from: string | string[];
  to: string | string[];
  ports?: FlowPortSpec[];
}

export interface SegmentationIntentSpec {
  enforcement?: Enforcement;
  isolation?: { directions?: Direction[]; scope?: IsolationScope };
  allowDNS?: boolean;
  workloads?: WorkloadSpec[];
  peers?: PeerSpec[];
  flows?: FlowSpec[];
  ingressRoutes?: IngressRouteSpec[];
}

export interface SegmentationIntentStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  policies?: string[];
  /** How many workloads the policies isolate: the CRD's Workloads column (JSONPath can't count spec.workloads). */
  workloads?: number;
  flows?: number;
  /** Ingress backends of spec.ingressRoutes that open nothing: `<ingress>/<service>:<port>`. */
  uncoveredBackends?: string[];
}

export interface SegmentationIntent {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: SegmentationIntentSpec;
  status?: SegmentationIntentStatus;
}

// ------------------------------------------------------------------------------------------ validated form

/** A workload: pods of the intent's own namespace. */
export interface Workload {
  readonly kind: 'workload';
  readonly name: string;
  readonly selector: LabelSelector;
}

/**
 * A peer outside the namespace: either selectors (ANDed in one NetworkPolicyPeer) or an ipBlock, never both.
 * A selector peer always has a namespaceSelector: a podSelector alone would mean "pods of THIS namespace" in a
 * NetworkPolicy, which is not what a peer is. `{}` means every namespace; podSelector absent means every pod.
 */
export type Peer =
  | {
      readonly kind: 'selector-peer';
      readonly name: string;
      readonly namespaceSelector: LabelSelector;
      readonly podSelector?: LabelSelector;
    }
  | { readonly kind: 'ip-peer'; readonly name: string; readonly ipBlock: IPBlock };

export type Endpoint = Workload | Peer;

/** A port of a flow. `port` absent = every port of the protocol; endPort only with a numeric port. */
export type FlowPort =
  | { readonly protocol: Protocol; readonly port?: undefined; readonly endPort?: undefined }
  | { readonly protocol: Protocol; readonly port: number; readonly endPort?: number }
  | { readonly protocol: Protocol; readonly port: string; readonly endPort?: undefined };

/** One resolved flow: from and to are non-empty; at least one side of every pair is a workload. */
export interface Flow {
  readonly index: number;
  readonly from: readonly Endpoint[];
  readonly to: readonly Endpoint[];
  /** Empty = all ports and protocols. */
  readonly ports: readonly FlowPort[];
}

export interface ValidIntent {
  readonly name: string;
  readonly namespace: string;
  /** Absent for intents read from files; the ownerReference needs it, so the compiler omits it then. */
  readonly uid?: string;
  readonly generation?: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly enforcement: Enforcement;
  readonly directions: readonly Direction[];
  readonly scope: IsolationScope;
  readonly allowDNS: boolean;
  readonly workloads: readonly Workload[];
  readonly peers: readonly Peer[];
  readonly flows: readonly Flow[];
}

/** One validation problem: where it is (`spec.flows[2].to`) and what to do about it. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly intent: ValidIntent }
  | { readonly ok: false; readonly issues: readonly Issue[] };
