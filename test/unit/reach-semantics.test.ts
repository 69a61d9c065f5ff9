/**
 * NetworkPolicy semantics, one row per rule, each named by the sentence of the Kubernetes documentation it
 * checks: https://kubernetes.io/docs/concepts/services-networking/network-policies/ ("concept") and the
 * networking.k8s.io/v1 API reference ("API"): https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/
 */
import * as assert from 'assert';
import type { LabelSelector, Protocol } from '../../src/model/kubernetes';
import { matchesSelector } from '../../src/reach';
import { type World, ask, cluster, netpol, ns, pod } from '../fixtures/netpol/builders';

interface Case {
  readonly doc: string;
  readonly world: World;
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol?: Protocol;
  readonly allowed: boolean;
}

const web = pod('x/web', { app: 'web' }, { ip: '10.0.0.10', ports: [{ containerPort: 80 }, { name: 'http-alt', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] });
const client = pod('x/client', { app: 'client' }, { ip: '10.0.0.11' });
const otherClient = pod('y/client', { app: 'client' }, { ip: '10.0.1.11' });
const zClient = pod('z/client', { app: 'client', tier: 'fe' }, { ip: '10.0.2.11' });
const nsX = ns('x', { team: 'a' });
const nsY = ns('y', { team: 'b' });
const nsZ = ns('z', {});
const base = { namespaces: [nsX, nsY, nsZ], pods: [web, client, otherClient, zClient] };
const denyIngressWeb = netpol('x/deny', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] });

function ingressFrom(from: NonNullable<NonNullable<Parameters<typeof netpol>[1]['ingress']>[number]>): World {
  return { ...base, policies: [netpol('x/allow', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [from] })] };
}

