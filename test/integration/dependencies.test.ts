/** With the dependency overrides in force, client-node still loads a kubeconfig file and watches the real apiserver. */
import { strict as assert } from 'assert';
import * as k8s from '@kubernetes/client-node';
import { Cluster, eventually, freshNamespace, useCluster } from './cluster';

describe('client-node on the real apiserver, with the overridden dependencies', function () {
  let cluster: Cluster;
  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
  });

  it('loads the control plane kubeconfig from its file and reads /version', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.match(version.body.gitVersion, /^v1\.\d+\.\d+/);
  });

  it('watches ConfigMaps and sees an ADDED event for one it creates', async () => {
    const ns = await freshNamespace(cluster, 'watch');
    const seen: string[] = [];
    const watch = new k8s.Watch(cluster.kc);
    const req = await watch.watch(
      `/api/v1/namespaces/${ns.name}/configmaps`,
      {},
      (type: string, obj: k8s.V1ConfigMap) => seen.push(`${type} ${obj.metadata?.name}`),
      () => undefined,
    );
    try {
      const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespacedConfigMap(ns.name, { metadata: { name: 'probe' }, data: { a: '1' } });
      await eventually(() => assert.ok(seen.includes('ADDED probe'), `seen: ${seen.join(', ')}`), 20_000);
    } finally {
      (req as { abort?: () => void }).abort?.();
      await ns.cleanup();
    }
  });
});
