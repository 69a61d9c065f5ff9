/**
 * The install as shipped: `kubectl kustomize deploy/` applied server-side (all but the Deployment, which needs a
 * kubelet), then the operator run with the ServiceAccount's identity, with leader election on its Lease in
 * netseg-system. It reconciles the examples with those rights, and what lies outside them is forbidden.
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/model/kubernetes';
import type { SegmentationIntent } from '../../src/intent/types';
import { GROUP, PLURAL, VERSION } from '../../src/intent/types';
import { Cluster, REPO_ROOT, eventually, freshNamespace, kubectl, serviceAccountKubeConfig, useCluster } from './cluster';
import { ClusterView, assertMatches, expectedPolicies, readyOf, runOperator } from './operator.support';
import type { CountedOperator } from './operator.support';

const SYSTEM_NS = 'netseg-system';
const forbidden = (e: { statusCode?: number }): boolean => e.statusCode === 403;

async function renderedDeploy(cluster: Cluster): Promise<KubeObject[]> {
  const yaml = await kubectl(cluster, ['kustomize', path.join(REPO_ROOT, 'deploy')]);
  return parseAllDocuments(yaml).map((d) => d.toJS() as KubeObject);
}

/** One example folder's pods and intent, moved into `ns` (the examples name their own namespaces). */
/**
 * An example's objects as written: netseg's loader trims Pods to the fields netseg reads (src/cli/load.ts), and
 * the apiserver refuses a Pod without its containers' images.
 */
const REFERENCED = ['Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'Ingress'];

/**
 * The example's objects of its own namespace move to `ns`; those of other namespaces (a cross-namespace peer's
 * Service) to `peerNs`, and the intent's peer references follow them.
 */
function exampleIn(example: string, ns: string, peerNs: string): { pods: KubeObject[]; referenced: KubeObject[]; intent: SegmentationIntent } {
  const dir = path.join(REPO_ROOT, 'examples', example);
  const objects = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS() as KubeObject));
  const intent = objects.find((o) => o.kind === 'SegmentationIntent');
  assert.ok(intent, `examples/${example} has an intent`);
  const home = intent.metadata?.namespace;
  const move = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata?.namespace === home ? ns : peerNs } });
  const moved = move(intent) as unknown as SegmentationIntent;
  for (const p of moved.spec.peers ?? []) {
    if (p.service) p.service = { ...p.service, namespace: peerNs };
    if (p.workloadRef) p.workloadRef = { ...p.workloadRef, namespace: peerNs };
  }
  return {
    // Pods all move to `ns`, as before references: several examples have pods of the same name elsewhere.
    pods: objects.filter((o) => o.kind === 'Pod').map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } })),
    referenced: objects.filter((o) => REFERENCED.includes(o.kind ?? '')).map(move),
    intent: moved,
  };
}

