/**
 * compile(): a ValidIntent to the NetworkPolicies API.md specifies, sorted by name, byte-stable. Pure.
 * One builder per concern: ingress, egress (with DNS), default-deny; metadata is shared.
 *
 * Every object is built with its keys in sorted order and nothing empty, so that its JSON is canonical
 * (canonicalJSON(spec) === JSON.stringify(spec)); the spec's JSON is assembled from the JSON of its parts, which
 * are computed once per intent, and hashed for the spec-hash annotation. The unit tests check both equalities.
 * The returned policies may share sub-objects (a workload's selector, a peer): treat them as read-only.
 */
import type { LabelSelector, NetworkPolicy, NetworkPolicySpec, ObjectMeta, PolicyType } from '../model/kubernetes';
import type { Endpoint, Flow, ValidIntent, Workload } from '../intent/types';
import { API_VERSION, KIND } from '../intent/types';
import { byString, canonicalSelector } from './canonical';
import { sha256Hex } from './hash';
import { SPEC_HASH_ANNOTATION, managedLabels } from './labels';
import { policyName, uniqueNames } from './names';
import { DNS_PEER, KeyedPeer, keyed, peerOf } from './peers';
import { CanonicalPorts, canonicalPorts } from './ports';
import { Rule, RuleSet } from './rules';

const DNS_PORTS = [
  { protocol: 'UDP', port: 53 },
  { protocol: 'TCP', port: 53 },
] as const;
const DNS_CANONICAL_PORTS = canonicalPorts(DNS_PORTS);

export function compile(intent: ValidIntent): NetworkPolicy[] {
  const ctx = new Context(intent);
  const specs = [...ingressSpecs(ctx), ...egressSpecs(ctx), ...defaultDenySpecs(ctx)];
  const names = uniqueNames(specs.map((s) => s.name));
  const policies = specs.map((s, i) => policy(intent, names[i] as string, s));
  return policies.sort((a, b) => byString(a.metadata.name as string, b.metadata.name as string));
}

/** A spec and its canonical JSON. */
interface NamedSpec {
  readonly name: string;
  readonly spec: NetworkPolicySpec;
  readonly json: string;
}

interface JsonSelector {
  readonly selector: LabelSelector;
  readonly json: string;
}

/**
 * Per-intent work done once: each workload's canonical selector, each flow's canonical ports, and one ranked
 * KeyedPeer per distinct peer (two workloads with equal selectors are one peer).
 */
class Context {
  readonly selectors = new Map<Workload, JsonSelector>();
  readonly dns: KeyedPeer;
  private readonly peers = new Map<Endpoint, KeyedPeer>();
  private readonly ports = new Map<Flow, CanonicalPorts>();

