/**
 * The promise of `netseg learn` (API.md), as a property over generated clusters and flow sets: compiled in the same
 * cluster, the learned intents allow every observed flow and open no (source workload, destination workload, port,
 * protocol) that was not observed. "Open" means: allowed while the learned policies isolate the source (egress) or
 * the destination (ingress); a pair that no learned policy isolates is not restricted, so not opened by them.
 * Checked with the reachability engine (src/reach), which never imports the compiler or the learning.
 *
 * Generated clusters make learning hard on purpose: workloads of one namespace share labels (a `canary` workload
 * carries all the labels of another plus `track`), Deployment selectors that also match another workload's pods,
 * per-pod labels (pod-template-hash, statefulset pod-name), owner objects present or absent, bare pods, pods in
 * two namespaces, addresses outside the cluster (IPv4 and IPv6).
 */
import * as assert from 'assert';
import fc from 'fast-check';
import { compile } from '../../src/compile';
import { FlowTally, readNetseg } from '../../src/flows';
import { validateIntent } from '../../src/intent';
import type { Direction } from '../../src/intent/types';
import { learnIntents } from '../../src/learn';
import type { KubeObject, Namespace, NetworkPolicy, Pod, Protocol } from '../../src/model/kubernetes';
import { buildCluster, evaluate, resolveEndpoint } from '../../src/reach';

interface GenWorkload {
  readonly ns: string;
  readonly name: string;
  readonly kind: 'Deployment' | 'StatefulSet' | 'Pod';
  readonly labels: Record<string, string>;
  readonly replicas: number;
  readonly withObject: boolean;
  readonly withReplicaSet: boolean;
  /** A Deployment selector that is only its `app` label: it may also match a canary workload's pods. */
  readonly looseSelector: boolean;
}

const NAMESPACES = ['a', 'b'];
const OUTSIDE = ['203.0.113.1', '203.0.113.2', '2001:db8::1'];
const UNOBSERVED_IP = '198.51.100.77';
const PORTS = [53, 80, 443, 5432];
const PROTOCOLS: Protocol[] = ['TCP', 'UDP'];

const workloadArb = fc.record({
  ns: fc.constantFrom(...NAMESPACES),
  app: fc.constantFrom('web', 'api', 'db'),
  track: fc.constantFrom(undefined, 'canary', 'beta'),
  tier: fc.constantFrom(undefined, 'x', 'y'),
  kind: fc.constantFrom('Deployment' as const, 'StatefulSet' as const, 'Pod' as const),
  replicas: fc.integer({ min: 1, max: 2 }),
  withObject: fc.boolean(),
  withReplicaSet: fc.boolean(),
  looseSelector: fc.boolean(),
});

/** Workloads with distinct (namespace, app, track): pods of two workloads never carry the same stable labels. */
const clusterArb = fc
  .uniqueArray(workloadArb, { minLength: 1, maxLength: 6, selector: (w) => `${w.ns}/${w.app}/${w.track ?? ''}` })
  .map((list) =>
    list.map((w, i): GenWorkload => ({
      ns: w.ns,
      name: `${w.app}${w.track ? `-${w.track}` : ''}-${i}`,
      kind: w.kind,
      labels: { app: w.app, ...(w.track ? { track: w.track } : {}), ...(w.tier ? { tier: w.tier } : {}) },
      replicas: w.kind === 'Pod' ? 1 : w.replicas,
      withObject: w.withObject,
      withReplicaSet: w.withReplicaSet,
      looseSelector: w.looseSelector,
    })),
  );

interface World {
  readonly workloads: readonly GenWorkload[];
  readonly pods: Pod[];
  readonly objects: KubeObject[];
  /** Pod key -> workload id (the generator's truth, not learn's). */
  readonly truth: Map<string, string>;
}

function build(workloads: readonly GenWorkload[]): World {
  const pods: Pod[] = [];
  const objects: KubeObject[] = [];
  const truth = new Map<string, string>();
  workloads.forEach((w, wi) => {
    const hash = `5d8f7c9b${wi}`;
    const rsName = `${w.name}-${hash}`;
    const selector = { matchLabels: w.looseSelector ? { app: w.labels['app'] as string } : { ...w.labels } };
    if (w.withObject && w.kind !== 'Pod') {
      objects.push({ apiVersion: 'apps/v1', kind: w.kind, metadata: { name: w.name, namespace: w.ns }, spec: { selector } });
    }
    if (w.kind === 'Deployment' && w.withReplicaSet) {
      objects.push({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: rsName, namespace: w.ns, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: w.name, uid: `d${wi}`, controller: true }] },
        spec: { selector: { matchLabels: { ...selector.matchLabels, 'pod-template-hash': hash } } },
      });
    }
    for (let r = 0; r < w.replicas; r++) {
      const name = w.kind === 'Deployment' ? `${rsName}-p${r}` : w.kind === 'StatefulSet' ? `${w.name}-${r}` : w.name;
      const perPod: Record<string, string> =
        w.kind === 'Deployment' ? { 'pod-template-hash': hash } : w.kind === 'StatefulSet' ? { 'statefulset.kubernetes.io/pod-name': name, 'controller-revision-hash': `${w.name}-7f` } : {};
      const owner = w.kind === 'Deployment' ? { kind: 'ReplicaSet', name: rsName } : w.kind === 'StatefulSet' ? { kind: 'StatefulSet', name: w.name } : undefined;
      pods.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace: w.ns,
          labels: { ...w.labels, ...perPod },
          ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', ...owner, uid: `o${wi}`, controller: true }] } : {}),
        },
        spec: { containers: [{ name: 'c' }] },
        status: { podIP: `10.0.${wi}.${r + 1}` },
      });
      truth.set(`${w.ns}/${name}`, `${w.ns}/${w.name}`);
    }
  });
  return { workloads, pods, objects, truth };
}

