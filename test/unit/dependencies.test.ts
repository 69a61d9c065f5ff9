/**
 * The dependency overrides of docs/security.md are in force: the copies that @kubernetes/client-node and its
 * dependants actually load are the fixed versions, and client-node still works on top of them.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');
const clientNodeDir = packageDir('@kubernetes/client-node', root);

/** The folder of `name` as Node resolves it from inside `fromDir` (what that package really loads). */
function packageDir(name: string, fromDir: string): string {
  // Walk up node_modules folders as Node does: package.json may be hidden by an `exports` map.
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`${name} is not resolvable from ${fromDir}`);
  }
}

function resolvedVersion(name: string, fromDir: string): string {
  return (JSON.parse(fs.readFileSync(path.join(packageDir(name, fromDir), 'package.json'), 'utf8')) as { version: string })
    .version;
}

function atLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

describe('dependency overrides (docs/security.md)', () => {
  const fixedFrom: [string, string][] = [
    ['jsonpath-plus', '10.3.0'], // CVE-2024-21534, CVE-2025-1302: remote code execution
    ['tar', '7.5.11'], // CVE-2024-28863, CVE-2026-23745, CVE-2026-24842, CVE-2026-26960, GHSA-9ppj-qmqm-q256
    ['ws', '8.17.1'], // CVE-2024-37890
  ];
  for (const [name, minimum] of fixedFrom) {
    it(`client-node loads ${name} >= ${minimum}`, () => {
      const v = resolvedVersion(name, clientNodeDir);
      assert.ok(atLeast(v, minimum), `${name} ${v} is older than the fixed ${minimum}`);
    });
  }

  it('request is the maintained fork @cypress/request with fixed form-data and tough-cookie', () => {
    const requestDir = packageDir('request', clientNodeDir);
    const requestPkg = JSON.parse(fs.readFileSync(path.join(requestDir, 'package.json'), 'utf8')) as { name: string };
    assert.equal(requestPkg.name, '@cypress/request');
    assert.ok(atLeast(resolvedVersion('form-data', requestDir), '4.0.4'), 'form-data CVE-2025-7783');
    assert.ok(atLeast(resolvedVersion('tough-cookie', requestDir), '4.1.3'), 'tough-cookie CVE-2023-26136');
  });

  it('jose, under openid-client, is past CVE-2024-28176', () => {
    const oidcDir = packageDir('openid-client', clientNodeDir);
    assert.ok(atLeast(resolvedVersion('jose', oidcDir), '4.15.5'));
  });

  it("client-node's jsonpath helper (used by its gcp/azure auth providers) works on jsonpath-plus 10", () => {
    const { jsonpath } = require(path.join(clientNodeDir, 'dist', 'json_path.js')) as {
      jsonpath: (p: string, o: unknown) => unknown;
    };
    assert.deepEqual(jsonpath('$.credential.access_token', { credential: { access_token: 'tok' } }), ['tok']);
  });

  it('jsonpath-plus does not run code smuggled into a filter expression (the RCE of CVE-2024-21534)', () => {
    const { jsonpath } = require(path.join(clientNodeDir, 'dist', 'json_path.js')) as {
      jsonpath: (p: string, o: unknown) => unknown;
    };
    const marker = globalThis as { netsegPwned?: number };
    try {
      jsonpath("$..[?(@.constructor.constructor('globalThis.netsegPwned = 1')())]", { a: { b: 1 } });
    } catch {
      // refusing the expression is a fine answer too
    }
    assert.equal(marker.netsegPwned, undefined);
  });

  it('loads a kubeconfig with client certificates and a token user', () => {
    const k8s = require('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromString(`
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: "abc"}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: ns1}}]
current-context: x
`);
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
    assert.equal(kc.getCurrentUser()?.token, 'abc');
    assert.equal(kc.getContextObject('x')?.namespace, 'ns1');
  });
});
