/**
 * The audit trail on the real control plane: the operator's JSON log, as a log shipper reads it, holds one
 * `netseg write` line per write, and the resourceVersion each names is the one the apiserver holds.
 */
import { strict as assert } from 'assert';
import { Writable } from 'stream';
import type { Cluster } from './cluster';
import { eventually, freshNamespace, useCluster } from './cluster';
import { createLogger } from '../../src/operator/logger';
import type { CountedOperator } from './operator.support';
import { ClusterView, MANAGED, assertMatches, expectedPolicies, intent, readyOf, runOperator, shopSpec } from './operator.support';

type Line = Record<string, unknown>;

describe('operator audit trail (integration)', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let view: ClusterView;
  let ns: { name: string; cleanup: () => Promise<void> };
  let op: CountedOperator | undefined;

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    view = new ClusterView(cluster.kc);
  });
  beforeEach(async () => (ns = await freshNamespace(cluster, 'audit')));
  afterEach(async () => {
    await op?.stop();
    await ns.cleanup();
  });

  it('logs each write with its reason, and the resourceVersion it names is the one stored', async () => {
    const lines: Line[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _e, done): void {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
        done();
      },
    });
    op = await runOperator(cluster.kc, [ns.name], { log: createLogger({ stream }) });
    await view.createIntent(intent(ns.name, 'shop', shopSpec(2)));
    const converged = async (): Promise<void> =>
      eventually(async () => {
        const stored = await view.getIntent(ns.name, 'shop');
        assertMatches(await view.policies(ns.name, MANAGED), expectedPolicies(stored));
        assert.equal(readyOf(stored).status, 'True');
      }, 30_000);
    await converged();
    const [gone] = await view.policyNames(ns.name, MANAGED);
    await view.net.deleteNamespacedNetworkPolicy(gone ?? '', ns.name);
    await converged();
    await eventually(async () => assert.ok(lines.some((l) => l.reason === 'drift restored')));

    const audit = lines.filter((l) => l.audit === 'write' && l.kind === 'NetworkPolicy');
    assert.equal(audit.length, op.writes.filter((w) => w.includes('NetworkPolicy')).length, 'one line per policy write sent');
    assert.deepEqual(audit.map((l) => [l.verb, l.reason, l.level, l.outcome]).sort(), [
      ['create', 'created', 'info', 'ok'],
      ['create', 'created', 'info', 'ok'],
      ['create', 'drift restored', 'info', 'ok'],
    ]);
    for (const p of await view.policies(ns.name, MANAGED)) {
      const last = audit.filter((l) => l.name === p.metadata.name).pop();
      assert.equal(last?.resourceVersion, p.metadata.resourceVersion, `${p.metadata.name}: the version written is the version stored`);
      assert.equal(last?.intent, `${ns.name}/shop`);
    }
    const uid = (await view.getIntent(ns.name, 'shop')).metadata.uid;
    assert.ok(audit.every((l) => l.intentUid === uid));
    assert.ok(lines.some((l) => l.audit === 'write' && l.kind === 'SegmentationIntent/status' && l.reason === 'status changed'));
  });
});
