/**
 * Where render, reach and verify take the cluster from (src/cli/sources.ts): no -f = the cluster as kubectl
 * resolves it; -f = the files only, whatever the environment holds; -f with --kubeconfig/--context = the files
 * over the cluster, a file's object replacing the cluster's of the same identity. A cluster that can't be read is
 * exit 1 with the reason and nothing on stdout. (Reading a real cluster: test/integration/cli-cluster.test.ts.)
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import { memoryIO } from '../../src/cli/io';
import type { Loaded } from '../../src/cli/load';
import { clusterToRead, overlay } from '../../src/cli/sources';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NETSEG = path.join(ROOT, 'bin', 'netseg');
const SHOP = path.join(ROOT, 'examples', 'shop');

const obj = (source: string, apiVersion: string, kind: string, name: string, namespace?: string, extra: Record<string, unknown> = {}): Loaded => ({
  source,
  object: { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, ...extra },
});

describe('CLI sources: files, the cluster, or the files over the cluster', () => {
  describe('clusterToRead', () => {
    it('no -f: the cluster, with whatever kubectl flags were given (none: kubectl\'s defaults)', () => {
      assert.deepEqual(clusterToRead({}), { kubeconfig: undefined, context: undefined, namespace: undefined });
      assert.deepEqual(clusterToRead({ context: 'prod', namespace: 'shop' }), { kubeconfig: undefined, context: 'prod', namespace: 'shop' });
    });

    it('-f: no cluster unless --kubeconfig or --context names one (-n alone does not)', () => {
      assert.equal(clusterToRead({ filename: ['a.yaml'] }), undefined);
      assert.equal(clusterToRead({ filename: ['a.yaml'], namespace: 'shop' }), undefined);
      assert.deepEqual(clusterToRead({ filename: ['a.yaml'], kubeconfig: 'k' }), { kubeconfig: 'k', context: undefined, namespace: undefined });
      assert.deepEqual(clusterToRead({ filename: ['a.yaml'], context: 'c' }), { kubeconfig: undefined, context: 'c', namespace: undefined });
    });
  });

  describe('overlay', () => {
    it('a file\'s object replaces the cluster\'s of the same group, kind, namespace and name; the rest of both stays', () => {
      const cluster = [
        obj('c#1', 'v1', 'Service', 'api', 'shop', { spec: { ports: [{ port: 80 }] } }),
        obj('c#2', 'v1', 'Service', 'api', 'other'),
        obj('c#3', 'apps/v1', 'Deployment', 'api', 'shop'),
        obj('c#4', 'v1', 'Namespace', 'shop'),
      ];
      const files = [obj('f#1', 'v1', 'Service', 'api', 'shop', { spec: { ports: [{ port: 8080 }] } }), obj('f#2', 'apps/v1beta2', 'Deployment', 'api', 'shop')];
      assert.deepEqual(overlay(cluster, files).map((o) => o.source), ['c#2', 'c#4', 'f#1', 'f#2']);
    });

    it('objects without a name are never merged away (the checks that read them report them)', () => {
      const nameless: Loaded = { source: 'c#1', object: { apiVersion: 'v1', kind: 'Service', metadata: {} } };
      assert.deepEqual(overlay([nameless], [{ ...nameless, source: 'f#1' }]).map((o) => o.source), ['c#1', 'f#1']);
    });
  });

  describe('an unreadable cluster', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-sources-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const args of [['render'], ['render', '-f', SHOP], ['reach'], ['reach', '-f', SHOP], ['verify'], ['verify', '-f', SHOP]]) {
      it(`${args.join(' ')} --kubeconfig MISSING: exit 1, the reason, nothing on stdout`, async () => {
        const io = memoryIO();
        const missing = path.join(dir, 'missing.kubeconfig');
        const code = await main(['node', 'netseg', ...args, '--kubeconfig', missing], io);
        assert.equal(code, 1);
        assert.equal(io.stdout, '');
        assert.match(io.stderr, new RegExp(`cannot read the cluster: ${missing.replace(/[.]/g, '\\.')}: no such kubeconfig file`));
      });
    }

    it('no -f and no kubeconfig anywhere: exit 1, saying what to give (a kubeconfig, or -f)', () => {
      const r = spawnSync(process.execPath, [NETSEG, 'render'], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '', HOME: dir, KUBERNETES_SERVICE_HOST: '' } });
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /cannot read the cluster: no kubeconfig: give --kubeconfig FILE, set \$KUBECONFIG, or create ~\/\.kube\/config \(without -f the input is the cluster: give -f FILE\.\.\. to read files instead\)/);
    });

    it('-f: a $KUBECONFIG in the environment is not read (a render of files is the same on every machine)', () => {
      const r = spawnSync(process.execPath, [NETSEG, 'render', '-f', SHOP], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: path.join(dir, 'broken') } });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /kind: NetworkPolicy/);
    });
  });
});
