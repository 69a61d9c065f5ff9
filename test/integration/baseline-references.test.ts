/**
 * A ClusterSegmentationIntent whose peer names a Service, on the real control plane (issue 14 with issue 13's
 * references): the operator follows the Service (its targetPort and selector edited → every selected namespace's
 * baseline policies follow), keeps every policy when the Service is deleted and says why (Ready=False,
 * UnresolvedReference naming the field and the object, an Event), and is Ready again when it reappears.
 * Each step compares the live policies with what src/resolve + compileBaseline make of the objects the apiserver
 * now holds. The operator runs with --namespace-selector on this run's label: nothing else is touched.
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './cluster';
import { eventually, useCluster } from './cluster';
import type { KubeObject } from '../../src/model/kubernetes';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, assertMatches, runOperator } from './operator.support';
import { BaselineView, baseline, expectedBaselinePolicies, readyOfBaseline } from './baseline.support';

function service(name: string, selector: Record<string, string>, ports: k8s.V1ServicePort[]): k8s.V1Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector, ports } };
}

const RUN = crypto.randomBytes(3).toString('hex');
const SCOPE_LABEL = 'netseg-baseline-refs-test';
const SCOPE = { [SCOPE_LABEL]: RUN };

describe('ClusterSegmentationIntent with a service peer (integration)', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let view: ClusterView;
  let bv: BaselineView;
  let core: k8s.CoreV1Api;
  let op: CountedOperator | undefined;
  const name = `refs-${RUN}`;
  const IN = { ...SCOPE, baseline: name };
  const monitoring = `mon-${RUN}`;
  const selected = [`a-${RUN}`, `b-${RUN}`];

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    view = new ClusterView(cluster.kc);
    bv = new BaselineView(cluster.kc);
    core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    // The Service's namespace is in the operator's scope but not selected by the baseline.
    await core.createNamespace({ metadata: { name: monitoring, labels: SCOPE } });
    for (const ns of selected) await core.createNamespace({ metadata: { name: ns, labels: IN } });
    op = await runOperator(cluster.kc, [], { namespaceSelector: `${SCOPE_LABEL}=${RUN}`, leaseNamespace: 'default' });
  });

  after(async function () {
    this.timeout(120_000);
    await op?.stop();
    await bv.delete(name);
    await Promise.all([monitoring, ...selected].map((n) => core.deleteNamespace(n).catch(() => undefined)));
  });

  async function liveService(): Promise<KubeObject[]> {
    const s = await core.readNamespacedService('prom', monitoring).then((r) => r.body, () => undefined);
    return s ? [{ ...s, apiVersion: 'v1', kind: 'Service' } as unknown as KubeObject] : [];
  }

  /** Every selected namespace's baseline policies equal what resolution + compile make of the live objects. */
  async function converged(): Promise<void> {
    await eventually(async () => {
      const stored = await bv.get(name);
      const objects = await liveService();
      for (const ns of selected) {
        const live = (await view.policies(ns, MANAGED)).filter((p) => p.metadata.labels?.['netseg.io/cluster-intent'] === name);
        assertMatches(live, expectedBaselinePolicies(stored, ns, IN, objects));
      }
    }, 15_000);
  }

  async function egressPorts(ns: string): Promise<string> {
    const p = (await view.policies(ns, MANAGED)).find((x) => x.metadata.name === `${name}.cluster-egress`);
    return JSON.stringify(p?.spec.egress?.flatMap((r) => r.ports ?? []) ?? []);
  }

  async function replaceService(edit: (s: k8s.V1Service) => void): Promise<void> {
    const s = (await core.readNamespacedService('prom', monitoring)).body;
    edit(s);
    await core.replaceNamespacedService('prom', monitoring, s);
  }

  const PROM = (): k8s.V1Service => service('prom', { app: 'prometheus' }, [{ name: 'web', port: 9090, targetPort: 9091 as unknown as k8s.IntOrString }]);

  it('follows the Service it names, keeps everything while it is gone, and recovers by itself', async () => {
    await core.createNamespacedService(monitoring, PROM());
    await bv.create(baseline(name, {
      namespaceSelector: { matchLabels: { baseline: name } },
      directions: ['Ingress', 'Egress'],
      allowDNS: false,
      peers: [{ name: 'prometheus', service: { namespace: monitoring, name: 'prom' } }],
      // Absent ports to a Service: exactly its ports (their targetPorts).
      flows: [{ from: 'namespace', to: 'prometheus' }],
    }));
    await converged();
    for (const ns of selected) assert.match(await egressPorts(ns), /"port":9091/);
    await eventually(async () => assert.equal(readyOfBaseline(await bv.get(name)).status, 'True'));

    // targetPort edited: every selected namespace's egress follows.
    await replaceService((s) => void ((s.spec as k8s.V1ServiceSpec).ports = [{ name: 'web', port: 9090, targetPort: 9092 as unknown as k8s.IntOrString }]));
    await converged();
    for (const ns of selected) assert.match(await egressPorts(ns), /"port":9092/);
    // selector edited: the peer's pods follow.
    await replaceService((s) => void ((s.spec as k8s.V1ServiceSpec).selector = { app: 'prom-2' }));
    await converged();
    assert.match(JSON.stringify((await view.policies(selected[0] as string, MANAGED)).map((p) => p.spec)), /"app":"prom-2"/);

    // Deleted: every policy kept, the status names the field and the object, an Event says so.
    const before = JSON.stringify(await Promise.all(selected.map(async (ns) => (await view.policies(ns, MANAGED)).map((p) => [p.metadata.name, p.spec]))));
    await core.deleteNamespacedService('prom', monitoring);
    await eventually(async () => {
      const b = await bv.get(name);
      assert.equal(readyOfBaseline(b).reason, 'UnresolvedReference', JSON.stringify(b.status));
      assert.match(readyOfBaseline(b).message ?? '', new RegExp(`spec\\.peers\\[0\\]\\.service: Service ${monitoring}/prom not found`));
      assert.equal(b.status?.policies, 4, 'the kept policies are counted');
    }, 15_000);
    await eventually(async () => assert.ok((await bv.reasons(name)).includes('UnresolvedReference')));
    const after = JSON.stringify(await Promise.all(selected.map(async (ns) => (await view.policies(ns, MANAGED)).map((p) => [p.metadata.name, p.spec]))));
    assert.equal(after, before, 'nothing deleted or weakened');

    // Back: Ready again, policies as the Service now says, with no hand on the baseline.
    await core.createNamespacedService(monitoring, PROM());
    await eventually(async () => assert.equal(readyOfBaseline(await bv.get(name)).status, 'True'), 15_000);
    await converged();
    for (const ns of selected) assert.match(await egressPorts(ns), /"port":9091/);
  });
});
