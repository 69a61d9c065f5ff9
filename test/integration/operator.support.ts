/**
 * Helpers for the operator's integration tests: run the operator in-process against a test cluster, count its
 * API writes, and read what the apiserver holds.
 */
import { strict as assert } from 'assert';
import * as k8s from '@kubernetes/client-node';
import winston from 'winston';
import { compile, specHash } from '../../src/compile';
import { checkIntent, validateIntent } from '../../src/intent';
import { indexObjects, resolveIntent } from '../../src/resolve';
import type { SegmentationIntent } from '../../src/intent/types';
import type { KubeObject, NetworkPolicy } from '../../src/model/kubernetes';
import { isWrite } from '../../src/kube/client';
import { startOperator } from '../../src/operator/operator';
import type { OperatorOptions, RunningOperator } from '../../src/operator/operator';

export const MANAGED = 'app.kubernetes.io/managed-by=netseg-operator';

export function testLogger(): winston.Logger {
  const verbose = process.env['NETSEG_TEST_LOG'] === '1';
  return winston.createLogger({ level: 'debug', silent: !verbose, format: winston.format.json(), transports: [new winston.transports.Stream({ stream: process.stderr })] });
}

export interface CountedOperator extends RunningOperator {
  /** Writes (create/update/patch/delete) sent so far, each as "verb resource code". */
  readonly writes: string[];
  /** Every request sent so far, reads included, in the same form. */
  readonly requests: string[];
}

export async function runOperator(kc: k8s.KubeConfig, namespaces: string[], extra: Partial<OperatorOptions> = {}): Promise<CountedOperator> {
  const writes: string[] = [];
  const requests: string[] = [];
  const op = await startOperator({
    kubeConfig: kc,
    namespaces,
    workers: 2,
    resyncMs: 2_000,
    metricsAddr: '127.0.0.1:0',
    leaderElect: false,
    leaseNamespace: namespaces[0] ?? 'default',
    leaseName: 'netseg-operator',
    log: testLogger(),
    ...extra,
    onApiRequest: (verb, resource, code) => {
      requests.push(`${verb} ${resource} ${code}`);
      if (isWrite(verb)) writes.push(`${verb} ${resource} ${code}`);
    },
  });
  return Object.assign(op, { writes, requests });
}

export function intent(ns: string, name: string, spec: SegmentationIntent['spec']): SegmentationIntent {
  return { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name, namespace: ns }, spec };
}

/** A shop: `n` workloads w0..w(n-1), each w(i) reachable from w(i-1) on 8080. */
export function shopSpec(n = 3, extra: Partial<SegmentationIntent['spec']> = {}): SegmentationIntent['spec'] {
  const workloads = Array.from({ length: n }, (_, i) => ({ name: `w${i}`, selector: { matchLabels: { app: `w${i}` } } }));
  const flows = workloads.slice(1).map((w, i) => ({ from: `w${i}`, to: w.name, ports: [{ port: 8080 }] }));
  return { workloads, flows, ...extra };
}

export class ClusterView {
  readonly custom: k8s.CustomObjectsApi;
  readonly net: k8s.NetworkingV1Api;
  readonly core: k8s.CoreV1Api;
  constructor(readonly kc: k8s.KubeConfig) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.net = kc.makeApiClient(k8s.NetworkingV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async createIntent(i: SegmentationIntent): Promise<SegmentationIntent> {
    const r = await this.custom.createNamespacedCustomObject('netseg.io', 'v1alpha1', i.metadata.namespace ?? '', 'segmentationintents', i);
    return r.body as SegmentationIntent;
  }

  async getIntent(ns: string, name: string): Promise<SegmentationIntent> {
    const r = await this.custom.getNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', name);
    return r.body as SegmentationIntent;
  }

  /** Replaces the spec (read-modify-write, retried on 409). */
  async updateSpec(ns: string, name: string, spec: SegmentationIntent['spec']): Promise<SegmentationIntent> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.getIntent(ns, name);
      try {
        const r = await this.custom.replaceNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', name, { ...cur, spec });
        return r.body as SegmentationIntent;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 409 || attempt > 5) throw e;
      }
    }
  }

  async deleteIntent(ns: string, name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject('netseg.io', 'v1alpha1', ns, 'segmentationintents', name);
  }

  async policies(ns: string, labelSelector?: string): Promise<NetworkPolicy[]> {
    const r = await this.net.listNamespacedNetworkPolicy(ns, undefined, undefined, undefined, undefined, labelSelector);
    return JSON.parse(JSON.stringify(r.body.items)) as NetworkPolicy[];
  }

  async policyNames(ns: string, labelSelector?: string): Promise<string[]> {
    return (await this.policies(ns, labelSelector)).map((p) => p.metadata.name ?? '').sort();
  }

  async reasons(ns: string, name: string): Promise<string[]> {
    const r = await this.core.listNamespacedEvent(ns, undefined, undefined, undefined, `involvedObject.name=${name}`);
    return r.body.items.map((e) => e.reason ?? '');
  }
}

