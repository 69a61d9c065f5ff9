import { strict as assert } from 'assert';
import * as path from 'path';
import fc from 'fast-check';
import {
  CompileBudgetError,
  PLAIN_TAGS,
  DNS_PEER,
  INTENT_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SPEC_HASH_ANNOTATION,
  canonicalJSON,
  compile,
  compileChecked,
  intentLabelValue,
  specHash,
} from '../../src/compile';
import { policyName } from '../../src/compile/names';
import type { PolicyKind } from '../../src/compile/names';
import { validateIntent } from '../../src/intent';
import { loadManifests } from '../../src/cli/load';
import { renderObjects } from '../../src/cli/render';
import { peerOf } from '../../src/compile/peers';
import { mergeRanges } from '../../src/compile/ports';
import type { FlowPort, ValidIntent } from '../../src/intent';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../../src/model/kubernetes';
import { equivalentRewrite, validIntent as arbitraryIntent } from '../fixtures/intents/arbitrary';
import { longLabels, overPolicyBudget } from '../fixtures/intents/hostile';
import {
  validIntent,
  validIntentOf,
  withCidrPeer,
  withDNS,
  withDirections,
  withFlow,
  withMeta,
  withNamespacePeer,
  withScope,
  withWorkload,
} from '../fixtures/intents/builders';

function byName(policies: NetworkPolicy[], name: string): NetworkPolicy {
  const p = policies.find((x) => x.metadata.name === name);
  if (!p) assert.fail(`no policy ${name}; have ${policies.map((x) => x.metadata.name).join(', ')}`);
  return p;
}

const shop = (): ValidIntent =>
  validIntent(
    'shop',
    withWorkload('web'),
    withWorkload('api'),
    withWorkload('db'),
    withNamespacePeer('lb', 'ingress-nginx', { app: 'nginx' }),
    withCidrPeer('bank', '203.0.113.0/24'),
    withFlow('lb', 'web', 8080),
    withFlow('web', 'api', 'http'),
    withFlow('api', 'db', 5432),
    withFlow('api', 'bank', 443),
  );