const cases: Case[] = [
  // ------------------------------------------------------------------ isolation and policyTypes
  { doc: 'concept: "By default, a pod is non-isolated for ingress; all inbound connections are allowed."', world: base, from: 'y/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'concept: "a pod is isolated for ingress if there is any NetworkPolicy that both selects the pod and has Ingress in its policyTypes"', world: { ...base, policies: [denyIngressWeb] }, from: 'x/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'concept: isolation is per pod: a pod the policy does not select stays non-isolated', world: { ...base, policies: [denyIngressWeb] }, from: 'x/web', to: 'x/client', port: 80, allowed: true },
  { doc: 'concept: a policy only selects pods in its own namespace (podSelector "selects the grouping of pods to which the policy applies")', world: { ...base, policies: [netpol('y/deny', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] })] }, from: 'x/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'API policyTypes: "all policies (whether or not they contain an ingress section) are assumed to affect ingress"', world: { ...base, policies: [netpol('x/p', { podSelector: { matchLabels: { app: 'web' } } })] }, from: 'x/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'API policyTypes: without an egress section a policy does not affect egress (defaults to just [Ingress])', world: { ...base, policies: [netpol('x/p', { podSelector: { matchLabels: { app: 'web' } } })] }, from: 'x/web', to: 'x/client', port: 80, allowed: true },
  { doc: 'API policyTypes: "policies that contain an egress section are assumed to affect egress"', world: { ...base, policies: [netpol('x/p', { podSelector: { matchLabels: { app: 'client' } }, egress: [{ to: [{ podSelector: { matchLabels: { app: 'nothing' } } }] }] })] }, from: 'x/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'defaults.go: an empty egress list (egress: []) is no egress section, so egress stays non-isolated', world: { ...base, policies: [netpol('x/p', { podSelector: { matchLabels: { app: 'client' } }, egress: [] })] }, from: 'x/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'API policyTypes: "If you want to write an egress-only policy, you must explicitly specify policyTypes [Egress]" (ingress stays open)', world: { ...base, policies: [netpol('x/p', { podSelector: {}, policyTypes: ['Egress'] })] }, from: 'y/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'concept "Default deny all egress traffic": podSelector {} with policyTypes [Egress] and no rules', world: { ...base, policies: [netpol('x/p', { podSelector: {}, policyTypes: ['Egress'] })] }, from: 'x/client', to: 'y/client', port: 80, allowed: false },
  { doc: 'API ingress: "If this field is empty then this NetworkPolicy does not allow any traffic" (ingress: [])', world: { ...base, policies: [netpol('x/p', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] })] }, from: 'x/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'concept "Allow all ingress traffic": ingress: [{}] admits every source', world: { ...base, policies: [denyIngressWeb, netpol('x/all', { podSelector: {}, ingress: [{}] })] }, from: '192.0.2.1', to: 'x/web', port: 80, allowed: true },
  { doc: 'API from: "If this field is empty or missing, this rule matches all sources" (from: [])', world: ingressFrom({ from: [] }), from: 'z/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'concept: policies are additive: "the union of what each of the policies allow"', world: { ...base, policies: [netpol('x/a', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nothing' } } }] }] }), netpol('x/b', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] })] }, from: 'x/client', to: 'x/web', port: 80, allowed: true },
  // ------------------------------------------------------------------ peers
  { doc: 'concept podSelector peer: "selects particular Pods in the same namespace as the NetworkPolicy" (same namespace: allowed)', world: ingressFrom({ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }), from: 'x/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'concept podSelector peer: pods with the same labels in another namespace are not selected', world: ingressFrom({ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }), from: 'y/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'concept namespaceSelector peer: "selects particular namespaces for which all Pods should be allowed"', world: ingressFrom({ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }), from: 'y/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'concept namespaceSelector peer: pods of non-matching namespaces are not allowed', world: ingressFrom({ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }), from: 'z/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'concept: namespaceSelector and podSelector in one element select "Pods with particular labels in particular namespaces" (AND: both match)', world: ingressFrom({ from: [{ namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: { matchLabels: { app: 'client' } } }] }), from: 'y/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'concept: namespaceSelector and podSelector in one element is AND (a matching pod in the wrong namespace is denied)', world: ingressFrom({ from: [{ namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: { matchLabels: { app: 'client' } } }] }), from: 'x/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'concept: two elements in from are OR: "allows connections from Pods in the local Namespace ... OR from any Pod in any namespace with the label"', world: ingressFrom({ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }, { podSelector: { matchLabels: { app: 'client' } } }] }), from: 'x/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'API namespaceSelector: an empty selector {} selects all namespaces', world: ingressFrom({ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'client' } } }] }), from: 'z/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'API podSelector peer: an empty podSelector {} alone selects all pods of the policy namespace only', world: ingressFrom({ from: [{ podSelector: {} }] }), from: 'y/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'namespaces always carry kubernetes.io/metadata.name, so a namespaceSelector may name a namespace', world: ingressFrom({ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }] }), from: 'z/client', to: 'x/web', port: 80, allowed: true },
  // ------------------------------------------------------------------ label selector operators
  { doc: 'labels concept: In matches when the key has one of the values', world: ingressFrom({ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }] } }] }), from: 'z/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'labels concept: In never matches a pod without the key', world: ingressFrom({ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] } }] }), from: 'y/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'labels concept: NotIn matches "all resources ... without a label with this key"', world: ingressFrom({ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['fe'] }] } }] }), from: 'y/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'labels concept: NotIn excludes a pod whose value is listed', world: ingressFrom({ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['fe'] }] } }] }), from: 'z/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'labels concept: Exists matches any value of the key', world: ingressFrom({ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }] }), from: 'z/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'labels concept: DoesNotExist matches pods without the key (and not those with it)', world: ingressFrom({ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }] }), from: 'z/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'API LabelSelector: "matchLabels and matchExpressions are ANDed"', world: ingressFrom({ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'client' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }] }), from: 'y/client', to: 'x/web', port: 80, allowed: true },
  // ------------------------------------------------------------------ ipBlock
  { doc: 'concept ipBlock: "selects particular IP CIDR ranges to allow as ingress sources" (inside the cidr)', world: ingressFrom({ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }] }), from: '172.17.2.9', to: 'x/web', port: 80, allowed: true },
  { doc: 'API IPBlock except: "a slice of CIDRs that should not be included within an IPBlock"', world: ingressFrom({ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }] }), from: '172.17.1.9', to: 'x/web', port: 80, allowed: false },
  { doc: 'concept ipBlock: an address outside the cidr is not selected', world: ingressFrom({ from: [{ ipBlock: { cidr: '172.17.0.0/16' } }] }), from: '172.18.0.1', to: 'x/web', port: 80, allowed: false },
  { doc: 'API IPBlock cidr: "Valid examples are 192.168.1.0/24 or 2001:db8::/64" (IPv6 inside)', world: ingressFrom({ from: [{ ipBlock: { cidr: '2001:db8::/64', except: ['2001:db8::/120'] } }] }), from: '2001:db8::1:0:0:5', to: 'x/web', port: 80, allowed: true },
  { doc: 'API IPBlock cidr (IPv6): an address inside except is excluded', world: ingressFrom({ from: [{ ipBlock: { cidr: '2001:db8::/64', except: ['2001:db8::/120'] } }] }), from: '2001:db8::7', to: 'x/web', port: 80, allowed: false },
  { doc: 'ipBlock families never mix: an IPv4 source is outside an IPv6 block', world: ingressFrom({ from: [{ ipBlock: { cidr: '::/0' } }] }), from: '172.17.0.1', to: 'x/web', port: 80, allowed: false },
  { doc: 'cyclonus model: ipBlock also matches a pod whose pod IP is inside the cidr', world: ingressFrom({ from: [{ ipBlock: { cidr: '10.0.1.0/24' } }] }), from: 'y/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'cyclonus model: a pod whose IP is in except is not matched by the ipBlock', world: ingressFrom({ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } }] }), from: 'y/client', to: 'x/web', port: 80, allowed: false },
  // ------------------------------------------------------------------ ports
  { doc: 'API port protocol: "If not specified, this field defaults to TCP" (TCP allowed)', world: ingressFrom({ ports: [{ port: 80 }] }), from: 'x/client', to: 'x/web', port: 80, allowed: true },
  { doc: 'API port protocol defaults to TCP: UDP on the same number is denied', world: ingressFrom({ ports: [{ port: 53 }] }), from: 'x/client', to: 'x/web', port: 53, protocol: 'UDP', allowed: false },
  { doc: 'API port: "If this field is not provided, this matches all port names and numbers" (protocol only)', world: ingressFrom({ ports: [{ protocol: 'UDP' }] }), from: 'x/client', to: 'x/web', port: 5353, protocol: 'UDP', allowed: true },
  { doc: 'API port with protocol only: other protocols are not matched', world: ingressFrom({ ports: [{ protocol: 'UDP' }] }), from: 'x/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'API ports: "If this field is empty or missing, this rule matches all ports" (SCTP too)', world: ingressFrom({ ports: [] }), from: 'x/client', to: 'x/web', port: 9999, protocol: 'SCTP', allowed: true },
  { doc: 'API port: a named port resolves on the destination pod\'s containerPort of that name', world: ingressFrom({ ports: [{ port: 'http-alt' }] }), from: 'x/client', to: 'x/web', port: 8080, allowed: true },
  { doc: 'API port: a named port does not match another number', world: ingressFrom({ ports: [{ port: 'http-alt' }] }), from: 'x/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'named ports match name AND protocol: "dns" is declared UDP, so a TCP rule on it matches nothing', world: ingressFrom({ ports: [{ port: 'dns', protocol: 'TCP' }] }), from: 'x/client', to: 'x/web', port: 53, protocol: 'TCP', allowed: false },
  { doc: 'API endPort: "indicates that the range of ports from port to endPort if set, inclusive, should be allowed" (upper edge)', world: ingressFrom({ ports: [{ port: 32000, endPort: 32768 }] }), from: 'x/client', to: 'x/web', port: 32768, allowed: true },
  { doc: 'API endPort: one past the range is denied', world: ingressFrom({ ports: [{ port: 32000, endPort: 32768 }] }), from: 'x/client', to: 'x/web', port: 32769, allowed: false },
  { doc: 'API endPort: below port is denied', world: ingressFrom({ ports: [{ port: 32000, endPort: 32768 }] }), from: 'x/client', to: 'x/web', port: 31999, allowed: false },
  { doc: 'API ingress rule: "traffic is allowed if it matches both ports AND from" (right peer, wrong port)', world: ingressFrom({ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 443 }] }), from: 'x/client', to: 'x/web', port: 80, allowed: false },
  // ------------------------------------------------------------------ both directions, self, outside
  { doc: 'concept: "both the egress policy on the source pod and the ingress policy on the destination pod need to allow the connection" (egress denies)', world: { ...base, policies: [netpol('x/eg', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'] })] }, from: 'x/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'concept: both sides must allow (egress allows, ingress denies)', world: { ...base, policies: [denyIngressWeb, netpol('x/eg', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{}] })] }, from: 'x/client', to: 'x/web', port: 80, allowed: false },
  { doc: 'concept: egress to a named port resolves on the destination pod', world: { ...base, policies: [netpol('x/eg', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http-alt' }] }] })] }, from: 'x/client', to: 'x/web', port: 8080, allowed: true },
  { doc: 'concept: "the node ... cannot block traffic from a pod to itself" — a pod always reaches itself', world: { ...base, policies: [netpol('x/p', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })] }, from: 'x/web', to: 'x/web', port: 80, allowed: true },
  { doc: 'concept: traffic from outside the cluster has no egress side; only the destination ingress decides (allowed when not isolated)', world: base, from: '203.0.113.5', to: 'x/web', port: 80, allowed: true },
  { doc: 'concept: traffic to an external IP needs only the source egress (egress ipBlock admits it)', world: { ...base, policies: [netpol('x/eg', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ port: 443 }] }] })] }, from: 'x/client', to: '203.0.113.5', port: 443, allowed: true },
  { doc: 'concept: to an external IP, a named egress port never matches (an address has no container ports)', world: { ...base, policies: [netpol('x/eg', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http-alt' }] }] })] }, from: 'x/client', to: '203.0.113.5', port: 8080, allowed: false },
  { doc: 'concept: an egress podSelector peer does not match an external IP', world: { ...base, policies: [netpol('x/eg', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }] }] })] }, from: 'x/client', to: '203.0.113.5', port: 443, allowed: false },
  { doc: 'an IP that is a pod\'s IP is that pod: its policies apply', world: { ...base, policies: [denyIngressWeb] }, from: 'x/client', to: '10.0.0.10', port: 80, allowed: false },
];

