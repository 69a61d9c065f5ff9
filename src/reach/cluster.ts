/**
 * Turns Namespaces, Pods and NetworkPolicies into an indexed model: for each pod, the policies that isolate it
 * per direction; for each rule, the set of pods its peers match (a byte per pod) and its ipBlocks. Every
 * question afterwards is a lookup, not a selector evaluation.
 */
import type {
  IPBlock,
  LabelSelector,
  Namespace,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  Pod,
  Protocol,
} from '../model/kubernetes';
import { type Address, type Cidr, cidrContains, parseAddress, parseCidr } from './cidr';
import { type NamedPorts, type PortMatcher, namedPortKey, toPortMatcher } from './ports';
import { type Labels, matchesSelector, selectorKey } from './selector';
import type { ClusterInput } from './types';

/** The apiserver sets this label on every namespace (1.21+), so namespaceSelectors may rely on it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface DeclaredPort {
  readonly port: number;
  readonly protocol: Protocol;
  readonly name?: string;
}

export interface PodInfo {
  /** "namespace/name" */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly ips: readonly Address[];
  readonly ipTexts: readonly string[];
  /** Distinct (port, protocol) pairs the containers declare, sorted by port then protocol. */
  readonly ports: readonly DeclaredPort[];
  readonly named: NamedPorts;
  readonly pod: Pod;
}

export interface IpBlockModel {
  readonly cidr: Cidr;
  readonly except: readonly Cidr[];
}

export interface RuleModel {
  readonly index: number;
  /** No peers listed (`from`/`to` absent or empty): every source or destination, inside or outside. */
  readonly allPeers: boolean;
  /** pods[i] === 1 when a peer of this rule matches pod i (by selectors, or by its IP in an ipBlock). */
  readonly pods: Uint8Array;
  readonly ipBlocks: readonly IpBlockModel[];
  /** Undefined: `ports` absent or empty, so every port and protocol. */
  readonly ports: readonly PortMatcher[] | undefined;
}

export interface PolicyModel {
  /** "namespace/name" */
  readonly id: string;
  readonly namespace: string;
  readonly policy: NetworkPolicy;
  readonly selected: readonly number[];
  /** Undefined when the policy does not affect that direction (policyTypes). */
  readonly ingress: readonly RuleModel[] | undefined;
  readonly egress: readonly RuleModel[] | undefined;
}

export interface Cluster {
  readonly pods: readonly PodInfo[];
  readonly podByKey: ReadonlyMap<string, number>;
  readonly podByIp: ReadonlyMap<string, number>;
  readonly policies: readonly PolicyModel[];
  /** Per pod: indices into `policies` of the policies that isolate it in that direction. */
  readonly ingressOf: readonly (readonly number[])[];
  readonly egressOf: readonly (readonly number[])[];
  /** Things in the input that the apiserver would have rejected, and how they were read. */
  readonly issues: readonly string[];
}

export function buildCluster(input: ClusterInput): Cluster {
  const issues: string[] = [];
  const pods = input.pods.map(podInfo).sort((a, b) => compareText(a.key, b.key));
  const nsLabels = namespaceLabels(input.namespaces, pods, input.policies);
  const index = new SelectorIndex(pods, nsLabels);
  const policies = [...input.policies]
    .sort((a, b) => compareText(policyId(a), policyId(b)))
    .map((p) => policyModel(p, index, issues));
  const ingressOf = pods.map(() => [] as number[]);
  const egressOf = pods.map(() => [] as number[]);
  policies.forEach((p, i) => {
    for (const podIndex of p.selected) {
      if (p.ingress) ingressOf[podIndex]?.push(i);
      if (p.egress) egressOf[podIndex]?.push(i);
    }
  });
  const podByIp = new Map<string, number>();
  pods.forEach((p, i) => p.ipTexts.forEach((ip) => podByIp.set(ip, i)));
  return {
    pods,
    podByKey: new Map(pods.map((p, i) => [p.key, i])),
    podByIp,
    policies,
    ingressOf,
    egressOf,
    issues,
  };
}

export function policyId(p: NetworkPolicy): string {
  return `${p.metadata.namespace ?? 'default'}/${p.metadata.name ?? ''}`;
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function podInfo(pod: Pod): PodInfo {
  const namespace = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.name ?? '';
  const ipTexts = podIps(pod);
  const ips = ipTexts.map(parseAddress).filter((a): a is Address => a !== undefined);
  const { ports, named } = declaredPorts(pod);
  return { key: `${namespace}/${name}`, namespace, name, labels: pod.metadata.labels ?? {}, ips, ipTexts, ports, named, pod };
}

function podIps(pod: Pod): string[] {
  const all = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)];
  return [...new Set(all)].filter((ip): ip is string => typeof ip === 'string' && ip !== '');
}

