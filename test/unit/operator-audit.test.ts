/**
 * The audit trail (src/operator/audit.ts): every write the operator sends is one JSON info line naming the
 * object, the intent, the verb, why (created / intent changed / drift restored / orphan swept / status changed /
 * event recorded) and the resourceVersion written. Driven through the real write guard (src/operator/writes.ts)
 * and reconcile/sweep over an in-memory apiserver; the records are parsed from the logger's JSON output.
 */
import { indexObjects } from '../../src/resolve';
import { strict as assert } from 'assert';
import { Writable } from 'stream';
import type { SegmentationIntent } from '../../src/intent/types';
import { AUDIT_MESSAGE, WriteReason } from '../../src/operator/audit';
import { OwnWrites } from '../../src/operator/echo';
import { createLogger, reconcileLogger } from '../../src/operator/logger';
import { reconcile } from '../../src/operator/reconcile';
import { MANAGED_SELECTOR } from '../../src/operator/ownership';
import { resyncAndSweep } from '../../src/operator/sweep';
import { guardWrites } from '../../src/operator/writes';
import { FakeKube } from './fake-kube';

interface Line {
  [k: string]: unknown;
  level: string;
  message: string;
}

/** A JSON logger whose lines are kept, as a log shipper would read them from stdout. */
function capture(): { log: ReturnType<typeof createLogger>; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done): void {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { log: createLogger({ stream }), lines };
}

const spec = (n: number): SegmentationIntent['spec'] => ({
  workloads: Array.from({ length: n }, (_, i) => ({ name: `w${i}`, selector: { matchLabels: { app: `w${i}` } } })),
  flows: [{ from: 'w0', to: 'w1' }],
});

/** The fields an audit record may carry (besides the logger's own): nothing else, no spec, nothing secret. */
const FIELDS = new Set(['level', 'message', 'timestamp', 'component', 'key', 'reconcileId', 'audit', 'verb', 'kind', 'namespace', 'name', 'intent', 'intentUid', 'reason', 'resourceVersion', 'outcome', 'code', 'error']);

function setup(leading = true): { k: FakeKube; run: () => Promise<unknown>; audit: () => Line[]; api: ReturnType<typeof guardWrites> } {
  const k = new FakeKube();
  const { log, lines } = capture();
  const api = guardWrites(k, () => leading, { writes: new OwnWrites(), enqueue: () => undefined }, log);
  const run = (): Promise<unknown> => reconcile('shop/shop', { kube: api, policies: k, objects: indexObjects([]), now: () => new Date('2026-01-01T00:00:00Z'), log: reconcileLogger(log, 'shop/shop') });
  const audit = (): Line[] => lines.splice(0).filter((l) => l.audit === 'write');
  return { k, run, audit, api };
}

const policyWrites = (ls: Line[]): Line[] => ls.filter((l) => l.kind === 'NetworkPolicy');

