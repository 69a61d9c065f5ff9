/**
 * Hostile input against the real system: every fixture of test/fixtures/invalid/ is sent, as a user would, as an
 * UPDATE of a valid, reconciled intent of the same name (PUT with ?fieldValidation=Strict, which is what kubectl
 * sends by default). Either the apiserver refuses it (4xx, and its message names the fixture's field, in the
 * apiserver's spelling) or it is stored and the operator reports Ready=False/InvalidSpec naming the field.
 * Either way the operator process (a child process) never crashes (alive, /healthz 200), and the policies the
 * valid intent owns are untouched (same uid and resourceVersion).
 * The `(yaml)` fixtures never reach the apiserver: `kubectl apply -f` refuses them while parsing.
 * One operator, one namespace, fixtures in sequence.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseManifestText } from '../../src/cli/load';
import type { SegmentationIntent } from '../../src/intent/types';
import type { Cluster } from '../integration/cluster';
import { REPO_ROOT, eventually, freshNamespace, kubectl, useCluster } from '../integration/cluster';
import type { OperatorProcess } from './support';
import { MANAGED, httpGet, intentPath, listPolicies, rawRequest, spawnOperator, stopOperator } from './support';

const NAME = 'hostile';
const INVALID_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'invalid');

/** The corpus, as test/unit/hostile-input.test.ts reads it (not imported: that would run its suite here too). */
function hostileFixtures(): { name: string; expect: string; text: string }[] {
  return fs
    .readdirSync(INVALID_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const text = fs.readFileSync(path.join(INVALID_DIR, name), 'utf8');
      return { name, expect: /^# expect: (.+)$/m.exec(text)?.[1]?.trim() ?? '', text };
    });
}

