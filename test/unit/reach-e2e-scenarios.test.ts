/**
 * The upstream Kubernetes e2e NetworkPolicy scenarios (test/fixtures/netpol-e2e) through netseg's reachability
 * engine: every probe's verdict must be the one upstream expects. The same scenarios run with real packets on the
 * data plane; here they check the engine against upstream's truth tables, and the fixture itself.
 */
import * as assert from 'assert';
import { sortObjects } from '../../src/cli/cluster-input';
import { parseManifestText } from '../../src/cli/load';
import { dnsSubdomainProblem, labelKeyProblem, labelValueProblem, portNameProblem } from '../../src/intent/syntax';
import type { LabelSelector, Namespace, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Pod } from '../../src/model/kubernetes';
import { type Cluster, buildCluster, evaluate, resolveEndpoint } from '../../src/reach';
import {
  E2E_NAMESPACES,
  E2E_PORTS,
  E2E_PROTOCOLS,
  type E2eProbe,
  type E2eScenario,
  e2eNamespaces,
  e2ePods,
} from '../fixtures/netpol-e2e/model';
import {
  E2E_IP_SCENARIOS,
  E2E_SCENARIOS,
  E2E_SCTP_POLICY_SCENARIOS,
  UPSTREAM_FILE,
  expectAllIngress,
  expectPair,
  expectPeer,
  policy,
  reachability,
  truthTable,
} from '../fixtures/netpol-e2e/scenarios';

/** A Pod as a kubelet would have reported it: Running, with an IP. */
interface RunningPod extends Pod {
  status: { phase: 'Running'; podIP: string; podIPs: { ip: string }[] };
}

/** Deterministic fake pod IPs: 10.244.<namespace index>.<10 + pod index>, all inside one /16 pod CIDR. */
function fakeIp(key: string): string {
  const [namespace, name] = key.split('/');
  const n = E2E_NAMESPACES.indexOf(namespace as (typeof E2E_NAMESPACES)[number]);
  const p = e2ePods().filter((q) => q.namespace === namespace).findIndex((q) => q.name === name);
  if (n < 0 || p < 0) throw new Error(`${key} is not a pod of the model`);
  return `10.244.${n}.${10 + p}`;
}

function modelCluster(s: Pick<E2eScenario, 'namespaceLabels' | 'podLabels'>, policies: readonly NetworkPolicy[]): Cluster {
  const namespaces: Namespace[] = e2eNamespaces().map((n) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: n.name, labels: { ...n.labels, ...s.namespaceLabels?.[n.name] } },
  }));
  const pods: RunningPod[] = e2ePods().map((p) => {
    const key = `${p.namespace}/${p.name}`;
    const ip = fakeIp(key);
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: p.namespace, name: p.name, labels: { ...p.labels, ...s.podLabels?.[key] } },
      // One container per port and protocol, as upstream's model builds them.
      spec: { containers: p.ports.map((port) => ({ name: `cont-${port.containerPort}-${port.protocol.toLowerCase()}`, ports: [{ ...port }] })) },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
    };
  });
  return buildCluster({ namespaces, pods, policies });
}

/** Every probe whose verdict differs from upstream's expectation, one line each. */
function mismatches(c: Cluster, probes: readonly E2eProbe[]): string[] {
  const out: string[] = [];
  for (const p of probes) {
    const from = resolveEndpoint(c, p.from);
    const to = resolveEndpoint(c, p.to);
    if (!from || !to) {
      out.push(`${p.from} -> ${p.to}: not a pod of the cluster`);
      continue;
    }
    const v = evaluate(c, { from, to, port: p.port, protocol: p.protocol });
    const got = v.allowed ? 'allowed' : 'denied';
    if (got !== p.expect) out.push(`${p.from} -> ${p.to} ${p.port}/${p.protocol}: engine says ${got}, upstream expects ${p.expect} (ingress ${v.ingress.kind}, egress ${v.egress.kind})`);
  }
  return out;
}

function checkScenario(s: E2eScenario): void {
  const c = modelCluster(s, s.policies);
  assert.deepStrictEqual(c.issues, [], 'the engine found nothing the apiserver would reject');
  const wrong = mismatches(c, s.probes);
  assert.deepStrictEqual(wrong, [], `${wrong.length} of ${s.probes.length} probes differ:\n  ${wrong.join('\n  ')}`);
}

const ALL_FIXED = [...E2E_SCENARIOS, ...E2E_SCTP_POLICY_SCENARIOS];

