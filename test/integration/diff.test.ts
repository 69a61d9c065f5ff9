/**
 * `netseg diff` on the real apiserver: policies written as the operator writes them (compiled with the live
 * intent's uid) diff clean against the unchanged file, even after the apiserver's defaulting; a changed intent,
 * an edited policy, a policy no longer wanted and a new intent each show as a unified diff with exit 1;
 * policies netseg does not own are never shown; errors exit 2. The real binary, with $KUBECONFIG.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { compileIntents } from '../../src/cli/intents';
import { GROUP, PLURAL, VERSION, type SegmentationIntent } from '../../src/intent/types';
import { type Cluster, REPO_ROOT, freshNamespace, useCluster } from './cluster';

const intent = (ns: string, name: string, port: number, withDb = true): SegmentationIntent =>
  ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'SegmentationIntent',
    metadata: { name, namespace: ns },
    spec: {
      workloads: [
        { name: 'web', selector: { matchLabels: { app: 'web' } } },
        { name: 'api', selector: { matchLabels: { app: 'api' } } },
        ...(withDb ? [{ name: 'db', selector: { matchLabels: { app: 'db' } } }] : []),
      ],
      flows: [{ from: 'web', to: 'api', ports: [{ port }] }, ...(withDb ? [{ from: 'api', to: 'db', ports: [{ port: 5432 }] }] : [])],
    },
  }) as unknown as SegmentationIntent;

describe('netseg diff against the real apiserver', function () {
  let cluster: Cluster;
  let ns: { name: string; cleanup: () => Promise<void> };
  let dir: string;
  let net: k8s.NetworkingV1Api;

  const diff = (file: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'netseg'), 'diff', '-f', file, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const write = (name: string, objects: unknown[]): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, objects.map((o) => `---\n${stringify(o)}`).join(''));
    return f;
  };

  before(async function () {
    this.timeout(60 * 60 * 1000);
    cluster = await useCluster();
    ns = await freshNamespace(cluster, 'diff');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-diff-'));
    net = cluster.kc.makeApiClient(k8s.NetworkingV1Api);
    // The intent in the cluster, and its policies as the operator writes them: compiled with the live uid.
    const custom = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const created = (await custom.createNamespacedCustomObject(GROUP, VERSION, ns.name, PLURAL, intent(ns.name, 'shop', 8080))).body as SegmentationIntent;
    const { compiled, errors } = compileIntents([{ source: 'test', intent: created }]);
    assert.deepEqual(errors, []);
    for (const p of compiled[0]?.policies ?? []) await net.createNamespacedNetworkPolicy(ns.name, p as k8s.V1NetworkPolicy);
    // Not netseg's: must never appear in a diff.
    await net.createNamespacedNetworkPolicy(ns.name, { metadata: { name: 'team-own' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
  });
  after(async () => {
    await ns?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exit 0 and no output when the cluster holds exactly what the file compiles to (apiserver defaults are no diff)', () => {
    const r = diff(write('same.yaml', [intent(ns.name, 'shop', 8080)]));
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(r.stdout, '');
  });

  it('exit 1 with a unified diff of a changed port, a policy no longer wanted, and nothing of team-own', () => {
    const r = diff(write('changed.yaml', [intent(ns.name, 'shop', 9090, false)]));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`^--- cluster/networking\\.k8s\\.io\\.v1\\.NetworkPolicy\\.${ns.name}\\.shop\\.api\\.ingress\\n\\+\\+\\+ intents/networking\\.k8s\\.io\\.v1\\.NetworkPolicy\\.${ns.name}\\.shop\\.api\\.ingress\\n@@ `, 'm'));
    assert.match(r.stdout, /^- +(- )?port: 8080$/m);
    assert.match(r.stdout, /^\+ +(- )?port: 9090$/m);
    assert.match(r.stdout, new RegExp(`^--- cluster/networking\\.k8s\\.io\\.v1\\.NetworkPolicy\\.${ns.name}\\.shop\\.db\\.ingress\\n\\+\\+\\+ /dev/null$`, 'm'));
    assert.doesNotMatch(r.stdout, /team-own/);
  });

  it('an edited policy is drift: shown as what the operator restores; -n gives the namespace of an intent without one', async () => {
    const name = 'shop.api.ingress';
    const live = (await net.readNamespacedNetworkPolicy(name, ns.name)).body;
    live.spec!.ingress = [{}]; // someone opened it to everyone
    await net.replaceNamespacedNetworkPolicy(name, ns.name, live);
    const noNs = intent(ns.name, 'shop', 8080);
    delete (noNs.metadata as { namespace?: string }).namespace;
    const r = diff(write('no-namespace.yaml', [noNs]), '-n', ns.name);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`^# ${ns.name}/${name}: edited in the cluster \\(drift\\); the operator restores it$`, 'm'));
    assert.match(r.stdout, /^\+ +(- )?port: 8080$/m);
  });

  it('a new intent owns nothing yet: all its policies are additions', () => {
    const r = diff(write('new.yaml', [intent(ns.name, 'fresh', 8080)]));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`^--- /dev/null\\n\\+\\+\\+ intents/networking\\.k8s\\.io\\.v1\\.NetworkPolicy\\.${ns.name}\\.fresh\\.`, 'm'));
    assert.doesNotMatch(r.stdout, /^--- cluster\//m);
  });

  it('errors exit 2: an invalid intent, an unknown context', () => {
    const bad = intent(ns.name, 'shop', 8080) as unknown as { spec: { flows: { to: string }[] } };
    (bad.spec.flows[0] as { to: string }).to = 'nope';
    const r = diff(write('bad.yaml', [bad]));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /spec\.flows\[0\]\.to: unknown workload or peer "nope"/);
    const ctx = diff(write('same2.yaml', [intent(ns.name, 'shop', 8080)]), '--context', 'nope');
    assert.equal(ctx.status, 2);
    assert.match(ctx.stderr, /context "nope" does not exist/);
  });
});
