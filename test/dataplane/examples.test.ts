/**
 * Every example in examples/, applied through the operator onto the real data plane: its pods run as network
 * namespaces, the operator compiles the intents into NetworkPolicies, kube-router enforces them in the kernel,
 * and packets say what connects. Checked three ways:
 *  - each intended flow connects, and the named non-intended neighbours are refused (written out by hand below,
 *    independent of netseg's engine);
 *  - on every (pod, pod, declared port) of the examples, `netseg reach`'s verdict equals the packets' — before
 *    the intents (nothing isolated: all open) and after.
 */
import { strict as assert } from 'assert';
import type { KubeObject } from '../../src/model/kubernetes';
import type { SegmentationIntent } from '../../src/intent/types';
import { eventually } from '../integration/cluster';
import { ClusterView, readyOf, runOperator } from '../integration/operator.support';
import type { CountedOperator } from '../integration/operator.support';
import { type DataPlane, applyObjects, differences, exampleObjects, matrixQueries, reachOf, removeNamespaces, useDataPlane, waitRunning } from './harness';
import { type Expect, allow, deny, mismatches } from './expect';

const ING = 'ingress-nginx/ingress-nginx-controller-6b7c9';
const FRONTEND = 'shop/frontend-7d9f8';
const BACKEND = 'shop/backend-5c4b2';
const DB = 'shop/db-0';
const DEBUG = 'shop/debug-shell';
const PROM = 'monitoring/prometheus-k8s-0';
const PAY_API = 'payments/payments-api-77c5d';
const LEDGER = 'payments/ledger-0';
const COREDNS = 'kube-system/coredns-5d78c-x2p4q';
const BILL_API = 'billing/billing-api-8f6d4';
const WORKER = 'billing/invoice-worker-2kq7n';


/** What each example's intent means, flow by flow, and the neighbours it must keep out. */
const EXPECTED: readonly Expect[] = [
  // shop: ingress-controller → frontend:8080 → backend:http(9000) → db:5432; scope Namespace isolates the rest.
  allow(ING, FRONTEND, 8080, 'shop flow ingress-controller → frontend'),
  allow(FRONTEND, BACKEND, 9000, 'shop flow frontend → backend (named port http)'),
  allow(BACKEND, DB, 5432, 'shop flow backend → db'),
  deny(FRONTEND, DB, 5432, 'frontend may not skip the backend'),
  deny(ING, BACKEND, 9000, 'the ingress controller reaches the frontend only'),
  deny(ING, DB, 5432, 'the ingress controller reaches the frontend only'),
  deny(BACKEND, FRONTEND, 8080, 'no flow back to the frontend'),
  deny(FRONTEND, BACKEND, 9090, 'backend metrics are not in the intent'),
  deny(DEBUG, FRONTEND, 8080, 'debug-shell is named by no flow'),
  deny(DEBUG, BACKEND, 9000, 'debug-shell is named by no flow'),
  deny(DEBUG, DB, 5432, 'debug-shell is named by no flow'),
  deny(PROM, FRONTEND, 8080, 'monitoring is no peer of the shop'),
  // payments: prometheus (namespace role monitoring) → api, ledger on their metrics ports; api → ledger grpc.
  allow(PROM, PAY_API, 9102, 'payments flow prometheus → api metrics'),
  allow(PROM, LEDGER, 9103, 'payments flow prometheus → ledger metrics'),
  allow(PAY_API, LEDGER, 50052, 'payments flow api → ledger grpc'),
  deny(PROM, PAY_API, 50051, 'prometheus reaches metrics only'),
  deny(PROM, LEDGER, 50052, 'prometheus reaches metrics only'),
  deny(LEDGER, PAY_API, 50051, 'no flow ledger → api'),
  deny(PAY_API, LEDGER, 9103, 'only prometheus scrapes the ledger'),
  deny(FRONTEND, PAY_API, 9102, 'the shop namespace is not a monitoring namespace'),
  // billing: egress isolated too; worker → api http; both → postgres (outside) and cluster DNS.
  allow(WORKER, BILL_API, 8080, 'billing flow worker → api'),
  allow(WORKER, COREDNS, 53, 'allowDNS: worker → kube-dns UDP', 'UDP'),
  allow(BILL_API, COREDNS, 53, 'allowDNS: api → kube-dns TCP'),
  deny(BILL_API, COREDNS, 9153, 'egress: DNS only, not kube-dns metrics'),
  deny(BILL_API, PROM, 9090, 'egress: the api may not reach monitoring'),
  deny(WORKER, FRONTEND, 8080, 'egress: the worker may not reach the shop'),
  deny(FRONTEND, BILL_API, 8080, 'ingress: only the worker reaches the billing api'),
  deny(PAY_API, BILL_API, 8080, 'ingress: only the worker reaches the billing api'),
  // Outside every intent nothing changes: kube-system and monitoring stay open to each other.
  allow(PROM, COREDNS, 9153, 'kube-system and monitoring are not isolated'),
];