describe('compile', () => {
  describe('what API.md says an intent compiles to', () => {
    it('gives each workload one ingress policy named <intent>.<workload>.ingress that selects it', () => {
      const policies = compile(shop());
      assert.deepEqual(policies.map((p) => p.metadata.name), ['shop.api.ingress', 'shop.db.ingress', 'shop.web.ingress']);
      const api = byName(policies, 'shop.api.ingress');
      assert.deepEqual(api.spec.podSelector, { matchLabels: { app: 'api' } });
      assert.deepEqual(api.spec.policyTypes, ['Ingress']);
      assert.equal(api.metadata.namespace, 'shop');
    });

    it('allows into a workload exactly the sources and ports of the flows into it', () => {
      const api = byName(compile(shop()), 'shop.api.ingress');
      assert.deepEqual(api.spec.ingress, [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'http', protocol: 'TCP' }] }]);
    });

    it('isolates a workload that nothing may enter with no ingress rule at all', () => {
      const web = validIntent('shop', withWorkload('web'), withWorkload('api'), withFlow('web', 'api'));
      const policy = byName(compile(web), 'shop.web.ingress');
      assert.deepEqual(policy.spec, { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] });
    });

    it('makes a selector peer ONE peer entry with both namespaceSelector and podSelector', () => {
      const web = byName(compile(shop()), 'shop.web.ingress');
      assert.deepEqual(web.spec.ingress?.[0]?.from, [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
          podSelector: { matchLabels: { app: 'nginx' } },
        },
      ]);
    });

    it('makes a peer with only a namespaceSelector every pod of those namespaces', () => {
      const i = validIntent('m', withWorkload('web'), withNamespacePeer('mon', 'monitoring'), withFlow('mon', 'web', 9090));
      assert.deepEqual(byName(compile(i), 'm.web.ingress').spec.ingress?.[0]?.from, [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ]);
    });

    it('makes an ipBlock peer an ipBlock entry, with except sorted', () => {
      const i = validIntent(
        'e',
        withWorkload('api'),
        withCidrPeer('net', '10.0.0.0/8', ['10.2.0.0/16', '10.1.0.0/16']),
        withDirections('Egress'),
        withDNS(false),
        withFlow('api', 'net', 443),
      );
      assert.deepEqual(byName(compile(i), 'e.api.egress').spec.egress, [
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.0.0/16'] } }], ports: [{ port: 443, protocol: 'TCP' }] },
      ]);
    });

    const directionCases: [string, string[], string[]][] = [
      ['creates only ingress policies when only Ingress is isolated', ['Ingress'], ['shop.api.ingress', 'shop.db.ingress', 'shop.web.ingress']],
      ['creates only egress policies when only Egress is isolated', ['Egress'], ['shop.api.egress', 'shop.db.egress', 'shop.web.egress']],
      [
        'creates both when both directions are isolated',
        ['Ingress', 'Egress'],
        ['shop.api.egress', 'shop.api.ingress', 'shop.db.egress', 'shop.db.ingress', 'shop.web.egress', 'shop.web.ingress'],
      ],
    ];
    for (const [sentence, directions, names] of directionCases) {
      it(sentence, () => {
        const i = { ...shop(), directions: directions as ValidIntent['directions'] };
        assert.deepEqual(compile(i).map((p) => p.metadata.name), names);
      });
    }

    it('allows out of a workload exactly the destinations of the flows out of it, plus DNS', () => {
      const api = byName(compile({ ...shop(), directions: ['Egress'] }), 'shop.api.egress');
      assert.deepEqual(api.spec.policyTypes, ['Egress']);
      assert.deepEqual(api.spec.egress, [
        { to: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ port: 443, protocol: 'TCP' }] },
        { to: [DNS_PEER], ports: [{ port: 53, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] },
        { to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432, protocol: 'TCP' }] },
      ]);
    });

    it('gives a workload with no flow out only the DNS rule', () => {
      const db = byName(compile({ ...shop(), directions: ['Egress'] }), 'shop.db.egress');
      assert.deepEqual(db.spec.egress, [{ to: [DNS_PEER], ports: [{ port: 53, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }]);
    });

    it('leaves DNS out when allowDNS is false', () => {
      const db = byName(compile({ ...shop(), directions: ['Egress'], allowDNS: false }), 'shop.db.egress');
      assert.deepEqual(db.spec, { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Egress'] });
    });

    it('chooses kube-dns pods in kube-system, both selectors ANDed, as the DNS peer', () => {
      assert.deepEqual(DNS_PEER, {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      });
    });

    const scopeCases: [string, string[], boolean, NetworkPolicy['spec']][] = [
      ['adds an ingress deny-all for scope Namespace', ['Ingress'], true, { podSelector: {}, policyTypes: ['Ingress'] }],
      [
        'adds a deny-all in both directions that still lets every pod reach DNS',
        ['Ingress', 'Egress'],
        true,
        {
          podSelector: {},
          policyTypes: ['Ingress', 'Egress'],
          egress: [{ to: [DNS_PEER], ports: [{ port: 53, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }],
        },
      ],
      ['adds an egress deny-all without DNS when allowDNS is false', ['Egress'], false, { podSelector: {}, policyTypes: ['Egress'] }],
    ];
    for (const [sentence, directions, dns, spec] of scopeCases) {
      it(sentence, () => {
        const i = validIntent('shop', withWorkload('web'), withScope('Namespace'), withDirections(...directions), withDNS(dns));
        assert.deepEqual(byName(compile(i), 'shop.default-deny').spec, spec);
      });
    }

    it('adds no deny-all for scope Workloads', () => {
      assert.ok(compile(shop()).every((p) => !p.metadata.name?.endsWith('default-deny')));
    });

    it('compiles a DryRun intent too: the operator decides not to apply', () => {
      assert.deepEqual(compile({ ...shop(), enforcement: 'DryRun' }), compile(shop()));
    });
  });

  describe('marks on every generated object', () => {
    const argo = validIntent(
      'shop',
      withWorkload('web'),
      withMeta({
        uid: '0f1e2d3c-0000-4000-8000-000000000001',
        labels: { 'app.kubernetes.io/instance': 'shop', 'argocd.argoproj.io/instance': 'shop', team: 'a' },
        annotations: { 'argocd.argoproj.io/tracking-id': 'shop:netseg.io/SegmentationIntent:shop/shop' },
      }),
      withScope('Namespace'),
    );

    it('labels every policy managed-by netseg-operator and with its intent', () => {
      for (const p of compile(argo)) {
        assert.deepEqual(p.metadata.labels, { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INTENT_LABEL]: 'shop' });
      }
    });

    it("never copies the intent's GitOps tracking labels or annotations", () => {
      const text = JSON.stringify(compile(argo));
      assert.ok(!text.includes('argocd.argoproj.io'));
      assert.ok(!text.includes('app.kubernetes.io/instance'));
    });

    it('points an ownerReference at the intent when it has a uid', () => {
      for (const p of compile(argo)) {
        assert.deepEqual(p.metadata.ownerReferences, [
          {
            apiVersion: 'netseg.io/v1alpha1',
            kind: 'SegmentationIntent',
            name: 'shop',
            uid: '0f1e2d3c-0000-4000-8000-000000000001',
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      }
    });

    it('omits the ownerReference of an intent read from a file (no uid)', () => {
      assert.ok(compile(shop()).every((p) => p.metadata.ownerReferences === undefined));
    });

    it('annotates each policy with the hash of its spec', () => {
      for (const p of compile(shop())) {
        assert.match(p.metadata.annotations?.[SPEC_HASH_ANNOTATION] ?? '', /^[0-9a-f]{64}$/);
        assert.equal(p.metadata.annotations?.[SPEC_HASH_ANNOTATION], specHash(p));
      }
      const hashes = compile(shop()).map((p) => p.metadata.annotations?.[SPEC_HASH_ANNOTATION]);
      assert.equal(new Set(hashes).size, hashes.length, 'different specs, different hashes');
    });
  });

  describe('specHash', () => {
    const policy = byName(compile(shop()), 'shop.api.ingress');
    const same: [string, unknown][] = [
      ['reordered keys', { ingress: policy.spec.ingress, policyTypes: ['Ingress'], podSelector: { matchLabels: { app: 'api' } } }],
      ['a port without protocol (the apiserver defaults TCP)', { ...policy.spec, ingress: [{ ...policy.spec.ingress?.[0], ports: [{ port: 'http' }] }] }],
      ['empty matchLabels and lists and nulls, as apiservers drop them', { ...policy.spec, egress: [], podSelector: { matchLabels: { app: 'api' }, matchExpressions: null } }],
    ];
    for (const [what, spec] of same) {
      it(`ignores ${what}`, () => assert.equal(specHash({ spec } as NetworkPolicy), specHash(policy)));
    }
    const different: [string, unknown][] = [
      ['another port', { ...policy.spec, ingress: [{ ...policy.spec.ingress?.[0], ports: [{ port: 'https', protocol: 'TCP' }] }] }],
      ['another protocol', { ...policy.spec, ingress: [{ ...policy.spec.ingress?.[0], ports: [{ port: 'http', protocol: 'UDP' }] }] }],
      ['a removed rule', { ...policy.spec, ingress: [] }],
      ['another selector', { ...policy.spec, podSelector: {} }],
    ];
    for (const [what, spec] of different) {
      it(`changes with ${what}`, () => assert.notEqual(specHash({ spec } as NetworkPolicy), specHash(policy)));
    }
  });

  describe('minimal rules', () => {
    const rulesOf = (...mods: Parameters<typeof validIntent>[1][]): unknown =>
      byName(compile(validIntent('m', withWorkload('web'), withWorkload('api'), withWorkload('job'), ...mods)), 'm.api.ingress').spec.ingress;
    const web = { podSelector: { matchLabels: { app: 'web' } } };
    const job = { podSelector: { matchLabels: { app: 'job' } } };
    const cases: [string, Parameters<typeof validIntent>[1][], unknown][] = [
      ['merges the ports of two flows from the same peer', [withFlow('web', 'api', 443), withFlow('web', 'api', 80)], [{ from: [web], ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }] }]],
      ['writes a repeated flow once', [withFlow('web', 'api', 80), withFlow('web', 'api', 80)], [{ from: [web], ports: [{ port: 80, protocol: 'TCP' }] }]],
      ['lets "every port" absorb specific ports', [withFlow('web', 'api', 80), withFlow('web', 'api')], [{ from: [web] }]],
      ['lets "every UDP port" absorb UDP ports but not TCP ones', [withFlow('web', 'api', 'UDP:53', 'UDP:', 'TCP:80')], [{ from: [web], ports: [{ port: 80, protocol: 'TCP' }, { protocol: 'UDP' }] }]],
      ['merges overlapping and adjacent ranges', [withFlow('web', 'api', '8000-8010', '8005-8020', 8021, 9000)], [{ from: [web], ports: [{ port: 8000, endPort: 8021, protocol: 'TCP' }, { port: 9000, protocol: 'TCP' }] }]],
      ['keeps named ports beside numbers', [withFlow('web', 'api', 'http', 8080, 'grpc')], [{ from: [web], ports: [{ port: 8080, protocol: 'TCP' }, { port: 'grpc', protocol: 'TCP' }, { port: 'http', protocol: 'TCP' }] }]],
      ['puts peers with the same ports into one rule, sorted', [withFlow('web', 'api', 80), withFlow('job', 'api', 80)], [{ from: [job, web], ports: [{ port: 80, protocol: 'TCP' }] }]],
      ['keeps peers with different ports in separate rules', [withFlow(['web', 'job'], 'api', 80), withFlow('job', 'api', 81)], [
        { from: [job], ports: [{ port: 80, endPort: 81, protocol: 'TCP' }] },
        { from: [web], ports: [{ port: 80, protocol: 'TCP' }] },
      ]],
      ['drops an endPort equal to its port', [withFlow('web', 'api', '80-80')], [{ from: [web], ports: [{ port: 80, protocol: 'TCP' }] }]],
    ];
    for (const [sentence, mods, expected] of cases) {
      it(sentence, () => assert.deepEqual(rulesOf(...mods), expected));
    }

    it('merges ranges like a union of integer sets', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 5 })), { maxLength: 8 }), (raw) => {
          const ranges = raw.map(([a, n]) => [a, a + n] as [number, number]);
          const covered = (rs: [number, number][], x: number): boolean => rs.some(([a, b]) => a <= x && x <= b);
          const merged = mergeRanges(ranges);
          for (let x = 0; x <= 70; x++) assert.equal(covered(merged, x), covered(ranges, x), `port ${x}`);
          merged.slice(1).forEach(([a], i) => assert.ok(a > (merged[i] as [number, number])[1] + 1, 'disjoint, not adjacent'));
        }),
      );
    });
  });

  describe('names', () => {
    const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

    it('spells <intent>.<workload>.<direction> and <intent>.default-deny', () => {
      assert.equal(policyName('shop', 'web', 'ingress'), 'shop.web.ingress');
      assert.equal(policyName('shop.v2', 'web', 'egress'), 'shop.v2.web.egress');
      assert.equal(policyName('shop', undefined, 'default-deny'), 'shop.default-deny');
    });

    it('never gives two (intent, workload, direction) the same name where "-" would (a-b + c, a + b-c)', () => {
      assert.notEqual(policyName('a-b', 'c', 'ingress'), policyName('a', 'b-c', 'ingress'));
      assert.notEqual(policyName('a.b', 'c', 'ingress'), policyName('a', 'b-c', 'ingress'));
      // An intent named after another's workload policy still gets a default-deny of its own.
      assert.notEqual(policyName('a.b', undefined, 'default-deny'), policyName('a', 'b', 'ingress'));
      assert.notEqual(policyName('a.ingress', undefined, 'default-deny'), policyName('a', 'ingress', 'ingress'));
    });

    it('keeps a plain name up to 253 characters and shortens a longer one into a form no plain name has', () => {
      const fits = 'x'.repeat(253 - '.w.ingress'.length);
      assert.equal(policyName(fits, 'w', 'ingress'), `${fits}.w.ingress`);
      const long = policyName(`${fits}y`, 'w', 'ingress');
      assert.ok(long.length <= 253, long);
      assert.match(long, /^x+\.ingress-[0-9a-f]{32}$/);
      assert.match(long, dnsSubdomain);
      // Its last part is not a plain tag, so no intent can be named to produce it in plain form.
      assert.ok(!PLAIN_TAGS.includes(long.slice(long.lastIndexOf('.') + 1)));
    });

    it('is injective over generated tuples, long ones included, and always a DNS subdomain of at most 253', () => {
      const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      const subdomain = fc.array(label, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.').slice(0, 253).replace(/[-.]+$/, '') || 'a');
      const tuple = fc.tuple(subdomain, fc.option(label, { nil: undefined }), fc.constantFrom<PolicyKind>('ingress', 'egress', 'default-deny'));
      fc.assert(
        fc.property(tuple, tuple, ([i1, w1, k1], [i2, w2, k2]) => {
          const a = policyName(i1, k1 === 'default-deny' ? undefined : w1 ?? 'w', k1);
          const b = policyName(i2, k2 === 'default-deny' ? undefined : w2 ?? 'w', k2);
          assert.ok(a.length <= 253 && dnsSubdomain.test(a), a);
          const same = i1 === i2 && k1 === k2 && (k1 === 'default-deny' || (w1 ?? 'w') === (w2 ?? 'w'));
          assert.equal(a === b, same, `${a} vs ${b}`);
        }),
        { numRuns: 2000 },
      );
    });

    it('gives the same shortened name every time and different ones to different long tuples', () => {
      const long = 'a'.repeat(250);
      const names = compile(validIntent(long, withWorkload('b'), withWorkload('c'))).map((p) => p.metadata.name as string);
      assert.equal(new Set(names).size, 2);
      assert.deepEqual(compile(validIntent(long, withWorkload('b'), withWorkload('c'))).map((p) => p.metadata.name), names);
    });

    it('shortens the intent label of an intent name beyond 63 characters into a value no intent name can take', () => {
      const name = `${'n'.repeat(60)}.${'m'.repeat(60)}`;
      const value = intentLabelValue(name);
      assert.equal(value.length, 63);
      assert.match(value, /^n{46}_[0-9a-f]{16}$/);
      assert.ok(value.includes('_'), '"_" is never in an intent name (a DNS subdomain)');
      assert.equal(intentLabelValue(name), value);
      assert.notEqual(intentLabelValue(`${name}x`), value);
      assert.equal(compile(validIntent(name, withWorkload('w')))[0]?.metadata.labels?.[INTENT_LABEL], value);
      assert.equal(intentLabelValue('shop.v2'), 'shop.v2');
    });
  });

  describe('budget', () => {
    const bigSelector = longLabels;

    it('refuses a policy over 64 KiB, naming the workload, the policy and its largest peers', () => {
      // Under the CRD's 64 Ki characters of selector text, but each peer in its own rule with 32 ports.
      const { peers, flows } = overPolicyBudget('web');
      const raw = { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'shop', namespace: 'shop' },
        spec: { workloads: [{ name: 'web', selector: { matchLabels: { app: 'web' } } }], peers, flows } };
      const v = validateIntent(raw);
      assert.ok(v.ok);
      const r = compileChecked(v.intent);
      assert.ok(!r.ok);
      assert.equal(r.issues[0]?.path, 'spec.workloads[0]');
      assert.match(r.issues[0]?.message ?? '', /"shop\.web\.ingress" whose spec is .* KiB, over the 64\.0 KiB limit for one policy; largest parts: "p\d+"/);
      assert.throws(() => compile(v.intent), CompileBudgetError);
    });

    it('refuses an intent whose policies together pass 512 KiB, though each is under 64 KiB, and stops building there', () => {
      const peers = Array.from({ length: 5 }, (_, i) => ({ name: `p${i}`, namespaceSelector: { matchLabels: bigSelector(i) } }));
      const workloads = Array.from({ length: 64 }, (_, i) => ({ name: `w${i}`, selector: { matchLabels: { app: `w${i}` } } }));
      const raw = { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'shop', namespace: 'shop' },
        spec: { workloads, peers, flows: [{ from: peers.map((p) => p.name), to: workloads.slice(0, 32).map((w) => w.name) }] } };
      const v = validateIntent(raw);
      assert.ok(v.ok);
      const r = compileChecked(v.intent);
      assert.ok(!r.ok);
      assert.equal(r.issues[0]?.path, 'spec');
      assert.match(r.issues[0]?.message ?? '', /more than 512\.0 KiB .* split it into several intents/);
    });

    it('refuses selectors whose label text passes 64 Ki characters before compiling (the CRD has the same rule)', () => {
      const peers = Array.from({ length: 7 }, (_, i) => ({ name: `p${i}`, namespaceSelector: { matchLabels: bigSelector(i) } }));
      const raw = { apiVersion: 'netseg.io/v1alpha1', kind: 'SegmentationIntent', metadata: { name: 'shop', namespace: 'shop' },
        spec: { workloads: [{ name: 'web', selector: { matchLabels: { app: 'web' } } }], peers, flows: [{ from: 'p0', to: 'web' }] } };
      const v = validateIntent(raw);
      assert.ok(!v.ok);
      assert.match(v.issues.map((i) => `${i.path}: ${i.message}`).join('; '), /^spec: the label keys and values .* total \d+ characters; at most 65536/);
    });

    it('compiles every example well inside the budget', () => {
      for (const file of ['shop', 'monitoring', 'billing-egress']) {
        // The whole folder: the shop's references resolve against its Services, StatefulSet and Ingress.
        const rendered = renderObjects(loadManifests([path.join(__dirname, '..', '..', '..', 'examples', file)]).objects);
        assert.deepEqual(rendered.errors, []);
        assert.ok(rendered.policies.length > 0);
        for (const p of rendered.policies) assert.ok(JSON.stringify(p.spec).length < 4096, `${p.metadata.name}`);
      }
    });
  });

  describe('properties over generated intents', () => {
    it('compiles every schema-valid intent without throwing, into structurally valid NetworkPolicies', () => {
      fc.assert(
        fc.property(arbitraryIntent, (raw) => {
          const intent = validIntentOf(raw);
          const policies = compile(intent);
          assertStructurallyValid(policies, intent);
        }),
        { numRuns: 300 },
      );
    });

    it('is deterministic: the same intent gives byte-identical output', () => {
      fc.assert(
        fc.property(arbitraryIntent, (raw) => {
          const a = JSON.stringify(compile(validIntentOf(raw)));
          const b = JSON.stringify(compile(validIntentOf(JSON.parse(JSON.stringify(raw)))));
          assert.equal(a, b);
        }),
        { numRuns: 200 },
      );
    });

    it('gives byte-identical output for an equivalent intent written in another order', () => {
      fc.assert(
        fc.property(arbitraryIntent, fc.integer(), (raw, seed) => {
          const rewritten = equivalentRewrite(raw, random(seed));
          assert.equal(JSON.stringify(compile(validIntentOf(rewritten))), JSON.stringify(compile(validIntentOf(raw))));
        }),
        { numRuns: 300 },
      );
    });

    it('allows nothing beyond the flows: every rule peer and port comes from a flow, and every flow is allowed', () => {
      fc.assert(
        fc.property(arbitraryIntent, (raw) => {
          const intent = validIntentOf(raw);
          assertExactlyTheFlows(intent, compile(intent));
        }),
        { numRuns: 300 },
      );
    });
  });
});

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function assertStructurallyValid(policies: NetworkPolicy[], intent: ValidIntent): void {
  const names = policies.map((p) => p.metadata.name as string);
  assert.deepEqual(names, [...names].sort(), 'sorted by name');
  assert.equal(new Set(names).size, names.length, 'unique names');
  for (const p of policies) assertPolicyValid(p, intent.namespace);
}

