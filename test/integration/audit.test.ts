/** `netseg audit --kubeconfig` reads a real cluster: namespaces, pods, policies and intents through the API. */
import { strict as assert } from 'assert';
import * as k8s from '@kubernetes/client-node';
import { main } from '../../src/cli/main';
import { memoryIO } from '../../src/cli/io';
import { GROUP, PLURAL, VERSION } from '../../src/intent/types';
import { Cluster, freshNamespace, useCluster } from './cluster';

interface Finding {
  kind: string;
  pod?: string;
  policy?: string;
  intent?: string;
  workload?: string;
  namespace?: string;
}

describe('netseg audit --kubeconfig on the real apiserver', function () {
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    ns = await freshNamespace(cluster, 'audit');
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const pod = (name: string, app: string): k8s.V1Pod => ({
      metadata: { name, labels: { app } },
      spec: { containers: [{ name: 'c', image: 'registry.invalid/app:1', ports: [{ containerPort: 8080 }] }] },
    });
    await core.createNamespacedPod(ns.name, pod('web', 'web'));
    await core.createNamespacedPod(ns.name, pod('db', 'db'));
    const net = cluster.kc.makeApiClient(k8s.NetworkingV1Api);
    // Isolates db for ingress but admits everyone: a rule with no peers.
    await net.createNamespacedNetworkPolicy(ns.name, {
      metadata: { name: 'db-open' },
      spec: { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 5432 }] }] },
    });
    const custom = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.createNamespacedCustomObject(GROUP, VERSION, ns.name, PLURAL, {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'SegmentationIntent',
      metadata: { name: 'typo' },
      spec: { enforcement: 'DryRun', workloads: [{ name: 'api', selector: { matchLabels: { app: 'apii' } } }], flows: [] },
    });
  });
  after(async () => ns?.cleanup());

  it('finds the unisolated pod, the allow-all rule and the intent whose selector matches no pod', async () => {
    const io = memoryIO();
    const code = await main(['node', 'netseg', 'audit', '--kubeconfig', cluster.kubeconfigPath, '-o', 'json'], io);
    assert.equal(code, 0, io.stderr);
    const findings = (JSON.parse(io.stdout) as { findings: Finding[] }).findings;
    const has = (f: (x: Finding) => boolean, what: string): void => assert.ok(findings.some(f), `missing: ${what}`);
    has((f) => f.kind === 'unisolated-pod' && f.pod === `${ns.name}/web`, 'web is isolated by nothing');
    assert.ok(!findings.some((f) => f.kind === 'unisolated-pod' && f.pod === `${ns.name}/db` && (f as { direction?: string }).direction === 'Ingress'));
    has((f) => f.kind === 'admits-everyone' && f.policy === `${ns.name}/db-open`, 'db-open admits everyone');
    has((f) => f.kind === 'intent-selects-nothing' && f.intent === `${ns.name}/typo` && f.workload === 'api', 'label typo');
    has((f) => f.kind === 'no-default-deny' && f.namespace === ns.name, 'no default deny');
  });

  it('exits 1 with --fail-on when such a finding exists', async () => {
    const io = memoryIO();
    const code = await main(['node', 'netseg', 'audit', '--kubeconfig', cluster.kubeconfigPath, '--fail-on', 'admits-everyone'], io);
    assert.equal(code, 1);
    assert.match(io.stdout, /db-open/);
  });
});
