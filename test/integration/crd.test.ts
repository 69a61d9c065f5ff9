/**
 * The SegmentationIntent CRD on the real apiserver: it stores every example, rejects each invalid case with the
 * message of its schema or CEL rule, and the apiserver accepts every policy the compiler generates.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { Cluster, REPO_ROOT, freshNamespace, kubectl, useCluster } from './cluster';
import { SPEC_HASH_ANNOTATION, compile, specHash } from '../../src/compile';
import { GROUP, KIND, PLURAL, VERSION, checkIntent, formatIssue, validateIntent } from '../../src/intent';
import { indexObjects, resolveIntent } from '../../src/resolve';
import type { ValidIntent } from '../../src/intent';
import { loadManifests } from '../../src/cli/load';
import type { KubeObject, NetworkPolicy } from '../../src/model/kubernetes';
import { INVALID_CASES, baseSpec, intentWith } from '../fixtures/intents/cases';

type Obj = Record<string, unknown>;

/** Each example's intent, with the example's other objects (what its references resolve against). */
function exampleIntents(): { example: string; intent: KubeObject; objects: KubeObject[] }[] {
  const dir = path.join(REPO_ROOT, 'examples');
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .flatMap((example) => {
      const all = loadManifests([path.join(dir, example)]).objects.map((o) => o.object);
      return all.filter((o) => o.kind === KIND).map((intent) => ({ example, intent, objects: all }));
    });
}

/** A copy of the object in another namespace, optionally renamed (dry runs still see name clashes). */
function inNamespace(obj: KubeObject | Obj, namespace: string, name?: string): Obj {
  const copy = JSON.parse(JSON.stringify(obj)) as Obj & { metadata: Obj };
  copy.metadata = { ...copy.metadata, namespace, ...(name ? { name } : {}) };
  return copy;
}

/**
 * The intent checked and resolved against its example's objects, those of the example's namespace moved with the
 * intent to the test's (a cross-namespace peer's objects stay where they are).
 */
function validOrFail(obj: unknown, objects: readonly KubeObject[] = [], from = ''): ValidIntent {
  const c = checkIntent(obj);
  if (!c.ok) assert.fail(c.issues.map(formatIssue).join('\n'));
  const moved = objects.map((o) => (o.metadata?.namespace === from ? { ...o, metadata: { ...o.metadata, namespace: c.intent.namespace } } : o));
  const r = resolveIntent(c.intent, indexObjects(moved));
  if (!r.ok) assert.fail(r.issues.map(formatIssue).join('\n'));
  return r.intent;
}

function namespaceOf(o: KubeObject | Obj): string {
  return ((o['metadata'] as Obj | undefined)?.['namespace'] as string | undefined) ?? '';
}

/** The apiserver's rejection message, or undefined when it accepted the object. */
async function rejection(create: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await create();
    return undefined;
  } catch (e) {
    if (!(e instanceof k8s.HttpError)) throw e;
    const body = e.body as { message?: string } | undefined;
    return body?.message ?? JSON.stringify(e.body);
  }
}