describe('reach: the upstream e2e NetworkPolicy scenarios', () => {
  describe('E2E_SCENARIOS (also run with packets on the data plane)', () => {
    for (const s of E2E_SCENARIOS) it(s.name, () => checkScenario(s));
  });

  describe('E2E_SCTP_POLICY_SCENARIOS (SCTP-only policies, TCP probes)', () => {
    for (const s of E2E_SCTP_POLICY_SCENARIOS) it(s.name, () => checkScenario(s));
  });

  describe('E2E_IP_SCENARIOS (ipBlocks built from the pods\' IPs)', () => {
    for (const s of E2E_IP_SCENARIOS) {
      it(s.name, () => checkScenario({ ...s, policies: s.policiesFor(fakeIp) }));
    }
  });

  it('the check can fail: a scenario with a wrong expectation is reported probe by probe', () => {
    const [deny] = E2E_SCENARIOS;
    assert.ok(deny);
    const flipped: E2eScenario = { ...deny, probes: deny.probes.map((p) => (p.to === 'x/a' ? { ...p, expect: 'allowed' } : p)) };
    assert.throws(() => checkScenario(flipped), /8 of 72 probes differ:\n {2}x\/b -> x\/a 80\/TCP: engine says denied, upstream expects allowed/);
  });
});

describe('the upstream e2e scenario fixture', () => {
  const podKeys = new Set(e2ePods().map((p) => `${p.namespace}/${p.name}`));

  it('transcribes at least 15 upstream tests, each named once and citing its file and It(...)', () => {
    const faithful = E2E_SCENARIOS.filter((s) => s.variation === undefined);
    assert.ok(faithful.length >= 15, `${faithful.length} faithful scenarios`);
    const names = [...ALL_FIXED, ...E2E_IP_SCENARIOS].map((s) => s.name);
    assert.deepStrictEqual(names.filter((n, i) => names.indexOf(n) !== i), [], 'duplicate scenario names');
    for (const s of [...ALL_FIXED, ...E2E_IP_SCENARIOS]) {
      assert.ok(s.upstream.startsWith(UPSTREAM_FILE) && /: It\(".+"\)/.test(s.upstream), `${s.name}: cites ${s.upstream}`);
    }
  });

  for (const s of ALL_FIXED) {
    it(`${s.name}: policies are NetworkPolicies the loader and the engine accept`, () => {
      const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: s.policies });
      const loaded = parseManifestText(text, 'scenario');
      assert.deepStrictEqual(loaded.errors, []);
      assert.deepStrictEqual(sortObjects(loaded.objects).policies, s.policies, 'every policy reads back as a NetworkPolicy, unchanged');
      const ids = s.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      assert.deepStrictEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'policy names are unique per namespace');
      assert.deepStrictEqual(s.policies.flatMap(apiserverProblems), []);
    });

    it(`${s.name}: probes name model pods, once each, with complete truth tables`, () => checkProbes(s.probes));

    it(`${s.name}: label changes name model namespaces and pods`, () => {
      for (const ns of Object.keys(s.namespaceLabels ?? {})) assert.ok((E2E_NAMESPACES as readonly string[]).includes(ns), ns);
      for (const key of Object.keys(s.podLabels ?? {})) assert.ok(podKeys.has(key), key);
    });
  }

  for (const s of E2E_IP_SCENARIOS) {
    it(`${s.name}: policies and probes are well formed`, () => {
      assert.deepStrictEqual(s.policiesFor(fakeIp).flatMap(apiserverProblems), []);
      checkProbes(s.probes);
    });
  }

  it('only SCTP-free scenarios go to the data plane, and only variations are marked as such', () => {
    const protocols = E2E_SCENARIOS.flatMap((s) => s.policies.flatMap(policyPorts).map((p) => p.protocol ?? 'TCP'));
    assert.ok(!protocols.includes('SCTP'));
    for (const s of E2E_SCENARIOS.filter((x) => x.variation !== undefined)) assert.match(s.name, /variation/);
  });

  it('the fixture check can fail: it names what the apiserver would reject', () => {
    const bad = policy('x', 'Bad_Name', { matchExpressions: [{ key: 'pod', operator: 'In' }] }, {
      ingress: [{ from: [{ podSelector: {}, ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 81, endPort: 80 }, { port: 'serve-80-tcp-too-long' }] }],
    });
    const problems = apiserverProblems(bad).join('\n');
    for (const want of [/Bad_Name/, /In on pod with 0 values/, /exactly one of ipBlock or selectors/, /endPort 80/, /serve-80-tcp-too-long/]) assert.match(problems, want);
  });

  it('reachability() follows upstream: default allowed, later expectations override earlier ones', () => {
    const r = reachability(expectAllIngress('x/a', false), expectPair('x/b', 'x/a', true), expectPeer({ namespace: 'z' }, {}, false));
    assert.strictEqual(r('y/b', 'x/a'), 'denied');
    assert.strictEqual(r('x/b', 'x/a'), 'allowed');
    assert.strictEqual(r('y/b', 'x/c'), 'allowed');
    assert.strictEqual(r('z/c', 'x/b'), 'denied');
    assert.strictEqual(truthTable(80, 'TCP', r).length, 72, '9 pods x 8 others, pod-to-self left out');
  });

  function checkProbes(probes: readonly E2eProbe[]): void {
    const seen = new Set<string>();
    const tables = new Map<string, number>();
    for (const p of probes) {
      assert.ok(podKeys.has(p.from) && podKeys.has(p.to), `${p.from} -> ${p.to} names model pods`);
      assert.notStrictEqual(p.from, p.to, 'pod-to-self probes are left out');
      assert.ok((E2E_PORTS as readonly number[]).includes(p.port) && E2E_PROTOCOLS.includes(p.protocol), `${p.port}/${p.protocol} is served`);
      const key = `${p.from} ${p.to} ${p.port}/${p.protocol}`;
      assert.ok(!seen.has(key), `duplicate probe ${key}`);
      seen.add(key);
      tables.set(`${p.port}/${p.protocol}`, (tables.get(`${p.port}/${p.protocol}`) ?? 0) + 1);
    }
    assert.ok(tables.size > 0, 'at least one truth table');
    for (const [table, n] of tables) assert.strictEqual(n, podKeys.size * (podKeys.size - 1), `${table} covers every pair`);
  }
});

