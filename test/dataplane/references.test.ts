/**
 * Endpoints by reference, with packets (issue 13): an intent whose workload is a Service and whose peer is a
 * Service of another namespace, compiled by the operator and enforced by kube-router. The Service's port (80)
 * targets a NAMED port (`http`, 8080) that differs from it, and the destination pod listens on 80, 8080, 8081 and
 * 9090 — so a policy that opened the Service port instead of its target, or every port, would let a probe
 * through. Then the Service's targetPort is edited (the intent is not): packets must follow within the
 * operator's convergence.
 */
import * as k8s from '@kubernetes/client-node';
import type { SegmentationIntent } from '../../src/intent/types';
import type { KubeObject } from '../../src/model/kubernetes';
import { eventually } from '../integration/cluster';
import { ClusterView, readyOf, runOperator } from '../integration/operator.support';
import type { CountedOperator } from '../integration/operator.support';
import { type Expect, allow, deny, untilPackets } from './expect';
import { type DataPlane, applyObjects, removeNamespaces, useDataPlane, waitRunning } from './harness';

const NS = 'dp-refs';
const CLIENTS = 'dp-refs-clients';
const API = `${NS}/api-0`;
const NEIGHBOUR = `${NS}/neighbour`;
const CLIENT = `${CLIENTS}/client`;
const OTHER = `${CLIENTS}/other`;
/** How long the operator plus kube-router may take to follow an edit (measured: seconds; generous on a loaded machine). */
const CONVERGE_MS = 60_000;

function pod(namespace: string, name: string, labels: Record<string, string>, ports: k8s.V1ContainerPort[] = []): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers: [{ name: 'c', image: 'netseg.invalid/app', ports }] } } as KubeObject;
}

function objects(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CLIENTS } },
    pod(NS, 'api-0', { app: 'api' }, [
      { name: 'http', containerPort: 8080 },
      { name: 'alt', containerPort: 8081 },
      { name: 'svc-number', containerPort: 80 },
      { name: 'metrics', containerPort: 9090 },
    ]),
    pod(NS, 'neighbour', { app: 'neighbour' }),
    pod(CLIENTS, 'client', { app: 'client' }),
    pod(CLIENTS, 'other', { app: 'other' }),
    // Port 80 targets the pods' port NAMED http (8080): the policy must open 8080, never 80.
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: NS }, spec: { selector: { app: 'api' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'client', namespace: CLIENTS }, spec: { selector: { app: 'client' }, ports: [{ port: 8000 }] } },
  ] as KubeObject[];
}

const INTENT: SegmentationIntent = {
  apiVersion: 'netseg.io/v1alpha1',
  kind: 'SegmentationIntent',
  metadata: { name: 'refs', namespace: NS },
  spec: {
    workloads: [{ name: 'api', service: 'api' }],
    peers: [{ name: 'client', service: { namespace: CLIENTS, name: 'client' } }],
    flows: [{ from: 'client', to: 'api' }], // no ports: exactly the Service's ports, i.e. their targetPorts
  },
} as SegmentationIntent;

describe('data plane: references — packets reach exactly a Service\'s target ports', function () {
  let dp: DataPlane;
  let operator: CountedOperator | undefined;
  let core: k8s.CoreV1Api;

  before(async function () {
    dp = await useDataPlane();
    core = dp.cluster.kc.makeApiClient(k8s.CoreV1Api);
    await removeNamespaces(dp, [NS, CLIENTS]);
    await applyObjects(dp, objects());
    await waitRunning(dp, [API, NEIGHBOUR, CLIENT, OTHER].map((k) => ({ namespace: k.split('/')[0] ?? '', name: k.split('/')[1] ?? '' })));
  });

  /** Points the Service's port 80 at `target` (the intent is not touched); waits until packets say `expected`. */
  async function retarget(target: string | number, expected: Expect[]): Promise<number> {
    const svc = (await core.readNamespacedService('api', NS)).body;
    svc.spec = { ...svc.spec, ports: [{ name: 'web', port: 80, targetPort: target }] };
    await core.replaceNamespacedService('api', NS, svc);
    return untilPackets(dp, expected, CONVERGE_MS, `after the Service's targetPort moved to ${target}`);
  }

  after(async function () {
    await operator?.stop();
    if (dp) await removeNamespaces(dp, [NS, CLIENTS]);
  });

  it('the client behind the peer Service reaches the api\'s targetPort (named http → 8080) only; the Service port, other ports and other pods are refused', async function () {
    // Before the intent every port answers: a later refusal is the policy's, not a missing listener.
    await untilPackets(dp, [80, 8080, 8081, 9090].map((p) => allow(CLIENT, API, p, 'no policy yet')), CONVERGE_MS, 'before the intent');
    operator = await runOperator(dp.cluster.kc, [NS, CLIENTS]);
    const view = new ClusterView(dp.cluster.kc);
    await view.createIntent(INTENT);
    await eventually(async () => {
      const got = await view.getIntent(NS, 'refs');
      if (readyOf(got).status !== 'True' || got.status?.observedGeneration !== got.metadata.generation) throw new Error(`intent not Ready: ${JSON.stringify(readyOf(got))}`);
    }, CONVERGE_MS);
    await untilPackets(
      dp,
      [
        allow(CLIENT, API, 8080, 'flow client → api: Service port 80 targets the named port http = 8080'),
        deny(CLIENT, API, 80, 'the Service port number is not the pods\' port: never opened'),
        deny(CLIENT, API, 8081, 'not a target of any Service port'),
        deny(CLIENT, API, 9090, 'not a target of any Service port'),
        deny(OTHER, API, 8080, 'other is not behind the peer Service client'),
        deny(NEIGHBOUR, API, 8080, 'the api\'s own namespace is no peer'),
      ],
      CONVERGE_MS,
      'after the intent is Ready',
    );
  });

  it('editing the Service\'s targetPort (http → alt = 8081), not the intent, moves the open port with it', async function () {
    const ms = await retarget('alt', [
      allow(CLIENT, API, 8081, 'the Service port 80 now targets alt = 8081'),
      deny(CLIENT, API, 8080, 'the old target: closed once the Service moved'),
      deny(CLIENT, API, 80, 'the Service port number is still never opened'),
      deny(OTHER, API, 8081, 'other is not behind the peer Service client'),
    ]);
    process.stderr.write(`    references: packets followed the targetPort edit in ${ms} ms (operator + kube-router + barrier)\n`);
  });

  it('a numeric targetPort (9090) works the same: the new number connects, the named one is closed', async function () {
    await retarget(9090, [
      allow(CLIENT, API, 9090, 'the Service port 80 now targets 9090'),
      deny(CLIENT, API, 8081, 'the previous target alt: closed'),
      deny(CLIENT, API, 8080, 'never reopened'),
      deny(CLIENT, API, 80, 'the Service port number is still never opened'),
    ]);
  });
});
