/**
 * `service` and `workloadRef` peers in a ClusterSegmentationIntent (issue 14: "peers as for SegmentationIntent,
 * references included"): checked by checkBaseline with path and fix, resolved by the intents' own resolver
 * (resolveBaseline), and in the operator an unresolved reference keeps every policy the baseline owns, says why
 * (Ready=False/UnresolvedReference, an Event) and recovers by itself. Every baseline write is an audit record.
 */
import { strict as assert } from 'assert';
import { baselineControllerRef, compileBaseline } from '../../src/compile';
import { checkBaseline, formatIssue, validateBaseline } from '../../src/intent';
import type { ClusterSegmentationIntent, ClusterSegmentationIntentStatus, DeclaredBaseline, ValidBaseline } from '../../src/intent';
import type { KubeObject, NetworkPolicy } from '../../src/model/kubernetes';
import { indexObjects, resolveBaseline } from '../../src/resolve';
import type { ClusterObjects } from '../../src/resolve';
import { AUDIT_MESSAGE, WriteReason } from '../../src/operator/audit';
import { reconcileBaseline } from '../../src/operator/baseline';
import type { CachedNamespace } from '../../src/operator/baseline';
import { resyncBaselines } from '../../src/operator/baseline-sources';
import { OwnWrites } from '../../src/operator/echo';
import { livePolicyOf } from '../../src/operator/store';
import type { LivePolicy } from '../../src/operator/store';
import { guardBaselineWrites } from '../../src/operator/writes';
import { IntentReferences } from '../../src/operator/references';
import { baselineObject } from '../fixtures/baselines';
import { FakeKube } from './fake-kube';
import { capture } from './log-capture';
import type { Line } from './log-capture';

type Spec = Record<string, unknown>;

const SELECT_ALL = { namespaceSelector: {}, directions: ['Ingress', 'Egress'] };

function checked(spec: Spec): DeclaredBaseline {
  const c = checkBaseline(baselineObject({ ...SELECT_ALL, ...spec }, 'base'));
  if (!c.ok) assert.fail(c.issues.map(formatIssue).join('\n'));
  return c.baseline;
}

function problems(spec: Spec): string[] {
  const c = checkBaseline(baselineObject({ ...SELECT_ALL, ...spec }, 'base'));
  assert.ok(!c.ok, 'expected issues');
  return c.issues.map(formatIssue);
}

function service(ns: string, name: string, selector: Record<string, string> | undefined, ports: Record<string, unknown>[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { ...(selector ? { selector } : {}), ports } };
}

function deployment(ns: string, name: string, selector: unknown, kind = 'Deployment'): KubeObject {
  return { apiVersion: 'apps/v1', kind, metadata: { namespace: ns, name }, spec: { selector } };
}

const PROM_SVC = service('monitoring', 'prometheus', { app: 'prometheus' }, [{ name: 'web', port: 9090, targetPort: 'http-web', protocol: 'TCP' }]);
const DB_SVC = service('payments', 'db', { app: 'db' }, [
  { name: 'pg', port: 5432, targetPort: 15432, protocol: 'TCP' },
  { name: 'metrics', port: 9187, targetPort: 9187, protocol: 'TCP' },
]);
const OBJECTS = indexObjects([PROM_SVC, DB_SVC, deployment('search', 'es', { matchLabels: { app: 'es' } }), deployment('logs', 'fluent', { matchLabels: { app: 'fluent' } }, 'DaemonSet')]);

function resolved(spec: Spec, objects: ClusterObjects = OBJECTS): ValidBaseline {
  const r = resolveBaseline(checked(spec), objects);
  if (!r.ok) assert.fail(r.issues.map(formatIssue).join('\n'));
  return r.baseline;
}

function unresolved(spec: Spec, objects: ClusterObjects = OBJECTS): string[] {
  const r = resolveBaseline(checked(spec), objects);
  assert.ok(!r.ok, 'expected issues');
  return r.issues.map(formatIssue);
}

const pinned = (ns: string): Spec => ({ matchLabels: { 'kubernetes.io/metadata.name': ns } });

