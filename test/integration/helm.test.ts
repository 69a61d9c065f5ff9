/**
 * The Helm chart (deploy/helm/netseg): `helm lint`, `helm template` equal to the kustomize install (the chart reads
 * the kustomize base's files, so they can only differ by what the values change), its values, and an install on
 * the local control plane that keeps the CRD (and so every intent) on uninstall.
 * helm is built from its Go module by scripts/helm (cached like the control plane); missing, these tests FAIL.
 */
import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import type { Cluster } from './cluster';
import * as crypto from 'crypto';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { REPO_ROOT, controlPlaneEnv, eventually, freshNamespace, kubectl, serviceAccountKubeConfig, useCluster } from './cluster';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, assertMatches, expectedPolicies, intent, readyOf, runOperator, shopSpec } from './operator.support';
import { BaselineView, baseline, expectedBaselinePolicies, readyOfBaseline } from './baseline.support';

const CHART = path.join(REPO_ROOT, 'deploy', 'helm', 'netseg');
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'helm');

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: unknown };

function helmBinary(): string {
  const bin = path.join(process.env['NETSEG_CACHE_DIR'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'netseg'), 'helm-v3.22.0', 'bin', 'helm');
  if (!fs.existsSync(bin)) throw new Error(`helm is not built (${bin} missing): run scripts/helm build (builds helm v3.22.0 from its Go module, a few minutes; .ci/run does it)`);
  return bin;
}

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: ${err.message}\n${stderr}${stdout}`)) : resolve(stdout),
    ),
  );
}

const helm = (args: string[]): Promise<string> => run(helmBinary(), args);

function objects(yamlText: string): Obj[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null && typeof o === 'object' && 'kind' in o);
}

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type RbacObj = Obj & { rules?: Rule[]; roleRef?: { kind: string; name: string }; subjects?: { kind: string; name: string; namespace: string }[] };

/** Rules as "group resource: verbs" lines, one per resource, sorted: how two rule sets are compared. */
const ruleLines = (rules: readonly Rule[] = []): string[] =>
  rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g} ${res}: ${[...r.verbs].sort().join(',')}`))).sort();

const CLUSTER_SCOPED = ['clustersegmentationintents', 'clustersegmentationintents/status', 'clustersegmentationintents/finalizers', 'namespaces'];

const idOf = (o: Obj): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** What only one side sets by design: Helm's keep policy on the CRD, the Argo CD wave kustomize adds. */
function normalised(list: Obj[]): Map<string, Obj> {
  return new Map(
    list.map((o) => {
      const c = JSON.parse(JSON.stringify(o)) as Obj;
      const a = c.metadata.annotations ?? {};
      delete a['helm.sh/resource-policy'];
      delete a['argocd.argoproj.io/sync-wave'];
      if (Object.keys(a).length === 0) delete c.metadata.annotations;
      return [idOf(c), c];
    }),
  );
}

async function template(values: string[] = [], namespace = 'netseg-system'): Promise<Obj[]> {
  return objects(await helm(['template', 'netseg', CHART, '--namespace', namespace, ...values.flatMap((v) => ['--set', v])]));
}

