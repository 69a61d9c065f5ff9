/**
 * `render`, `reach` and `verify` reading the real apiserver (issue 13, item 4), as a user bound only to
 * deploy/rbac/cli-reader.yaml (a ServiceAccount token, the apiserver enforcing RBAC): the intent's Service is
 * resolved from the cluster; files lay over the cluster; and a list the user may not make fails the command with
 * the list named, exit 1 and nothing on stdout, never an answer over part of the cluster.
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { main } from '../../src/cli/main';
import { memoryIO } from '../../src/cli/io';
import type { SegmentationIntent } from '../../src/intent/types';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import type { Cluster } from './cluster';
import { REPO_ROOT, freshNamespace, kubectl, serviceAccountKubeConfig, useCluster } from './cluster';
import { ClusterView, intent } from './operator.support';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const READER = path.join(REPO_ROOT, 'deploy', 'rbac', 'cli-reader.yaml');

function readerRules(): Rule[] {
  const [doc] = parseAllDocuments(fs.readFileSync(READER, 'utf8')).map((d) => d.toJS() as { rules: Rule[] });
  assert.ok(doc);
  return doc.rules;
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('render, reach and verify on the real apiserver, with the read-only CLI role', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  let tmp: string;
  let reader: string; // a kubeconfig file: the ServiceAccount bound to netseg-reader only
  let partial: string; // the same rights but ingresses
  const suffix = crypto.randomBytes(3).toString('hex');
  const cleanups: (() => Promise<unknown>)[] = [];

  const spec = (): SegmentationIntent['spec'] => ({
    workloads: [
      { name: 'web', selector: { matchLabels: { app: 'web' } } },
      { name: 'api', service: 'api' },
    ],
    flows: [{ from: 'web', to: 'api' }],
  });

  async function saKubeconfigFile(name: string, clusterRole: string): Promise<string> {
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const rbac = cluster.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount(ns.name, { metadata: { name } });
    const binding = `${name}-${suffix}`;
    await rbac.createClusterRoleBinding({
      metadata: { name: binding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', name, namespace: ns.name }],
    });
    cleanups.push(() => rbac.deleteClusterRoleBinding(binding));
    const kc = await serviceAccountKubeConfig(cluster.kc, ns.name, name);
    const file = path.join(tmp, `${name}.kubeconfig`);
    fs.writeFileSync(file, kc.exportConfig());
    return file;
  }

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-cli-cluster-'));
    ns = await freshNamespace(cluster, 'clicl');
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const pod = (name: string, app: string, port?: { name: string; containerPort: number }): k8s.V1Pod => ({
      metadata: { name, labels: { app } },
      spec: { containers: [{ name: 'c', image: 'registry.invalid/app:1', ports: port ? [port] : [] }] },
    });
    await core.createNamespacedPod(ns.name, pod('web', 'web'));
    await core.createNamespacedPod(ns.name, pod('stranger', 'stranger'));
    await core.createNamespacedPod(ns.name, pod('api-7f9c', 'api', { name: 'http', containerPort: 8080 }));
    // Port 80 of the Service is the pods' named port http (8080): only the cluster's Service says so.
    await core.createNamespacedService(ns.name, { metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ name: 'web', port: 80, targetPort: 'http' as unknown as k8s.IntOrString }] } });
    await new ClusterView(cluster.kc).createIntent(intent(ns.name, 'shop', spec()));

    await kubectl(cluster, ['apply', '-f', READER]);
    reader = await saKubeconfigFile('reader', 'netseg-reader');
    const rbac = cluster.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    const noIngresses = `netseg-reader-no-ingresses-${suffix}`;
    const rules = readerRules().map((r) => ({ ...r, resources: r.resources.filter((x) => x !== 'ingresses') })).filter((r) => r.resources.length > 0);
    await rbac.createClusterRole({ metadata: { name: noIngresses }, rules });
    cleanups.push(() => rbac.deleteClusterRole(noIngresses));
    partial = await saKubeconfigFile('partial', noIngresses);
  });

  after(async () => {
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
    await ns?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  function intentFile(s: SegmentationIntent['spec'] = spec()): string {
    const file = path.join(tmp, `intent-${crypto.randomBytes(3).toString('hex')}.yaml`);
    fs.writeFileSync(file, stringify(intent(ns.name, 'shop', s)));
    return file;
  }

  const ingressPorts = (policies: NetworkPolicy[], name: string): unknown[] =>
    policies.filter((p) => p.metadata.name === name).flatMap((p) => (p.spec.ingress ?? []).flatMap((r) => r.ports ?? []));

  describe('render', () => {
    it('-f with --kubeconfig: the intent in the file, its Service resolved from the cluster (port 80 → the named targetPort)', async () => {
      const r = await run(['render', '-f', intentFile(), '--kubeconfig', reader, '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const { items } = JSON.parse(r.stdout) as { items: NetworkPolicy[] };
      assert.deepEqual(ingressPorts(items, 'shop.api.ingress'), [{ port: 'http', protocol: 'TCP' }]);
      // The same objects in a file render the same policies: the cluster is only another source of them.
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: ns.name }, spec: { selector: { app: 'api' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } };
      const objects = path.join(tmp, 'svc.yaml');
      fs.writeFileSync(objects, stringify(svc));
      const fromFiles = await run(['render', '-f', intentFile(), objects, '-o', 'json']);
      assert.equal(fromFiles.code, 0, fromFiles.stderr);
      assert.deepEqual(JSON.parse(fromFiles.stdout), JSON.parse(r.stdout));
    });

    it('-f without a cluster: exit 1, naming the Service it needs and how to give it', async () => {
      const r = await run(['render', '-f', intentFile()]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`spec\\.workloads\\[1\\]\\.service: Service ${ns.name}/api not found`));
      assert.match(r.stderr, /give them with -f .*or read them from the cluster with --kubeconfig or --context/);
    });

    it('without -f: the cluster\'s own intent (-n), compiled as the operator would (its uid in the ownerReference)', async () => {
      const r = await run(['render', '--kubeconfig', reader, '-n', ns.name, '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const { items } = JSON.parse(r.stdout) as { items: NetworkPolicy[] };
      const live = await new ClusterView(cluster.kc).getIntent(ns.name, 'shop');
      assert.ok(items.length > 0 && items.every((p) => p.metadata.namespace === ns.name));
      assert.ok(items.every((p) => p.metadata.ownerReferences?.[0]?.uid === live.metadata.uid));
      assert.deepEqual(ingressPorts(items, 'shop.api.ingress'), [{ port: 'http', protocol: 'TCP' }]);
      const none = await run(['render', '--kubeconfig', reader, '-n', `${ns.name}-none`]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no SegmentationIntent or ClusterSegmentationIntent in namespace .*-none of the cluster: nothing to render/);
    });
  });

  describe('reach', () => {
    it('without -f: the cluster\'s intent is compiled, and a Service named in --to resolves from the cluster', async () => {
      const allowed = await run(['reach', '--kubeconfig', reader, '--from', `${ns.name}/web`, '--to', `${ns.name}/service/api`, '--port', '80']);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stdout, new RegExp(`${ns.name}/web -> ${ns.name}/api-7f9c TCP/8080: ALLOWED`));
      const denied = await run(['reach', '--kubeconfig', reader, '--from', `${ns.name}/stranger`, '--to', `${ns.name}/service/api`, '--port', '80']);
      assert.equal(denied.code, 0, denied.stderr);
      assert.match(denied.stdout, /DENIED/);
    });

    it('-f with --kubeconfig: the file\'s intent replaces the cluster\'s of the same name', async () => {
      const closed = intentFile({ ...spec(), flows: [] });
      const r = await run(['reach', '-f', closed, '--kubeconfig', reader, '--from', `${ns.name}/web`, '--to', `${ns.name}/api-7f9c`, '--port', '8080']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${ns.name}/web -> ${ns.name}/api-7f9c TCP/8080: DENIED`));
    });
  });

  describe('verify', () => {
    it('without -f: the cluster\'s intents of the namespace, proved over the cluster\'s pods', async () => {
      const r = await run(['verify', '--kubeconfig', reader, '-n', ns.name]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, new RegExp(`OK   ${ns.name}/shop: .*the cluster\\)`));
    });

    it('-f with --kubeconfig: the file\'s intent, its Service resolved from the cluster', async () => {
      const r = await run(['verify', '-f', intentFile(), '--kubeconfig', reader]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, new RegExp(`OK   ${ns.name}/shop: .*the cluster\\)`));
    });
  });

  describe('a list the user may not make', () => {
    const cases: [string, () => string[]][] = [
      ['render -f', () => ['render', '-f', intentFile(), '--kubeconfig', partial]],
      ['render', () => ['render', '--kubeconfig', partial]],
      ['reach', () => ['reach', '--kubeconfig', partial]],
      ['reach -f', () => ['reach', '-f', intentFile(), '--kubeconfig', partial, '-o', 'json']],
      ['verify', () => ['verify', '--kubeconfig', partial]],
      ['verify -f', () => ['verify', '-f', intentFile(), '--kubeconfig', partial]],
    ];
    for (const [name, args] of cases) {
      it(`${name}: exit 1, the forbidden list named, nothing on stdout`, async () => {
        const r = await run(args());
        assert.equal(r.code, 1, r.stdout);
        assert.equal(r.stdout, '', 'no output presented as complete');
        assert.match(r.stderr, /cannot read the cluster: .*list Ingress \(cluster\): 403 Forbidden/);
      });
    }
  });
});
