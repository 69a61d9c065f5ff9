import { strict as assert } from 'assert';
import fc from 'fast-check';
import { formatIssue, validateIntent } from '../../src/intent';
import type { ValidIntent, ValidationResult } from '../../src/intent';
import { parseCidr, formatCidr, labelKeyProblem, labelValueProblem, portNameProblem, strictlyInside } from '../../src/intent/syntax';
import { INVALID_CASES, baseSpec, intentWith } from '../fixtures/intents/cases';
import { validIntent } from '../fixtures/intents/arbitrary';

function valid(obj: unknown): ValidIntent {
  const r = validateIntent(obj);
  if (!r.ok) assert.fail(`expected valid, got:\n${r.issues.map(formatIssue).join('\n')}`);
  return r.intent;
}

function issues(obj: unknown): string[] {
  const r = validateIntent(obj);
  assert.equal(r.ok, false, 'expected invalid');
  return (r as Extract<ValidationResult, { ok: false }>).issues.map(formatIssue);
}

describe('validateIntent', () => {
  describe('accepts the API.md example and applies its defaults', () => {
    const intent = valid(intentWith(baseSpec()));

    it('defaults enforcement to Enforce', () => assert.equal(intent.enforcement, 'Enforce'));
    it('defaults isolation.directions to [Ingress]', () => assert.deepEqual(intent.directions, ['Ingress']));
    it('defaults isolation.scope to Workloads', () => assert.equal(intent.scope, 'Workloads'));
    it('defaults allowDNS to true', () => assert.equal(intent.allowDNS, true));
    it('defaults a port protocol to TCP', () => assert.equal(intent.flows[0]?.ports[0]?.protocol, 'TCP'));
    it('resolves a single name in from/to to a one-element list', () => {
      assert.deepEqual(intent.flows[0]?.from.map((e) => e.name), ['ingress']);
      assert.equal(intent.flows[0]?.from[0]?.kind, 'selector-peer');
    });
    it('resolves an ipBlock peer', () => {
      const p = intent.peers[1];
      assert.ok(p?.kind === 'ip-peer');
      assert.deepEqual(p.ipBlock, { cidr: '203.0.113.0/24', except: ['203.0.113.128/25'] });
    });
    it('keeps a port range', () => assert.deepEqual(intent.flows[2]?.ports, [{ protocol: 'TCP', port: 8000, endPort: 8100 }]));
    it('omits the uid of an intent read from a file', () => assert.equal(intent.uid, undefined));
  });

  it('orders directions canonically, whatever order they are written in', () => {
    const spec = { ...baseSpec(), isolation: { directions: ['Egress', 'Ingress'] } };
    assert.deepEqual(valid(intentWith(spec)).directions, ['Ingress', 'Egress']);
  });

  it('reads a missing ports list as "every port"', () => {
    const spec = { ...baseSpec(), flows: [{ from: 'frontend', to: 'backend' }] };
    assert.deepEqual(valid(intentWith(spec)).flows[0]?.ports, []);
  });

  it('merges a name listed twice in one flow', () => {
    const spec = { ...baseSpec(), flows: [{ from: ['frontend', 'frontend'], to: 'backend' }] };
    assert.equal(valid(intentWith(spec)).flows[0]?.from.length, 1);
  });

  it('accepts a flow from a workload to itself', () => {
    valid(intentWith({ ...baseSpec(), flows: [{ from: 'frontend', to: 'frontend' }] }));
  });

  describe('rejects each mistake with its path and fix', () => {
    for (const c of INVALID_CASES) {
      it(`rejects ${c.name}`, () => {
        const found = issues(c.intent);
        assert.ok(
          found.some((i) => i.startsWith(`${c.path}: `) && i.includes(c.message)),
          `no issue at ${c.path} containing ${JSON.stringify(c.message)}; got:\n${found.join('\n')}`,
        );
      });
    }
  });

  it('reports every problem at once', () => {
    const spec = baseSpec();
    (spec['workloads'] as Record<string, unknown>[])[0] = { name: 'frontend', selector: { matchLabels: { app: 'a b' } } };
    (spec['flows'] as Record<string, unknown>[])[1] = { from: 'frontend', to: 'backnd', ports: [{ port: 0 }] };
    spec['enforcement'] = 'Audit';
    const found = issues(intentWith(spec));
    assert.deepEqual(
      found.map((i) => i.slice(0, i.indexOf(':'))),
      ['spec.enforcement', 'spec.workloads[0].selector.matchLabels["app"]', 'spec.flows[1].to', 'spec.flows[1].ports[0].port'],
    );
  });

  it('names the known names and the likely typo for an unknown name', () => {
    const spec = { ...baseSpec(), flows: [{ from: 'frontend', to: 'backnd' }] };
    assert.deepEqual(issues(intentWith(spec)), [
      'spec.flows[0].to: unknown workload or peer "backnd" (known: backend, frontend, ingress, payments); did you mean "backend"?',
    ]);
  });

  describe('checks the object around the spec', () => {
    const table: [string, unknown, string][] = [
      ['a non-object', 'hello', 'must be a SegmentationIntent object, not the string "hello"'],
      ['null', null, 'must be a SegmentationIntent object, not null'],
      ['a missing name', { ...intentWith(baseSpec()), metadata: { namespace: 'shop' } }, 'metadata.name: is required'],
      ['a missing namespace', { ...intentWith(baseSpec()), metadata: { name: 'shop' } }, 'metadata.namespace: is required'],
      ['a name that is not a DNS subdomain', { ...intentWith(baseSpec()), metadata: { name: 'Shop', namespace: 'shop' } }, 'metadata.name: "Shop" must be a DNS-1123 subdomain'],
      ['another kind', { ...intentWith(baseSpec()), kind: 'NetworkPolicy' }, 'kind: must be SegmentationIntent'],
      ['another API version', { ...intentWith(baseSpec()), apiVersion: 'netseg.io/v1' }, 'apiVersion: must be netseg.io/v1alpha1'],
      ['a missing spec', { ...intentWith(baseSpec()), spec: undefined }, 'spec: is required'],
      ['an unknown top-level field', { ...intentWith(baseSpec()), sepc: {} }, 'sepc: unknown field'],
      ['an unknown spec field', intentWith({ ...baseSpec(), flow: [] }), 'spec.flow: unknown field; the fields here are enforcement, isolation'],
      ['an unknown flow field', intentWith({ ...baseSpec(), flows: [{ from: 'frontend', to: 'backend', port: 80 }] }), 'spec.flows[0].port: unknown field'],
      ['allowDNS as a string', intentWith({ ...baseSpec(), allowDNS: 'yes' }), 'spec.allowDNS: must be true or false'],
      ['a workload without selector', intentWith({ ...baseSpec(), workloads: [{ name: 'frontend' }, { name: 'backend', selector: {} }] }), 'spec.workloads[0].selector: is required'],
      ['a directions list naming Ingress twice', intentWith({ ...baseSpec(), isolation: { directions: ['Ingress', 'Ingress'] } }), 'spec.isolation.directions: lists a direction twice'],
      ['a numeric label value', intentWith({ ...baseSpec(), workloads: [{ name: 'frontend', selector: { matchLabels: { v: 1 } } }] }), 'quote numbers and booleans'],
    ];
    for (const [what, input, expected] of table) {
      it(`rejects ${what}`, () => {
        const found = issues(input);
        assert.ok(found.some((i) => i.includes(expected)), `no issue containing ${JSON.stringify(expected)}; got:\n${found.join('\n')}`);
      });
    }
  });

  describe('bounds the work on huge and hostile input', () => {
    it('reports a list beyond its bound and stops there', () => {
      const flows = Array.from({ length: 100_000 }, () => ({ from: 'frontend', to: 'nope' }));
      const found = issues(intentWith({ ...baseSpec(), flows }));
      assert.ok(found[0]?.startsWith('spec.flows: has 100000 items; at most 256'));
      assert.ok(found.length <= 257, `${found.length} issues`);
    });

    it('reports at most a handful of unknown fields per object', () => {
      const spec: Record<string, unknown> = baseSpec();
      for (let i = 0; i < 10_000; i++) spec[`x${i}`] = i;
      const found = issues(intentWith(spec));
      assert.equal(found.length, 6);
      assert.ok(found[5]?.includes('9995 more unknown fields'));
    });

    it('cuts a megabyte-long name short in its message', () => {
      const spec = { ...baseSpec(), flows: [{ from: 'frontend', to: 'x'.repeat(1_000_000) }] };
      const found = issues(intentWith(spec));
      assert.ok(found.every((i) => i.length < 400), found.join('\n'));
    });

    it('does not treat __proto__ as special', () => {
      const text = '{"apiVersion":"netseg.io/v1alpha1","kind":"SegmentationIntent","metadata":{"name":"a","namespace":"b"},' +
        '"spec":{"workloads":[{"name":"w","selector":{"matchLabels":{"__proto__":"x"}}}]},"__proto__":{"spec":1}}';
      const found = issues(JSON.parse(text));
      assert.ok(found.some((i) => i.includes('label key "__proto__"')), found.join('\n'));
      assert.equal(({} as Record<string, unknown>)['spec'], undefined, 'no prototype pollution');
    });

    it('never throws on arbitrary JSON', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (v) => {
          validateIntent(v);
        }),
        { numRuns: 2000 },
      );
    });

    it('never throws on arbitrary values placed anywhere in a valid intent', () => {
      const paths = ['spec', 'spec.workloads', 'spec.peers', 'spec.flows', 'metadata', 'spec.isolation'];
      fc.assert(
        fc.property(fc.constantFrom(...paths), fc.anything(), fc.jsonValue(), (path, junk, junk2) => {
          const intent = intentWith(baseSpec()) as Record<string, unknown>;
          const [head, tail] = path.split('.') as [string, string | undefined];
          if (tail) (intent[head] as Record<string, unknown>)[tail] = junk;
          else intent[head] = junk;
          const flows = (baseSpec()['flows'] as Record<string, unknown>[]).map((f) => ({ ...f, ports: [junk2] }));
          validateIntent(intent);
          validateIntent(intentWith({ ...baseSpec(), flows }));
        }),
        { numRuns: 2000 },
      );
    });
  });

  it('accepts every generated schema-valid intent', () => {
    fc.assert(
      fc.property(validIntent, (raw) => {
        const r = validateIntent(raw);
        assert.ok(r.ok, r.ok ? '' : r.issues.map(formatIssue).join('\n'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('syntax checks', () => {
  const cidrs: [string, string | null][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['192.168.1.7/32', '192.168.1.7/32'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:DB8:0:0::/64', '2001:db8::/64'],
    ['::/0', '::/0'],
    ['::1/128', '::1/128'],
    ['::ffff:10.0.0.0/104', '::ffff:a00:0/104'],
    ['fe80::1:0:0:0:1/128', 'fe80:0:0:1::1/128'],
    ['10.0.0.0', null],
    ['10.0.0.0/33', null],
    ['10.0.0/8', null],
    ['010.0.0.0/8', null],
    ['256.0.0.0/8', null],
    ['10.0.0.0/08', null],
    ['10.0.0.1/8', null],
    ['2001:db8::1/32', null],
    ['1:2:3:4:5:6:7:8:9/128', null],
    ['1::2::3/128', null],
    ['2001:db8::/129', null],
    ['fe80::1%eth0/128', null],
    ['', null],
  ];
  for (const [text, canonical] of cidrs) {
    it(canonical ? `parses ${text} as ${canonical}` : `rejects the CIDR ${JSON.stringify(text)}`, () => {
      const r = parseCidr(text);
      if (canonical === null) assert.equal(typeof r, 'string');
      else assert.equal(typeof r === 'string' ? r : formatCidr(r), canonical);
    });
  }

  const inside: [string, string, boolean][] = [
    ['10.1.0.0/16', '10.0.0.0/8', true],
    ['10.0.0.0/8', '10.0.0.0/8', false],
    ['11.0.0.0/16', '10.0.0.0/8', false],
    ['2001:db8:1::/48', '2001:db8::/32', true],
    ['10.0.0.0/16', '::/0', false],
  ];
  for (const [inner, outer, expected] of inside) {
    it(`${expected ? 'sees' : 'does not see'} ${inner} strictly inside ${outer}`, () => {
      const a = parseCidr(inner);
      const b = parseCidr(outer);
      assert.ok(typeof a === 'object' && typeof b === 'object');
      assert.equal(strictlyInside(a, b), expected);
    });
  }

  const keys: [string, boolean][] = [
    ['app', true],
    ['app.kubernetes.io/name', true],
    ['a_b.c-d', true],
    ['-app', false],
    ['app-', false],
    ['Example.com/app', false],
    ['example.com/', false],
    ['a/b/c', false],
    [`${'a'.repeat(64)}`, false],
    [`${'a'.repeat(63)}`, true],
  ];
  for (const [key, ok] of keys) {
    it(`${ok ? 'accepts' : 'rejects'} the label key ${JSON.stringify(key.length > 20 ? `${key.length} chars` : key)}`, () =>
      assert.equal(labelKeyProblem(key) === undefined, ok));
  }

  const values: [string, boolean][] = [
    ['', true],
    ['v1.2_3-a', true],
    ['-a', false],
    ['a b', false],
    ['a'.repeat(64), false],
  ];
  for (const [value, ok] of values) {
    it(`${ok ? 'accepts' : 'rejects'} the label value ${JSON.stringify(value.slice(0, 20))}`, () =>
      assert.equal(labelValueProblem(value) === undefined, ok));
  }

  const portNames: [string, boolean][] = [
    ['http', true],
    ['dns-tcp', true],
    ['h2c', true],
    ['a'.repeat(15), true],
    ['a'.repeat(16), false],
    ['123', false],
    ['-http', false],
    ['web--ui', false],
    ['HTTP', false],
  ];
  for (const [n, ok] of portNames) {
    it(`${ok ? 'accepts' : 'rejects'} the port name ${JSON.stringify(n)}`, () => assert.equal(portNameProblem(n) === undefined, ok));
  }
});
