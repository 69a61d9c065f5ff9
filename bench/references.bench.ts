/**
 * Recompilation latency after a Service edit (issue 13): the operator (in-process, as the integration tests run
 * it) against the local control plane, one intent whose workload is `service: api` among 50 intents that name
 * nothing, then 20 edits of the Service's targetPort. Each sample is the time from the apiserver's answer to
 * the replace until the compiled policy carries the new port, seen by a watch on the namespace's policies (no
 * polling). Reported: p50, p99 and max over the 20 edits, and the intents reconciled per edit (the target is one:
 * only the intent naming the Service).
 */
import * as crypto from 'crypto';
import * as k8s from '@kubernetes/client-node';
import winston from 'winston';
import { startOperator } from '../src/operator/operator';
import { localControlPlane, median, percentile, report } from './lib';

const EDITS = 20;
const OTHERS = 50;
const TIMEOUT_MS = 30_000;

function service(targetPort: number): k8s.V1Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: targetPort as unknown as k8s.IntOrString }] } };
}

function intentBody(ns: string, name: string, workload: Record<string, unknown>): object {
  return { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name, namespace: ns }, spec: { workloads: [{ name: 'web', selector: { matchLabels: { app: 'web' } } }, workload], flows: [{ from: 'web', to: workload['name'] }] } };
}

/** Resolves when `test` holds for a policy event of the namespace. */
function watchPolicies(kc: k8s.KubeConfig, ns: string): { until: (test: (p: k8s.V1NetworkPolicy) => boolean) => Promise<void>; stop: () => void } {
  const waiters: { test: (p: k8s.V1NetworkPolicy) => boolean; done: () => void }[] = [];
  let req: { abort: () => void } | undefined;
  void new k8s.Watch(kc)
    .watch(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, {}, (_phase, obj: k8s.V1NetworkPolicy) => {
      for (const w of waiters.splice(0)) (w.test(obj) ? w.done : (): number => waiters.push(w))();
    }, () => undefined)
    .then((r: { abort: () => void }) => (req = r));
  return {
    until: (test) => new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for the policy')), TIMEOUT_MS);
      waiters.push({ test, done: () => (clearTimeout(t), resolve()) });
    }),
    stop: () => req?.abort(),
  };
}

const portOf = (p: k8s.V1NetworkPolicy): unknown => p.spec?.ingress?.[0]?.ports?.[0]?.port;

export async function run(): Promise<void> {
  const { kc } = await localControlPlane();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const ns = `bench-refs-${crypto.randomBytes(3).toString('hex')}`;
  await core.createNamespace({ metadata: { name: ns } });
  const reconciles: string[] = [];
  const op = await startOperator({
    kubeConfig: kc, namespaces: [ns], workers: 4, resyncMs: 3_600_000, metricsAddr: '127.0.0.1:0', leaderElect: false,
    leaseNamespace: ns, leaseName: 'netseg', log: winston.createLogger({ silent: true }),
    onApiRequest: (verb, resource) => verb === 'get' && resource === 'SegmentationIntent' && reconciles.push(resource),
  });
  const policies = watchPolicies(kc, ns);
  try {
    await core.createNamespacedService(ns, service(8000));
    const first = policies.until((p) => p.metadata?.name === 'i-api.api.ingress' && portOf(p) === 8000);
    for (let i = 0; i < OTHERS; i++) await custom.createNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', intentBody(ns, `other-${i}`, { name: `w${i}`, selector: { matchLabels: { app: `w${i}` } } }));
    await custom.createNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', intentBody(ns, 'i-api', { name: 'api', service: 'api' }));
    await first;
    await new Promise((r) => setTimeout(r, 2000)); // let the first reconciles of every intent settle
    const samples: number[] = [];
    const perEdit: number[] = [];
    for (let i = 1; i <= EDITS; i++) {
      const port = 8000 + i;
      const seen = policies.until((p) => p.metadata?.name === 'i-api.api.ingress' && portOf(p) === port);
      const s = (await core.readNamespacedService('api', ns)).body;
      (s.spec as k8s.V1ServiceSpec).ports = service(port).spec?.ports;
      const before = reconciles.length;
      await core.replaceNamespacedService('api', ns, s);
      const t0 = performance.now();
      await seen;
      samples.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 300));
      perEdit.push(reconciles.length - before);
    }
    report('references', {
      edits: EDITS,
      otherIntents: OTHERS,
      recompileAfterServiceEditMs: { p50: Math.round(percentile(samples, 50)), p99: Math.round(percentile(samples, 99)), max: Math.round(Math.max(...samples)), median: Math.round(median(samples)) },
      samplesMs: samples.map((x) => Math.round(x)),
      intentsReconciledPerEdit: { median: median(perEdit), max: Math.max(...perEdit) },
    });
  } finally {
    policies.stop();
    await op.stop();
    await core.deleteNamespace(ns).catch(() => undefined);
  }
}