describe('baseline references: checkBaseline', () => {
  it('accepts service and workloadRef peers (with a namespace), kept as references', () => {
    const b = checked({
      peers: [
        { name: 'prometheus', service: { namespace: 'monitoring', name: 'prometheus' } },
        { name: 'es', workloadRef: { namespace: 'search', kind: 'Deployment', name: 'es' } },
      ],
      flows: [{ from: 'prometheus', to: 'namespace' }, { from: 'namespace', to: 'es', ports: [{ port: 9200 }] }],
    });
    assert.deepEqual(b.peers.map((p) => p.kind), ['service-peer', 'ref-peer']);
    assert.equal(b.flows[0]?.ports, undefined, 'absent ports stay absent (to a Service: exactly its ports)');
    assert.deepEqual(b.flows[1]?.ports, [{ port: 9200 }], 'a written port keeps its protocol absent until resolution');
  });

  const refused: [string, Spec, RegExp][] = [
    ['a peer with both a selector and a service', { peers: [{ name: 'p', namespaceSelector: {}, service: { namespace: 'a', name: 'b' } }] }, /^spec\.peers\[0\]: gives namespaceSelector and service: a peer is exactly one of/],
    ['a service peer without a namespace', { peers: [{ name: 'p', service: { name: 'b' } }] }, /^spec\.peers\[0\]\.service\.namespace: is required/],
    ['a workloadRef of another kind', { peers: [{ name: 'p', workloadRef: { namespace: 'a', kind: 'Job', name: 'b' } }] }, /^spec\.peers\[0\]\.workloadRef\.kind: must be one of Deployment, StatefulSet, DaemonSet/],
    ['endPort to a service peer', { peers: [{ name: 'p', service: { namespace: 'a', name: 'b' } }], flows: [{ from: 'namespace', to: 'p', ports: [{ port: 80, endPort: 90 }] }] }, /^spec\.flows\[0\]\.ports\[0\]\.endPort: is not allowed to a Service \("p" is one\)/],
    ['a reference named "namespace"', { peers: [{ name: 'namespace', service: { namespace: 'a', name: 'b' } }] }, /^spec\.peers\[0\]\.name: "namespace" is reserved/],
  ];
  for (const [what, spec, message] of refused) {
    it(`refuses ${what}, naming the field and the fix`, () => {
      assert.ok(problems(spec).some((p) => message.test(p)), problems(spec).join('\n'));
    });
  }

  it('allows endPort from a service peer into the namespace: those are the namespace pods\' container ports', () => {
    checked({ peers: [{ name: 'p', service: { namespace: 'a', name: 'b' } }], flows: [{ from: 'p', to: 'namespace', ports: [{ port: 8000, endPort: 8080 }] }] });
  });

  it('validateBaseline (no objects) refuses a baseline with references, naming each object it needs', () => {
    const v = validateBaseline(baselineObject({ ...SELECT_ALL, peers: [{ name: 'p', service: { namespace: 'monitoring', name: 'prometheus' } }] }, 'base'));
    assert.ok(!v.ok);
    assert.deepEqual(v.issues.map(formatIssue), ['spec.peers[0].service: names Service monitoring/prometheus, which only the cluster\'s objects can resolve (give them to the command, or run the operator)']);
  });
});

