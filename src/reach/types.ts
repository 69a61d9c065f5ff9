/** The reachability engine's inputs and explained answers (cyclonus-style verdicts). */
import type { Namespace, NetworkPolicy, Pod, Protocol } from '../model/kubernetes';

export interface ClusterInput {
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly policies: readonly NetworkPolicy[];
}

/** One side of a connection: a pod of the cluster (by index into Cluster.pods) or an address outside it. */
export type Endpoint = { readonly kind: 'pod'; readonly index: number } | { readonly kind: 'ip'; readonly ip: string };

export interface Traffic {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol: Protocol;
}

/** A rule that admits the traffic: "namespace/name" of its policy and the rule's 0-based index in that direction. */
export interface RuleRef {
  readonly policy: string;
  readonly rule: number;
}

/**
 * What one direction (the destination's ingress, the source's egress) says about a connection.
 * - not-applicable: that side is outside the cluster (an IP), nothing there can filter it;
 * - not-isolated: no policy selects the pod for this direction, so everything passes;
 * - allowed / denied: the pod is isolated by `isolatedBy`; `allowedBy` lists every rule that admits it.
 */
export type SideVerdict =
  | { readonly kind: 'not-applicable'; readonly allowed: true }
  | { readonly kind: 'self'; readonly allowed: true }
  | { readonly kind: 'not-isolated'; readonly allowed: true }
  | {
      readonly kind: 'allowed';
      readonly allowed: true;
      readonly isolatedBy: readonly string[];
      readonly allowedBy: readonly RuleRef[];
    }
  | { readonly kind: 'denied'; readonly allowed: false; readonly isolatedBy: readonly string[] };

export interface Verdict {
  readonly allowed: boolean;
  readonly ingress: SideVerdict;
  readonly egress: SideVerdict;
}