function assertPolicyValid(p: NetworkPolicy, namespace: string): void {
  assert.equal(p.apiVersion, 'networking.k8s.io/v1');
  assert.equal(p.kind, 'NetworkPolicy');
  const name = p.metadata.name ?? '';
  assert.ok(DNS_SUBDOMAIN.test(name) && name.length <= 253, `name ${name}`);
  assert.equal(p.metadata.namespace, namespace);
  for (const v of Object.values(p.metadata.labels ?? {})) assert.ok(LABEL_VALUE.test(v) && v.length <= 63, `label ${v}`);
  assert.ok((p.spec.policyTypes ?? []).length > 0);
  assert.equal(JSON.stringify(p.spec), canonicalJSON(p.spec), 'the spec is emitted in canonical form');
  assert.equal(p.metadata.annotations?.[SPEC_HASH_ANNOTATION], specHash(p));
  for (const r of rulesOf(p, 'Ingress')) assertRuleValid(r);
  for (const r of rulesOf(p, 'Egress')) assertRuleValid(r);
}

interface AnyRule {
  readonly peers: NetworkPolicyPeer[];
  readonly ports?: NetworkPolicyPort[];
}

function rulesOf(p: NetworkPolicy, direction: 'Ingress' | 'Egress'): AnyRule[] {
  return direction === 'Ingress'
    ? (p.spec.ingress ?? []).map((r) => ({ peers: r.from ?? [], ports: r.ports }))
    : (p.spec.egress ?? []).map((r) => ({ peers: r.to ?? [], ports: r.ports }));
}

