/**
 * Reading `.json` files: the streaming scanner gives exactly what JSON.parse gives (any chunking), errors name
 * the file, document and item, and a 50 MB `kubectl get -o json`-shaped export is read with Pods slimmed.
 */
import { strict as assert } from 'assert';
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { scanJson } from '../../src/cli/json-stream';
import { loadManifests, slim } from '../../src/cli/load';

function scan(text: string, chunkSize: number): { docs: unknown[]; errors: string[]; outcome: string } {
  const bytes = Buffer.from(text);
  let at = 0;
  const docs: unknown[] = [];
  const errors: string[] = [];
  const outcome = scanJson(
    () => {
      if (at >= bytes.length) return undefined;
      const out = bytes.subarray(at, at + chunkSize);
      at += chunkSize;
      return Buffer.from(out); // a fresh buffer each time, then overwritten below to catch retained references
    },
    { maxValueBytes: 1 << 20, item: (v) => v, document: (_d, v) => docs.push(v), error: (d, m) => errors.push(`#${d}${m}`) },
  );
  return { docs, errors, outcome };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-load-'));
}

describe('reading JSON files', () => {
  it('gives what JSON.parse gives, for Lists and other values, whatever the chunk size', () => {
    const value = fc.jsonValue({ maxDepth: 4 });
    const list = fc.record({ apiVersion: fc.constant('v1'), items: fc.array(value, { maxLength: 6 }), kind: fc.constant('List'), metadata: value });
    fc.assert(
      fc.property(fc.oneof(list, fc.dictionary(fc.string(), value)), fc.integer({ min: 1, max: 9 }), fc.boolean(), (v, chunk, pretty) => {
        const text = pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v);
        const r = scan(text, chunk);
        assert.deepEqual(r.errors, []);
        assert.deepEqual(r.docs, [JSON.parse(text)]);
      }),
      { numRuns: 300 },
    );
  });

  it('reads a stream of several values, and keys that only look like "items"', () => {
    const text = '{"kind":"List","items":[{"a":"]}\\"["},[1,2],"s",3, true ,null]}\n{"itemsx":[1],"it\\u0065ms":[2]} [ ]';
    const r = scan(text, 3);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.docs, [{ kind: 'List', items: [{ a: ']}"[' }, [1, 2], 's', 3, true, null] }, { itemsx: [1], items: [2] }, []]);
  });

  it('refuses invalid JSON, naming the document and item', () => {
    assert.deepEqual(scan('{"items":[{"a":1},{"b":}]}', 4).errors.map((e) => e.split(': not valid JSON')[0]), ['#1.items[1]']);
    assert.match(scan('{"items":[{"a":1} {"b":2}]}', 4).errors[0] ?? '', /^#1\.items\[1\]: not valid JSON: a missing ","/);
    assert.match(scan('{"items":[{"a":1},]}', 4).errors[0] ?? '', /^#1\.items\[1\]: not valid JSON: a "," before "\]"/);
    assert.match(scan('{"items":[],"items":[]}', 4).errors[0] ?? '', /^#1: not valid JSON: the key "items" twice/);
    assert.match(scan('{"items":[{"a":1}', 4).errors[0] ?? '', /^#1\.items\[1\]: not valid JSON: unexpected end of file/);
    assert.match(scan('{"kind":"List" x}', 4).errors[0] ?? '', /^#1: not valid JSON: /);
    assert.match(scan('{} x', 4).errors[0] ?? '', /^#2: not valid JSON: unexpected "x"/);
    assert.equal(scan('kind: List', 4).outcome, 'not-json');
  });

  it('loads .json with file#doc.items[i] sources, and still reads YAML written in a .json file', () => {
    const dir = tmpDir();
    const pods = {
      apiVersion: 'v1',
      items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } },
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      ],
      kind: 'List',
    };
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(pods));
    fs.writeFileSync(path.join(dir, 'b.json'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n');
    fs.writeFileSync(path.join(dir, 'c.json'), '{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"netseg.io/v1beta1","kind":"SegmentationIntent"}]}');
    const r = loadManifests([dir]);
    assert.deepEqual(r.objects.map((o) => o.source), [`${dir}/a.json#1.items[0]`, `${dir}/a.json#1.items[1]`, `${dir}/b.json#1`]);
    assert.deepEqual(r.objects[1]?.object, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, spec: { containers: [{ name: 'c' }] } });
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0] ?? '', /c\.json#1\.items\[0\]: apiVersion "netseg\.io\/v1beta1"/);
  });

  it('slims a Pod to what netseg reads, and leaves malformed fields and other kinds as they are', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { app: 'x' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'x-1' }], managedFields: [{}] },
      spec: { containers: [{ name: 'c', image: 'i', env: [], ports: [{ containerPort: 80 }] }, 'junk'], volumes: [{}] },
      status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }], conditions: [] },
    };
    assert.deepEqual(slim(pod), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { app: 'x' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'x-1' }] },
      spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }, 'junk'] },
      status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }] },
    });
    assert.deepEqual(slim({ apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: 'x' } }), { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: 'x' } });
    const policy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', spec: { podSelector: {} }, status: {} };
    assert.equal(slim(policy), policy);
  });

  it('reads a 50 MB export of pods with realistic specs', function () {
    this.timeout(120_000);
    const file = path.join(tmpDir(), 'cluster.json');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, '{\n    "apiVersion": "v1",\n    "items": [\n');
    let n = 0;
    let bytes = 0;
    while (bytes < 50 * 1024 * 1024) {
      const item = JSON.stringify(bigPod(n), null, 4);
      const text = `${n > 0 ? ',\n' : ''}${item}`;
      fs.writeSync(fd, text);
      bytes += Buffer.byteLength(text);
      n++;
    }
    fs.writeSync(fd, '\n    ],\n    "kind": "List",\n    "metadata": {"resourceVersion": ""}\n}\n');
    fs.closeSync(fd);
    const t0 = Date.now();
    const r = loadManifests([file]);
    const ms = Date.now() - t0;
    assert.deepEqual(r.errors, []);
    assert.equal(r.objects.length, n);
    const last = r.objects[n - 1]?.object as { metadata: { name: string }; spec: { containers: { ports: unknown[] }[] } };
    assert.equal(last.metadata.name, `web-${n - 1}`);
    assert.equal(last.spec.containers[0]?.ports.length, 2);
    process.stdout.write(`      (${(fs.statSync(file).size / 1e6).toFixed(1)} MB, ${n} pods read in ${ms} ms, RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB)\n`);
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});

