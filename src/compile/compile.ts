/**
 * compile(): a ValidIntent to the NetworkPolicies API.md specifies, sorted by name, byte-stable. Pure.
 * One builder per concern: ingress, egress (with DNS), default-deny; metadata is shared.
 *
 * Every object is built with its keys in sorted order and nothing empty, so that its JSON is canonical
 * (canonicalJSON(spec) === JSON.stringify(spec)); the spec's JSON is assembled from the JSON of its parts, which
 * are computed once per intent, and hashed for the spec-hash annotation. The unit tests check both equalities.
 * The returned policies may share sub-objects (a workload's selector, a peer): treat them as read-only.
 */
import type {
  LabelSelector,
  NetworkPolicy,
  NetworkPolicyEgressRule,
  NetworkPolicyIngressRule,
  NetworkPolicySpec,
  ObjectMeta,
  PolicyType,
} from '../model/kubernetes';
import type { Endpoint, Flow, Issue, ValidIntent, Workload } from '../intent/types';
import { BudgetMeter, COMPILE_BUDGET, CompileBudgetError, kib } from './budget';
import type { CompileBudget } from './budget';
import { API_VERSION, KIND } from '../intent/types';
import { byString, canonicalSelector } from './canonical';
import { sha256Hex } from './hash';
import { INTENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SPEC_HASH_ANNOTATION, intentLabelValue } from './labels';
import { policyName } from './names';
import { DNS_PEER, KeyedPeer, keyed, peerOf } from './peers';
import { CanonicalPorts, canonicalPorts } from './ports';
import { Rule, RuleSet } from './rules';

export const DNS_PORTS = [
  { protocol: 'UDP', port: 53 },
  { protocol: 'TCP', port: 53 },
] as const;
export const DNS_CANONICAL_PORTS = canonicalPorts(DNS_PORTS);

/**
 * Throws CompileBudgetError as soon as the output would exceed `budget` (./budget.ts): at most the budget and
 * one policy are ever built. compileChecked() returns the same as an issue.
 */
export function compile(intent: ValidIntent, budget: CompileBudget = COMPILE_BUDGET): NetworkPolicy[] {
  const ctx = new Context(intent, new BudgetMeter(budget));
  const specs: NamedSpec[] = [];
  if (intent.directions.includes('Ingress')) workloadSpecs(ctx, 'Ingress', specs);
  if (intent.directions.includes('Egress')) workloadSpecs(ctx, 'Egress', specs);
  if (intent.scope === 'Namespace') specs.push(defaultDenySpec(ctx));
  // Names are injective (./names.ts) and workload names unique (validation): no two specs share a name.
  const meta = new MetadataWriter(intent);
  const policies = specs.map((s) => meta.policy(s.name, s));
  return policies.sort((a, b) => byString(a.metadata.name as string, b.metadata.name as string));
}

export type CompileResult =
  | { readonly ok: true; readonly policies: NetworkPolicy[] }
  | { readonly ok: false; readonly issues: readonly Issue[] };

/** compile(), with an output over the budget as an issue (path and fix) instead of an exception. */
export function compileChecked(intent: ValidIntent, budget: CompileBudget = COMPILE_BUDGET): CompileResult {
  try {
    return { ok: true, policies: compile(intent, budget) };
  } catch (e) {
    if (e instanceof CompileBudgetError) return { ok: false, issues: [e.issue] };
    throw e;
  }
}

/** A spec and its canonical JSON. */
export interface NamedSpec {
  readonly name: string;
  readonly spec: NetworkPolicySpec;
  readonly json: string;
}

export interface JsonSelector {
  readonly selector: LabelSelector;
  readonly json: string;
}

/**
 * Per-intent work done once: each workload's canonical selector, each flow's canonical ports, and one ranked
 * KeyedPeer per endpoint. Ranks order peers by key, and equal keys get equal ranks (two workloads with equal
 * selectors are one peer): rules compare peers by rank, never by their strings.
 */
class Context {
  readonly dns: KeyedPeer;
  private readonly selectors = new Map<Workload, JsonSelector>();
  private readonly peers = new Map<Endpoint, KeyedPeer>();
  private readonly ports = new Map<Flow, CanonicalPorts>();

  constructor(
    readonly intent: ValidIntent,
    readonly meter: BudgetMeter,
  ) {
    this.dns = keyed(DNS_PEER, DNS_KEY);
    for (const w of intent.workloads) this.visit(w);
    for (const p of intent.peers) this.visit(p);
    // Validation resolves every flow endpoint to one of the above; this only keeps compile total without it.
    for (const f of intent.flows) {
      for (const e of f.from) this.visit(e);
      for (const e of f.to) this.visit(e);
    }
    rankByKey([this.dns, ...this.peers.values()]);
  }

