/**
 * Endpoints by reference on the real control plane (API.md v2): the operator follows the Services, workload
 * objects and Ingresses an intent names. Each test edits the referenced object, never the intent, and waits for
 * the policies to follow; the policies are compared with what src/resolve + compile make of the objects as the
 * apiserver now holds them.
 */
import { strict as assert } from 'assert';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './cluster';
import { eventually, freshNamespace, useCluster } from './cluster';
import type { SegmentationIntent } from '../../src/intent/types';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, intent, readyOf, runOperator } from './operator.support';

type Ports = NonNullable<NonNullable<NetworkPolicy['spec']['ingress']>[number]['ports']>;

export function service(name: string, selector: Record<string, string>, ports: k8s.V1ServicePort[]): k8s.V1Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector, ports } };
}

export function ingressOf(name: string, backends: { path: string; service: string; port: number | string }[]): k8s.V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name },
    spec: {
      ingressClassName: 'public',
      rules: [{ http: { paths: backends.map((b) => ({ path: b.path, pathType: 'Prefix', backend: { service: { name: b.service, port: typeof b.port === 'number' ? { number: b.port } : { name: b.port } } } })) } }],
    },
  };
}

const CONTROLLER = { name: 'nginx', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } };

describe('references (integration)', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let view: ClusterView;
  let core: k8s.CoreV1Api;
  let net: k8s.NetworkingV1Api;
  let apps: k8s.AppsV1Api;
  let ns: { name: string; cleanup: () => Promise<void> };
  const running: CountedOperator[] = [];

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    view = new ClusterView(cluster.kc);
    core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    net = cluster.kc.makeApiClient(k8s.NetworkingV1Api);
    apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  });

  beforeEach(async () => {
    ns = await freshNamespace(cluster, 'refs');
    running.push(await runOperator(cluster.kc, [ns.name]));
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((o) => o.stop()));
    await ns.cleanup();
  });

  async function policy(name: string): Promise<NetworkPolicy | undefined> {
    return (await view.policies(ns.name, MANAGED)).find((p) => p.metadata.name === name);
  }

  async function portsOf(name: string): Promise<Ports | undefined> {
    return (await policy(name))?.spec.ingress?.flatMap((r) => r.ports ?? []);
  }

  async function replaceService(name: string, edit: (s: k8s.V1Service) => void): Promise<void> {
    const s = (await core.readNamespacedService(name, ns.name)).body;
    edit(s);
    await core.replaceNamespacedService(name, ns.name, s);
  }

  const WEB = { name: 'web', selector: { matchLabels: { app: 'web' } } };
  const spec = (): SegmentationIntent['spec'] => ({ workloads: [WEB, { name: 'api', service: 'api' }], flows: [{ from: 'web', to: 'api' }] });

  it('follows a Service: its targetPort edited, then its selector, the policies follow within seconds', async () => {
    await core.createNamespacedService(ns.name, service('api', { app: 'api' }, [{ name: 'http', port: 80, targetPort: 'web' as unknown as k8s.IntOrString }]));
    await view.createIntent(intent(ns.name, 'shop', spec()));
    await eventually(async () => assert.deepEqual(await portsOf('shop.api.ingress'), [{ port: 'web', protocol: 'TCP' }]), 30_000);

    await replaceService('api', (s) => ((s.spec as k8s.V1ServiceSpec).ports = [{ name: 'http', port: 80, targetPort: 8443 as unknown as k8s.IntOrString }]));
    const t0 = Date.now();
    await eventually(async () => assert.deepEqual(await portsOf('shop.api.ingress'), [{ port: 8443, protocol: 'TCP' }]), 10_000);
    const targetPortMs = Date.now() - t0;

    await replaceService('api', (s) => ((s.spec as k8s.V1ServiceSpec).selector = { app: 'api-v2' }));
    await eventually(async () => assert.deepEqual((await policy('shop.api.ingress'))?.spec.podSelector, { matchLabels: { app: 'api-v2' } }), 10_000);
    assert.ok(targetPortMs < 10_000, `followed in ${targetPortMs} ms`);
  });

  it('follows a Deployment\'s selector (workloadRef)', async () => {
    const deployment = (app: string): k8s.V1Deployment => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'db' },
      spec: { selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'registry.example/db:1' }] } } },
    });
    await apps.createNamespacedDeployment(ns.name, deployment('db'));
    await view.createIntent(intent(ns.name, 'shop', { workloads: [WEB, { name: 'db', workloadRef: { kind: 'Deployment', name: 'db' } }], flows: [{ from: 'web', to: 'db', ports: [{ port: 5432 }] }] }));
    await eventually(async () => assert.deepEqual((await policy('shop.db.ingress'))?.spec.podSelector, { matchLabels: { app: 'db' } }), 30_000);
    // A Deployment's selector is immutable: a new one is a delete and a create under the same name.
    await apps.deleteNamespacedDeployment('db', ns.name);
    await eventually(async () => assert.equal(readyOf(await view.getIntent(ns.name, 'shop')).reason, 'UnresolvedReference'), 10_000);
    await apps.createNamespacedDeployment(ns.name, deployment('db-v2'));
    await eventually(async () => assert.deepEqual((await policy('shop.db.ingress'))?.spec.podSelector, { matchLabels: { app: 'db-v2' } }), 10_000);
  });

  it('opens a flow when an Ingress path is added and closes it when removed', async () => {
    await core.createNamespacedService(ns.name, service('api', { app: 'api' }, [{ name: 'http', port: 80, targetPort: 8080 as unknown as k8s.IntOrString }]));
    await core.createNamespacedService(ns.name, service('admin', { app: 'admin' }, [{ name: 'http', port: 80, targetPort: 9000 as unknown as k8s.IntOrString }]));
    await view.createIntent(intent(ns.name, 'shop', {
      workloads: [{ name: 'api', service: 'api' }, { name: 'admin', service: 'admin' }],
      peers: [CONTROLLER],
      ingressRoutes: [{ from: ['nginx'], ingressClassName: 'public' }],
    }));
    await net.createNamespacedIngress(ns.name, ingressOf('web', [{ path: '/', service: 'api', port: 80 }]));
    await eventually(async () => {
      assert.deepEqual(await portsOf('shop.api.ingress'), [{ port: 8080, protocol: 'TCP' }]);
      assert.deepEqual((await policy('shop.admin.ingress'))?.spec.ingress ?? [], [], 'admin: isolated, nothing open');
    }, 30_000);

    const ing = (await net.readNamespacedIngress('web', ns.name)).body;
    await net.replaceNamespacedIngress('web', ns.name, { ...ing, spec: ingressOf('web', [{ path: '/', service: 'api', port: 80 }, { path: '/admin', service: 'admin', port: 'http' }, { path: '/x', service: 'gone', port: 1 }]).spec });
    await eventually(async () => {
      assert.deepEqual(await portsOf('shop.admin.ingress'), [{ port: 9000, protocol: 'TCP' }], 'the new path opened its backend');
      assert.deepEqual((await view.getIntent(ns.name, 'shop')).status?.uncoveredBackends, ['web/gone:1']);
    }, 10_000);
    await eventually(async () => assert.ok((await view.reasons(ns.name, 'shop')).includes('UncoveredBackends')), 10_000);

    const ing2 = (await net.readNamespacedIngress('web', ns.name)).body;
    await net.replaceNamespacedIngress('web', ns.name, { ...ing2, spec: ingressOf('web', [{ path: '/', service: 'api', port: 80 }]).spec });
    await eventually(async () => assert.deepEqual((await policy('shop.admin.ingress'))?.spec.ingress ?? [], [], 'the removed path closed'), 10_000);
  });

  it('keeps every policy when the referenced Service is deleted, says why on the status and in an Event, and recovers when it is back', async () => {
    await core.createNamespacedService(ns.name, service('api', { app: 'api' }, [{ name: 'http', port: 80, targetPort: 8080 as unknown as k8s.IntOrString }]));
    await view.createIntent(intent(ns.name, 'shop', spec()));
    await eventually(async () => assert.equal(readyOf(await view.getIntent(ns.name, 'shop')).status, 'True'), 30_000);
    const before = JSON.stringify((await view.policies(ns.name, MANAGED)).map((p) => [p.metadata.name, p.spec]));

    await core.deleteNamespacedService('api', ns.name);
    await eventually(async () => {
      const ready = readyOf(await view.getIntent(ns.name, 'shop'));
      assert.equal(ready.reason, 'UnresolvedReference');
      assert.match(ready.message ?? '', new RegExp(`spec\\.workloads\\[1\\]\\.service: Service ${ns.name}/api not found`));
    }, 10_000);
    // The Event is written after the status, so it may land a moment later.
    await eventually(async () => assert.ok((await view.reasons(ns.name, 'shop')).includes('UnresolvedReference')), 10_000);
    assert.equal(JSON.stringify((await view.policies(ns.name, MANAGED)).map((p) => [p.metadata.name, p.spec])), before, 'nothing deleted or weakened');

    await core.createNamespacedService(ns.name, service('api', { app: 'api' }, [{ name: 'http', port: 80, targetPort: 8080 as unknown as k8s.IntOrString }]));
    await eventually(async () => assert.equal(readyOf(await view.getIntent(ns.name, 'shop')).status, 'True'), 10_000);
  });
});
