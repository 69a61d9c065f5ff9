/**
 * `render`, `reach`, `verify` and `audit` understand ClusterSegmentationIntents in -f files (API.md, "Cluster
 * files, version 2"), on examples/baseline; and verify's proof fails when a baseline's policies are narrower or
 * wider than the baseline says.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { loadCluster, sortObjects } from '../../src/cli/cluster-input';
import { compileBaselines } from '../../src/cli/baselines';
import { loadManifests } from '../../src/cli/load';
import type { NetworkPolicy } from '../../src/model/kubernetes';
import { buildCluster, evaluate, resolveEndpoint } from '../../src/reach';
import { verifyBaseline } from '../../src/verify';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'baseline');

async function netseg(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('the CLI with ClusterSegmentationIntents', () => {
  it('render prints one set of policies per selected Namespace of the input', async () => {
    const r = await netseg('render', '-f', EXAMPLE);
    assert.equal(r.code, 0, r.stderr);
    const ids = parseAllDocuments(r.stdout).map((d) => d.toJS() as NetworkPolicy).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    assert.deepEqual(ids, [
      'monitoring/baseline.cluster-egress',
      'monitoring/baseline.cluster-ingress',
      'monitoring/baseline.prometheus.peer-egress',
      'payments/baseline.cluster-egress',
      'payments/baseline.cluster-ingress',
      'shop/baseline.cluster-egress',
      'shop/baseline.cluster-ingress',
    ]);
  });

  it('render exits 1 for a baseline without any Namespace it selects in the input, and for an invalid one', async () => {
    const r = await netseg('render', '-f', path.join(EXAMPLE, 'baseline.yaml'));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /ClusterSegmentationIntent baseline selects no Namespace of the input: give the Namespaces it should cover/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-csi-'));
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'apiVersion: netseg.io/v1alpha1\nkind: ClusterSegmentationIntent\nmetadata: {name: b}\nspec:\n  namespaceSelector: {}\n  flows: [{from: namespace, to: namespace}]\n');
    const b = await netseg('render', '-f', bad, path.join(EXAMPLE, 'namespaces.yaml'));
    assert.equal(b.code, 1);
    assert.match(b.stderr, /bad\.yaml#1: ClusterSegmentationIntent b: spec\.flows\[0\]: .*allowSameNamespace/);
  });

  it('reach evaluates the baseline\'s policies with the rest of the cluster', () => {
    const loaded = loadCluster([EXAMPLE]);
    assert.deepEqual(loaded.errors, []);
    const cluster = buildCluster(loaded.input);
    const can = (from: string, to: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): boolean =>
      evaluate(cluster, { from: resolveEndpoint(cluster, from) as never, to: resolveEndpoint(cluster, to) as never, port, protocol }).allowed;
    assert.equal(can('monitoring/prometheus-k8s-0', 'shop/web-5d8f7', 9102), true, 'scraping on the metrics port');
    assert.equal(can('monitoring/prometheus-k8s-0', 'shop/web-5d8f7', 8080), false);
    assert.equal(can('shop/web-5d8f7', 'shop/cart-6c9b1', 8080), true, 'same namespace');
    assert.equal(can('shop/web-5d8f7', 'payments/payments-api-77c5d', 8443), false, 'across namespaces: denied');
    assert.equal(can('shop/web-5d8f7', 'kube-system/coredns-7db6d', 53, 'UDP'), true, 'DNS');
  });

  it('verify proves the example, and exits 1 when a baseline selects no pod', async () => {
    const ok = await netseg('verify', '-f', EXAMPLE);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^OK {3}ClusterSegmentationIntent baseline: its policies allow exactly its flows \(4 workload pods/m);
    const none = await netseg('verify', '-f', path.join(EXAMPLE, 'baseline.yaml'));
    assert.equal(none.code, 1);
  });

  describe('verify\'s proof', () => {
    const objects = sortObjects(loadManifests([EXAMPLE]).objects);
    const [compiled] = compileBaselines(objects.baselines, objects.namespaces).compiled;
    const world = { namespaces: objects.namespaces, pods: objects.pods, policies: [] };
    assert.ok(compiled);

    it('finds nothing on the compiled policies', () => assert.deepEqual(verifyBaseline(compiled.baseline, compiled.policies, world).differences, []));

    it('finds what is missing when a far-end policy is gone (the baseline would cut its own flow)', () => {
      const without = compiled.policies.filter((p) => p.metadata.name !== 'baseline.prometheus.peer-egress');
      const diffs = verifyBaseline(compiled.baseline, without, world).differences;
      assert.ok(diffs.some((d) => d.kind === 'missing' && d.direction === 'Egress' && d.from === 'monitoring/prometheus-k8s-0' && d.to === 'shop/web-5d8f7' && d.port === 9102), JSON.stringify(diffs));
    });

    it('finds what is extra when a deny-all was widened', () => {
      const widened = compiled.policies.map((p) =>
        p.metadata.namespace === 'payments' && p.metadata.name === 'baseline.cluster-ingress' ? { ...p, spec: { ...p.spec, ingress: [{}] } } : p,
      );
      const diffs = verifyBaseline(compiled.baseline, widened, world).differences;
      assert.ok(diffs.some((d) => d.kind === 'extra' && d.direction === 'Ingress' && d.to === 'payments/payments-api-77c5d' && d.from === 'shop/web-5d8f7'), JSON.stringify(diffs.slice(0, 3)));
    });
  });

  it('audit counts a namespace covered by a baseline as default-deny, and still names the ones it leaves out', async () => {
    const r = await netseg('audit', '-f', EXAMPLE, '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const findings = (JSON.parse(r.stdout) as { findings: { kind: string; namespace?: string }[] }).findings.filter((f) => f.kind === 'no-default-deny');
    assert.deepEqual(findings.map((f) => f.namespace), ['kube-system']);
  });

  describe('a baseline whose peer names a Service, resolved from the files as for intents', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-csi-refs-'));
    for (const f of ['namespaces.yaml', 'pods.yaml']) fs.copyFileSync(path.join(EXAMPLE, f), path.join(dir, f));
    // Every namespace may push to Prometheus' remote-write port, named on the Service (web → the pods' "web" port).
    fs.writeFileSync(path.join(dir, 'baseline.yaml'), [
      'apiVersion: netseg.io/v1alpha1', 'kind: ClusterSegmentationIntent', 'metadata: {name: refs}', 'spec:',
      '  namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}]}',
      '  directions: [Ingress, Egress]', '  allowDNS: false',
      '  peers: [{name: prometheus, service: {namespace: monitoring, name: prometheus}}]',
      '  flows: [{from: namespace, to: prometheus, ports: [{port: remote-write}]}]', '',
    ].join('\n'));
    const svc = path.join(os.tmpdir(), `netseg-csi-svc-${process.pid}.yaml`);
    fs.writeFileSync(svc, 'apiVersion: v1\nkind: Service\nmetadata: {name: prometheus, namespace: monitoring}\nspec:\n  selector: {app.kubernetes.io/name: prometheus}\n  ports: [{name: remote-write, port: 80, targetPort: web}]\n');

    it('render without the Service exits 1 naming the field and the object it needs', async () => {
      const r = await netseg('render', '-f', dir);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /ClusterSegmentationIntent refs: spec\.peers\[0\]\.service: Service monitoring\/prometheus not found/);
    });

    it('render with it: egress to the Service\'s targetPort from every selected namespace, and Prometheus\' pods admit it', async () => {
      const r = await netseg('render', '-f', dir, svc, '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      const policies = (JSON.parse(r.stdout) as { items: NetworkPolicy[] }).items;
      const egress = policies.find((p) => p.metadata.namespace === 'shop' && p.metadata.name === 'refs.cluster-egress');
      assert.deepEqual(egress?.spec.egress?.[0]?.ports, [{ protocol: 'TCP', port: 'web' }]);
      assert.deepEqual(egress?.spec.egress?.[0]?.to?.[0]?.podSelector, { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } });
      const far = policies.find((p) => p.metadata.namespace === 'monitoring' && p.metadata.name === 'refs.prometheus.peer-ingress');
      assert.deepEqual(far?.spec.podSelector, { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } });
    });

    it('reach, verify and audit resolve it from the files too', async () => {
      const loaded = loadCluster([dir, svc]);
      assert.deepEqual(loaded.errors, []);
      const cluster = buildCluster(loaded.input);
      const can = (from: string, to: string, port: number): boolean =>
        evaluate(cluster, { from: resolveEndpoint(cluster, from) as never, to: resolveEndpoint(cluster, to) as never, port, protocol: 'TCP' }).allowed;
      assert.equal(can('shop/web-5d8f7', 'monitoring/prometheus-k8s-0', 9090), true, 'the Service\'s targetPort');
      assert.equal(can('shop/web-5d8f7', 'monitoring/prometheus-k8s-0', 80), false, 'never the Service port itself');
      const ok = await netseg('verify', '-f', dir, svc);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      const audit = await netseg('audit', '-f', dir, svc, '-o', 'json');
      assert.equal(audit.code, 0, audit.stderr);
      assert.equal(audit.stderr, '', 'the baseline resolved: no warning');
      const unresolved = await netseg('audit', '-f', dir, '-o', 'json');
      assert.match(unresolved.stderr, /Service monitoring\/prometheus not found/);
    });
  });
});