  private visit(e: Endpoint): void {
    if (!this.peers.has(e)) this.peers.set(e, e.kind === 'workload' ? workloadPeer(this.selectorOf(e)) : keyed(peerOf(e, this.intent.namespace)));
  }

  selectorOf(w: Workload): JsonSelector {
    let s = this.selectors.get(w);
    if (!s) {
      const selector = canonicalSelector(w.selector);
      this.selectors.set(w, (s = { selector, json: JSON.stringify(selector) }));
    }
    return s;
  }

  peerOf(e: Endpoint): KeyedPeer {
    return this.peers.get(e) as KeyedPeer;
  }

  portsOf(flow: Flow): CanonicalPorts {
    let p = this.ports.get(flow);
    if (!p) this.ports.set(flow, (p = canonicalPorts(flow.ports)));
    return p;
  }

  addDNS(set: RuleSet): void {
    set.add(this.dns, DNS_PORTS, DNS_CANONICAL_PORTS);
  }

  /** The largest peer entries of some rules, by the names that declare them: for a budget message. Slow path. */
  largestPeers(rules: readonly Rule[]): string[] {
    const names = new Map<KeyedPeer, string[]>();
    for (const [endpoint, peer] of this.peers) names.set(peer, [...(names.get(peer) ?? []), endpoint.name]);
    const seen = [...new Set(rules.flatMap((r) => r.peers))].sort((a, b) => b.key.length - a.key.length);
    return seen.slice(0, 3).map((p) => `${(names.get(p) ?? ['cluster DNS']).map((n) => `"${n}"`).join('/')} (${kib(p.key.length)})`);
  }

  /** Charges one built policy spec to the intent's budget; throws CompileBudgetError past it. */
  charge(spec: NamedSpec, path: string, rules: readonly Rule[]): void {
    this.meter.charge({ policy: spec.name, bytes: spec.json.length, path, contributors: () => this.largestPeers(rules) });
  }
}

export const DNS_KEY = JSON.stringify(DNS_PEER);

/** Sets each peer's rank: its key's position among the distinct keys, in sorted order. */
export function rankByKey(peers: KeyedPeer[]): void {
  peers.sort((a, b) => byString(a.key, b.key));
  let rank = -1;
  let previous: string | undefined;
  for (const p of peers) {
    if (p.key !== previous) rank++;
    previous = p.key;
    p.rank = rank;
  }
}

function workloadPeer(s: JsonSelector): KeyedPeer {
  return keyed({ podSelector: s.selector }, `{"podSelector":${s.json}}`);
}

// ------------------------------------------------------------------------------------------- builders

/**
 * One policy per workload for one direction: Ingress rules come from the flows into it, Egress rules from
 * the flows out of it (plus DNS when allowed).
 */
function workloadSpecs(ctx: Context, direction: PolicyType, out: NamedSpec[]): void {
  const { intent } = ctx;
  const sets = rulesPerWorkload(ctx, direction);
  const kind = direction === 'Ingress' ? 'ingress' : 'egress';
  const types: readonly PolicyType[] = [direction];
  intent.workloads.forEach((w, i) => {
    let set = sets.get(w.name);
    if (direction === 'Egress' && intent.allowDNS) ctx.addDNS((set ??= new RuleSet()));
    const rules = set ? set.rules() : [];
    const spec = specOf(policyName(intent.name, w.name, kind), ctx.selectorOf(w), types, rules);
    ctx.charge(spec, `spec.workloads[${i}]`, rules);
    out.push(spec);
  });
}

/**
 * scope Namespace: one policy selecting every pod, isolating the intent's directions. When egress is isolated
 * and allowDNS is on it keeps the DNS rule: API.md promises DNS to every isolated pod, and these are isolated too.
 */
function defaultDenySpec(ctx: Context): NamedSpec {
  const { intent } = ctx;
  const set = new RuleSet();
  if (intent.directions.includes('Egress') && intent.allowDNS) ctx.addDNS(set);
  const everyPod = { selector: {}, json: '{}' };
  const rules = set.rules();
  const spec = specOf(policyName(intent.name, undefined, 'default-deny'), everyPod, intent.directions, rules);
  ctx.charge(spec, 'spec.isolation.scope', rules);
  return spec;
}

/**
 * A spec with keys in sorted order (egress, ingress, podSelector, policyTypes), and its JSON, written in the
 * same pass. An empty rule list is left out: the apiserver drops it anyway, and policyTypes alone isolates.
 */
