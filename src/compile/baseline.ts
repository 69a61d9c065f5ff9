/**
 * compileBaseline(): a ValidBaseline and ONE selected namespace → that namespace's baseline NetworkPolicies
 * (API.md, "ClusterSegmentationIntent"; docs/baseline.md). Pure, deterministic, sorted by name, budgeted like
 * compile(). The caller decides which namespaces are selected; everything here depends only on the baseline and
 * this namespace's name and labels, because "the other selected namespaces" are written as the baseline's own
 * namespaceSelector, which the apiserver's network plugin evaluates live.
 *
 * Policies, one builder each:
 *  - `<b>.cluster-ingress` / `<b>.cluster-egress`: podSelector {}, one per isolated direction, with the flows
 *    into / out of `namespace`, `{podSelector: {}}` when allowSameNamespace, and DNS on the egress one;
 *  - `<b>.<peer>.peer-ingress` / `peer-egress`: "a baseline never cuts its own flows". When a flow's peer has
 *    pods in THIS namespace (its namespaceSelector matches it) the flow would be cut here by this namespace's
 *    own deny-all, so these pods admit (or may send to) the other selected namespaces on the flow's ports. They
 *    select the peer's pods only: written into the `{}` policy, the rule would open every pod of the namespace.
 *  - `<b>.dns-ingress`: in kube-system when it is selected, kube-dns admits DNS from every selected namespace.
 * Every peer gets the NotIn rule for the namespace the policy is in (./peers.ts): same-namespace traffic is
 * allowSameNamespace alone.
 */
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, ObjectMeta, PolicyType } from '../model/kubernetes';
import type { FlowPort, Issue, Peer } from '../intent/types';
import { API_VERSION } from '../intent/types';
import type { NamespaceView, ValidBaseline } from '../intent/baseline';
import { CLUSTER_KIND } from '../intent/baseline';
import { labelValue } from '../model/labels';
import { matchesSelector } from '../reach/selector';
import { BudgetMeter, COMPILE_BUDGET, CompileBudgetError } from './budget';
import type { CompileBudget } from './budget';
import { byString, canonicalSelector } from './canonical';
import { DNS_CANONICAL_PORTS, DNS_KEY, DNS_PORTS, rankByKey, specOf } from './compile';
import type { JsonSelector, NamedSpec } from './compile';
import { sha256Hex } from './hash';
import { CLUSTER_INTENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SPEC_HASH_ANNOTATION, intentLabelValue } from './labels';
import { baselinePolicyName } from './names';
import type { BaselinePolicyKind } from './names';
import { DNS_PEER, NAMESPACE_NAME_LABEL, keyed, outsideNamespace, peerOf } from './peers';
import type { KeyedPeer } from './peers';
import { canonicalPorts } from './ports';
import { RuleSet } from './rules';

export type BaselineCompileResult =
  | { readonly ok: true; readonly policies: NetworkPolicy[] }
  | { readonly ok: false; readonly issues: readonly Issue[] };

const EVERY_POD: JsonSelector = { selector: {}, json: '{}' };
const SAME_NAMESPACE_KEY = '{"podSelector":{}}';

/** Throws CompileBudgetError past the budget (per namespace: each namespace's policies are one compile). */
export function compileBaseline(b: ValidBaseline, namespace: NamespaceView, budget: CompileBudget = COMPILE_BUDGET): NetworkPolicy[] {
  const ctx = new BaselineContext(b, namespace, new BudgetMeter(budget));
  const specs = [...directionSpecs(ctx), ...mirrorSpecs(ctx), ...dnsSpecs(ctx)];
  ctx.rank();
  const built = specs.map((s) => s());
  return built.map((s) => policyOf(b, namespace.name, s)).sort((x, y) => byString(x.metadata.name ?? '', y.metadata.name ?? ''));
}

/** compileBaseline(), with an output over the budget as an issue (path and fix). */
export function compileBaselineChecked(b: ValidBaseline, namespace: NamespaceView, budget: CompileBudget = COMPILE_BUDGET): BaselineCompileResult {
  try {
    return { ok: true, policies: compileBaseline(b, namespace, budget) };
  } catch (e) {
    if (e instanceof CompileBudgetError) return { ok: false, issues: [e.issue] };
    throw e;
  }
}