  constructor(readonly intent: ValidIntent) {
    const byKey = new Map<string, KeyedPeer>([[DNS_KEY, keyed(DNS_PEER, DNS_KEY)]]);
    const keyOf = new Map<Endpoint, string>();
    const visit = (e: Endpoint): void => {
      if (keyOf.has(e)) return;
      const k = e.kind === 'workload' ? workloadPeer(this.selectorOf(e)) : keyed(peerOf(e));
      if (!byKey.has(k.key)) byKey.set(k.key, k);
      keyOf.set(e, k.key);
    };
    intent.workloads.forEach(visit);
    intent.peers.forEach(visit);
    for (const f of intent.flows) {
      f.from.forEach(visit);
      f.to.forEach(visit);
    }
    const keys = [...byKey.keys()].sort(byString);
    const ranked = new Map<string, KeyedPeer>();
    keys.forEach((key, rank) => {
      const k = byKey.get(key) as KeyedPeer;
      ranked.set(key, { key, peer: k.peer, rank });
    });
    for (const [e, key] of keyOf) this.peers.set(e, ranked.get(key) as KeyedPeer);
    this.dns = ranked.get(DNS_KEY) as KeyedPeer;
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
}

const DNS_KEY = JSON.stringify(DNS_PEER);

function workloadPeer(s: JsonSelector): KeyedPeer {
  return keyed({ podSelector: s.selector }, `{"podSelector":${s.json}}`);
}

// ------------------------------------------------------------------------------------------- builders

function ingressSpecs(ctx: Context): NamedSpec[] {
  const { intent } = ctx;
  if (!intent.directions.includes('Ingress')) return [];
  const sets = rulesPerWorkload(ctx, 'Ingress');
  return intent.workloads.map((w) => ({
    name: policyName(intent.name, w.name, 'ingress'),
    ...specOf(ctx.selectorOf(w), ['Ingress'], { ingress: sets.get(w.name)?.rules() ?? [] }),
  }));
}

function egressSpecs(ctx: Context): NamedSpec[] {
  const { intent } = ctx;
  if (!intent.directions.includes('Egress')) return [];
  const sets = rulesPerWorkload(ctx, 'Egress');
  return intent.workloads.map((w) => {
    const set = sets.get(w.name) ?? new RuleSet();
    if (intent.allowDNS) ctx.addDNS(set);
    return { name: policyName(intent.name, w.name, 'egress'), ...specOf(ctx.selectorOf(w), ['Egress'], { egress: set.rules() }) };
  });
}

/**
 * scope Namespace: one policy selecting every pod, isolating the intent's directions. When egress is isolated
 * and allowDNS is on it keeps the DNS rule: API.md promises DNS to every isolated pod, and these are isolated too.
 */
function defaultDenySpecs(ctx: Context): NamedSpec[] {
  const { intent } = ctx;
  if (intent.scope !== 'Namespace') return [];
  const set = new RuleSet();
  if (intent.directions.includes('Egress') && intent.allowDNS) ctx.addDNS(set);
  const everyPod = { selector: {}, json: '{}' };
  return [{ name: policyName(intent.name, undefined, 'default-deny'), ...specOf(everyPod, intent.directions, { egress: set.rules() }) }];
}

/**
 * A spec with keys in sorted order (egress, ingress, podSelector, policyTypes), and its JSON. An empty rule
 * list is left out: the apiserver drops it anyway, and policyTypes alone isolates.
 */
function specOf(
  pods: { selector: LabelSelector; json: string },
  types: readonly PolicyType[],
  rules: { ingress?: readonly Rule[]; egress?: readonly Rule[] },
): { spec: NetworkPolicySpec; json: string } {
  const policyTypes = [...types];
  const tail = `"podSelector":${pods.json},"policyTypes":${policyTypesJSON(policyTypes)}}`;
  const base = { podSelector: pods.selector, policyTypes };
  if (rules.ingress && rules.ingress.length > 0) {
    const ingress = rules.ingress.map((r) => (r.ports ? { from: r.peers, ports: r.ports } : { from: r.peers }));
    const json = rules.ingress.map((r) => `{"from":${r.peersJSON}${r.portsJSON ? `,"ports":${r.portsJSON}` : ''}}`);
    return { spec: { ingress, ...base }, json: `{"ingress":[${json.join(',')}],${tail}` };
  }
  if (rules.egress && rules.egress.length > 0) {
    const egress = rules.egress.map((r) => (r.ports ? { ports: r.ports, to: r.peers } : { to: r.peers }));
    const json = rules.egress.map((r) => `{${r.portsJSON ? `"ports":${r.portsJSON},` : ''}"to":${r.peersJSON}}`);
    return { spec: { egress, ...base }, json: `{"egress":[${json.join(',')}],${tail}` };
  }
  return { spec: base, json: `{${tail}` };
}

function policyTypesJSON(types: readonly PolicyType[]): string {
  if (types.length === 1) return types[0] === 'Ingress' ? '["Ingress"]' : '["Egress"]';
  return JSON.stringify(types);
}

/** For each workload, its allowed peers: Ingress = sources of flows into it, Egress = destinations of flows out. */
function rulesPerWorkload(ctx: Context, direction: PolicyType): Map<string, RuleSet> {
  const out = new Map<string, RuleSet>();
  for (const flow of ctx.intent.flows) {
    const [selves, others] = direction === 'Ingress' ? [flow.to, flow.from] : [flow.from, flow.to];
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

function policy(intent: ValidIntent, name: string, s: NamedSpec): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: metadata(intent, name, s.json), spec: s.spec };
}

function metadata(intent: ValidIntent, name: string, specJSON: string): ObjectMeta {
  const meta: ObjectMeta = {
    name,
    namespace: intent.namespace,
    labels: managedLabels(intent.name),
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