/** Distinct (port, protocol) pairs, and the first number declared under each name/protocol. */
function declaredPorts(pod: Pod): { ports: DeclaredPort[]; named: Map<string, number> } {
  const seen = new Map<string, DeclaredPort>();
  const named = new Map<string, number>();
  for (const cp of (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? [])) {
    const protocol = cp.protocol ?? 'TCP';
    const key = `${cp.containerPort}/${protocol}`;
    if (!seen.has(key)) seen.set(key, { port: cp.containerPort, protocol, ...(cp.name ? { name: cp.name } : {}) });
    if (cp.name && !named.has(namedPortKey(cp.name, protocol))) named.set(namedPortKey(cp.name, protocol), cp.containerPort);
  }
  const ports = [...seen.values()].sort((a, b) => a.port - b.port || compareText(a.protocol, b.protocol));
  return { ports, named };
}

/** Namespace labels, including namespaces only named by pods or policies (they exist, but their labels are unknown). */
function namespaceLabels(
  namespaces: readonly Namespace[],
  pods: readonly PodInfo[],
  policies: readonly NetworkPolicy[],
): Map<string, Labels> {
  const out = new Map<string, Labels>();
  const add = (name: string, labels: Labels): void => {
    out.set(name, { ...labels, [NAMESPACE_NAME_LABEL]: name });
  };
  for (const p of pods) add(p.namespace, {});
  for (const p of policies) add(p.metadata.namespace ?? 'default', {});
  for (const ns of namespaces) if (ns.metadata.name) add(ns.metadata.name, ns.metadata.labels ?? {});
  return out;
}

/**
 * Evaluates each distinct selector, selector peer and ipBlock once over all pods (or namespaces), since policies
 * repeat them a lot: at 20,000 policies this is most of the cost of building the model (issue 18).
 */
class SelectorIndex {
  private readonly podCache = new Map<string, Uint8Array>();
  private readonly nsCache = new Map<string, ReadonlySet<string>>();
  private readonly peerCache = new Map<string, Uint8Array>();
  private readonly ipCache = new Map<string, Uint8Array>();
  private readonly unionCache = new Map<string, Uint8Array>();
  private readonly ids = new Map<Uint8Array, number>();
  /** The members of the cached sets that hold few pods. */
  private readonly sparse = new Map<Uint8Array, Int32Array>();
  /** The pods' IPv4 addresses as numbers, sorted, for the common IPv4 ipBlock without bigint arithmetic (made when first needed). */
  private v4: { readonly address: Float64Array; readonly pod: Int32Array } | undefined;
  private readonly byNamespace = new Map<string, number[]>();
  /** No pod: shared by rules whose peers match none. */
  readonly none: Uint8Array;
  constructor(
    readonly pods: readonly PodInfo[],
    private readonly namespaces: ReadonlyMap<string, Labels>,
  ) {
    this.none = new Uint8Array(pods.length);
    pods.forEach((p, i) => {
      const list = this.byNamespace.get(p.namespace);
      if (list) list.push(i);
      else this.byNamespace.set(p.namespace, [i]);
    });
  }

  /** Indices of the pods of a namespace, in order. */
  podsIn(namespace: string): readonly number[] {
    return this.byNamespace.get(namespace) ?? [];
  }

  podsMatching(selector: LabelSelector): Uint8Array {
    const key = selectorKey(selector);
    let hit = this.podCache.get(key);
    if (!hit) {
      hit = new Uint8Array(this.pods.length);
      for (let i = 0; i < hit.length; i++) if (matchesSelector(selector, (this.pods[i] as PodInfo).labels)) hit[i] = 1;
      this.podCache.set(key, hit);
    }
    return hit;
  }

  namespacesMatching(selector: LabelSelector): ReadonlySet<string> {
    const key = selectorKey(selector);
    let hit = this.nsCache.get(key);
    if (!hit) {
      hit = new Set([...this.namespaces].filter(([, labels]) => matchesSelector(selector, labels)).map(([n]) => n));
      this.nsCache.set(key, hit);
    }
    return hit;
  }