describe('deploy/: the rendered install, and the operator under its ServiceAccount', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let objects: KubeObject[];
  let saKc: k8s.KubeConfig;
  let op: CountedOperator | undefined;
  const namespaces: { name: string; cleanup: () => Promise<void> }[] = [];
  const leaseName = `netseg-deploy-${crypto.randomBytes(3).toString('hex')}`;

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    objects = await renderedDeploy(cluster);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-deploy-')), 'deploy.json');
    const withoutDeployment = objects.filter((o) => o.kind !== 'Deployment');
    fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: withoutDeployment }));
    await kubectl(cluster, ['apply', '--server-side', '--force-conflicts', '--field-manager', 'netseg-deploy-test', '-f', file]);
    saKc = await serviceAccountKubeConfig(cluster.kc, SYSTEM_NS, 'netseg-operator');
  });

  after(async () => {
    await op?.stop();
    for (const ns of namespaces) await ns.cleanup();
    await cluster?.kc.makeApiClient(k8s.CoordinationV1Api).deleteNamespacedLease(leaseName, SYSTEM_NS).catch(() => undefined);
  });

  it('renders every object the install needs, with no wildcard in its RBAC', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
    for (const want of [
      'ClusterRole/netseg-operator',
      'ClusterRoleBinding/netseg-operator',
      'CustomResourceDefinition/segmentationintents.netseg.io',
      'Deployment/netseg-operator',
      'Namespace/netseg-system',
      'NetworkPolicy/netseg-operator',
      'PodDisruptionBudget/netseg-operator',
      'Role/netseg-operator-leader-election',
      'Service/netseg-operator-metrics',
      'ServiceAccount/netseg-operator',
    ]) {
      assert.ok(kinds.includes(want), `missing ${want}`);
    }
    const rules = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((o) => o['rules'] as Record<string, string[]>[]);
    for (const r of rules) {
      for (const k of ['apiGroups', 'resources', 'verbs']) assert.ok(!(r[k] ?? []).includes('*'), `wildcard in ${JSON.stringify(r)}`);
    }
  });

  it('runs the operator hardened: 2 replicas, leader election, probes, limits, non-root, read-only root, no capabilities', () => {
    const d = objects.find((o) => o.kind === 'Deployment') as unknown as k8s.V1Deployment;
    assert.equal(d.spec?.replicas, 2);
    const pod = d.spec?.template.spec;
    const c = pod?.containers[0];
    assert.ok(c?.args?.includes('--leader-elect'));
    assert.equal(c?.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(c?.readinessProbe?.httpGet?.path, '/readyz');
    assert.ok(c?.resources?.limits?.['memory'] && c.resources.requests?.['cpu']);
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c?.securityContext?.capabilities?.drop, ['ALL']);
    assert.equal(c?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  });

  it('the applied objects are in the cluster (server-side apply accepted every one)', async () => {
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    await core.readNamespacedServiceAccount('netseg-operator', SYSTEM_NS);
    await core.readNamespacedService('netseg-operator-metrics', SYSTEM_NS);
    await cluster.kc.makeApiClient(k8s.PolicyV1Api).readNamespacedPodDisruptionBudget('netseg-operator', SYSTEM_NS);
    const np = await cluster.kc.makeApiClient(k8s.NetworkingV1Api).readNamespacedNetworkPolicy('netseg-operator', SYSTEM_NS);
    assert.equal(np.body.metadata?.labels?.['app.kubernetes.io/managed-by'], undefined, 'not marked as generated: the sweep must not take it');
    const crd = await cluster.kc.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition('segmentationintents.netseg.io');
    assert.equal(crd.body.metadata?.annotations?.['argocd.argoproj.io/sync-wave'], '-1');
    assert.equal(crd.body.metadata?.annotations?.['argocd.argoproj.io/sync-options'], 'Prune=false,Delete=false', 'Argo CD never removes it');
  });

  it('reconciles the examples as its ServiceAccount, holding its Lease in netseg-system', async () => {
    const view = new ClusterView(cluster.kc);
    const examples = ['shop', 'billing-egress', 'monitoring'];
    const placed = await Promise.all(examples.map(async (ex) => ({ ex, ns: await freshNamespace(cluster, `deploy-${ex}`.slice(0, 20)) })));
    // Cross-namespace peer references (the shop's payments gateway) resolve in one more watched namespace.
    const peers = await freshNamespace(cluster, 'deploy-peers');
    namespaces.push(...placed.map((p) => p.ns), peers);
    op = await runOperator(saKc, [...placed.map((p) => p.ns.name), peers.name], { leaderElect: true, leaseNamespace: SYSTEM_NS, leaseName });
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const custom = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const generic = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
    const created = new Map<string, KubeObject[]>();
    for (const { ex, ns } of placed) {
      const { pods, referenced, intent } = exampleIn(ex, ns.name, peers.name);
      for (const p of pods) await core.createNamespacedPod(ns.name, p as k8s.V1Pod);
      // The Services, StatefulSet and Ingress the shop intent names, read by the operator with its own RBAC.
      for (const o of referenced) await generic.create(o as k8s.KubernetesObject);
      created.set(ns.name, referenced);
      await custom.createNamespacedCustomObject(GROUP, VERSION, ns.name, PLURAL, intent);
    }
    for (const { ns } of placed) {
      await eventually(async () => {
        const stored = (await custom.listNamespacedCustomObject(GROUP, VERSION, ns.name, PLURAL)).body as { items: SegmentationIntent[] };
        const si = stored.items[0] as SegmentationIntent;
        assert.equal(readyOf(si).status, 'True', JSON.stringify(si.status));
        assertMatches(await view.policies(ns.name), expectedPolicies(si, created.get(ns.name)));
      }, 60_000);
    }
    assert.ok(op.isLeader(), 'it won the election with the Role in netseg-system');
    const denied = op.writes.filter((w) => w.endsWith(' 403'));
    assert.deepEqual(denied, [], 'no write was forbidden');
  });

  it('is forbidden what its RBAC does not grant: Secrets, ConfigMaps, Leases elsewhere, RBAC', async () => {
    const core = saKc.makeApiClient(k8s.CoreV1Api);
    await assert.rejects(core.listNamespacedSecret(SYSTEM_NS), forbidden);
    await assert.rejects(core.listSecretForAllNamespaces(), forbidden);
    await assert.rejects(core.listNamespacedConfigMap(SYSTEM_NS), forbidden);
    await assert.rejects(core.createNamespacedPod('default', { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] } }), forbidden);
    const leases = saKc.makeApiClient(k8s.CoordinationV1Api);
    const lease = { metadata: { name: 'intruder' }, spec: { holderIdentity: 'netseg' } };
    await assert.rejects(leases.createNamespacedLease('default', lease), forbidden, 'no Leases outside netseg-system');
    await assert.rejects(leases.createNamespacedLease('kube-system', lease), forbidden);
    const rbac = saKc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await assert.rejects(rbac.createClusterRoleBinding({ metadata: { name: 'escalate' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [] }), forbidden);
  });
});