describe('the SegmentationIntent CRD on the real apiserver', function () {
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  let custom: k8s.CustomObjectsApi;
  let net: k8s.NetworkingV1Api;

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    ns = await freshNamespace(cluster, 'crd');
    custom = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    net = cluster.kc.makeApiClient(k8s.NetworkingV1Api);
  });
  after(async () => ns?.cleanup());

  const createIntent = (body: Obj, dryRun?: 'All'): Promise<unknown> =>
    custom.createNamespacedCustomObject(GROUP, VERSION, ns.name, PLURAL, body, undefined, dryRun);

  describe('accepts every example and applies the API.md defaults', () => {
    for (const { example, intent, objects } of exampleIntents()) {
      it(`stores the intent of examples/${example}`, async () => {
        const body = inNamespace(intent, ns.name);
        const name = (body['metadata'] as Obj)['name'] as string;
        await createIntent(body);
        const back = (await custom.getNamespacedCustomObject(GROUP, VERSION, ns.name, PLURAL, name)).body as Obj & {
          spec: { enforcement: string; allowDNS: boolean; isolation: { directions: string[]; scope: string } };
        };
        assert.equal(back.spec.enforcement, 'Enforce');
        assert.equal(back.spec.allowDNS, (intent['spec'] as Obj)['allowDNS'] ?? true);
        assert.ok(back.spec.isolation.directions.length > 0);
        assert.ok(['Workloads', 'Namespace'].includes(back.spec.isolation.scope));
        // What the apiserver stored still validates, and compiles like the file.
        const fromFile = compile(validOrFail(inNamespace(intent, ns.name), objects, namespaceOf(intent)));
        const fromServer = compile(validOrFail({ ...back, metadata: { ...(back['metadata'] as Obj), uid: undefined } }, objects, namespaceOf(intent)));
        assert.deepEqual(fromServer, fromFile);
      });
    }
  });

  it('defaults isolation, allowDNS and enforcement of a minimal intent, and leaves a port\'s protocol unset (to a Service it filters)', async () => {
    const body = inNamespace(
      { ...intentWith({ workloads: [{ name: 'web', selector: {} }], flows: [{ from: 'web', to: 'web', ports: [{ port: 80 }] }] }, 'minimal') },
      ns.name,
    );
    const back = (await createIntent(body, 'All')) as { body: { spec: Obj } };
    assert.deepEqual(
      { ...back.body.spec, workloads: undefined },
      {
        enforcement: 'Enforce',
        isolation: { directions: ['Ingress'], scope: 'Workloads' },
        allowDNS: true,
        workloads: undefined,
        flows: [{ from: 'web', to: 'web', ports: [{ port: 80 }] }],
      },
    );
  });

  describe('rejects each invalid case with its message', () => {
    for (const c of INVALID_CASES.filter((x) => x.apiserver !== null)) {
      it(`rejects ${c.name}`, async () => {
        const message = await rejection(() => createIntent(inNamespace(c.intent, ns.name, 'invalid'), 'All'));
        assert.ok(message, 'the apiserver accepted it');
        assert.ok(message.includes(c.apiserver as string), `expected ${JSON.stringify(c.apiserver)} in:\n${message}`);
      });
    }

    it('rejects a flow naming more than 32 workloads and peers', async () => {
      const spec = baseSpec();
      (spec['flows'] as Obj[])[0] = { from: Array.from({ length: 33 }, (_, i) => `w${i}`), to: 'frontend' };
      const message = await rejection(() => createIntent(inNamespace(intentWith(spec), ns.name, 'too-many'), 'All'));
      assert.match(message ?? '', /spec\.flows\[0\]\.from: Too many: 33: must have at most 32 items/);
    });
  });

  describe('stores what only validateIntent can catch, which the operator then reports', () => {
    for (const c of INVALID_CASES.filter((x) => x.apiserver === null)) {
      it(`stores ${c.name}, and validateIntent rejects it at ${c.path}`, async () => {
        assert.equal(await rejection(() => createIntent(inNamespace(c.intent, ns.name, 'operator-checks'), 'All')), undefined);
        const r = validateIntent(inNamespace(c.intent, ns.name));
        assert.ok(!r.ok && r.issues.some((i) => i.path === c.path && i.message.includes(c.message)));
      });
    }
  });

  describe('accepts every generated policy (server-side dry run)', () => {
    for (const { example, intent, objects } of exampleIntents()) {
      it(`accepts the policies of examples/${example}, owned by the stored intent, and keeps their spec hash`, async () => {
        const name = `${(intent['metadata'] as Obj)['name'] as string}-owned`;
        const body = inNamespace(intent, ns.name);
        (body['metadata'] as Obj)['name'] = name;
        const stored = (await createIntent(body)) as { body: { metadata: { uid: string } } };
        const valid = validOrFail({ ...body, metadata: { ...(body['metadata'] as Obj), uid: stored.body.metadata.uid } }, objects, namespaceOf(intent));
        const policies = compile(valid);
        assert.ok(policies.length > 0);
        for (const p of policies) {
          assert.equal(p.metadata.ownerReferences?.[0]?.uid, stored.body.metadata.uid);
          const back = (await net.createNamespacedNetworkPolicy(ns.name, p as k8s.V1NetworkPolicy, undefined, 'All')).body;
          const returned = back as unknown as NetworkPolicy;
          assert.equal(returned.metadata.annotations?.[SPEC_HASH_ANNOTATION], p.metadata.annotations?.[SPEC_HASH_ANNOTATION]);
          assert.equal(specHash(returned), p.metadata.annotations?.[SPEC_HASH_ANNOTATION], 'the spec hash survives the round trip');
        }
      });
    }
  });

  describe('needs its size bounds for the CEL cost estimate', () => {
    type Node = Obj & { properties: Record<string, Node>; items: Node };
    const crdFile = path.join(REPO_ROOT, 'crds', 'segmentationintents.netseg.io.yaml');
    /** The CRD under another group, so that a dry-run create doesn't clash with the installed one. */
    function renamed(change: (spec: Node) => void): k8s.V1CustomResourceDefinition {
      const crd = loadManifests([crdFile]).objects[0]?.object as unknown as k8s.V1CustomResourceDefinition & { spec: Obj };
      const copy = JSON.parse(JSON.stringify(crd)) as k8s.V1CustomResourceDefinition;
      copy.metadata = { name: 'segmentationintents.costcheck.netseg.io' };
      copy.spec.group = 'costcheck.netseg.io';
      const schema = copy.spec.versions[0]?.schema?.openAPIV3Schema as unknown as Node;
      change(schema.properties['spec'] as Node);
      return copy;
    }
    const dryRunCreate = (crd: k8s.V1CustomResourceDefinition): Promise<unknown> =>
      cluster.kc.makeApiClient(k8s.ApiextensionsV1Api).createCustomResourceDefinition(crd, undefined, 'All');

    it('is accepted as it is', async () => {
      assert.equal(await rejection(() => dryRunCreate(renamed(() => undefined))), undefined);
    });

    const unbounded: [string, (spec: Node) => void][] = [
      ['maxLength of a port', (spec) => delete spec.properties['flows']?.items.properties['ports']?.items.properties['port']?.['maxLength']],
      ['maxItems of workloads', (spec) => delete spec.properties['workloads']?.['maxItems']],
    ];
    for (const [what, change] of unbounded) {
      it(`is refused without the ${what}`, async () => {
        const message = await rejection(() => dryRunCreate(renamed(change)));
        assert.match(message ?? 'accepted', /estimated rule cost exceeds budget/);
      });
    }
  });

  it('prints the Enforcement, Workloads, Flows, Ready, Reason and Age columns (Generation, Observed with -o wide)', async () => {
    const body = inNamespace(intentWith(baseSpec(), 'columns'), ns.name);
    await createIntent(body);
    await custom.replaceNamespacedCustomObjectStatus(GROUP, VERSION, ns.name, PLURAL, 'columns', {
      ...((await custom.getNamespacedCustomObject(GROUP, VERSION, ns.name, PLURAL, 'columns')).body as Obj),
      status: {
        workloads: 2,
        flows: 3,
        conditions: [{ type: 'Ready', status: 'True', reason: 'Applied', message: 'ok', lastTransitionTime: new Date().toISOString() }],
      },
    });
    const out = await kubectl(cluster, ['get', 'si', 'columns', '-n', ns.name]);
    const [header, row] = out.trim().split('\n');
    assert.deepEqual(header?.split(/\s+/), ['NAME', 'ENFORCEMENT', 'WORKLOADS', 'FLOWS', 'READY', 'REASON', 'AGE']);
    assert.match(row ?? '', /^columns\s+Enforce\s+2\s+3\s+True\s+Applied\s+\S+$/);
    const wide = (await kubectl(cluster, ['get', 'si', 'columns', '-n', ns.name, '-o', 'wide'])).trim().split('\n');
    assert.deepEqual(wide[0]?.split(/\s+/), ['NAME', 'ENFORCEMENT', 'WORKLOADS', 'FLOWS', 'READY', 'REASON', 'GENERATION', 'OBSERVED', 'AGE']);
    assert.match(wide[1] ?? '', /^columns\s+Enforce\s+2\s+3\s+True\s+Applied\s+1\s+\d+s$/, `Generation 1, Observed empty (never reconciled):\n${wide.join('\n')}`);
  });

  it('explains spec.flows with the reference text', async () => {
    const out = await kubectl(cluster, ['explain', 'segint.spec.flows']);
    assert.match(out, /The allowed connections, from workloads or peers to workloads or peers/);
    assert.match(out, /The destination ports allowed\. Absent: every port and protocol/);
  });
});
