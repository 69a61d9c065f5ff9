/**
 * deploy/argocd as Argo CD sees it: the root Application syncs the folder, whose kustomize rendering holds the two
 * child Applications in their waves with their sync options, and the SegmentationIntent health check
 * (health.lua verbatim). Rendered with the control plane's kubectl (`kubectl kustomize`), as Argo CD's kustomize does.
 */
import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT, controlPlaneEnv } from './cluster';

type App = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec: { source: { path: string }; syncPolicy: { automated?: object; syncOptions?: string[] } }; data?: Record<string, string> };
const dir = path.join(REPO_ROOT, 'deploy', 'argocd');

function kustomize(target: string): Promise<App[]> {
  const kubectl = controlPlaneEnv()['KUBECTL'] ?? '';
  if (!fs.existsSync(kubectl)) throw new Error(`kubectl not built (${kubectl}): run scripts/control-plane build`);
  return new Promise((resolve, reject) =>
    execFile(kubectl, ['kustomize', target], (err, out, stderr) => (err ? reject(new Error(stderr)) : resolve(parseAllDocuments(out).map((d) => d.toJS() as App)))),
  );
}

describe('Argo CD app-of-apps (deploy/argocd)', () => {
  it('the root Application syncs deploy/argocd, whose rendering is the children: waves, options and the health check', async () => {
    const root = parse(fs.readFileSync(path.join(dir, 'root-application.yaml'), 'utf8')) as App;
    assert.equal(root.kind, 'Application');
    assert.equal(root.spec.source.path, 'deploy/argocd');
    assert.ok(root.spec.syncPolicy.syncOptions?.includes('ServerSideApply=true'), 'merges the argocd-cm key instead of replacing the ConfigMap');
    assert.ok(root.spec.syncPolicy.automated);

    const children = await kustomize(dir);
    const byName = new Map(children.map((c) => [`${c.kind}/${c.metadata.name}`, c]));
    assert.ok(!byName.has('Application/netseg'), 'the root is not its own child');
    const op = byName.get('Application/netseg-operator');
    const intents = byName.get('Application/netseg-intents');
    assert.equal(op?.metadata.annotations?.['argocd.argoproj.io/sync-wave'], '0');
    assert.equal(intents?.metadata.annotations?.['argocd.argoproj.io/sync-wave'], '1', 'intents after the operator and its CRD');
    assert.equal(op?.spec.source.path, 'deploy');
    assert.ok(op?.spec.syncPolicy.syncOptions?.includes('ServerSideApply=true'));
    assert.ok(intents?.spec.syncPolicy.syncOptions?.includes('SkipDryRunOnMissingResource=true'), 'first sync before the CRD is known');

    const cm = byName.get('ConfigMap/argocd-cm');
    assert.equal(cm?.metadata.namespace, 'argocd');
    assert.equal(cm?.data?.['resource.customizations.health.netseg.io_SegmentationIntent'], fs.readFileSync(path.join(dir, 'health.lua'), 'utf8'));
  });

  it('the operator Application installs the CRD before the operator (wave -1 in deploy/)', async () => {
    const objs = await kustomize(path.join(REPO_ROOT, 'deploy'));
    const crds = objs.filter((o) => o.kind === 'CustomResourceDefinition');
    assert.equal(crds.length, 2, 'SegmentationIntent and ClusterSegmentationIntent');
    for (const crd of crds) assert.equal(crd.metadata.annotations?.['argocd.argoproj.io/sync-wave'], '-1', crd.metadata.name);
  });
});