function policyPorts(p: NetworkPolicy): NetworkPolicyPort[] {
  return [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])].flatMap((r) => r.ports ?? []);
}

/**
 * The apiserver's NetworkPolicy validation (pkg/apis/networking/validation), for the fields these scenarios use:
 * names, selectors, peers, ports and policyTypes. Empty when the policy would be accepted.
 */
function apiserverProblems(p: NetworkPolicy): string[] {
  const types = p.spec.policyTypes ?? [];
  const peers: NetworkPolicyPeer[] = [...(p.spec.ingress ?? []).flatMap((r) => r.from ?? []), ...(p.spec.egress ?? []).flatMap((r) => r.to ?? [])];
  const selectors = [p.spec.podSelector, ...peers.flatMap((peer) => [peer.podSelector, peer.namespaceSelector])];
  const problems = [
    dnsSubdomainProblem(p.metadata.name ?? ''),
    (E2E_NAMESPACES as readonly string[]).includes(p.metadata.namespace ?? '') ? undefined : 'namespace not in the model',
    types.every((t) => t === 'Ingress' || t === 'Egress') && new Set(types).size === types.length ? undefined : `policyTypes ${types.join(',')}`,
    ...peers.map(peerProblem),
    ...selectors.flatMap((sel) => (sel ? selectorProblems(sel) : [])),
    ...policyPorts(p).map(portProblem),
  ];
  return problems.filter((x): x is string => x !== undefined).map((x) => `${p.metadata.namespace}/${p.metadata.name}: ${x}`);
}

function peerProblem(peer: NetworkPolicyPeer): string | undefined {
  const hasSelector = peer.podSelector !== undefined || peer.namespaceSelector !== undefined;
  return hasSelector === (peer.ipBlock !== undefined) ? 'a peer needs exactly one of ipBlock or selectors' : undefined;
}

function selectorProblems(s: LabelSelector): (string | undefined)[] {
  return [
    ...Object.entries(s.matchLabels ?? {}).map(([k, v]) => labelKeyProblem(k) ?? labelValueProblem(v)),
    ...(s.matchExpressions ?? []).flatMap((e) => {
      const values = e.values ?? [];
      const needsValues = e.operator === 'In' || e.operator === 'NotIn';
      const arity = needsValues === values.length > 0 ? undefined : `${e.operator} on ${e.key} with ${values.length} values`;
      return [labelKeyProblem(e.key), arity, ...values.map(labelValueProblem)];
    }),
  ];
}

function portProblem(port: NetworkPolicyPort): string | undefined {
  const validNumber = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
  if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol)) return `protocol ${port.protocol}`;
  if (typeof port.port === 'string') return portNameProblem(port.port);
  if (port.port !== undefined && !validNumber(port.port)) return `port ${port.port}`;
  if (port.endPort === undefined) return undefined;
  return validNumber(port.endPort) && typeof port.port === 'number' && port.endPort >= port.port ? undefined : `endPort ${port.endPort} needs a numeric port at or below it`;
}