interface Obs {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
}

function observationsArb(world: World): fc.Arbitrary<Obs[]> {
  const ends = [...world.pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`), ...OUTSIDE];
  return fc
    .array(fc.record({ from: fc.constantFrom(...ends), to: fc.constantFrom(...ends), port: fc.constantFrom(...PORTS), protocol: fc.constantFrom(...PROTOCOLS) }), { minLength: 1, maxLength: 12 })
    .map((list) => list.filter((o) => !(OUTSIDE.includes(o.from) && OUTSIDE.includes(o.to))));
}

const scenario = clusterArb.map(build).chain((world) =>
  fc.record({
    world: fc.constant(world),
    observed: observationsArb(world),
    directions: fc.constantFrom<Direction[]>(['Ingress'], ['Ingress', 'Egress']),
    // Half the time the observed pods are named by IP, as flow tools outside the cluster see them.
    byIp: fc.boolean(),
  }),
);

function ipOf(world: World, key: string): string {
  const pod = world.pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === key);
  return pod?.status?.podIP ?? key;
}

describe('netseg learn: the promise (property)', () => {
  it('learned intents allow every observed flow and open no unobserved (workload, workload, port, protocol)', () => {
    fc.assert(
      fc.property(scenario, ({ world, observed, directions, byIp }) => {
        const tally = new FlowTally();
        for (const o of observed) {
          const r = readNetseg(byIp ? { ...o, from: ipOf(world, o.from), to: ipOf(world, o.to) } : o);
          assert.strictEqual(r.kind, 'flow');
          if (r.kind === 'flow') tally.add(r.flow);
        }
        const result = learnIntents({ tally, pods: world.pods, objects: world.objects, directions });
        assert.deepStrictEqual(result.errors, []);
        assert.deepStrictEqual(result.warnings, []);
        const policies: NetworkPolicy[] = result.intents.flatMap(({ intent }) => {
          const v = validateIntent(intent);
          assert.ok(v.ok, JSON.stringify(!v.ok && v.issues));
          return v.ok ? compile(v.intent) : [];
        });
        const namespaces: Namespace[] = NAMESPACES.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
        const cluster = buildCluster({ namespaces, pods: world.pods, policies });
        const wl = (end: string): string => world.truth.get(end) ?? end;
        const seen = new Set(observed.map((o) => `${wl(o.from)}|${wl(o.to)}|${o.port}|${o.protocol}`));
        const resolve = (end: string) => resolveEndpoint(cluster, end) as NonNullable<ReturnType<typeof resolveEndpoint>>;
        for (const o of observed) {
          const v = evaluate(cluster, { from: resolve(o.from), to: resolve(o.to), port: o.port, protocol: o.protocol });
          assert.ok(v.allowed, `observed ${o.from} -> ${o.to} ${o.protocol}/${o.port} is denied`);
        }
        const ends = [...world.truth.keys(), ...OUTSIDE, UNOBSERVED_IP];
        for (const from of ends) {
          for (const to of ends) {
            if (from === to || (!world.truth.has(from) && !world.truth.has(to))) continue;
            const f = resolve(from);
            const t = resolve(to);
            const governed = (t.kind === 'pod' && (cluster.ingressOf[t.index] ?? []).length > 0) || (f.kind === 'pod' && (cluster.egressOf[f.index] ?? []).length > 0);
            if (!governed) continue;
            for (const port of [...PORTS, ...PORTS.map((p) => p + 1), 8080]) {
              for (const protocol of PROTOCOLS) {
                if (!evaluate(cluster, { from: f, to: t, port, protocol }).allowed) continue;
                assert.ok(seen.has(`${wl(from)}|${wl(to)}|${port}|${protocol}`), `unobserved ${wl(from)} -> ${wl(to)} ${protocol}/${port} is open (${from} -> ${to})`);
              }
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