describe('baseline references: resolveBaseline (the intents\' resolver)', () => {
  it('a service peer is its namespace by name AND the Service\'s selector', () => {
    const b = resolved({ peers: [{ name: 'prometheus', service: { namespace: 'monitoring', name: 'prometheus' } }], flows: [{ from: 'prometheus', to: 'namespace', ports: [{ port: 8080 }] }] });
    assert.deepEqual(b.peers, [{ kind: 'selector-peer', name: 'prometheus', namespaceSelector: pinned('monitoring'), podSelector: { matchLabels: { app: 'prometheus' } } }]);
    assert.deepEqual(b.flows, [{ index: 0, direction: 'Ingress', peers: b.peers, ports: [{ port: 8080, protocol: 'TCP' }] }], 'into the namespace: container ports, TCP by default');
  });

  it('a workloadRef peer (Deployment, DaemonSet) is its spec.selector in its namespace', () => {
    const b = resolved({
      peers: [{ name: 'es', workloadRef: { namespace: 'search', kind: 'Deployment', name: 'es' } }, { name: 'fluent', workloadRef: { namespace: 'logs', kind: 'DaemonSet', name: 'fluent' } }],
      flows: [{ from: 'namespace', to: ['es', 'fluent'], ports: [{ port: 9200 }] }],
    });
    assert.deepEqual(b.peers.map((p) => (p.kind === 'selector-peer' ? [p.namespaceSelector, p.podSelector] : p.kind)), [
      [pinned('search'), { matchLabels: { app: 'es' } }],
      [pinned('logs'), { matchLabels: { app: 'fluent' } }],
    ]);
  });

  it('namespace → service peer without ports = exactly the Service\'s ports, as their targetPorts', () => {
    const b = resolved({ peers: [{ name: 'db', service: { namespace: 'payments', name: 'db' } }], flows: [{ from: 'namespace', to: 'db' }] });
    assert.deepEqual(b.flows[0]?.ports, [{ protocol: 'TCP', port: 15432 }, { protocol: 'TCP', port: 9187 }]);
  });

  it('namespace → service peer on a named Service port compiles to its (named) targetPort', () => {
    const b = resolved({ peers: [{ name: 'prom', service: { namespace: 'monitoring', name: 'prometheus' } }], flows: [{ from: 'namespace', to: 'prom', ports: [{ port: 'web' }] }] });
    assert.deepEqual(b.flows[0]?.ports, [{ protocol: 'TCP', port: 'http-web' }]);
  });

  it('a flow to a Service and a selector peer becomes one flow per Service plus one for the rest, with the same index', () => {
    const b = resolved({
      peers: [{ name: 'db', service: { namespace: 'payments', name: 'db' } }, { name: 'ext', ipBlock: { cidr: '203.0.113.0/24' } }],
      flows: [{ from: 'namespace', to: ['db', 'ext'], ports: [{ port: 5432 }] }],
    });
    assert.deepEqual(b.flows.map((f) => [f.index, f.peers.map((p) => p.name), f.ports]), [
      [0, ['ext'], [{ port: 5432, protocol: 'TCP' }]],
      [0, ['db'], [{ protocol: 'TCP', port: 15432 }]],
    ]);
  });

  const issues: [string, Spec, ClusterObjects, string][] = [
    ['a missing Service', { peers: [{ name: 'p', service: { namespace: 'monitoring', name: 'nope' } }] }, OBJECTS, 'spec.peers[0].service: Service monitoring/nope not found: create it, or correct the name and namespace'],
    ['a missing Deployment', { peers: [{ name: 'p', workloadRef: { namespace: 'search', kind: 'StatefulSet', name: 'es' } }] }, OBJECTS, 'spec.peers[0].workloadRef: StatefulSet search/es not found: create it, or correct the name and namespace'],
    ['a Service without a selector', { peers: [{ name: 'p', service: { namespace: 'x', name: 'manual' } }] }, indexObjects([service('x', 'manual', undefined, [{ port: 80 }])]), 'spec.peers[0].service: Service x/manual has no selector'],
    ['a port the Service does not have, listing its ports', { peers: [{ name: 'db', service: { namespace: 'payments', name: 'db' } }], flows: [{ from: 'namespace', to: 'db', ports: [{ port: 80 }] }] }, OBJECTS, 'spec.flows[0].ports[0].port: Service payments/db ("db") has no port 80; its ports: pg 5432/TCP→15432, metrics 9187/TCP→9187'],
  ];
  for (const [what, spec, objects, message] of issues) {
    it(`refuses ${what}, naming the field and the object`, () => {
      const got = unresolved(spec, objects);
      assert.ok(got.some((g) => g.startsWith(message)), got.join('\n'));
    });
  }

  it('a selected namespace holding the Service\'s pods gets the far-end policy on the targetPort, and no rule to itself', () => {
    const b = resolved({ peers: [{ name: 'db', service: { namespace: 'payments', name: 'db' } }], flows: [{ from: 'namespace', to: 'db', ports: [{ port: 'pg' }] }] });
    const here = compileBaseline(b, { name: 'payments', labels: {} });
    const far = here.find((p) => p.metadata.name === 'base.db.peer-ingress');
    assert.deepEqual(far?.spec.podSelector, { matchLabels: { app: 'db' } });
    assert.deepEqual(far?.spec.ingress?.[0]?.ports, [{ protocol: 'TCP', port: 15432 }]);
    const egress = here.find((p) => p.metadata.name === 'base.cluster-egress');
    assert.ok(!JSON.stringify(egress?.spec.egress ?? []).includes('"app":"db"'), 'the peer pinned to this very namespace is left out of its own egress');
    const shop = compileBaseline(b, { name: 'shop', labels: {} }).find((p) => p.metadata.name === 'base.cluster-egress');
    assert.ok(JSON.stringify(shop?.spec.egress).includes('"port":15432'));
  });
});