describe('reach: NetworkPolicy semantics from the Kubernetes documentation', () => {
  for (const c of cases) {
    it(c.doc, () => {
      const v = ask(cluster(c.world), c.from, c.to, c.port, c.protocol ?? 'TCP');
      assert.strictEqual(v.allowed, c.allowed, JSON.stringify(v));
    });
  }
});

describe('reach: explained verdicts', () => {
  const world: World = {
    ...base,
    policies: [
      netpol('x/deny', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] }),
      netpol('x/allow', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 443 }] }, { from: [{ podSelector: {} }], ports: [{ port: 80 }] }] }),
    ],
  };

  it('names the policy and rule index that admit a connection', () => {
    const v = ask(cluster(world), 'x/client', 'x/web', 80);
    assert.deepStrictEqual(v.ingress, { kind: 'allowed', allowed: true, isolatedBy: ['x/allow', 'x/deny'], allowedBy: [{ policy: 'x/allow', rule: 1 }] });
    assert.deepStrictEqual(v.egress, { kind: 'not-isolated', allowed: true });
  });

  it('names every isolating policy when nothing admits a connection', () => {
    const v = ask(cluster(world), 'y/client', 'x/web', 80);
    assert.deepStrictEqual(v.ingress, { kind: 'denied', allowed: false, isolatedBy: ['x/allow', 'x/deny'] });
    assert.strictEqual(v.allowed, false);
  });

  it('marks the side of an external address as not applicable', () => {
    const v = ask(cluster(world), '198.51.100.1', 'x/web', 443);
    assert.deepStrictEqual(v.egress, { kind: 'not-applicable', allowed: true });
    assert.strictEqual(v.ingress.kind, 'allowed');
  });

  it('reports a peer the apiserver would reject instead of widening the rule', () => {
    const c = cluster({ ...base, policies: [netpol('x/bad', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] })] });
    assert.strictEqual(c.issues.length, 1);
    assert.strictEqual(ask(c, 'x/client', 'x/web', 80).allowed, false);
  });
});