describe('operator audit trail', () => {
  it('logs each create at info with the intent, the reason and the resourceVersion the apiserver stored', async () => {
    const { k, run, audit } = setup();
    k.addIntent(spec(3));
    await run();
    const recs = audit();
    const creates = policyWrites(recs);
    assert.deepEqual(creates.map((r) => r.name).sort(), ['shop.w0.ingress', 'shop.w1.ingress', 'shop.w2.ingress']);
    for (const r of creates) {
      assert.equal(r.level, 'info');
      assert.equal(r.message, AUDIT_MESSAGE);
      assert.equal(r.verb, 'create');
      assert.equal(r.reason, WriteReason.Created);
      assert.equal(r.intent, 'shop/shop');
      assert.equal(r.intentUid, 'uid-1');
      assert.equal(r.namespace, 'shop');
      assert.equal(r.outcome, 'ok');
      assert.equal(r.resourceVersion, k.policies.get(`shop/${String(r.name)}`)?.metadata.resourceVersion, 'the version written');
      assert.equal(r.key, 'shop/shop', "the reconcile's key, to join with its other lines");
      assert.match(String(r.reconcileId), /^[0-9a-f]{8}$/);
    }
    const status = recs.filter((r) => r.kind === 'SegmentationIntent/status');
    assert.equal(status.length, 1);
    assert.equal(status[0]?.verb, 'update');
    assert.equal(status[0]?.reason, WriteReason.StatusChanged);
    assert.equal(status[0]?.resourceVersion, k.intents.get('shop/shop')?.metadata.resourceVersion);
    assert.ok(recs.some((r) => r.kind === 'Event' && r.reason === WriteReason.EventRecorded), 'the PolicyCreated Event is a write too');
    for (const r of recs) assert.deepEqual(Object.keys(r).filter((f) => !FIELDS.has(f)), [], 'no other field (no spec, nothing secret)');
  });

  it('an unchanged world writes nothing and logs no write', async () => {
    const { k, run, audit } = setup();
    k.addIntent(spec(3));
    await run();
    audit();
    await run();
    assert.deepEqual(audit(), []);
  });

  it('says "drift restored" for an edited policy put back and for a deleted one re-created', async () => {
    const { k, run, audit } = setup();
    k.addIntent(spec(3));
    await run();
    audit();
    const edited = k.policies.get('shop/shop.w1.ingress');
    assert.ok(edited);
    edited.spec = { ...edited.spec, ingress: [{}] };
    edited.metadata.resourceVersion = '900';
    k.policies.delete('shop/shop.w2.ingress');
    await run();
    const recs = policyWrites(audit());
    const update = recs.find((r) => r.name === 'shop.w1.ingress');
    const create = recs.find((r) => r.name === 'shop.w2.ingress');
    assert.deepEqual([update?.verb, update?.reason], ['update', WriteReason.DriftRestored]);
    assert.equal(update?.resourceVersion, k.policies.get('shop/shop.w1.ingress')?.metadata.resourceVersion);
    assert.notEqual(update?.resourceVersion, '900');
    assert.deepEqual([create?.verb, create?.reason], ['create', WriteReason.DriftRestored]);
    assert.equal(recs.length, 2);
  });

  it('says "intent changed" for a policy the new spec no longer asks for, with the version deleted', async () => {
    const { k, run, audit } = setup();
    k.addIntent(spec(3));
    await run();
    audit();
    const doomed = k.policies.get('shop/shop.w2.ingress')?.metadata.resourceVersion;
    k.addIntent(spec(2), 2);
    await run();
    const recs = policyWrites(audit());
    assert.deepEqual(recs.map((r) => [r.verb, r.name, r.reason, r.resourceVersion]), [['delete', 'shop.w2.ingress', WriteReason.IntentChanged, doomed]]);
  });

  it('says "orphan swept" for what the sweep deletes, naming the former intent by its ownerReference', async () => {
    const { k, run, audit, api } = setup();
    k.addIntent(spec(2));
    await run();
    audit();
    const versions = new Map([...k.policies.values()].map((p) => [p.metadata.name, p.metadata.resourceVersion]));
    k.intents.clear();
    const sweepLog = capture();
    const sweepApi = { managed: () => k.listPolicies('shop', MANAGED_SELECTOR), intents: () => k.listIntents('shop'), getIntent: (ns: string, n: string) => k.getIntent(ns, n), deletePolicy: api.deletePolicy };
    assert.equal(await resyncAndSweep(sweepApi, { enqueue: () => undefined, log: sweepLog.log }), 2);
    assert.equal(k.policies.size, 0);
    const recs = sweepLog.lines.filter((l) => l.audit === 'write');
    assert.deepEqual(
      recs.map((r) => [r.verb, r.name, r.reason, r.intent, r.intentUid, r.resourceVersion]).sort(),
      [...versions].map(([n, rv]) => ['delete', n, WriteReason.OrphanSwept, 'shop/shop', 'uid-1', rv]).sort(),
    );
  });

  it('logs a refused write as failed, with the code, and nothing when this replica does not lead', async () => {
    const { k, run, audit } = setup();
    k.addIntent(spec(2));
    k.failWrites = true;
    await assert.rejects(run());
    const failed = policyWrites(audit());
    assert.ok(failed.length > 0);
    for (const r of failed) assert.deepEqual([r.outcome, r.code, r.error], ['failed', 500, 'InternalError']);

    const standby = setup(false);
    standby.k.addIntent(spec(2));
    await assert.rejects(standby.run());
    assert.deepEqual(standby.audit(), [], 'nothing was sent, so nothing is logged as written');
  });
});
