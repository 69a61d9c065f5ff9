/**
 * The dependency overrides of docs/security.md are in force: the copies that @kubernetes/client-node and its
 * dependants actually load are the fixed versions, and client-node still works on top of them.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
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

/** The module object `fromDir` gets from `require(name)`: the copy and entry point that package really runs. */
function load<T>(name: string, fromDir: string): T {
  return require(require.resolve(name, { paths: [fromDir] })) as T;
}

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** Runs `fn` against a loopback HTTP server that records each request and answers `body` as JSON. */
async function withServer(body: unknown, fn: (base: string, seen: Seen[]) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
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

  // Both come in through @cypress/request, whose own ranges (uuid ^8.3.2, qs ~6.14.1) admit no fixed version.
  const fixedUnderRequest: [string, string, string][] = [
    ['uuid', '11.1.1', 'GHSA-w5hq-g745-h8pq'],
    // The advisory database marks 6.15.4 unaffected, but 6.15.4 and 6.14.3 lack the fixes: they are in 6.16.0.
    ['qs', '6.16.0', 'GHSA-x5fp-wj9c-mxmx, GHSA-4mjr-xmp4-gh2g'],
  ];
  for (const [name, minimum, advisories] of fixedUnderRequest) {
    it(`request loads ${name} >= ${minimum} (${advisories})`, () => {
      const v = resolvedVersion(name, packageDir('request', clientNodeDir));
      assert.ok(atLeast(v, minimum), `${name} ${v} is older than the fixed ${minimum}`);
    });
  }

  it("request's uuid refuses to write a UUID past the end of the caller's buffer (GHSA-w5hq-g745-h8pq)", () => {
    type V5 = ((name: string, namespace: string, buf: Uint8Array, offset: number) => Uint8Array) & { URL: string };
    const { v5 } = load<{ v5: V5 }>('uuid', packageDir('request', clientNodeDir));
    assert.throws(() => v5('netseg', v5.URL, new Uint8Array(16), 8), RangeError);
  });

  it("request's qs keeps arrayLimit for comma lists after [] and survives a non-function isBuffer", () => {
    const qs = load<{ parse(s: string, o: object): unknown; stringify(o: unknown): string }>('qs', packageDir('request', clientNodeDir));
    const limited = { comma: true, arrayLimit: 2, throwOnLimitExceeded: true };
    assert.throws(() => qs.parse('a[]=1,2,3,4,5', limited), /Array limit exceeded/, 'GHSA-x5fp-wj9c-mxmx');
    // GHSA-4mjr-xmp4-gh2g: qs called constructor.isBuffer whatever it was, so crafted input made stringify throw.
    assert.equal(qs.stringify({ a: { constructor: { isBuffer: 'x' } } }), 'a%5Bconstructor%5D%5BisBuffer%5D=x');
  });

  it('request sends a multipart body (its uuid names the boundary) with a qs query string', async () => {
    type Request = (o: object, cb: (err: Error | null, res: { statusCode: number }) => void) => void;
    const request = load<Request>('request', clientNodeDir);
    await withServer({}, async (base, seen) => {
      const status = await new Promise<number>((resolve, reject) =>
        request({ method: 'POST', uri: `${base}/upload`, qs: { a: ['x', 'y'] }, multipart: [{ body: 'one' }, { body: 'two' }] }, (err, res) =>
          err ? reject(err) : resolve(res.statusCode),
        ),
      );
      assert.equal(status, 200);
      assert.equal(decodeURIComponent(seen[0]?.url ?? ''), '/upload?a[0]=x&a[1]=y');
      assert.match(seen[0]?.headers['content-type'] ?? '', /^multipart\/related; boundary=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    });
  });

  it('client-node lists through request, its query parameters encoded by qs, on top of these versions', async () => {
    const k8s = require('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
    const list = { apiVersion: 'v1', kind: 'ConfigMapList', metadata: {}, items: [{ metadata: { name: 'probe' } }] };
    await withServer(list, async (base, seen) => {
      const kc = new k8s.KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: base }],
        users: [{ name: 'u', token: 'abc' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const res = await core.listNamespacedConfigMap('ns1', undefined, undefined, undefined, undefined, 'app=a,tier in (x,y)', 5);
      assert.equal(res.body.items[0]?.metadata?.name, 'probe');
      const url = new URL(seen[0]?.url ?? '', base);
      assert.equal(url.pathname, '/api/v1/namespaces/ns1/configmaps');
      assert.equal(url.searchParams.get('labelSelector'), 'app=a,tier in (x,y)');
      assert.equal(url.searchParams.get('limit'), '5');
      assert.equal(seen[0]?.headers.authorization, 'Bearer abc');
    });
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