/**
 * compile()'s policies for the intent as stored (uid included): the only truth for what should exist. An intent
 * with references is resolved against `objects` (the Services, workload objects and Ingresses the test created).
 */
export function expectedPolicies(stored: SegmentationIntent, objects?: readonly KubeObject[]): NetworkPolicy[] {
  if (objects) {
    const c = checkIntent(stored);
    const r = c.ok ? resolveIntent(c.intent, indexObjects(objects)) : c;
    if (!r.ok) throw new Error(`test intent does not resolve: ${JSON.stringify(r.issues)}`);
    return compile(r.intent);
  }
  const v = validateIntent(stored);
  if (!v.ok) throw new Error(`test intent is invalid: ${JSON.stringify(v.issues)}`);
  return compile(v.intent);
}

export function readyOf(i: SegmentationIntent): { status?: string; reason?: string; message?: string } {
  return i.status?.conditions?.find((c) => c.type === 'Ready') ?? {};
}

/** The live policies equal compile's output in the fields that carry meaning (spec compared by compile's specHash). */
export function assertMatches(live: NetworkPolicy[], want: NetworkPolicy[]): void {
  const byName = new Map(live.map((p) => [p.metadata.name, p]));
  assert.deepEqual([...byName.keys()].sort(), want.map((p) => p.metadata.name).sort());
  for (const w of want) {
    const l = byName.get(w.metadata.name) as NetworkPolicy;
    assert.equal(l.metadata.annotations?.['netseg.io/spec-hash'], w.metadata.annotations?.['netseg.io/spec-hash']);
    assert.equal(specHash(l), specHash(w), `${w.metadata.name}: live spec differs from compiled: ${JSON.stringify(l.spec)}`);
    assert.deepEqual(l.metadata.ownerReferences, w.metadata.ownerReferences);
    for (const [k, v] of Object.entries(w.metadata.labels ?? {})) assert.equal(l.metadata.labels?.[k], v);
  }
}

/**
 * A TCP pass-through to the apiserver that a test can cut: every connection dropped and new ones refused,
 * as when a pod's node dies or the network partitions. TLS goes through untouched (same 127.0.0.1 address).
 */
export interface Proxy {
  readonly kc: k8s.KubeConfig;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function proxyTo(kc: k8s.KubeConfig): Promise<Proxy> {
  const net = await import('net');
  const target = new URL(kc.getCurrentCluster()?.server ?? '');
  const sockets = new Set<import('net').Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('net').AddressInfo).port;
  const proxied = new k8s.KubeConfig();
  proxied.loadFromString(kc.exportConfig());
  const cluster = proxied.getCurrentCluster();
  const clusters = proxied.clusters.map((c) => (c.name === cluster?.name ? { ...c, server: `https://127.0.0.1:${port}` } : c));
  proxied.loadFromOptions({ clusters, users: proxied.users, contexts: proxied.contexts, currentContext: proxied.currentContext });
  return {
    kc: proxied,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => (open = true),
    close: () => {
      open = false;
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