  /**
   * Pods of a selector peer; the result is shared, callers must not write to it. Only the pods of the namespaces
   * the peer names are looked at (its own namespace's when namespaceSelector is absent, the common case).
   */
  peerPods(peer: NetworkPolicyPeer, ownNamespace: string): Uint8Array {
    const key = `${selectorKey(peer.podSelector ?? {})}|${peer.namespaceSelector ? selectorKey(peer.namespaceSelector) : `=${ownNamespace}`}`;
    let hit = this.peerCache.get(key);
    if (!hit) {
      const podHits = this.podsMatching(peer.podSelector ?? {});
      const namespaces = peer.namespaceSelector ? this.namespacesMatching(peer.namespaceSelector) : [ownNamespace];
      hit = new Uint8Array(this.pods.length);
      const members: number[] = [];
      for (const ns of namespaces) {
        for (const k of this.podsIn(ns)) {
          if (podHits[k] === 1) {
            hit[k] = 1;
            members.push(k);
          }
        }
      }
      this.remember(hit, members);
      this.peerCache.set(key, hit);
    }
    return hit;
  }

  /** Pods with an IP inside the block (and outside its excepts); shared, callers must not write to it. */
  ipBlockPods(block: IpBlockModel): Uint8Array {
    const key = [block.cidr, ...block.except].map((c) => `${c.family}:${c.network}/${c.prefix}`).join(' ');
    let hit = this.ipCache.get(key);
    if (!hit) {
      hit = new Uint8Array(this.pods.length);
      const members: number[] = [];
      const add = (k: number): void => {
        if (hit?.[k] === 1) return;
        (hit as Uint8Array)[k] = 1;
        members.push(k);
      };
      if (block.cidr.family === 4 && block.except.every((e) => e.family === 4)) this.v4Inside(block, add);
      else this.pods.forEach((pod, k) => pod.ips.some((a) => ipBlockContains(block, a)) && add(k));
      this.remember(hit, members);
      this.ipCache.set(key, hit);
    }
    return hit;
  }

  /**
   * Calls add(k) for each pod with an IPv4 address inside an IPv4 block and outside its excepts: a binary search
   * in the pods' addresses sorted once, so thousands of ipBlocks cost their own pods, not every pod each.
   */
  private v4Inside(block: IpBlockModel, add: (k: number) => void): void {
    const { address, pod } = (this.v4 ??= sortedV4(this.pods));
    const first = Number(block.cidr.network);
    const last = first + 2 ** (32 - block.cidr.prefix) - 1;
    let lo = 0;
    let hi = address.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((address[mid] as number) < first) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < address.length && (address[i] as number) <= last; i++) {
      const a = address[i] as number;
      if (!block.except.some((e) => v4Contains(e, a))) add(pod[i] as number);
    }
  }

  /** Keeps the members of a sparse set, so that ORing it into a rule's set touches only them. */
  private remember(hit: Uint8Array, members: readonly number[]): void {
    if (members.length * 16 <= hit.length) this.sparse.set(hit, Int32Array.from(members));
  }

  /** target |= source, through source's members when it is sparse. */
  orInto(target: Uint8Array, source: Uint8Array): void {
    const members = this.sparse.get(source);
    if (members) for (const k of members) target[k] = 1;
    else orInto(target, source);
  }

  /**
   * The union of several peers' pods, shared by the rules with the same peers (so that later steps that group
   * rules by their pod set see one set); callers must not write to it.
   */
  union(hits: readonly Uint8Array[]): Uint8Array {
    const key = hits.map((h) => this.idOf(h)).join(',');
    let hit = this.unionCache.get(key);
    if (!hit) {
      hit = new Uint8Array(this.pods.length);
      for (const h of hits) this.orInto(hit, h);
      this.unionCache.set(key, hit);
    }
    return hit;
  }

  private idOf(set: Uint8Array): number {
    let id = this.ids.get(set);
    if (id === undefined) this.ids.set(set, (id = this.ids.size));
    return id;
  }
}

/** Every IPv4 address of every pod as a number, sorted, with the pod it belongs to. */
function sortedV4(pods: readonly PodInfo[]): { address: Float64Array; pod: Int32Array } {
  const entries: [number, number][] = [];
  pods.forEach((p, k) => {
    for (const a of p.ips) if (a.family === 4) entries.push([Number(a.value), k]);
  });
  entries.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  return { address: Float64Array.from(entries, (e) => e[0]), pod: Int32Array.from(entries, (e) => e[1]) };
}

/** cidrContains for an IPv4 CIDR and an IPv4 address given as a number (0 to 2^32 - 1). */
function v4Contains(cidr: Cidr, address: number): boolean {
  if (cidr.prefix === 0) return true;
  // XOR and >>> work on the 32 low bits (ToInt32/ToUint32), which is all an IPv4 address has.
  return ((address ^ Number(cidr.network)) >>> (32 - cidr.prefix)) === 0;
}

/**
 * Upstream defaulting (pkg/apis/networking/v1/defaults.go): when policyTypes is absent or empty, Ingress always,
 * plus Egress when the policy has at least one egress rule (`egress: []` does not count).
 */