// -------------------------------------------------------------------------------------------- operator


/** FakeKube with baselines: an in-memory apiserver for reconcileBaseline behind the real write guard. */
class BaselineKube extends FakeKube {
  baselines = new Map<string, ClusterSegmentationIntent>();
  eventMessages: string[] = [];
  async getBaseline(name: string): Promise<ClusterSegmentationIntent | undefined> {
    const b = this.baselines.get(name);
    return b && (JSON.parse(JSON.stringify(b)) as ClusterSegmentationIntent);
  }
  async listBaselines(): Promise<ClusterSegmentationIntent[]> {
    return [...this.baselines.values()];
  }
  async replaceBaselineStatus(b: ClusterSegmentationIntent, status: ClusterSegmentationIntentStatus): Promise<ClusterSegmentationIntent> {
    const cur = this.baselines.get(b.metadata.name ?? '') as ClusterSegmentationIntent;
    const stored = { ...cur, metadata: { ...cur.metadata, resourceVersion: `s${this.writes++}` }, status };
    this.baselines.set(b.metadata.name ?? '', stored);
    return JSON.parse(JSON.stringify(stored)) as ClusterSegmentationIntent;
  }
  override async createEvent(e: Parameters<FakeKube['createEvent']>[0]): ReturnType<FakeKube['createEvent']> {
    this.eventMessages.push(e.message);
    return super.createEvent(e);
  }
  ownedEverywhere(uid: string): LivePolicy[] {
    return [...this.policies.values()].filter((p) => baselineControllerRef(p)?.uid === uid).map((p) => livePolicyOf(JSON.parse(JSON.stringify(p)) as NetworkPolicy));
  }
  readyOf(): { reason?: string; message?: string } {
    return this.baselines.get('base')?.status?.conditions?.find((c) => c.type === 'Ready') ?? {};
  }
  spec(ns: string): string {
    return JSON.stringify([...this.policies.values()].filter((p) => p.metadata.namespace === ns).map((p) => [p.metadata.name, p.spec]));
  }
}


const NAMESPACES: CachedNamespace[] = [
  { name: 'shop', labels: {}, terminating: false },
  { name: 'web', labels: {}, terminating: false },
];

function setup(spec: Spec, objects: { current: ClusterObjects }): { k: BaselineKube; run: (nss?: CachedNamespace[]) => Promise<unknown>; audit: () => Line[] } {
  const k = new BaselineKube();
  k.baselines.set('base', { apiVersion: 'netseg.io/v1alpha1', kind: 'ClusterSegmentationIntent', metadata: { name: 'base', uid: 'b-uid', generation: 1 }, spec: spec as ClusterSegmentationIntent['spec'] });
  const { log, lines } = capture();
  const kube = guardBaselineWrites(k, () => true, { writes: new OwnWrites(), enqueue: () => undefined }, log);
  const run = (nss = NAMESPACES): Promise<unknown> =>
    reconcileBaseline('/base', {
      kube,
      policies: { hasSynced: () => true, ownedEverywhere: (uid) => k.ownedEverywhere(uid) },
      namespaces: () => nss,
      governed: () => true,
      get objects() {
        return objects.current;
      },
      now: () => new Date('2026-01-01T00:00:00Z'),
      log,
    });
  return { k, run, audit: () => lines.splice(0).filter((l) => l.audit === 'write') };
}

