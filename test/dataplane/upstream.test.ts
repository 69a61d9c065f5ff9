/**
 * The upstream Kubernetes e2e NetworkPolicy scenarios (test/fixtures/netpol-e2e: the x/y/z × a/b/c model and
 * the scenarios transcribed as data), run with packets on the real data plane. For each scenario: the model's
 * labels plus the scenario's, no policies but the scenario's, then every probe of its truth table, checked both
 * ways: packets == upstream's expectation, and `netseg reach` over the live objects == packets. Every mismatch
 * is reported, not only the first.
 */
import { strict as assert } from 'assert';
import * as k8s from '@kubernetes/client-node';
import { type E2eScenario, E2E_NAMESPACES, e2eNamespaces, e2ePods } from '../fixtures/netpol-e2e/model';
import { E2E_SCENARIOS } from '../fixtures/netpol-e2e/scenarios';
import type { KubeObject } from '../../src/model/kubernetes';
import { type DataPlane, applyObjects, reachOf, removeNamespaces, useDataPlane, waitRunning } from './harness';

function podManifests(): KubeObject[] {
  return e2ePods().map((p) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: { ...p.labels } },
    spec: {
      containers: p.ports.map((port) => ({
        name: port.name,
        image: 'netseg.invalid/agnhost',
        ports: [{ name: port.name, containerPort: port.containerPort, protocol: port.protocol }],
      })),
    },
  }));
}

/** Sets every model namespace's and pod's labels to the model's plus the scenario's (earlier scenarios' extras go). */
async function setLabels(core: k8s.CoreV1Api, s: E2eScenario): Promise<void> {
  for (const ns of e2eNamespaces()) {
    const cur = (await core.readNamespace(ns.name)).body;
    cur.metadata = { ...cur.metadata, labels: { 'kubernetes.io/metadata.name': ns.name, ...ns.labels, ...s.namespaceLabels?.[ns.name] } };
    await core.replaceNamespace(ns.name, cur);
  }
  for (const p of e2ePods()) {
    const cur = (await core.readNamespacedPod(p.name, p.namespace)).body;
    cur.metadata = { ...cur.metadata, labels: { ...p.labels, ...s.podLabels?.[`${p.namespace}/${p.name}`] } };
    await core.replaceNamespacedPod(p.name, p.namespace, cur);
  }
}

async function setPolicies(netApi: k8s.NetworkingV1Api, s: E2eScenario): Promise<void> {
  for (const ns of E2E_NAMESPACES) await netApi.deleteCollectionNamespacedNetworkPolicy(ns);
  for (const p of s.policies) {
    await netApi.createNamespacedNetworkPolicy(p.metadata.namespace ?? '', JSON.parse(JSON.stringify(p)) as k8s.V1NetworkPolicy);
  }
}

describe('data plane: upstream e2e NetworkPolicy scenarios, with packets', function () {
  let dp: DataPlane;
  let core: k8s.CoreV1Api;
  let netApi: k8s.NetworkingV1Api;

  before(async function () {
    dp = await useDataPlane();
    core = dp.cluster.kc.makeApiClient(k8s.CoreV1Api);
    netApi = dp.cluster.kc.makeApiClient(k8s.NetworkingV1Api);
    await removeNamespaces(dp, [...E2E_NAMESPACES]);
    await applyObjects(dp, e2eNamespaces().map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: { ...n.labels } } })));
    await applyObjects(dp, podManifests());
    await waitRunning(dp, e2ePods());
  });

  after(async function () {
    if (dp) await removeNamespaces(dp, [...E2E_NAMESPACES]);
  });

  it('has scenarios to run', function () {
    assert.ok(E2E_SCENARIOS.length > 0);
  });

  for (const s of E2E_SCENARIOS) {
    it(s.name, async function () {
      await setLabels(core, s);
      await setPolicies(netApi, s);
      const packets = await dp.probe(s.probes);
      const reach = await reachOf(dp, s.probes);
      const problems: string[] = [];
      s.probes.forEach((p, i) => {
        const got = packets[i]?.allowed ? 'allowed' : 'denied';
        const engine = reach[i]?.allowed ? 'allowed' : 'denied';
        const what = `${p.from} -> ${p.to} ${p.protocol}/${p.port}`;
        if (got !== p.expect) problems.push(`packets: ${what}: ${got}, upstream expects ${p.expect}`);
        if (engine !== got) problems.push(`reach: ${what}: ${engine}, packets say ${got}`);
      });
      assert.deepEqual(problems, [], `${problems.length} of ${s.probes.length} probes disagree (${s.upstream})`);
    });
  }
});
