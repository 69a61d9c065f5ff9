/**
 * A ClusterSegmentationIntent on the real data plane (issue 14): the world it runs in, and the namespace
 * creation → isolation latency as packets see it. Used by test/dataplane/baseline.test.ts (asserts the verdicts)
 * and bench/dataplane-baseline.bench.ts (writes the latency figures over several namespaces).
 *
 * The operator runs with --namespace-selector on SCOPE_LABEL, so it governs only this world's namespaces. The
 * baseline selects `dp-baseline: in` among them: Ingress and Egress isolated, same namespace allowed, and one
 * peer (the scraper of the outside namespace) may reach every selected namespace on 9090.
 */
import { setTimeout as sleep } from 'timers/promises';
import * as k8s from '@kubernetes/client-node';
import type { ClusterSegmentationIntent } from '../../src/intent/baseline';
import type { KubeObject } from '../../src/model/kubernetes';
import { eventually } from '../integration/cluster';
import { BaselineView, baseline, readyOfBaseline } from '../integration/baseline.support';
import { runOperator } from '../integration/operator.support';
import type { CountedOperator } from '../integration/operator.support';
import { type DataPlane, applyObjects, removeNamespaces, waitRunning } from './harness';

export const BASELINE_NAME = 'dp-baseline';
export const OUTSIDE = 'dp-base-outside';
export const OUTSIDER = `${OUTSIDE}/outsider`;
export const SCRAPER = `${OUTSIDE}/scraper`;
export const SCOPE_LABEL = 'netseg-dp-baseline';
export const MEMBER_LABEL = 'dp-baseline';
export const IN = { [SCOPE_LABEL]: 'yes', [MEMBER_LABEL]: 'in' };
export const OUT = { [SCOPE_LABEL]: 'yes', [MEMBER_LABEL]: 'out' };
export const APP_PORT = 8080;
export const METRICS_PORT = 9090;
const PORTS = [{ containerPort: APP_PORT }, { containerPort: METRICS_PORT }];

const SPEC: ClusterSegmentationIntent['spec'] = {
  namespaceSelector: { matchLabels: { [MEMBER_LABEL]: 'in' } },
  directions: ['Ingress', 'Egress'],
  allowSameNamespace: true,
  peers: [{ name: 'scraper', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': OUTSIDE } }, podSelector: { matchLabels: { app: 'scraper' } } }],
  flows: [{ from: 'scraper', to: 'namespace', ports: [{ port: METRICS_PORT }] }],
};

function pod(namespace: string, name: string, labels: Record<string, string>): k8s.V1Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers: [{ name: 'c', image: 'netseg.invalid/app', ports: PORTS }] } };
}

export interface BaselineWorld {
  readonly dp: DataPlane;
  readonly operator: CountedOperator;
  readonly bv: BaselineView;
  /** Namespaces made so far (removed by `close`). */
  readonly namespaces: string[];
  close(): Promise<void>;
}

/** The outside namespace (outsider, scraper), the operator, and the baseline, Ready. */
export async function startBaselineWorld(dp: DataPlane): Promise<BaselineWorld> {
  const bv = new BaselineView(dp.cluster.kc);
  await bv.delete(BASELINE_NAME);
  await removeNamespaces(dp, [OUTSIDE]);
  await applyObjects(dp, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OUTSIDE } },
    pod(OUTSIDE, 'outsider', { app: 'outsider' }),
    pod(OUTSIDE, 'scraper', { app: 'scraper' }),
  ] as KubeObject[]);
  await waitRunning(dp, [OUTSIDER, SCRAPER].map(ref));
  const operator = await runOperator(dp.cluster.kc, [], { namespaceSelector: `${SCOPE_LABEL}=yes`, leaseNamespace: 'default' });
  await bv.create(baseline(BASELINE_NAME, SPEC));
  await eventually(async () => {
    const b = await bv.get(BASELINE_NAME);
    if (readyOfBaseline(b).status !== 'True' || b.status?.observedGeneration !== b.metadata.generation) throw new Error(`baseline not Ready: ${JSON.stringify(b.status)}`);
  }, 60_000);
  const namespaces: string[] = [];
  return {
    dp,
    operator,
    bv,
    namespaces,
    close: async () => {
      await operator.stop();
      await bv.delete(BASELINE_NAME);
      await removeNamespaces(dp, [OUTSIDE, ...namespaces]);
    },
  };
}

export function ref(key: string): { namespace: string; name: string } {
  const [namespace = '', name = ''] = key.split('/');
  return { namespace, name };
}

export interface IsolationSample {
  readonly namespace: string;
  /** Namespace create sent → both of its pods Running with an IP (the agent set their network up). */
  readonly runningMs: number;
  /** Namespace create sent → the baseline's policies listed in it (the operator's part). */
  readonly policiesMs: number;
  /** Namespace create sent → the first probe from the outsider to pod `a` refused. */
  readonly isolatedMs: number;
  /** Probes from the outsider that CONNECTED to the new pod before it was isolated (the window a new namespace is open). */
  readonly connectedBefore: number;
}


/**
 * Creates a selected namespace with pods `a` and `b` (as a deploy pipeline would: the namespace, then its pods at
 * once) and probes from the outsider to `a` as soon as it runs, without a barrier, every 50 ms until refused.
 */
export async function createIsolatedNamespace(w: BaselineWorld, name: string, timeoutMs = 60_000): Promise<IsolationSample> {
  const core = w.dp.cluster.kc.makeApiClient(k8s.CoreV1Api);
  w.namespaces.push(name);
  const t0 = Date.now();
  await core.createNamespace({ metadata: { name, labels: IN } });
  await Promise.all(['a', 'b'].map((p) => core.createNamespacedPod(name, pod(name, p, { app: p }))));
  const net = w.dp.cluster.kc.makeApiClient(k8s.NetworkingV1Api);
  const policies = (async (): Promise<number> => {
    while ((await net.listNamespacedNetworkPolicy(name)).body.items.length < 2) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`the baseline's policies are not in ${name} after ${timeoutMs} ms`);
      await sleep(20);
    }
    return Date.now() - t0;
  })();
  await waitRunning(w.dp, [`${name}/a`, `${name}/b`].map(ref), timeoutMs);
  const runningMs = Date.now() - t0;
  const policiesMs = await policies;
  const ip = await w.dp.prober.address(`${name}/a`);
  let connectedBefore = 0;
  for (;;) {
    const r = await w.dp.prober.once(OUTSIDER, ip, APP_PORT, 'TCP', 5_000);
    if (r.outcome === 'denied') return { namespace: name, runningMs, policiesMs, isolatedMs: Date.now() - t0, connectedBefore };
    if (r.outcome === 'allowed') connectedBefore++;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${name}/a still reachable from ${OUTSIDER} ${Date.now() - t0} ms after its namespace was created (${connectedBefore} probes connected, last: ${r.outcome})`);
    await sleep(50);
  }
}