export function specOf(name: string, pods: JsonSelector, types: readonly PolicyType[], rules: readonly Rule[]): NamedSpec {
  // A policy's rules are all of one direction: Egress when it isolates egress (the default-deny policy of both
  // directions has only the DNS egress rule), else Ingress.
  const direction: PolicyType = types.includes('Egress') ? 'Egress' : 'Ingress';
  const policyTypes = [...types];
  const tail = `"podSelector":${pods.json},"policyTypes":${policyTypesJSON(policyTypes)}}`;
  if (rules.length === 0) return { name, spec: { podSelector: pods.selector, policyTypes }, json: `{${tail}` };
  // Fits both rule lists: an ingress rule has no `to`, an egress rule no `from`.
  const list: (NetworkPolicyIngressRule & NetworkPolicyEgressRule)[] = [];
  let json = direction === 'Ingress' ? '{"ingress":[' : '{"egress":[';
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as Rule;
    list.push(ruleObject(rule, direction));
    json += i > 0 ? `,${ruleJSON(rule, direction)}` : ruleJSON(rule, direction);
  }
  json += `],${tail}`;
  const spec: NetworkPolicySpec =
    direction === 'Ingress'
      ? { ingress: list, podSelector: pods.selector, policyTypes }
      : { egress: list, podSelector: pods.selector, policyTypes };
  return { name, spec, json };
}

/** A rule as the API has it: ingress {from, ports}, egress {ports, to} (sorted keys); no ports = every port. */
function ruleObject({ peers, ports }: Rule, direction: PolicyType): NetworkPolicyIngressRule & NetworkPolicyEgressRule {
  const peerList = peers.map((p) => p.peer);
  if (direction === 'Ingress') return ports.list ? { from: peerList, ports: ports.list } : { from: peerList };
  return ports.list ? { ports: ports.list, to: peerList } : { to: peerList };
}

/** JSON.stringify(ruleObject(rule, direction)), written from the JSON of the peers and ports. */
function ruleJSON({ peers, ports }: Rule, direction: PolicyType): string {
  const peersJSON = peers.length === 1 ? `[${(peers[0] as KeyedPeer).key}]` : `[${peers.map((p) => p.key).join(',')}]`;
  if (direction === 'Ingress') return ports.json ? `{"from":${peersJSON},"ports":${ports.json}}` : `{"from":${peersJSON}}`;
  return ports.json ? `{"ports":${ports.json},"to":${peersJSON}}` : `{"to":${peersJSON}}`;
}

function policyTypesJSON(types: readonly PolicyType[]): string {
  if (types.length === 1) return types[0] === 'Ingress' ? '["Ingress"]' : '["Egress"]';
  return JSON.stringify(types);
}

/** For each workload, its allowed peers: Ingress = sources of flows into it, Egress = destinations of flows out. */
function rulesPerWorkload(ctx: Context, direction: PolicyType): Map<string, RuleSet> {
  const out = new Map<string, RuleSet>();
  for (const flow of ctx.intent.flows) {
    const selves = direction === 'Ingress' ? flow.to : flow.from;
    const others = direction === 'Ingress' ? flow.from : flow.to;
    for (const self of selves) {
      if (self.kind !== 'workload') continue;
      let set = out.get(self.name);
      if (!set) out.set(self.name, (set = new RuleSet()));
      for (const other of others) set.add(ctx.peerOf(other), flow.ports, ctx.portsOf(flow));
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------- metadata

/** Writes the policies' metadata; what is the same for every policy of the intent is computed once. */
class MetadataWriter {
  private readonly intentLabel: string;

  constructor(private readonly intent: ValidIntent) {
    this.intentLabel = intentLabelValue(intent.name);
  }

  policy(name: string, s: NamedSpec): NetworkPolicy {
    return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: this.metadata(name, s.json), spec: s.spec };
  }

  /** Every policy gets its own metadata objects: a caller may set fields on one without touching the others. */
  private metadata(name: string, specJSON: string): ObjectMeta {
    const { intent } = this;
    const meta: ObjectMeta = {
      name,
      namespace: intent.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INTENT_LABEL]: this.intentLabel },
      annotations: { [SPEC_HASH_ANNOTATION]: sha256Hex(specJSON) },
    };
    // Files carry no uid, and an ownerReference without one is invalid: the operator's copy always has it.
    if (intent.uid) {
      meta.ownerReferences = [
        { apiVersion: API_VERSION, kind: KIND, name: intent.name, uid: intent.uid, controller: true, blockOwnerDeletion: true },
      ];
    }
    return meta;
  }
}
