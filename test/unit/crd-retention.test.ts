/**
 * Argo CD never removes the SegmentationIntent CRD: deleting it deletes every intent and, through the garbage
 * collector, every generated NetworkPolicy, which opens the network. The CRD's sync-options annotation says so, and
 * nothing between crds/ and the operator Application (the kustomizations, their patches, the Application's own
 * source options) strips or overrides it. The rendered output itself is checked by test/integration/deploy.test.ts.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '..', '..', '..');
const CRD_FILE = 'segmentationintents.netseg.io.yaml';
const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

type Annotations = Record<string, string | null>;
interface Meta {
  name?: string;
  annotations?: Annotations | null;
  $patch?: string;
}
interface Kustomization {
  resources?: string[];
  patches?: { path?: string; patch?: string; target?: { kind?: string; name?: string } }[];
  [field: string]: unknown;
}
interface JsonOp {
  op: string;
  path: string;
}

function readYaml<T>(...rel: string[]): T {
  return parse(fs.readFileSync(path.join(root, ...rel), 'utf8')) as T;
}

/** The options as Argo CD reads the annotation: comma-separated, white space trimmed. */
function syncOptions(annotations: Annotations | null | undefined): string[] {
  return (annotations?.[SYNC_OPTIONS] ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
}

/** The Prune= and Delete= options, sorted: exactly ['Delete=false', 'Prune=false'] is what keeps the CRD. */
function retention(annotations: Annotations | null | undefined): string[] {
  return syncOptions(annotations).filter((o) => /^(Prune|Delete)=/.test(o)).sort();
}
const KEEP = ['Delete=false', 'Prune=false'];

const crdAnnotations = (): Annotations => readYaml<{ metadata: Meta }>('crds', CRD_FILE).metadata.annotations ?? {};

/** A kustomization's patches, each parsed: an array is a JSON 6902 patch, an object a strategic merge patch. */
function patchesOf(dir: string, k: Kustomization): { targetsCrd: boolean; body: unknown }[] {
  return (k.patches ?? []).map((p) => {
    const body: unknown = parse(p.patch ?? fs.readFileSync(path.join(root, dir, p.path ?? ''), 'utf8'));
    const kind = p.target?.kind ?? (body as { kind?: string }).kind;
    return { targetsCrd: kind === undefined || kind === 'CustomResourceDefinition', body };
  });
}

/** What a patch would do to the CRD's annotations; fails on anything that could remove or rewrite sync-options. */
function applyToAnnotations(annotations: Annotations, body: unknown): Annotations {
  if (Array.isArray(body)) {
    // Adding another annotation is fine; an op on the map, on metadata or on this very key is not.
    const key = `/metadata/annotations/${SYNC_OPTIONS.replace('/', '~1')}`;
    for (const op of body as JsonOp[]) {
      assert.ok(!['/metadata', '/metadata/annotations', key].includes(op.path), `JSON patch: ${op.op} ${op.path}`);
    }
    return annotations;
  }
  assert.equal((body as { $patch?: string }).$patch, undefined, 'no $patch directive on the object');
  const meta = (body as { metadata?: Meta }).metadata ?? {};
  assert.equal(meta.$patch, undefined, 'no $patch directive on the metadata');
  assert.notEqual(meta.annotations, null, 'a null annotations map would delete them all');
  assert.equal(meta.annotations?.$patch, undefined, 'no $patch directive on the annotations');
  assert.ok(!(SYNC_OPTIONS in (meta.annotations ?? {})), `the patch sets ${SYNC_OPTIONS}`);
  return { ...annotations, ...(meta.annotations ?? {}) };
}

/** Kustomization fields that can rewrite annotations outside `patches`: none may be used on the CRD's way. */
const REWRITING_FIELDS = ['commonAnnotations', 'patchesStrategicMerge', 'patchesJson6902', 'replacements', 'transformers', 'components'];

function assertKeepsSyncOptions(dir: string): Annotations {
  const k = readYaml<Kustomization>(dir, 'kustomization.yaml');
  for (const field of REWRITING_FIELDS) assert.equal(k[field], undefined, `${dir}/kustomization.yaml uses ${field}`);
  return patchesOf(dir, k)
    .filter((p) => p.targetsCrd)
    .reduce((annotations, p) => applyToAnnotations(annotations, p.body), crdAnnotations());
}

describe('the CRD is never pruned or deleted by Argo CD', () => {
  it(`crds/${CRD_FILE} carries ${SYNC_OPTIONS}: Prune=false,Delete=false`, () => {
    // Exactly one value for each: a second Prune= or Delete= would leave Argo CD to pick one of them.
    assert.deepEqual(retention(crdAnnotations()), KEEP);
  });

  it('crds/kustomization.yaml includes the CRD and keeps the annotation', () => {
    assert.ok(readYaml<Kustomization>('crds', 'kustomization.yaml').resources?.includes(CRD_FILE));
    assert.deepEqual(retention(assertKeepsSyncOptions('crds')), KEEP);
  });

  it('deploy/ includes ../crds, and its CRD patch (the sync wave) adds to the annotations without stripping them', () => {
    assert.ok(readYaml<Kustomization>('deploy', 'kustomization.yaml').resources?.includes('../crds'));
    const rendered = assertKeepsSyncOptions('deploy');
    assert.deepEqual(retention(rendered), KEEP);
    assert.equal(rendered['argocd.argoproj.io/sync-wave'], '-1');
  });

  it('the operator Application syncs deploy/ as it is: no kustomize, helm or plugin options that could rewrite it', () => {
    assert.ok(readYaml<Kustomization>('deploy', 'argocd', 'kustomization.yaml').resources?.includes('operator-application.yaml'));
    const app = readYaml<{ spec: { source: Record<string, unknown> } }>('deploy', 'argocd', 'operator-application.yaml');
    assert.equal(app.spec.source['path'], 'deploy');
    for (const option of ['kustomize', 'helm', 'plugin', 'directory']) {
      assert.equal(app.spec.source[option], undefined, `spec.source.${option}`);
    }
  });
});