/** The valid intent every fixture replaces (same workloads and flow as most fixtures, so only the flaw differs). */
function validSpec(): SegmentationIntent['spec'] {
  return {
    workloads: [
      { name: 'frontend', selector: { matchLabels: { app: 'frontend' } } },
      { name: 'backend', selector: { matchLabels: { app: 'backend' } } },
    ],
    peers: [{ name: 'ingress', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
    flows: [
      { from: 'ingress', to: 'frontend', ports: [{ port: 8080 }] },
      { from: 'frontend', to: 'backend', ports: [{ port: 8080 }] },
    ],
  } as SegmentationIntent['spec'];
}

interface Status {
  code: number;
  body: Record<string, unknown>;
}

/** Everything the apiserver said about a refusal: message and each cause's field and message. */
function refusalText(r: Status): string {
  const causes = ((r.body['details'] as { causes?: { field?: string; message?: string }[] } | undefined)?.causes ?? [])
    .map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);
  return [String(r.body['message'] ?? JSON.stringify(r.body).slice(0, 2000)), ...causes].join('\n');
}

/**
 * Whether a refusal names `expected` in the apiserver's spelling: the exact path (or a child of it, e.g.
 * `spec.workloads[0].selector.matchLabels.app`), or — for a CEL rule, which reports the path of the object that
 * carries the rule — a parent path whose message names the remaining member (`spec.flows[0].ports[0]: ... endPort
 * ...`, `spec.workloads: ... names must be unique`, `spec.peers[0].ipBlock.except: ... every except ...`).
 */
function namesField(r: Status, expected: string): boolean {
  const text = refusalText(r);
  if (text.includes(expected)) return true;
  const causes = ((r.body['details'] as { causes?: { field?: string; message?: string }[] } | undefined)?.causes ?? []);
  return causes.some((c) => {
    const field = c.field ?? '';
    if (!field || !expected.startsWith(field)) return false;
    const member = expected.slice(field.length).replace(/\[\d+\]/g, '').replace(/^\./, '');
    return member === '' || (c.message ?? '').includes(member);
  });
}

describe('hostile input against the real apiserver and the running operator (child process)', function () {
  this.timeout(10 * 60_000);
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  let op: OperatorProcess | undefined;
  let baseline: string[] = [];
  const outcomes: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-hostile-'));

  before(async function () {
    this.timeout(60 * 60_000);
    cluster = await useCluster();
    ns = await freshNamespace(cluster, 'fault-hostile');
    op = await spawnOperator({ kubeconfig: cluster.kubeconfigPath, namespaces: [ns.name], workers: 2, resync: '10m' });
    const create = await rawRequest(cluster.kc, 'POST', intentPath(ns.name), { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: NAME, namespace: ns.name }, spec: validSpec() });
    assert.equal(create.code, 201, refusalText(create));
    baseline = await eventually(async () => {
      await assertReady();
      const ps = await snapshot();
      assert.equal(ps.length, 2);
      return ps;
    });
  });

  after(async function () {
    this.timeout(120_000);
    console.log(`    [hostile] ${outcomes.join('; ')}`);
    await stopOperator(op);
    await ns?.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function current(): Promise<SegmentationIntent> {
    const r = await rawRequest(cluster.kc, 'GET', intentPath(ns.name, NAME));
    assert.equal(r.code, 200);
    return r.body as unknown as SegmentationIntent;
  }

  async function assertReady(): Promise<void> {
    const i = await current();
    const ready = i.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True', JSON.stringify(ready));
    assert.equal(i.status?.observedGeneration, i.metadata.generation);
  }

  /** name, uid and resourceVersion of every managed policy: must never change. */
  async function snapshot(): Promise<string[]> {
    return (await listPolicies(cluster.kc, ns.name, MANAGED)).map((p) => `${p.metadata.name} ${p.metadata.uid} ${p.metadata.resourceVersion}`).sort();
  }

  async function assertOperatorFine(what: string): Promise<void> {
    assert.ok(op && op.alive(), `the operator process died on ${what}`);
    assert.equal((await httpGet(op.port, '/healthz')).code, 200, `/healthz after ${what}`);
    assert.deepEqual(await snapshot(), baseline, `the valid intent's policies changed after ${what}`);
  }

  /** Puts the valid spec back (when the hostile one was stored) and waits until it is reconciled again. */
  async function restore(stored: boolean): Promise<void> {
    if (stored) {
      const cur = await current();
      const r = await rawRequest(cluster.kc, 'PUT', `${intentPath(ns.name, NAME)}?fieldValidation=Strict`, { ...cur, spec: validSpec() });
      assert.equal(r.code, 200, refusalText(r));
    }
    await eventually(assertReady, 30_000, 100);
  }

  for (const f of hostileFixtures()) {
    if (f.expect === '(yaml)') {
      it(`kubectl apply refuses ${f.name}, or stores only its last-key-wins form, which the operator survives`, async () => {
        const file = path.join(tmp, f.name);
        fs.writeFileSync(file, f.text.replace(/namespace: default/g, `namespace: ${ns.name}`));
        const t0 = Date.now();
        const err = await kubectl(cluster, ['apply', '-f', file], 60_000).then(
          () => undefined,
          (e: unknown) => String(e),
        );
        const objName = /metadata: \{name: ([a-z0-9-]+)/.exec(f.text)?.[1] ?? '';
        if (err) {
          assert.match(err, /yaml|json|error (converting|parsing)|already (defined|set)|alias/i, `refused for an unrelated reason: ${err.slice(0, 500)}`);
          const left = await rawRequest(cluster.kc, 'GET', intentPath(ns.name));
          const names = ((left.body['items'] as SegmentationIntent[] | undefined) ?? []).map((i) => i.metadata.name);
          assert.deepEqual(names, [NAME], 'nothing new was stored');
          outcomes.push(`${f.name.slice(0, 2)}: kubectl refused in ${Date.now() - t0} ms`);
        } else {
          // kubectl's YAML→JSON conversion (sigs.k8s.io/yaml) keeps the LAST of duplicate keys, so this file does
          // reach the apiserver, as the last-key-wins object. The system must still be safe: the stored object is
          // exactly that, and the operator handles it (reconciled or InvalidSpec, never a crash).
          assert.ok(f.name.includes('duplicate-keys'), `kubectl apply accepted ${f.name}`);
          const got = await rawRequest(cluster.kc, 'GET', intentPath(ns.name, objName));
          assert.equal(got.code, 200);
          const stored = got.body as unknown as SegmentationIntent;
          assert.deepEqual(Object.keys(stored.spec ?? {}).filter((k) => k === 'workloads' || k === 'flows'), ['flows'], 'the last duplicate key won');
          const ready = await eventually(async () => {
            const i = (await rawRequest(cluster.kc, 'GET', intentPath(ns.name, objName))).body as unknown as SegmentationIntent;
            assert.equal(i.status?.observedGeneration, i.metadata.generation, 'not reconciled yet');
            return i.status?.conditions?.find((c) => c.type === 'Ready');
          }, 30_000, 100);
          assert.ok(ready?.reason === 'InvalidSpec' || ready?.reason === 'Reconciled', JSON.stringify(ready));
          outcomes.push(`${f.name.slice(0, 2)}: kubectl ACCEPTED it (last duplicate key wins); operator ${ready?.reason}`);
          const del = await rawRequest(cluster.kc, 'DELETE', intentPath(ns.name, objName));
          assert.ok(del.code === 200 || del.code === 202);
        }
        await assertOperatorFine(f.name);
      });
      continue;
    }

    it(`refuses ${f.name} (an update of a reconciled intent) naming ${f.expect}, keeping its policies and the operator alive`, async () => {
      const parsed = parseManifestText(f.text, f.name);
      assert.deepEqual(parsed.errors, []);
      const hostile = parsed.objects[0]?.object as unknown as Record<string, unknown> & { metadata?: Record<string, unknown> };
      const cur = await current();
      let r: Status;
      if (typeof hostile.metadata?.['name'] !== 'string') {
        // No name: it can't be an update of anything; a create is what a user would attempt.
        r = await rawRequest(cluster.kc, 'POST', `${intentPath(ns.name)}?fieldValidation=Strict`, { ...hostile, metadata: { ...hostile.metadata, namespace: ns.name } });
      } else {
        const body = { ...hostile, metadata: { ...hostile.metadata, name: NAME, namespace: ns.name, resourceVersion: cur.metadata.resourceVersion } };
        r = await rawRequest(cluster.kc, 'PUT', `${intentPath(ns.name, NAME)}?fieldValidation=Strict`, body);
      }
      if (r.code >= 400) {
        const text = refusalText(r);
        assert.ok(r.code === 422 || r.code === 400, `refused with ${r.code} (expected 422 Invalid or 400 BadRequest): ${text.slice(0, 500)}`);
        assert.ok(!/too large|request entity/i.test(text), `a generic size refusal instead of one naming the field: ${text.slice(0, 300)}`);
        assert.ok(namesField(r, f.expect), `the apiserver's refusal does not name ${f.expect}:\n${text.slice(0, 1500)}`);
        outcomes.push(`${f.name.slice(0, 2)}: apiserver ${r.code}`);
      } else {
        assert.equal(r.code, f.expect === 'metadata.name' ? 201 : 200, refusalText(r));
        const stored = r.body as unknown as SegmentationIntent;
        const message = await eventually(async () => {
          const i = await current();
          const ready = i.status?.conditions?.find((c) => c.type === 'Ready');
          assert.equal(i.status?.observedGeneration, stored.metadata.generation, 'not reconciled yet');
          assert.equal(ready?.status, 'False', JSON.stringify(ready));
          assert.equal(ready?.reason, 'InvalidSpec', JSON.stringify(ready));
          return ready?.message ?? '';
        }, 30_000, 100);
        assert.ok(message.includes(f.expect), `the InvalidSpec message does not name ${f.expect}: ${message}`);
        outcomes.push(`${f.name.slice(0, 2)}: stored, operator InvalidSpec`);
      }
      await assertOperatorFine(f.name);
      await restore(r.code < 400 && f.expect !== 'metadata.name');
      await assertOperatorFine(`${f.name} (restored)`);
    });
  }
});