/** True when the baseline selects this namespace: its namespaceSelector matches the namespace's labels. */
export function selectsNamespace(b: Pick<ValidBaseline, 'namespaceSelector'>, namespace: NamespaceView): boolean {
  return matchesSelector(b.namespaceSelector, labelsOf(namespace));
}

/** A namespace always carries its own name as kubernetes.io/metadata.name (the apiserver sets it; files may not). */
function labelsOf(namespace: NamespaceView): Record<string, string> {
  return { ...namespace.labels, [NAMESPACE_NAME_LABEL]: namespace.name };
}

/**
 * Per-compile state: the keyed peers (ranked together once all are known, as RuleSet compares by rank) and the
 * budget. A spec is built lazily (a thunk) so that ranking happens after every peer has been seen.
 */
class BaselineContext {
  private readonly peers = new Map<string, KeyedPeer>();
  readonly labels: Record<string, string>;

  constructor(
    readonly b: ValidBaseline,
    readonly namespace: NamespaceView,
    readonly meter: BudgetMeter,
  ) {
    this.labels = labelsOf(namespace);
  }

  /** One KeyedPeer per distinct peer JSON. */
  peer(p: NetworkPolicyPeer, key = JSON.stringify(p)): KeyedPeer {
    let k = this.peers.get(key);
    if (!k) this.peers.set(key, (k = keyed(p, key)));
    return k;
  }

  /** The pods of the other selected namespaces (the NotIn rule: never this one). */
  otherSelected(): KeyedPeer {
    return this.peer({ namespaceSelector: canonicalSelector(outsideNamespace(this.b.namespaceSelector, this.namespace.name)) });
  }

  rank(): void {
    rankByKey([...this.peers.values()]);
  }

  charge(spec: NamedSpec, path: string): NamedSpec {
    this.meter.charge({ policy: spec.name, bytes: spec.json.length, path, contributors: () => [] });
    return spec;
  }
}

type SpecThunk = () => NamedSpec;

// ------------------------------------------------------------------------------------------- builders

/** The deny-all of each isolated direction, with the flows of that direction, same-namespace and DNS. */
function directionSpecs(ctx: BaselineContext): SpecThunk[] {
  const { b } = ctx;
  return b.directions.map((direction) => {
    const set = new RuleSet();
    for (const flow of b.flows.filter((f) => f.direction === direction)) {
      const ports = canonicalPorts(flow.ports);
      for (const p of flow.peers.filter((x) => !onlyHere(x, ctx.namespace.name))) set.add(ctx.peer(peerOf(p, ctx.namespace.name)), flow.ports, ports);
    }
    if (b.allowSameNamespace) set.add(ctx.peer({ podSelector: {} }, SAME_NAMESPACE_KEY), [], canonicalPorts([]));
    if (direction === 'Egress' && b.allowDNS) set.add(ctx.peer(DNS_PEER, DNS_KEY), DNS_PORTS, DNS_CANONICAL_PORTS);
    const kind: BaselinePolicyKind = direction === 'Ingress' ? 'cluster-ingress' : 'cluster-egress';
    return () => ctx.charge(specOf(baselinePolicyName(b.name, undefined, kind), EVERY_POD, [direction], set.rules()), 'spec.directions');
  });
}

/**
 * "Never cuts its own flows": a flow `namespace → peer` whose peer has pods here needs those pods to admit the
 * other selected namespaces (when Ingress is isolated); `peer → namespace` needs them to be allowed to send to
 * the other selected namespaces (when Egress is isolated). One policy per (peer, direction), selecting the
 * peer's pods only, with the ports of every such flow unioned.
 */