/**
 * Label keys are user text, and `constructor`, `toString` and `hasOwnProperty` are valid ones: a selector on them
 * must see only the labels a pod really carries, never Object.prototype's members. `__proto__` is not a valid
 * label key, but a cluster file may still hold one (YAML and JSON.parse make it an own key), so it is read the same way.
 */
describe('reach: label keys named like Object members', () => {
  const KEYS = ['constructor', 'toString', 'hasOwnProperty', '__proto__'];
  /** Labels with `key` as an own property, as the YAML parser produces them (an object literal would set the prototype). */
  const carrying = (key: string, value: string): Record<string, string> => JSON.parse(JSON.stringify({ app: 'web' }).replace('{', `{"${key}":"${value}",`)) as Record<string, string>;

  for (const key of KEYS) {
    const cases: [string, LabelSelector, Record<string, string>, boolean][] = [
      ['matchLabels: absent key', { matchLabels: { [key]: 'x' } }, { app: 'web' }, false],
      ['matchLabels: present with that value', { matchLabels: { [key]: 'x' } }, carrying(key, 'x'), true],
      ['matchLabels: present with another value', { matchLabels: { [key]: 'x' } }, carrying(key, 'y'), false],
      ['Exists: absent key', { matchExpressions: [{ key, operator: 'Exists' }] }, { app: 'web' }, false],
      ['Exists: present', { matchExpressions: [{ key, operator: 'Exists' }] }, carrying(key, 'x'), true],
      ['DoesNotExist: absent key', { matchExpressions: [{ key, operator: 'DoesNotExist' }] }, { app: 'web' }, true],
      ['DoesNotExist: present', { matchExpressions: [{ key, operator: 'DoesNotExist' }] }, carrying(key, 'x'), false],
      ['In: absent key', { matchExpressions: [{ key, operator: 'In', values: ['x'] }] }, { app: 'web' }, false],
      ['In: present with a listed value', { matchExpressions: [{ key, operator: 'In', values: ['x'] }] }, carrying(key, 'x'), true],
      ['NotIn: absent key', { matchExpressions: [{ key, operator: 'NotIn', values: ['x'] }] }, { app: 'web' }, true],
      ['NotIn: present with a listed value', { matchExpressions: [{ key, operator: 'NotIn', values: ['x'] }] }, carrying(key, 'x'), false],
    ];
    for (const [name, selector, labels, want] of cases) {
      it(`${key}: ${name}`, () => assert.strictEqual(matchesSelector(selector, labels), want));
    }
  }

  it('a policy selecting `constructor: x` isolates only the pod that carries it', () => {
    const marked = pod('x/marked', carrying('constructor', 'x'), { ip: '10.0.0.20', ports: [{ containerPort: 80 }] });
    const plain = pod('x/plain', { app: 'web' }, { ip: '10.0.0.21', ports: [{ containerPort: 80 }] });
    const c = cluster({ namespaces: [nsX], pods: [marked, plain, client], policies: [netpol('x/deny', { podSelector: { matchLabels: { constructor: 'x' } }, policyTypes: ['Ingress'] })] });
    assert.strictEqual(ask(c, 'x/client', 'x/marked', 80).allowed, false);
    assert.strictEqual(ask(c, 'x/client', 'x/plain', 80).allowed, true);
  });
});