/** A pod as `kubectl get pods -o json` prints one: managedFields, env, volumes, probes, status. About 9 KB. */
function bigPod(i: number): unknown {
  const env = Array.from({ length: 40 }, (_, k) => ({ name: `SETTING_${k}`, value: `value-${i}-${k}-${'x'.repeat(20)}` }));
  const container = (name: string, port: number): unknown => ({
    name,
    image: `registry.example.com/team/${name}:1.2.${i % 10}`,
    env,
    ports: [{ containerPort: port, name: 'http', protocol: 'TCP' }, { containerPort: 9090, name: 'metrics', protocol: 'TCP' }],
    resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    livenessProbe: { httpGet: { path: '/healthz', port }, initialDelaySeconds: 10, periodSeconds: 10 },
    volumeMounts: Array.from({ length: 5 }, (_, k) => ({ name: `vol-${k}`, mountPath: `/etc/config/${k}` })),
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-${i}`,
      namespace: `ns-${i % 100}`,
      labels: { app: `web-${i % 37}`, 'pod-template-hash': '7d9f8c6b5' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `web-${i % 37}-7d9f8c6b5`, uid: 'u', controller: true }],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:env': {} } } } } }],
    },
    spec: {
      containers: [container('app', 8080), container('sidecar', 15000)],
      volumes: Array.from({ length: 5 }, (_, k) => ({ name: `vol-${k}`, configMap: { name: `cm-${k}` } })),
      nodeName: `node-${i % 50}`,
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: {
      phase: 'Running',
      podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      podIPs: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }],
    },
  };
}