describe('data plane: the examples, applied through the operator, filtered by kube-router', function () {
  let dp: DataPlane;
  let operator: CountedOperator | undefined;
  const objects = exampleObjects();
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  const pods = objects.filter((o) => o.kind === 'Pod');
  const intents = objects.filter((o) => o.kind === 'SegmentationIntent') as unknown as SegmentationIntent[];
  // What the intents reference (Services, the StatefulSet, the Ingress): applied with the pods, as in a cluster.
  const referenced = objects.filter((o) => !['Namespace', 'Pod', 'SegmentationIntent'].includes(o.kind ?? ''));
  const podRefs = pods.map((p) => ({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '' }));
  const matrix = matrixQueries(pods);

  before(async function () {
    dp = await useDataPlane();
    const nsNames = namespaces.map((n) => n.metadata?.name ?? '');
    await removeNamespaces(dp, nsNames, podRefs.filter((p) => p.namespace === 'kube-system'));
    await applyObjects(dp, namespaces);
    await applyObjects(dp, pods);
    await applyObjects(dp, referenced);
    await waitRunning(dp, podRefs);
  });

  after(async function () {
    await operator?.stop();
    if (dp) await removeNamespaces(dp, namespaces.map((n) => n.metadata?.name ?? ''), podRefs.filter((p) => p.namespace === 'kube-system'));
  });

  it('before the intents nothing is isolated: every declared port of every pod answers, as reach predicts', async function () {
    const packets = await dp.probe(matrix);
    const denied = packets.filter((r) => !r.allowed).map((r) => `${r.from} -> ${r.to} ${r.protocol}/${r.port}`);
    assert.deepEqual(denied, [], 'with no NetworkPolicy every probe must connect');
    assert.deepEqual(differences(packets, await reachOf(dp, matrix), ['packets', 'reach']), []);
  });

  it('after the operator applies the intents: intended flows connect, neighbours are refused, reach == packets on every probe', async function () {
    const view = new ClusterView(dp.cluster.kc);
    operator = await runOperator(dp.cluster.kc, [...new Set(intents.map((i) => i.metadata.namespace ?? ''))]);
    await applyObjects(dp, intents as unknown as KubeObject[]);
    for (const i of intents) {
      await eventually(async () => {
        const got = await view.getIntent(i.metadata.namespace ?? '', i.metadata.name ?? '');
        assert.equal(readyOf(got).status, 'True', `${i.metadata.name}: ${readyOf(got).message}`);
        assert.equal(got.status?.observedGeneration, got.metadata.generation);
      }, 60_000);
    }
    const packets = await dp.probe(EXPECTED);
    assert.deepEqual(mismatches(EXPECTED, packets), [], 'packets disagree with the intents');
    assert.deepEqual(differences(packets, await reachOf(dp, EXPECTED), ['packets', 'reach']), [], 'reach disagrees with packets');

    const all = await dp.probe(matrix);
    assert.ok(all.some((r) => !r.allowed) && all.some((r) => r.allowed), 'the matrix has both verdicts');
    assert.deepEqual(differences(all, await reachOf(dp, matrix), ['packets', 'reach']), [], 'reach disagrees with packets on the full matrix');
  });
});