function assertRuleValid(r: AnyRule): void {
  assert.ok(r.peers.length > 0, 'a rule without peers would allow everyone');
  for (const peer of r.peers) {
    assert.ok(peer.ipBlock ? !peer.podSelector && !peer.namespaceSelector : peer.podSelector || peer.namespaceSelector);
  }
  for (const port of r.ports ?? []) {
    assert.ok(port.protocol);
    if (port.endPort !== undefined) assert.ok(typeof port.port === 'number' && port.endPort > port.port);
  }
}

/** Per (workload, direction): the rules' (peer, port) set equals the union of the flows' — no more, no less. */
function assertExactlyTheFlows(intent: ValidIntent, policies: NetworkPolicy[]): void {
  for (const direction of intent.directions) {
    for (const w of intent.workloads) {
      const name = policyName(intent.name, w.name, direction === 'Ingress' ? 'ingress' : 'egress');
      const policy = policies.find((p) => p.metadata.name === name);
      assert.ok(policy, `${direction} policy of ${w.name}`);
      assertRulesAreFlows(rulesOf(policy, direction), allowedPeers(intent, w.name, direction));
    }
  }
}

/** What the flows allow one workload in one direction: peer JSON → the port lists of the flows. */
function allowedPeers(intent: ValidIntent, workload: string, direction: 'Ingress' | 'Egress'): Map<string, FlowPort[][]> {
  const allowed = new Map<string, FlowPort[][]>();
  for (const f of intent.flows) {
    const [selves, others] = direction === 'Ingress' ? [f.to, f.from] : [f.from, f.to];
    if (!selves.some((e) => e.name === workload)) continue;
    for (const o of others) addTo(allowed, peerOf(o, intent.namespace), [...f.ports]);
  }
  if (direction === 'Egress' && intent.allowDNS) addTo(allowed, DNS_PEER, [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
  return allowed;
}

function assertRulesAreFlows(rules: AnyRule[], allowed: Map<string, FlowPort[][]>): void {
  const seen = new Set<string>();
  for (const r of rules) {
    for (const peer of r.peers) {
      const flows = allowed.get(JSON.stringify(peer));
      assert.ok(flows, `rule peer ${JSON.stringify(peer)} comes from no flow`);
      seen.add(JSON.stringify(peer));
      assertPortsWithin(r.ports, flows);
    }
  }
  for (const [key, flows] of allowed) {
    assert.ok(seen.has(key), `flow peer ${key} missing`);
    const ports = rules.filter((r) => r.peers.some((p) => JSON.stringify(p) === key)).map((r) => r.ports);
    for (const fp of flows) assertFlowCovered(fp, ports);
  }
}

function addTo(map: Map<string, FlowPort[][]>, peer: NetworkPolicyPeer, ports: FlowPort[]): void {
  const key = JSON.stringify(peer);
  map.set(key, [...(map.get(key) ?? []), ports]);
}

/** Every port a rule allows is allowed by the union of the flows' ports. */
function assertPortsWithin(rulePorts: NetworkPolicyPort[] | undefined, flows: FlowPort[][]): void {
  if (flows.some((f) => f.length === 0)) return;
  assert.ok(rulePorts, 'a rule allows every port, but no flow does');
  const all = flows.flat();
  for (const rp of rulePorts) {
    const proto = all.filter((fp) => fp.protocol === rp.protocol);
    if (proto.some((fp) => fp.port === undefined)) continue;
    assert.ok(rp.port !== undefined, `rule allows every ${rp.protocol} port`);
    if (typeof rp.port === 'string') {
      assert.ok(proto.some((fp) => fp.port === rp.port), `named port ${rp.port}`);
      continue;
    }
    const ranges = proto.filter((fp) => typeof fp.port === 'number').map((fp) => [fp.port as number, fp.endPort ?? (fp.port as number)] as [number, number]);
    for (let x = rp.port; x <= (rp.endPort ?? rp.port); x++) {
      assert.ok(ranges.some(([a, b]) => a <= x && x <= b), `port ${x}/${rp.protocol} is in no flow`);
    }
  }
}

/** Every port a flow lists is allowed by the rules naming its peer. */
function assertFlowCovered(flowPorts: FlowPort[], rulePorts: (NetworkPolicyPort[] | undefined)[]): void {
  if (rulePorts.some((p) => p === undefined)) return;
  assert.ok(flowPorts.length > 0, 'a flow allows every port, no rule does');
  const all = rulePorts.flat() as NetworkPolicyPort[];
  for (const fp of flowPorts) {
    const proto = all.filter((rp) => rp.protocol === fp.protocol);
    if (proto.some((rp) => rp.port === undefined)) continue;
    assert.ok(fp.port !== undefined, `every ${fp.protocol} port`);
    if (typeof fp.port === 'string') {
      assert.ok(proto.some((rp) => rp.port === fp.port));
      continue;
    }
    const [a, b] = [fp.port, fp.endPort ?? fp.port];
    assert.ok(proto.some((rp) => typeof rp.port === 'number' && rp.port <= a && b <= (rp.endPort ?? rp.port)), `${a}-${b}/${fp.protocol}`);
  }
}