function mirrorSpecs(ctx: BaselineContext): SpecThunk[] {
  const { b } = ctx;
  const out: SpecThunk[] = [];
  for (const direction of b.directions) {
    // Ingress here mirrors flows out of `namespace` (Egress flows), and the other way round.
    const mirrored = direction === 'Ingress' ? 'Egress' : 'Ingress';
    const byPeer = new Map<string, { peer: Peer; selector: LabelSelector; ports: FlowPort[][] }>();
    for (const flow of b.flows.filter((f) => f.direction === mirrored)) {
      for (const p of flow.peers) {
        const pods = podsHere(p, ctx);
        if (!pods) continue;
        const entry = byPeer.get(p.name) ?? { peer: p, selector: pods, ports: [] };
        entry.ports.push([...flow.ports]);
        byPeer.set(p.name, entry);
      }
    }
    const kind: BaselinePolicyKind = direction === 'Ingress' ? 'peer-ingress' : 'peer-egress';
    for (const { peer, selector, ports } of [...byPeer.values()].sort((x, y) => byString(x.peer.name, y.peer.name))) {
      const set = new RuleSet();
      const other = ctx.otherSelected();
      for (const p of ports) set.add(other, p, canonicalPorts(p));
      const index = b.peers.findIndex((x) => x.name === peer.name);
      const pods = canonicalSelector(selector);
      out.push(() => ctx.charge(specOf(baselinePolicyName(b.name, peer.name, kind), { selector: pods, json: JSON.stringify(pods) }, [direction], set.rules()), `spec.peers[${index}]`));
    }
  }
  return out;
}

/**
 * A peer pinned to this very namespace by name: with the NotIn rule it could match nothing here, so its rule
 * is left out rather than written as a rule that admits no one (its pods get the peer-side policy instead).
 */
function onlyHere(p: Peer, namespace: string): boolean {
  return p.kind === 'selector-peer' && labelValue(p.namespaceSelector.matchLabels, NAMESPACE_NAME_LABEL) === namespace;
}

/**
 * The pods of peer `p` in this namespace, if it can have any here: a selector peer whose namespaceSelector
 * matches this namespace. An ipBlock is no namespace's pods. (Peer kinds added later that name pods must say
 * here which namespace they are in.)
 */
function podsHere(p: Peer, ctx: BaselineContext): LabelSelector | undefined {
  if (p.kind !== 'selector-peer') return undefined;
  return matchesSelector(p.namespaceSelector, ctx.labels) ? (p.podSelector ?? {}) : undefined;
}

/** Cluster DNS lives in kube-system: when that namespace is selected and ingress isolated, DNS must stay open. */
function dnsSpecs(ctx: BaselineContext): SpecThunk[] {
  const { b } = ctx;
  const dnsNamespace = DNS_PEER.namespaceSelector as LabelSelector;
  if (!b.allowDNS || !b.directions.includes('Ingress') || !matchesSelector(dnsNamespace, ctx.labels)) return [];
  const set = new RuleSet();
  // From every selected namespace, kube-system included (its own pods need DNS too): API.md's DNS rule.
  set.add(ctx.peer({ namespaceSelector: canonicalSelector(b.namespaceSelector) }), DNS_PORTS, DNS_CANONICAL_PORTS);
  const pods = canonicalSelector(DNS_PEER.podSelector as LabelSelector);
  const types: PolicyType[] = ['Ingress'];
  return [() => ctx.charge(specOf(baselinePolicyName(b.name, undefined, 'dns-ingress'), { selector: pods, json: JSON.stringify(pods) }, types, set.rules()), 'spec.allowDNS')];
}

// ------------------------------------------------------------------------------------------- metadata

function policyOf(b: ValidBaseline, namespace: string, s: NamedSpec): NetworkPolicy {
  const metadata: ObjectMeta = {
    name: s.name,
    namespace,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [CLUSTER_INTENT_LABEL]: intentLabelValue(b.name) },
    annotations: { [SPEC_HASH_ANNOTATION]: sha256Hex(s.json) },
  };
  // A namespaced dependent may name a cluster-scoped owner (not the other way round): the GC deletes it with
  // the baseline. Files carry no uid, and an ownerReference without one is invalid.
  if (b.uid) metadata.ownerReferences = [{ apiVersion: API_VERSION, kind: CLUSTER_KIND, name: b.name, uid: b.uid, controller: true, blockOwnerDeletion: true }];
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata, spec: s.spec };
}
