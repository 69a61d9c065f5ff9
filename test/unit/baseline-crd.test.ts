/** The ClusterSegmentationIntent CRD: cluster-scoped, csi, its printer columns, documented fields, LIMITS' bounds. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { LIMITS } from '../../src/intent';

interface Schema {
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  maxItems?: number;
  default?: unknown;
}

const file = path.resolve(__dirname, '..', '..', '..', 'crds', 'clustersegmentationintents.netseg.io.yaml');
const crd = parseAllDocuments(fs.readFileSync(file, 'utf8'))[0]?.toJS() as {
  spec: {
    scope: string;
    names: { shortNames: string[]; kind: string };
    versions: { subresources: { status?: object }; additionalPrinterColumns: { name: string; jsonPath: string }[]; schema: { openAPIV3Schema: Schema } }[];
  };
};
const version = crd.spec.versions[0];
const root = version?.schema.openAPIV3Schema as Schema;
const spec = root.properties?.['spec'] as Schema;

function* walk(node: Schema, p: string): Generator<[string, Schema]> {
  yield [p, node];
  for (const [k, c] of Object.entries(node.properties ?? {})) yield* walk(c, `${p}.${k}`);
  if (node.items) yield* walk(node.items, `${p}[]`);
  if (node.additionalProperties) yield* walk(node.additionalProperties, `${p}{}`);
}

/** The SegmentationIntent CRD's peer schema, which a baseline's peers repeat. */
function intentPeerSchema(): Schema {
  const intentFile = path.resolve(__dirname, '..', '..', '..', 'crds', 'segmentationintents.netseg.io.yaml');
  const intentCrd = parseAllDocuments(fs.readFileSync(intentFile, 'utf8'))[0]?.toJS() as typeof crd;
  const intentSpec = intentCrd.spec.versions[0]?.schema.openAPIV3Schema.properties?.['spec'] as Schema;
  return intentSpec.properties?.['peers']?.items as Schema;
}

describe('the ClusterSegmentationIntent CRD', () => {
  it('is cluster-scoped, kind ClusterSegmentationIntent, short name csi, with the status subresource', () => {
    assert.equal(crd.spec.scope, 'Cluster');
    assert.equal(crd.spec.names.kind, 'ClusterSegmentationIntent');
    assert.deepEqual(crd.spec.names.shortNames, ['csi']);
    assert.deepEqual(version?.subresources.status, {});
  });

  it('prints Enforcement, Namespaces, Policies, Ready, Reason and Age', () => {
    assert.deepEqual(version?.additionalPrinterColumns.map((c) => c.name), ['Enforcement', 'Namespaces', 'Policies', 'Ready', 'Reason', 'Age']);
  });

  it('describes every field (kubectl explain)', () => {
    for (const [p, node] of walk(spec, 'spec')) assert.ok(node.description, `${p} has no description`);
  });

  it('requires namespaceSelector and has API.md\'s defaults', () => {
    assert.deepEqual((spec as { required?: string[] }).required, ['namespaceSelector']);
    assert.equal(spec.properties?.['enforcement']?.default, 'Enforce');
    assert.deepEqual(spec.properties?.['directions']?.default, ['Ingress']);
    assert.equal(spec.properties?.['allowDNS']?.default, true);
    assert.equal(spec.properties?.['allowSameNamespace']?.default, false);
  });

  it('bounds peers and flows as src/intent/limits.ts does, and conflicts at 20', () => {
    assert.equal(spec.properties?.['peers']?.maxItems, LIMITS.peers);
    assert.equal(spec.properties?.['flows']?.maxItems, LIMITS.flows);
    assert.equal(root.properties?.['status']?.properties?.['conflicts']?.maxItems, 20);
  });

  it('takes service and workloadRef peers as SegmentationIntent does, exactly one of four shapes by CEL', () => {
    const peer = spec.properties?.['peers']?.items as Schema & { 'x-kubernetes-validations'?: { rule: string }[]; required?: string[] };
    const intentPeer = intentPeerSchema();
    const shape = (s: Schema | undefined): unknown => JSON.parse(JSON.stringify(s, (k, v: unknown) => (k === 'description' ? undefined : v)));
    for (const ref of ['service', 'workloadRef']) {
      assert.deepEqual(shape(peer.properties?.[ref]), shape(intentPeer.properties?.[ref]), `${ref}: the intent's schema`);
    }
    assert.ok(peer['x-kubernetes-validations']?.some((v) => v.rule.replace(/\s+/g, ' ').includes('has(self.service), has(self.workloadRef)].filter(x, x).size() == 1')));
  });

  it('leaves a flow port\'s protocol absent (to a Service it filters; netseg applies TCP elsewhere)', () => {
    const port = spec.properties?.['flows']?.items?.properties?.['ports']?.items?.properties?.['protocol'];
    assert.equal(port?.default, undefined);
  });
});