const REF_SPEC: Spec = {
  namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop', 'web'] }] },
  directions: ['Ingress'],
  peers: [{ name: 'prometheus', service: { namespace: 'monitoring', name: 'prometheus' } }],
  flows: [{ from: 'prometheus', to: 'namespace', ports: [{ port: 9090 }] }],
};

describe('baseline references in the operator', () => {
  it('follows the Service: its selector edited, the policies follow', async () => {
    const objects = { current: OBJECTS };
    const { k, run } = setup(REF_SPEC, objects);
    await run();
    assert.equal(k.readyOf().reason, 'Reconciled');
    assert.ok(k.spec('shop').includes('"app":"prometheus"'));
    objects.current = indexObjects([service('monitoring', 'prometheus', { app: 'prom2' }, [{ port: 9090 }])]);
    await run();
    assert.ok(k.spec('shop').includes('"app":"prom2"') && !k.spec('shop').includes('"app":"prometheus"'));
  });

  it('keeps every policy when the Service is deleted, says why (field and object) with an Event, and recovers when it is back', async () => {
    const objects = { current: OBJECTS };
    const { k, run } = setup(REF_SPEC, objects);
    await run();
    const before = [k.spec('shop'), k.spec('web')];
    objects.current = indexObjects([]);
    await run();
    assert.deepEqual([k.spec('shop'), k.spec('web')], before, 'nothing deleted or weakened');
    assert.equal(k.readyOf().reason, 'UnresolvedReference');
    assert.match(k.readyOf().message ?? '', /existing policies kept: spec\.peers\[0\]\.service: Service monitoring\/prometheus not found/);
    assert.equal(k.baselines.get('base')?.status?.policies, 2, 'the policies it keeps are counted');
    assert.ok(k.events.includes('UnresolvedReference'));
    objects.current = OBJECTS;
    await run();
    assert.equal(k.readyOf().reason, 'Reconciled');
    assert.deepEqual([k.spec('shop'), k.spec('web')], before);
  });

  it('logs an audit record for every baseline write: creates, status, Events, drift restored, deletes, orphan sweep', async () => {
    const { k, run, audit } = setup(REF_SPEC, { current: OBJECTS });
    await run();
    const first = audit();
    const policies = first.filter((l) => l.kind === 'NetworkPolicy');
    assert.deepEqual(policies.map((l) => [l.verb, l.namespace, l.name, l.reason, l.outcome]).sort(), [
      ['create', 'shop', 'base.cluster-ingress', WriteReason.Created, 'ok'],
      ['create', 'web', 'base.cluster-ingress', WriteReason.Created, 'ok'],
    ]);
    for (const l of first) {
      assert.equal(l.message, AUDIT_MESSAGE);
      assert.equal(l.intent, '/base');
      assert.equal(l.intentUid, 'b-uid');
    }
    assert.ok(policies.every((l) => typeof l.resourceVersion === 'string'));
    const status = first.filter((l) => l.kind === 'ClusterSegmentationIntent/status');
    assert.deepEqual(status.map((l) => [l.verb, l.name, l.reason, l.outcome]), [['update', 'base', WriteReason.StatusChanged, 'ok']]);
    assert.ok(typeof status[0]?.resourceVersion === 'string', 'the status record carries the stored resourceVersion');
    assert.deepEqual(first.filter((l) => l.kind === 'Event').map((l) => [l.verb, l.name, l.reason]), [['create', 'base', WriteReason.EventRecorded]]);

    await run();
    assert.deepEqual(audit(), [], 'steady state: no write, no record');

    const p = k.policies.get('shop/base.cluster-ingress') as NetworkPolicy;
    k.policies.set('shop/base.cluster-ingress', { ...p, spec: { ...p.spec, ingress: [{}] } });
    await run();
    assert.deepEqual(audit().filter((l) => l.kind === 'NetworkPolicy').map((l) => [l.verb, l.name, l.reason]), [['update', 'base.cluster-ingress', WriteReason.DriftRestored]]);

    await run([NAMESPACES[0] as CachedNamespace]);
    assert.deepEqual(audit().filter((l) => l.kind === 'NetworkPolicy').map((l) => [l.verb, l.namespace, l.reason]), [['delete', 'web', WriteReason.IntentChanged]]);

    k.baselines.clear();
    const { log, lines } = capture();
    const kube = guardBaselineWrites(k, () => true, { writes: new OwnWrites(), enqueue: () => undefined }, log);
    await resyncBaselines({ listBaselines: () => k.listBaselines(), listPolicies: (ns, sel) => k.listPolicies(ns, sel), deletePolicy: kube.deletePolicy }, [undefined], { enqueue: () => undefined, log });
    assert.deepEqual(lines.filter((l) => l.audit === 'write').map((l) => [l.verb, l.name, l.intent, l.intentUid, l.reason]), [['delete', 'base.cluster-ingress', '/base', 'b-uid', WriteReason.OrphanSwept]]);
  });

  it('sends no baseline write when this replica does not lead', async () => {
    const k = new BaselineKube();
    k.baselines.set('base', { apiVersion: 'netseg.io/v1alpha1', kind: 'ClusterSegmentationIntent', metadata: { name: 'base', uid: 'b-uid' }, spec: REF_SPEC as ClusterSegmentationIntent['spec'] });
    const kube = guardBaselineWrites(k, () => false, { writes: new OwnWrites(), enqueue: () => undefined }, capture().log);
    const why = { reason: WriteReason.Created, intent: { namespace: '', name: 'base' } };
    await assert.rejects(kube.createPolicy({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'a', name: 'b' }, spec: { podSelector: {} } }, why), /NotLeader/);
    assert.equal(k.policies.size, 0);
  });

  it('caps the names an Event lists for a baseline creating many policies', async () => {
    const many: CachedNamespace[] = Array.from({ length: 25 }, (_, i) => ({ name: `ns${String(i).padStart(2, '0')}`, labels: {}, terminating: false }));
    const { k, run } = setup({ ...REF_SPEC, namespaceSelector: {} }, { current: OBJECTS });
    await run(many);
    const created = k.eventMessages.find((m) => m.startsWith('created'));
    assert.match(created ?? '', /^created 25 NetworkPolicies: ns00\/base\.cluster-ingress, .*ns09\/base\.cluster-ingress, and 15 more$/);
  });
});

