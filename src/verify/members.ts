/**
 * Which pods each intent endpoint names, as a byte per pod, computed once per intent instead of one selector
 * evaluation per (pod, pod, port) question: a workload looks only at its namespace's pods, a selector peer only
 * at the pods of the namespaces its namespaceSelector matches. Agrees with endpointHas (./probes.ts), which
 * stays the definition (the per-pair reference in the tests uses it).
 */
import type { Endpoint as IntentEndpoint, ValidIntent } from '../intent/types';
import { labelValue } from '../model/labels';
import { type Cluster, type Endpoint, matchesSelector } from '../reach';
import { DNS_LABELS, DNS_NAMESPACE } from './world';
import { type Membership, type VerifyContext, endpointHas, nsLabels } from './probes';

/** Facts about a cluster that every intent's proof reads: built once per cluster. */
export interface ClusterFacts {
  readonly podsByNamespace: ReadonlyMap<string, readonly number[]>;
  /**
   * Per pod, a number shared by exactly the pods whose containers declare the same ports (number, name,
   * protocol, in order): what a destination contributes to a verdict and to the ports checked.
   */
  readonly portSignature: Int32Array;
  readonly portSignatures: number;
  /** The cluster DNS pods (kube-system, k8s-app: kube-dns). */
  readonly dnsPods: readonly number[];
}

const factsCache = new WeakMap<Cluster, ClusterFacts>();

export function clusterFacts(cluster: Cluster): ClusterFacts {
  let facts = factsCache.get(cluster);
  if (facts) return facts;
  const podsByNamespace = new Map<string, number[]>();
  const signatures = new Map<string, number>();
  const portSignature = new Int32Array(cluster.pods.length);
  const dnsPods: number[] = [];
  cluster.pods.forEach((p, i) => {
    const list = podsByNamespace.get(p.namespace);
    if (list) list.push(i);
    else podsByNamespace.set(p.namespace, [i]);
    const ports = (p.pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []).map((c) => [c.containerPort, c.name ?? null, c.protocol ?? 'TCP']);
    const key = JSON.stringify(ports);
    let sig = signatures.get(key);
    if (sig === undefined) signatures.set(key, (sig = signatures.size));
    portSignature[i] = sig;
    if (p.namespace === DNS_NAMESPACE && Object.entries(DNS_LABELS).every(([k, v]) => labelValue(p.labels, k) === v)) dnsPods.push(i);
  });
  facts = { podsByNamespace, portSignature, portSignatures: signatures.size, dnsPods };
  factsCache.set(cluster, facts);
  return facts;
}

/** The endpoints of one intent, each as the list of pods it names and a byte per pod. */
export class IntentMembers {
  private readonly bytes = new Map<IntentEndpoint, Uint8Array>();
  private readonly lists = new Map<IntentEndpoint, number[]>();
  readonly endpoints: readonly IntentEndpoint[];

  constructor(
    private readonly ctx: VerifyContext,
    private readonly intent: ValidIntent,
  ) {
    this.endpoints = [...intent.workloads, ...intent.peers];
  }

  /** The pods an endpoint names, in index order. */
  podsOf(e: IntentEndpoint): readonly number[] {
    let list = this.lists.get(e);
    if (!list) {
      list = this.compute(e);
      this.lists.set(e, list);
    }
    return list;
  }

  /** endpointHas, with pods looked up in a byte array. */
  readonly has: Membership = (e: IntentEndpoint, x: Endpoint): boolean => {
    if (x.kind === 'ip') return endpointHas(this.ctx, this.intent, e, x);
    let b = this.bytes.get(e);
    if (!b) {
      b = new Uint8Array(this.ctx.cluster.pods.length);
      for (const i of this.podsOf(e)) b[i] = 1;
      this.bytes.set(e, b);
    }
    return b[x.index] === 1;
  };

  private compute(e: IntentEndpoint): number[] {
    const { cluster } = this.ctx;
    const byNs = clusterFacts(cluster).podsByNamespace;
    const own = byNs.get(this.intent.namespace) ?? [];
    if (e.kind === 'ip-peer') return cluster.pods.flatMap((_, i) => (endpointHas(this.ctx, this.intent, e, { kind: 'pod', index: i }) ? [i] : []));
    if (e.kind === 'workload') return own.filter((i) => matchesSelector(e.selector, cluster.pods[i]?.labels ?? {}));
    // A peer is outside the intent's namespace (API.md); without namespaceSelector it would be inside: as endpointHas.
    const namespaces = e.namespaceSelector
      ? [...byNs.keys()].filter((ns) => ns !== this.intent.namespace && matchesSelector(e.namespaceSelector, nsLabels(this.ctx, ns)))
      : [this.intent.namespace];
    const podSelector = e.podSelector ?? {};
    return namespaces
      .flatMap((ns) => (byNs.get(ns) ?? []).filter((i) => matchesSelector(podSelector, cluster.pods[i]?.labels ?? {})))
      .sort((a, b) => a - b);
  }
}
