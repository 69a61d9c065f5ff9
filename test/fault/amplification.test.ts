/**
 * The security review's "Amplification takes the operator down", against the real apiserver: four of the largest
 * intents the CRD accepts (test/fixtures/intents/hostile.ts: 64 workloads, 64 peers of maximal label keys up to
 * the CRD's selector-text bound, flows of 32 peers → 32 workloads), each in its own namespace, with
 * the operator running (in-process, as the integration tests run it). Each must be refused by the compile budget
 * (src/compile/budget.ts) — Ready=False, reason InvalidSpec, the message naming the budget — with ZERO
 * NetworkPolicies written, and the operator must go on serving: a normal intent in another namespace, created
 * afterwards, gets its policies.
 *
 * This test fails on the code before the budget (commit e4232e9 and earlier): there, compile() had no limit, so
 * each of these intents compiled into 64 policies (~1.5 MiB each intent here; with the ~1.5 MB intents the CRD
 * accepted then, ~50 MB each) that the operator created: the intents never reach InvalidSpec and the "zero
 * NetworkPolicies" assertion fails. The second test shows those larger intents are now refused at admission.
 */
import { strict as assert } from 'assert';
import type { SegmentationIntent } from '../../src/intent/types';
import { validateIntent } from '../../src/intent';
import { compile } from '../../src/compile';
import { LARGEST_STORED_BEFORE, amplificationIntent, jsonBytes } from '../fixtures/intents/hostile';
import type { Cluster } from '../integration/cluster';
import { eventually, freshNamespace, useCluster } from '../integration/cluster';
import type { CountedOperator } from '../integration/operator.support';
import { ClusterView, MANAGED, assertMatches, expectedPolicies, intent, readyOf, runOperator, shopSpec } from '../integration/operator.support';
import { intentPath, rawRequest } from './support';

const HOSTILE = 4;
const BUDGET_MESSAGE = /over the 64\.0 KiB limit|512\.0 KiB/;

describe('amplification: the largest intents the CRD accepts are refused by the compile budget (real apiserver)', function () {
  this.timeout(5 * 60_000);
  let cluster: Cluster;
  let view: ClusterView;
  const namespaces: { name: string; cleanup: () => Promise<void> }[] = [];
  let op: CountedOperator | undefined;

  before(async function () {
    this.timeout(60 * 60_000);
    cluster = await useCluster();
    view = new ClusterView(cluster.kc);
  });

  after(async function () {
    this.timeout(120_000);
    await op?.stop();
    await Promise.all(namespaces.map((n) => n.cleanup()));
  });

  it(`refuses ${HOSTILE} of them (InvalidSpec naming the budget, zero policies written) and keeps reconciling other namespaces`, async () => {
    for (let i = 0; i < HOSTILE + 1; i++) namespaces.push(await freshNamespace(cluster, i < HOSTILE ? 'amp-hostile' : 'amp-normal'));
    const hostile = namespaces.slice(0, HOSTILE).map((n) => n.name);
    const normal = namespaces[HOSTILE]?.name ?? '';
    op = await runOperator(cluster.kc, [...hostile, normal]);

    // Applied as a user would; the apiserver must store them (else the test proves nothing about the operator).
    const sizes: number[] = [];
    await Promise.all(
      hostile.map(async (ns) => {
        const body = amplificationIntent(ns, 'amplify');
        assert.ok(validateIntent(body).ok, 'the fixture is a valid intent');
        const r = await rawRequest(cluster.kc, 'POST', `${intentPath(ns)}?fieldValidation=Strict`, body);
        assert.equal(r.code, 201, `the apiserver refused the hostile intent (${jsonBytes(body)} bytes): ${JSON.stringify(r.body).slice(0, 800)}`);
        sizes.push(jsonBytes(r.body));
      }),
    );
    // Without the budget, what each would have written: far over it.
    const unbounded = validateIntent(amplificationIntent('x', 'amplify'));
    assert.ok(unbounded.ok);
    const wouldWrite = jsonBytes(compile(unbounded.intent, { policySpecBytes: Infinity, intentSpecBytes: Infinity }));
    assert.ok(wouldWrite > 1_000_000, `without the budget one intent compiles to ${wouldWrite} bytes`);

    for (const ns of hostile) {
      const ready = await eventually(async () => {
        const stored = await view.getIntent(ns, 'amplify');
        assert.equal(stored.status?.observedGeneration, stored.metadata.generation, `${ns}: not reconciled yet`);
        return readyOf(stored);
      }, 120_000, 500);
      assert.equal(ready.status, 'False', `${ns}: ${JSON.stringify(ready)}`);
      assert.equal(ready.reason, 'InvalidSpec', `${ns}: ${JSON.stringify(ready)}`);
      assert.match(ready.message ?? '', BUDGET_MESSAGE, `${ns}: the message does not name the budget`);
    }
    for (const ns of hostile) assert.deepEqual(await view.policyNames(ns), [], `${ns}: NetworkPolicies were written for an intent over the budget`);
    const policyWrites = op.writes.filter((w) => w.includes(' NetworkPolicy '));
    assert.deepEqual(policyWrites, [], 'the operator wrote NetworkPolicies');

    // The operator still serves everyone else: a normal intent created now converges.
    await view.createIntent(intent(normal, 'shop', shopSpec(3)));
    await eventually(async () => {
      const stored: SegmentationIntent = await view.getIntent(normal, 'shop');
      assert.equal(readyOf(stored).status, 'True', JSON.stringify(stored.status));
      assert.equal(stored.status?.observedGeneration, stored.metadata.generation);
      assertMatches(await view.policies(normal, MANAGED), expectedPolicies(stored));
    }, 60_000, 200);
    for (const ns of hostile) assert.deepEqual(await view.policyNames(ns), [], `${ns}: policies appeared later`);
    console.log(`    [amplification] ${HOSTILE} hostile intents of ${sizes.map((s) => `${(s / 1024).toFixed(0)} KiB`).join(', ')} stored; all InvalidSpec, 0 policies; normal intent converged`);
  });

  it('refuses at admission the ~1.5 MB intents it stored before, naming the selector-text rule', async () => {
    const ns = await freshNamespace(cluster, 'amp-admission');
    namespaces.push(ns);
    const body = amplificationIntent(ns.name, 'amplify', LARGEST_STORED_BEFORE);
    assert.ok(jsonBytes(body) > 1_500_000);
    const r = await rawRequest(cluster.kc, 'POST', `${intentPath(ns.name)}?fieldValidation=Strict`, body);
    assert.equal(r.code, 422, JSON.stringify(r.body).slice(0, 400));
    assert.match(JSON.stringify(r.body), /selectors of spec\.workloads and spec\.peers total more than 65536 characters/);
  });
});
