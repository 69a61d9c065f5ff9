/**
 * Kubeconfig resolution as kubectl does it (src/kube/config.ts), on real kubeconfig files in a temporary folder:
 * --kubeconfig, a merged $KUBECONFIG list (first file wins), ~/.kube/config, --context and the namespace.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { type KubeEnvironment, KubeConfigError, resolveKube } from '../../src/kube/config';

interface Ctx {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

function kubeconfig(opts: { clusters: [string, string][]; contexts: Ctx[]; current?: string; ca?: string }): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: opts.clusters.map(([name, server]) => ({ name, cluster: { server, ...(opts.ca ? { 'certificate-authority': opts.ca } : {}) } })),
    users: [...new Set(opts.contexts.map((c) => c.user))].map((name) => ({ name, user: { token: `token-of-${name}` } })),
    contexts: opts.contexts.map((c) => ({ name: c.name, context: { cluster: c.cluster, user: c.user, ...(c.namespace ? { namespace: c.namespace } : {}) } })),
    ...(opts.current ? { 'current-context': opts.current } : {}),
  });
}

describe('kubeconfig resolution (as kubectl)', () => {
  let dir: string;
  let a: string;
  let b: string;
  const env = (vars: Record<string, string>, home = path.join(dir, 'no-home')): KubeEnvironment => ({ env: vars, home });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-kubeconfig-'));
    fs.mkdirSync(path.join(dir, 'a'));
    a = path.join(dir, 'a', 'config-a');
    b = path.join(dir, 'config-b');
    fs.writeFileSync(
      a,
      kubeconfig({
        clusters: [['prod', 'https://prod.example:6443'], ['shared', 'https://shared-from-a:6443']],
        contexts: [{ name: 'prod', cluster: 'prod', user: 'alice', namespace: 'shop' }],
        current: 'prod',
        ca: 'ca.crt',
      }),
    );
    fs.writeFileSync(
      b,
      kubeconfig({
        clusters: [['staging', 'https://staging.example:6443'], ['shared', 'https://shared-from-b:6443']],
        contexts: [{ name: 'staging', cluster: 'staging', user: 'bob' }, { name: 'both', cluster: 'shared', user: 'bob' }],
        current: 'staging',
      }),
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--kubeconfig reads that file only, whatever $KUBECONFIG says', () => {
    const r = resolveKube({ kubeconfig: b }, env({ KUBECONFIG: a }));
    assert.equal(r.context, 'staging');
    assert.equal(r.kc.getCurrentCluster()?.server, 'https://staging.example:6443');
    assert.throws(() => resolveKube({ kubeconfig: b, context: 'prod' }, env({ KUBECONFIG: a })), /context "prod" does not exist in .*config-b \(contexts: staging, both\)/);
  });

  it('--kubeconfig naming a missing file is an error, not a fallback', () => {
    assert.throws(() => resolveKube({ kubeconfig: path.join(dir, 'nope') }, env({ KUBECONFIG: a })), (e: Error) => e instanceof KubeConfigError && /nope: no such kubeconfig file/.test(e.message));
  });

  it('merges a $KUBECONFIG list: the first file wins names and current-context; missing files are skipped', () => {
    const list = [path.join(dir, 'missing'), a, b, a].join(path.delimiter);
    const r = resolveKube({}, env({ KUBECONFIG: list }));
    assert.equal(r.context, 'prod', "the first file's current-context, not the last's");
    assert.equal(r.namespace, 'shop', "the context's namespace");
    assert.deepEqual(r.kc.getContexts().map((c) => c.name), ['prod', 'staging', 'both']);
    assert.equal(r.kc.getCluster('shared')?.server, 'https://shared-from-a:6443', 'a name both files define: the first wins');
    const both = resolveKube({ context: 'both' }, env({ KUBECONFIG: list }));
    assert.equal(both.kc.getCurrentCluster()?.server, 'https://shared-from-a:6443');
    assert.equal(both.kc.getCurrentUser()?.token, 'token-of-bob');
    assert.equal(both.namespace, 'default', 'a context without a namespace: default');
  });

  it("resolves a file's relative certificate paths against its own folder", () => {
    const r = resolveKube({}, env({ KUBECONFIG: [b, a].join(path.delimiter) }));
    assert.equal(r.context, 'staging');
    assert.equal(r.kc.getCluster('prod')?.caFile, path.join(dir, 'a', 'ca.crt'));
  });

  it('--namespace wins over the context; --context picks another context of the merged files', () => {
    const r = resolveKube({ context: 'staging', namespace: 'billing' }, env({ KUBECONFIG: [a, b].join(path.delimiter) }));
    assert.equal(r.kc.getCurrentCluster()?.server, 'https://staging.example:6443');
    assert.equal(r.namespace, 'billing');
  });

  it('falls back to ~/.kube/config, and says what to give when there is nothing at all', () => {
    const home = path.join(dir, 'home');
    fs.mkdirSync(path.join(home, '.kube'), { recursive: true });
    fs.copyFileSync(b, path.join(home, '.kube', 'config'));
    assert.equal(resolveKube({}, env({}, home)).context, 'staging');
    assert.equal(resolveKube({}, env({ KUBECONFIG: '' }, home)).context, 'staging', 'an empty $KUBECONFIG is unset');
    assert.throws(() => resolveKube({}, env({})), /no kubeconfig: give --kubeconfig FILE, set \$KUBECONFIG, or create ~\/\.kube\/config/);
    assert.throws(() => resolveKube({}, env({ KUBECONFIG: path.join(dir, 'missing') })), /none of the files in \$KUBECONFIG/);
  });

  it('accepts an empty file in the list, and refuses a config with no current-context unless --context is given', () => {
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '');
    const nocurrent = path.join(dir, 'nocurrent');
    fs.writeFileSync(nocurrent, kubeconfig({ clusters: [['x', 'https://x:6443']], contexts: [{ name: 'x', cluster: 'x', user: 'u' }] }));
    const list = [empty, nocurrent].join(path.delimiter);
    assert.throws(() => resolveKube({}, env({ KUBECONFIG: list })), /no current-context in .*: give --context \(contexts: x\)/);
    assert.equal(resolveKube({ context: 'x' }, env({ KUBECONFIG: list })).kc.getCurrentCluster()?.server, 'https://x:6443');
  });

  it('names a context whose cluster is missing instead of failing later with "No active cluster!"', () => {
    const broken = path.join(dir, 'broken');
    fs.writeFileSync(broken, kubeconfig({ clusters: [], contexts: [{ name: 'c', cluster: 'gone', user: 'u' }], current: 'c' }));
    assert.throws(() => resolveKube({ kubeconfig: broken }, env({})), /context "c" names cluster "gone", which is not in/);
  });
});
