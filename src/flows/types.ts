/**
 * Observed traffic, as the flow readers (./hubble.ts, ./ig.ts, ./netseg.ts) hand it over: one connection attempt
 * seen somewhere, in the words of the tool that saw it. Nothing here is resolved against a cluster yet: a pod is
 * what the flow says about it (namespace, name, labels, owner), an address is text.
 */
import type { Protocol } from '../model/kubernetes';

/** The owner a flow tool reports for a pod (Hubble `workloads[]`, Inspektor Gadget `k8s.owner`). */
export interface ReportedOwner {
  readonly kind: string;
  readonly name: string;
}

/** A pod as a flow describes it. `labels` undefined = the flow said nothing about them (not "no labels"). */
export interface ObservedPod {
  readonly kind: 'pod';
  readonly namespace: string;
  readonly name: string;
  readonly ip?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly owner?: ReportedOwner;
}

/** An address that no pod name came with: outside the cluster, or a pod the tool could not name. */
export interface ObservedAddress {
  readonly kind: 'ip';
  readonly ip: string;
}

/** A ClusterIP Service as the destination (Inspektor Gadget `dst.k8s.kind: svc`): its pods are resolved later. */
export interface ObservedService {
  readonly kind: 'service';
  readonly namespace: string;
  readonly name: string;
  readonly ip?: string;
}

export type ObservedSource = ObservedPod | ObservedAddress;
export type ObservedDestination = ObservedPod | ObservedAddress | ObservedService;

export interface Observation {
  readonly from: ObservedSource;
  readonly to: ObservedDestination;
  /** The destination port. */
  readonly port: number;
  readonly protocol: Protocol;
  /**
   * The connection's identity (addresses, ports, protocol) when the flow carries it: records of one connection
   * (its packets, or both ends of it) share it and count once. Absent: the record is its own connection.
   */
  readonly connection?: string;
}

/**
 * What one line (one record) of a flow file is:
 * - a flow that counts;
 * - ignored by rule (a reply, a DROPPED verdict, an accept event…), with the rule, counted per rule;
 * - malformed: not what the format says, with the reason; reported with file and line, counted.
 */
export type LineOutcome =
  | { readonly kind: 'flow'; readonly flow: Observation }
  | { readonly kind: 'ignored'; readonly rule: string }
  | { readonly kind: 'malformed'; readonly reason: string };

export type FlowFormat = 'hubble' | 'ig' | 'netseg';
export const FLOW_FORMATS: readonly FlowFormat[] = ['hubble', 'ig', 'netseg'];

export function ignored(rule: string): LineOutcome {
  return { kind: 'ignored', rule };
}

export function malformed(reason: string): LineOutcome {
  return { kind: 'malformed', reason };
}
