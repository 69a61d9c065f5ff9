/** The CRD in crds/ agrees with API.md (defaults), with src/intent/limits.ts (bounds), and documents every field. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { LIMITS } from '../../src/intent';
import { INVALID_CASES } from '../fixtures/intents/cases';

interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  maxItems?: number;
  maxLength?: number;
  maxProperties?: number;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
}

const CRD_FILE = path.resolve(__dirname, '..', '..', '..', 'crds', 'segmentationintents.netseg.io.yaml');
const crd = parse(fs.readFileSync(CRD_FILE, 'utf8')) as {
  spec: {
    scope: string;
    names: { shortNames: string[]; kind: string };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status?: object };
      additionalPrinterColumns: { name: string; jsonPath: string; priority?: number }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
};
const version = crd.spec.versions[0];
const root = version?.schema.openAPIV3Schema as Schema;

function at(p: string): Schema {
  let node: Schema | undefined = root;
  for (const part of p.split('.')) {
    node = part === '[]' ? node?.items : part === '{}' ? node?.additionalProperties : node?.properties?.[part];
  }
  if (!node) assert.fail(`no schema node ${p}`);
  return node;
}

function* walk(node: Schema, p: string): Generator<[string, Schema]> {
  yield [p, node];
  for (const [k, child] of Object.entries(node.properties ?? {})) yield* walk(child, `${p}.${k}`);
  if (node.items) yield* walk(node.items, `${p}[]`);
  if (node.additionalProperties) yield* walk(node.additionalProperties, `${p}{}`);
}

describe('the SegmentationIntent CRD', () => {
  it('is namespaced, v1alpha1 served and stored, with the status subresource and short names segint, si', () => {
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.equal(crd.spec.names.kind, 'SegmentationIntent');
    assert.deepEqual(crd.spec.names.shortNames, ['segint', 'si']);
    assert.equal(crd.spec.versions.length, 1);
    assert.equal(version?.name, 'v1alpha1');
    assert.ok(version?.served && version.storage);
    assert.deepEqual(version?.subresources.status, {});
  });

  it('describes every field, so that kubectl explain reads well', () => {
    // The apiserver forbids anything but `type: object` on metadata: it documents that field itself.
    const missing = [...walk(root, '')].filter(([p, n]) => p !== '.metadata' && !n.description?.trim()).map(([p]) => p);
    assert.deepEqual(missing, []);
  });

  const defaults: [string, unknown][] = [
    ['spec.enforcement', 'Enforce'],
    ['spec.isolation', {}],
    ['spec.isolation.directions', ['Ingress']],
    ['spec.isolation.scope', 'Workloads'],
    ['spec.allowDNS', true],
  ];

  it('has no default protocol: to a Service an absent protocol means every Service port of that number or name (API.md v2)', () =>
    assert.equal(at('spec.flows.[].ports.[].protocol').default, undefined));
  for (const [p, value] of defaults) {
    it(`defaults ${p} to ${JSON.stringify(value)} as API.md says`, () => assert.deepEqual(at(p).default, value));
  }

  const bounds: [string, 'maxItems' | 'maxLength' | 'maxProperties', number][] = [
    ['spec.workloads', 'maxItems', LIMITS.workloads],
    ['spec.peers', 'maxItems', LIMITS.peers],
    ['spec.flows', 'maxItems', LIMITS.flows],
    ['spec.ingressRoutes', 'maxItems', LIMITS.ingressRoutes],
    ['spec.ingressRoutes.[].from', 'maxItems', LIMITS.flowEndpoints],
    ['spec.flows.[].from', 'maxItems', LIMITS.flowEndpoints],
    ['spec.flows.[].to', 'maxItems', LIMITS.flowEndpoints],
    ['spec.flows.[].ports', 'maxItems', LIMITS.portsPerFlow],
    ['spec.flows.[].ports.[].port', 'maxLength', LIMITS.portNameLength],
    ['spec.workloads.[].name', 'maxLength', LIMITS.nameLength],
    ['spec.peers.[].name', 'maxLength', LIMITS.nameLength],
    ['spec.workloads.[].selector.matchLabels', 'maxProperties', LIMITS.matchLabels],
    ['spec.workloads.[].selector.matchExpressions', 'maxItems', LIMITS.matchExpressions],
    ['spec.peers.[].podSelector.matchExpressions.[].values', 'maxItems', LIMITS.expressionValues],
    ['spec.peers.[].ipBlock.cidr', 'maxLength', LIMITS.cidrLength],
    ['spec.peers.[].ipBlock.except', 'maxItems', LIMITS.except],
  ];
  for (const [p, key, value] of bounds) {
    it(`bounds ${p} by ${key} ${value}, like validateIntent`, () => assert.equal(at(p)[key], value));
  }

  it('keeps conditions as a map keyed by type', () => {
    const c = at('status.conditions');
    assert.equal(c['x-kubernetes-list-type'], 'map');
    assert.deepEqual(c['x-kubernetes-list-map-keys'], ['type']);
  });

  it('prints Enforcement, Workloads, Flows, Ready, Reason and Age (Generation and Observed with -o wide)', () => {
    assert.deepEqual(
      version?.additionalPrinterColumns.map((c) => [c.name, c.jsonPath, c.priority ?? 0]),
      [
        ['Enforcement', '.spec.enforcement', 0],
        ['Workloads', '.status.workloads', 0],
        ['Flows', '.status.flows', 0],
        ['Ready', '.status.conditions[?(@.type=="Ready")].status', 0],
        ['Reason', '.status.conditions[?(@.type=="Ready")].reason', 0],
        ['Generation', '.metadata.generation', 1],
        ['Observed', '.status.observedGeneration', 1],
        ['Age', '.metadata.creationTimestamp', 0],
      ],
    );
  });

  it('has an invalid case asserting the message of every CEL rule', () => {
    const messages = [...walk(root, '')].flatMap(([, n]) => (n['x-kubernetes-validations'] ?? []).map((v) => v.message));
    assert.ok(messages.length >= 10);
    const asserted = INVALID_CASES.map((c) => c.apiserver).filter((m): m is string => m !== null);
    const unasserted = messages.filter((m) => !asserted.some((a) => m.includes(a) || a.includes(m)));
    assert.deepEqual(unasserted, []);
  });
});