describe('helm chart', function () {
  this.timeout(300_000);

  it('builds from scripts/helm, and helm lint passes on the chart', async () => {
    assert.ok(fs.existsSync(SCRIPT));
    const out = await helm(['lint', '--strict', CHART]);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('helm template renders the same objects as kubectl kustomize deploy/', async () => {
    const kubectlBin = controlPlaneEnv()['KUBECTL'];
    assert.ok(kubectlBin && fs.existsSync(kubectlBin), 'kubectl from scripts/control-plane build');
    const kustomized = normalised(objects(await run(kubectlBin, ['kustomize', path.join(REPO_ROOT, 'deploy')])));
    const charted = normalised(await template(['createNamespace=true']));
    assert.ok(kustomized.size >= 10, `${kustomized.size} objects`);
    assert.deepEqual([...charted.keys()].sort(), [...kustomized.keys()].sort());
    for (const [id, o] of kustomized) assert.deepEqual(charted.get(id), o, id);
  });

  it('values set the image, replicas, resources, namespace scope and the release namespace', async () => {
    const objs = await template(['image.repository=registry.example/netseg', 'image.tag=9.9.9', 'replicas=3', 'resources.limits.memory=512Mi', 'namespaces={a,b}'], 'ops');
    const dep = objs.find((o) => o.kind === 'Deployment') as Obj & { spec: { replicas: number; template: { spec: { containers: { image: string; args: string[]; resources: { limits: { memory: string } } }[] } } } };
    const c = dep.spec.template.spec.containers[0];
    assert.equal(c?.image, 'registry.example/netseg:9.9.9');
    assert.equal(dep.spec.replicas, 3);
    assert.equal(c?.resources.limits.memory, '512Mi');
    assert.ok(c?.args.includes('--namespaces=a,b'));
    // Every namespaced object in the release namespace, but the Roles that scope the RBAC to a and b (and to
    // `default` for baselines' Events): see the test below.
    const scopedRbac = (o: Obj): boolean => ['Role', 'RoleBinding'].includes(o.kind) && ['netseg-operator', 'netseg-operator-baseline-events'].includes(o.metadata.name);
    assert.ok(objs.filter((o) => o.metadata.namespace !== undefined && !scopedRbac(o)).every((o) => o.metadata.namespace === 'ops'));
    const binding = objs.find((o) => o.kind === 'ClusterRoleBinding') as Obj & { subjects: { namespace: string }[] };
    assert.deepEqual(binding.subjects.map((s) => s.namespace), ['ops'], 'the ServiceAccount bound is the release one');
    assert.ok(!objs.some((o) => o.kind === 'Namespace'), 'no Namespace unless createNamespace');
    const sel = await template(['namespaceSelector=team=shop']);
    assert.ok((sel.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers[0]?.args.includes('--namespace-selector=team=shop'));
    await assert.rejects(template(['namespaces={a}', 'namespaceSelector=x=y']), /not both/);
  });

  it('keeps the CRD on uninstall, and renders the ServiceMonitor and PrometheusRule only when asked', async () => {
    const objs = await template();
    const crd = objs.find((o) => o.kind === 'CustomResourceDefinition');
    assert.equal(crd?.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.ok(!objs.some((o) => o.kind === 'ServiceMonitor' || o.kind === 'PrometheusRule'));
    const withMetrics = await template(['metrics.serviceMonitor.enabled=true', 'metrics.serviceMonitor.interval=15s', 'metrics.prometheusRule.enabled=true'], 'ops');
    const sm = withMetrics.find((o) => o.kind === 'ServiceMonitor') as Obj & { spec: { namespaceSelector: { matchNames: string[] }; endpoints: { interval: string; honorLabels: boolean }[] } };
    assert.deepEqual(sm.spec.namespaceSelector.matchNames, ['ops']);
    assert.deepEqual(sm.spec.endpoints.map((e) => [e.interval, e.honorLabels]), [['15s', true]]);
    assert.ok(withMetrics.some((o) => o.kind === 'PrometheusRule' && o.metadata.namespace === 'ops'));
  });

  it('namespaces scope the RBAC: a Role per watched namespace, cluster-wide only what is cluster-scoped, nothing lost or added', async () => {
    const all = (await template()) as RbacObj[];
    const full = all.find((o) => o.kind === 'ClusterRole');
    assert.ok(full && !all.some((o) => o.kind === 'Role' && o.metadata.name === 'netseg-operator'), 'default: one ClusterRole, no per-namespace Role');
    const scoped = (await template(['namespaces={a,b}'], 'ops')) as RbacObj[];
    const clusterRole = scoped.find((o) => o.kind === 'ClusterRole');
    assert.ok(clusterRole);
    for (const line of ruleLines(clusterRole.rules)) assert.ok(CLUSTER_SCOPED.some((r) => line.split(' ')[1]?.replace(/:$/, '') === r), `cluster-wide: ${line}`);
    const roles = scoped.filter((o) => o.kind === 'Role' && o.metadata.name === 'netseg-operator');
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ['a', 'b']);
    for (const role of roles) {
      // The scoped rights together are exactly the unscoped ClusterRole's: the same verbs, now per namespace.
      assert.deepEqual([...ruleLines(clusterRole.rules), ...ruleLines(role.rules)].sort(), ruleLines(full.rules), role.metadata.namespace);
      const binding = scoped.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'netseg-operator' && o.metadata.namespace === role.metadata.namespace);
      assert.deepEqual(binding?.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'netseg-operator' });
      assert.deepEqual(binding?.subjects, [{ kind: 'ServiceAccount', name: 'netseg-operator', namespace: 'ops' }]);
    }
    // Events about a baseline (cluster-scoped) go to `default`: create Events there, and update them (a repeated
    // Event is aggregated, ./src/operator/event-recorder.ts), nothing else.
    const events = scoped.find((o) => o.kind === 'Role' && o.metadata.namespace === 'default');
    assert.deepEqual(ruleLines(events?.rules), [' events: create,update']);
    assert.ok(scoped.some((o) => o.kind === 'RoleBinding' && o.metadata.namespace === 'default' && o.roleRef?.name === events?.metadata.name));
    const withDefault = (await template(['namespaces={default,a}'], 'ops')) as RbacObj[];
    assert.deepEqual(withDefault.filter((o) => o.metadata.namespace === 'default').map((o) => `${o.kind}/${o.metadata.name}`).sort(), ['Role/netseg-operator', 'RoleBinding/netseg-operator']);
    // A namespace selector is decided by a watch of every namespace's labels: the rights stay cluster-wide.
    const selector = (await template(['namespaceSelector=team=shop'])) as RbacObj[];
    assert.deepEqual(ruleLines(selector.find((o) => o.kind === 'ClusterRole')?.rules), ruleLines(full.rules));
    assert.ok(!selector.some((o) => o.kind === 'Role' && o.metadata.name === 'netseg-operator'));
  });

  describe('on the local control plane', () => {
    let cluster: Cluster;
    before(async function () {
      this.timeout(60 * 60 * 1000);
      cluster = await useCluster();
    });

    it('installs, and uninstall leaves the CRD and the intents in place', async () => {
      const ns = await freshNamespace(cluster, 'helm');
      const release = `netseg-${ns.name.slice(-8)}`;
      const kc = ['--kubeconfig', cluster.kubeconfigPath, '--namespace', ns.name];
      try {
        // The test cluster already has the CRD and may have the cluster-wide RBAC from other tests: let this
        // release adopt them, as a kustomize → Helm migration does (docs/install.md).
        for (const kind of ['crd/segmentationintents.netseg.io', 'crd/clustersegmentationintents.netseg.io', 'clusterrole/netseg-operator', 'clusterrolebinding/netseg-operator']) {
          const exists = await kubectl(cluster, ['get', kind, '--ignore-not-found', '-o', 'name']);
          if (!exists.trim()) continue;
          await kubectl(cluster, ['label', '--overwrite', kind, 'app.kubernetes.io/managed-by=Helm']);
          await kubectl(cluster, ['annotate', '--overwrite', kind, `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${ns.name}`]);
        }
        await helm(['install', release, CHART, ...kc, '--wait=false']);
        const status = await helm(['status', release, ...kc, '-o', 'json']);
        assert.equal((JSON.parse(status) as { info: { status: string } }).info.status, 'deployed');
        const names = await kubectl(cluster, ['-n', ns.name, 'get', 'deployment,service,serviceaccount,poddisruptionbudget,networkpolicy,role,rolebinding', '-o', 'name']);
        for (const want of ['deployment.apps/netseg-operator', 'service/netseg-operator-metrics', 'serviceaccount/netseg-operator', 'networkpolicy.networking.k8s.io/netseg-operator']) assert.ok(names.includes(want), `${want} in\n${names}`);
        const view = new ClusterView(cluster.kc);
        await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
        await helm(['uninstall', release, ...kc]);
        assert.equal((await view.getIntent(ns.name, 'shop')).metadata.name, 'shop', 'the intents outlive the release');
        const crd = await kubectl(cluster, ['get', 'crd', 'segmentationintents.netseg.io', '-o', 'name']);
        assert.equal(crd.trim(), 'customresourcedefinition.apiextensions.k8s.io/segmentationintents.netseg.io', 'helm.sh/resource-policy: keep');
        const left = await kubectl(cluster, ['-n', ns.name, 'get', 'deployment', '--ignore-not-found', '-o', 'name']);
        assert.equal(left.trim(), '', 'the rest is uninstalled');
      } finally {
        await ns.cleanup();
      }
    });

    it('scoped to a namespace list, its RBAC is enough for the operator to reconcile there, and grants nothing elsewhere', async () => {
      const release = await freshNamespace(cluster, 'helmrel');
      const watched = await freshNamespace(cluster, 'helmscoped');
      const other = await freshNamespace(cluster, 'helmother');
      const suffix = crypto.randomBytes(3).toString('hex');
      let op: CountedOperator | undefined;
      // The chart's RBAC objects for `namespaces: [watched]`; the cluster-scoped names (and the Role in `default`)
      // get a suffix so that this test leaves the shared cluster's netseg-operator ClusterRole alone.
      const rbac = ((await template([`namespaces={${watched.name}}`], release.name)) as RbacObj[]).filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
      const renamed = (o: RbacObj): boolean => o.kind.startsWith('Cluster') || o.metadata.namespace === 'default';
      for (const o of rbac) {
        if (renamed(o)) o.metadata.name = `${o.metadata.name}-${suffix}`;
        if (o.roleRef && (o.roleRef.kind === 'ClusterRole' || o.metadata.namespace === 'default')) o.roleRef.name = `${o.roleRef.name}-${suffix}`;
      }
      const file = path.join(os.tmpdir(), `netseg-scoped-rbac-${suffix}.yaml`);
      fs.writeFileSync(file, rbac.map((o) => `---\n${stringify(o)}`).join(''));
      const bv = new BaselineView(cluster.kc);
      const baselineName = `scoped-${suffix}`;
      try {
        await kubectl(cluster, ['apply', '-f', file]);
        const saKc = await serviceAccountKubeConfig(cluster.kc, release.name, 'netseg-operator');
        const net = saKc.makeApiClient(k8s.NetworkingV1Api);
        const forbidden = (e: { statusCode?: number }): boolean => e.statusCode === 403;
        await assert.rejects(net.listNamespacedNetworkPolicy(other.name), forbidden, 'no rights in a namespace not watched');
        await assert.rejects(net.listNetworkPolicyForAllNamespaces(), forbidden, 'no cluster-wide rights on a namespaced kind');
        op = await runOperator(saKc, [watched.name], { leaderElect: true, leaseNamespace: release.name, leaseName: 'netseg-operator', identity: 'helm-scoped' });
        await eventually(() => assert.ok(op?.isLeader()));
        const view = new ClusterView(cluster.kc);
        await view.createIntent(intent(watched.name, 'shop', shopSpec(3)));
        await eventually(async () => {
          const stored = await view.getIntent(watched.name, 'shop');
          assertMatches(await view.policies(watched.name, MANAGED), expectedPolicies(stored));
          assert.equal(readyOf(stored).status, 'True', JSON.stringify(stored.status));
          assert.ok((await view.reasons(watched.name, 'shop')).includes('PolicyCreated'));
        });
        await bv.create(baseline(baselineName, { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': watched.name } }, directions: ['Ingress'] }));
        await eventually(async () => {
          const stored = await bv.get(baselineName);
          assertMatches(await view.policies(watched.name, `netseg.io/cluster-intent=${baselineName}`), expectedBaselinePolicies(stored, watched.name, {}));
          assert.equal(readyOfBaseline(stored).status, 'True', JSON.stringify(stored.status));
          assert.ok((await bv.reasons(baselineName)).includes('PolicyCreated'), 'the Event in default');
        });
        assert.deepEqual(op.requests.filter((r) => r.endsWith(' 403')), [], 'a request was forbidden');
      } finally {
        await op?.stop();
        await bv.delete(baselineName).catch(() => undefined);
        await kubectl(cluster, ['delete', '--ignore-not-found', '-f', file]).catch(() => undefined);
        fs.rmSync(file, { force: true });
        await Promise.all([release, watched, other].map((n) => n.cleanup()));
      }
    });
  });
});