export function effectivePolicyTypes(p: NetworkPolicy): { ingress: boolean; egress: boolean } {
  const types = p.spec.policyTypes;
  if (types && types.length > 0) return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
  return { ingress: true, egress: (p.spec.egress ?? []).length > 0 };
}

function policyModel(p: NetworkPolicy, index: SelectorIndex, issues: string[]): PolicyModel {
  const id = policyId(p);
  const namespace = p.metadata.namespace ?? 'default';
  const selectorHits = index.podsMatching(p.spec.podSelector ?? {});
  const selected = index.podsIn(namespace).filter((i) => selectorHits[i] === 1);
  const types = effectivePolicyTypes(p);
  const ctx: RuleContext = { index, namespace, where: id, issues };
  return {
    id,
    namespace,
    policy: p,
    selected,
    ingress: types.ingress ? (p.spec.ingress ?? []).map((r, i) => ruleModel(i, r.from, r.ports, ctx)) : undefined,
    egress: types.egress ? (p.spec.egress ?? []).map((r, i) => ruleModel(i, r.to, r.ports, ctx)) : undefined,
  };
}

interface RuleContext {
  readonly index: SelectorIndex;
  readonly namespace: string;
  readonly where: string;
  readonly issues: string[];
}

function ruleModel(
  i: number,
  peers: readonly NetworkPolicyPeer[] | undefined,
  ports: readonly NetworkPolicyPort[] | undefined,
  ctx: RuleContext,
): RuleModel {
  const list = peers ?? [];
  const ipBlocks: IpBlockModel[] = [];
  const hits: Uint8Array[] = [];
  list.forEach((peer, j) => {
    const where = `${ctx.where} rule ${i} peer ${j}`;
    const model = peerModel(peer, where, ctx);
    if (model?.kind === 'pods') hits.push(model.hits);
    if (model?.kind === 'ip') {
      ipBlocks.push(model.block);
      hits.push(ctx.index.ipBlockPods(model.block));
    }
  });
  // One peer (the common case): share its cached array, nobody writes to a rule's pods.
  const podHits = hits.length === 0 ? ctx.index.none : hits.length === 1 ? (hits[0] as Uint8Array) : ctx.index.union(hits);
  return {
    index: i,
    allPeers: list.length === 0,
    pods: podHits,
    ipBlocks,
    ports: ports && ports.length > 0 ? ports.map(toPortMatcher) : undefined,
  };
}

type PeerModel = { readonly kind: 'pods'; readonly hits: Uint8Array } | { readonly kind: 'ip'; readonly block: IpBlockModel };

function peerModel(peer: NetworkPolicyPeer, where: string, ctx: RuleContext): PeerModel | undefined {
  const hasSelectors = peer.podSelector !== undefined || peer.namespaceSelector !== undefined;
  if (peer.ipBlock !== undefined && hasSelectors) {
    ctx.issues.push(`${where}: ipBlock cannot be combined with selectors; the peer matches nothing`);
    return undefined;
  }
  if (peer.ipBlock !== undefined) {
    const block = ipBlockModel(peer.ipBlock);
    if (!block) ctx.issues.push(`${where}: invalid ipBlock ${JSON.stringify(peer.ipBlock)}; the peer matches nothing`);
    return block ? { kind: 'ip', block } : undefined;
  }
  if (!hasSelectors) {
    ctx.issues.push(`${where}: a peer needs podSelector, namespaceSelector or ipBlock; the peer matches nothing`);
    return undefined;
  }
  return { kind: 'pods', hits: selectorPeerHits(peer, ctx) };
}

/**
 * A selector peer: namespaceSelector absent = the policy's own namespace; podSelector absent = every pod of the
 * selected namespaces; both present = pods matching podSelector in namespaces matching namespaceSelector (AND).
 */
function selectorPeerHits(peer: NetworkPolicyPeer, ctx: RuleContext): Uint8Array {
  return ctx.index.peerPods(peer, ctx.namespace);
}

function ipBlockModel(block: IPBlock): IpBlockModel | undefined {
  const cidr = parseCidr(block.cidr);
  const except = (block.except ?? []).map(parseCidr);
  if (!cidr || except.some((e) => e === undefined)) return undefined;
  return { cidr, except: except as Cidr[] };
}

export function ipBlockContains(block: IpBlockModel, address: Address): boolean {
  return cidrContains(block.cidr, address) && !block.except.some((e) => cidrContains(e, address));
}

function orInto(target: Uint8Array, source: Uint8Array): void {
  for (let k = 0; k < target.length; k++) target[k] = (target[k] as number) | (source[k] as number);
}