describe('baseline references: which baselines an object event concerns', () => {
  it('maps a Service or workload event to exactly the baselines whose peers name it', () => {
    const index = new IntentReferences();
    const sink = index.sink();
    const named = (name: string, peers: unknown[]): KubeObject => baselineObject({ namespaceSelector: {}, peers }, name) as unknown as KubeObject;
    sink.replace([
      named('a', [{ name: 'p', service: { namespace: 'monitoring', name: 'prometheus' } }]),
      named('b', [{ name: 'p', workloadRef: { namespace: 'search', kind: 'Deployment', name: 'es' } }, { name: 'q', service: { namespace: 'monitoring', name: 'prometheus' } }]),
      named('c', [{ name: 'p', namespaceSelector: {} }]),
    ]);
    assert.deepEqual(index.intentsFor({ type: 'MODIFIED', object: PROM_SVC }), ['/a', '/b']);
    assert.deepEqual(index.intentsFor({ type: 'DELETED', object: deployment('search', 'es', {}) }), ['/b']);
    assert.deepEqual(index.intentsFor({ type: 'ADDED', object: service('other', 'prometheus', {}, []) }), []);
    sink.apply('DELETED', named('a', []));
    assert.deepEqual(index.intentsFor({ type: 'MODIFIED', object: PROM_SVC }), ['/b']);
  });
});
