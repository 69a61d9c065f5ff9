/**
 * ClusterSegmentationIntent against the local control plane, with the operator run as deployed (`bin/netseg
 * operator`, its own process, --namespace-selector on this run's label so nothing else is touched):
 *  - latency: 50 namespaces created one after another, each timed from its create call returning to both of its
 *    baseline policies (ingress and egress deny-all) being listed by the API: p50, p90, p99, max;
 *  - convergence: 500 namespaces created at once (batches of 25), time until all 1,000 policies exist and until
 *    the operator's writes stopped, the operator's writes by verb and code (from its /metrics), its reconciles;
 *  - the no-op: the writes of the 10 s after convergence (resync every 2 s), the target being none.
 * Polling lists one namespace (latency) or the baseline's label across namespaces (convergence).
 */
import * as crypto from 'crypto';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { localControlPlane, percentile, report, sh } from './lib';
import { probe, scrape, settled, spawnOperator, stopOperator, until } from './operator.bench';

const ROOT = path.resolve(__dirname, '..', '..');
const LATENCY_NAMESPACES = 50;
const CONVERGE_NAMESPACES = 500;
const BATCH = 25;

const total = (w: Record<string, number>): number => Object.values(w).reduce((a, b) => a + b, 0);

async function installCrd(kubeconfig: string): Promise<void> {
  const env = (await sh(path.join(ROOT, 'scripts', 'control-plane'), ['env'])).split('\n').find((l) => l.startsWith('KUBECTL='));
  const kubectl = env?.slice('KUBECTL='.length) ?? 'kubectl';
  const crd = path.join(ROOT, 'crds', 'clustersegmentationintents.netseg.io.yaml');
  await sh(kubectl, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', '-f', crd]);
  await sh(kubectl, ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/clustersegmentationintents.netseg.io']);
}

async function countOwned(net: k8s.NetworkingV1Api, selector: string): Promise<number> {
  let n = 0;
  let cont: string | undefined;
  do {
    const r = await net.listNetworkPolicyForAllNamespaces(undefined, cont, undefined, selector, 500);
    n += r.body.items.length;
    cont = r.body.metadata?._continue || undefined;
  } while (cont);
  return n;
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}

export async function run(): Promise<void> {
  const cp = await localControlPlane();
  await installCrd(cp.kubeconfig);
  const core = cp.kc.makeApiClient(k8s.CoreV1Api);
  const net = cp.kc.makeApiClient(k8s.NetworkingV1Api);
  const custom = cp.kc.makeApiClient(k8s.CustomObjectsApi);
  const id = crypto.randomBytes(3).toString('hex');
  const scope = { 'netseg-bench': id };
  const name = `bench-${id}`;
  const selector = `netseg.io/cluster-intent=${name}`;
  const created: string[] = [];
  const op = await spawnOperator(cp.kubeconfig, ['--namespace-selector', `netseg-bench=${id}`, '--resync', '2s'], path.join(ROOT, 'bench', 'results', 'baseline-operator.log.tmp'));
  try {
    await until(async () => (await probe(op, '/readyz')) === 200, 60_000);
    const spec = { namespaceSelector: { matchLabels: scope }, directions: ['Ingress', 'Egress'], allowSameNamespace: true };
    await custom.createClusterCustomObject('netseg.io', 'v1alpha1', 'clustersegmentationintents', { apiVersion: 'netseg.io/v1alpha1', kind: 'ClusterSegmentationIntent', metadata: { name }, spec });

    // Latency, one namespace at a time.
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_NAMESPACES; i++) {
      const ns = `lat-${id}-${i}`;
      await core.createNamespace({ metadata: { name: ns, labels: scope } });
      created.push(ns);
      const t0 = Date.now();
      await until(async () => (await net.listNamespacedNetworkPolicy(ns, undefined, undefined, undefined, undefined, selector)).body.items.length === 2, 60_000, 10);
      latencies.push(Date.now() - t0);
    }
    await settled(op);

    // Convergence of 500 namespaces at once.
    const before = await scrape(op);
    const names = Array.from({ length: CONVERGE_NAMESPACES }, (_, i) => `conv-${id}-${i}`);
    const t0 = Date.now();
    for (let i = 0; i < names.length; i += BATCH) await Promise.all(names.slice(i, i + BATCH).map((ns) => core.createNamespace({ metadata: { name: ns, labels: scope } })));
    created.push(...names);
    const createdMs = Date.now() - t0;
    const want = 2 * (LATENCY_NAMESPACES + CONVERGE_NAMESPACES);
    await until(async () => (await countOwned(net, selector)) === want, 30 * 60_000, 1_000);
    const allPoliciesMs = Date.now() - t0;
    const lastWrite = await settled(op);
    const after = await scrape(op);
    await new Promise((r) => setTimeout(r, 10_000));
    const idle = await scrape(op);

    report('baseline', {
      latency: {
        namespaces: LATENCY_NAMESPACES,
        what: 'namespace create returned → both baseline policies listed',
        p50Ms: percentile(latencies, 50),
        p90Ms: percentile(latencies, 90),
        p99Ms: percentile(latencies, 99),
        maxMs: Math.max(...latencies),
      },
      convergence: {
        namespaces: CONVERGE_NAMESPACES,
        policiesCreated: 2 * CONVERGE_NAMESPACES,
        createNamespacesMs: createdMs,
        timeToAllPoliciesMs: allPoliciesMs,
        timeToLastWriteMs: lastWrite - t0,
        writes: delta(after.writes, before.writes),
        reconciles: after.reconciles - before.reconciles,
        note: 'create 201 = policies + Events (one per reconcile that created); update 200 = status writes',
      },
      steadyStateWritesIn10s: total(delta(idle.writes, after.writes)),
    });
  } finally {
    await stopOperator(op);
    await custom.deleteClusterCustomObject('netseg.io', 'v1alpha1', 'clustersegmentationintents', name).catch(() => undefined);
    for (let i = 0; i < created.length; i += BATCH) await Promise.all(created.slice(i, i + BATCH).map((ns) => core.deleteNamespace(ns).catch(() => undefined)));
  }
}
