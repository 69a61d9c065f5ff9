/**
 * Reliability properties (fast-check, fixed seed), over generated schema-valid intents
 * (test/fixtures/intents/arbitrary.ts) AND generated clusters (namespaces with random labels, pods that match or
 * miss the selectors, pod IPs inside and outside the peers' CIDRs, named and numbered container ports):
 *  - validate and compile never throw;
 *  - the reachability engine, through `netseg verify`'s proof (src/verify/check.ts), finds that the compiled
 *    policies allow EXACTLY the intent's flows for the workloads in the isolated directions, in every generated
 *    cluster (not only in verify's own synthetic one);
 *  - `netseg render` is idempotent: the same file renders to byte-identical output twice; a file holding the intent
 *    AND its rendered policies renders to the same bytes; an equivalent rewrite of the intent too.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { compile } from '../../src/compile';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { synthesize, verifyAll } from '../../src/verify';
import { validateIntent } from '../../src/intent';
import type { ValidIntent } from '../../src/intent/types';
import type { Namespace, Pod } from '../../src/model/kubernetes';
import { cidrContains, parseAddress, parseCidr } from '../../src/reach';
import { equivalentRewrite, validIntent } from '../fixtures/intents/arbitrary';

const SEED = 1_122_2026;
type Json = Record<string, unknown>;

const LABEL_KEYS = ['app', 'tier', 'app.kubernetes.io/name', 'team', 'example.com/role', 'version'];
const LABEL_VALUES = ['web', 'api', 'db', 'a', 'b-1', 'v1.2', 'X_y', ''];
const NAMESPACES = ['shop', 'ingress-nginx', 'monitoring', 'kube-system', 'elsewhere'];
/** Inside and outside the arbitrary's CIDRs and excepts, both families. */
const IPS = ['10.1.2.3', '10.2.3.4', '10.200.0.1', '192.168.1.7', '192.168.9.9', '203.0.113.5', '198.51.100.7', '169.254.169.254', '172.16.0.9', '2001:db8::5', '2001:db8:1::9', '2001:dead::1'];
const PORTS = [
  { containerPort: 8080, protocol: 'TCP' },
  { containerPort: 53, protocol: 'UDP', name: 'dns' },
  { containerPort: 53, protocol: 'TCP', name: 'dns-tcp' },
  { containerPort: 80, protocol: 'TCP', name: 'http' },
  { containerPort: 9090, protocol: 'TCP', name: 'metrics' },
  { containerPort: 50051, protocol: 'TCP', name: 'grpc' },
  { containerPort: 1000, protocol: 'UDP', name: 'grpc' },
  { containerPort: 443, protocol: 'SCTP' },
] as const;

const labels = fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...LABEL_VALUES), { maxKeys: 3 });

const randomPods = fc.array(
  fc.record({
    namespace: fc.constantFrom(...NAMESPACES),
    labels,
    ports: fc.subarray([...PORTS], { maxLength: 4 }),
    ip: fc.option(fc.constantFrom(...IPS), { nil: undefined }),
  }),
  { maxLength: 8 },
);

const randomNamespaceLabels = fc.record(Object.fromEntries(NAMESPACES.map((n) => [n, labels])) as Record<string, fc.Arbitrary<Record<string, string>>>);

interface GeneratedCluster {
  readonly namespaces: Namespace[];
  readonly pods: Pod[];
}

/** verify's synthetic pods (so that every workload has a pod) plus random ones, in namespaces with random labels. */
interface GenPod {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly ports: readonly { readonly containerPort: number; readonly protocol: string; readonly name?: string }[];
  readonly ip: string | undefined;
}

function clusterFor(intent: ValidIntent, pods: readonly GenPod[], nsLabels: Record<string, Record<string, string>>): GeneratedCluster {
  const world = synthesize([intent]);
  const byName = new Map<string, Record<string, string>>();
  for (const n of world.namespaces) byName.set(n.metadata.name ?? '', { ...(n.metadata.labels ?? {}) });
  for (const [n, extra] of Object.entries(nsLabels)) byName.set(n, { ...extra, ...(byName.get(n) ?? {}), 'kubernetes.io/metadata.name': n });
  const namespaces: Namespace[] = [...byName].map(([name, l]) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: l } }));
  const generated: Pod[] = pods.map((p, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `g${i}`, namespace: p.namespace, labels: p.labels },
    spec: { containers: [{ name: 'main', ports: p.ports.map((x) => ({ ...x }) as never) }] },
    ...(p.ip && !ownPodInPeerBlock(intent, p.namespace, p.ip) ? { status: { podIP: p.ip } } : {}),
  }));
  return { namespaces, pods: [...world.pods, ...generated] };
}

/**
 * A pod of the intent's own namespace whose IP lies in one of its ipBlock peers would be a workload AND a peer at
 * once. API.md defines peers as "anything outside this namespace", and NetworkPolicy leaves ipBlock matching of
 * pod IPs to the implementation, so the intent promises nothing there: such pods get no IP. (Left in, verify's
 * oracle expects the workload's egress to follow the peer's flows, which compile does not emit.)
 */
function ownPodInPeerBlock(intent: ValidIntent, namespace: string, ip: string): boolean {
  const a = parseAddress(ip);
  if (namespace !== intent.namespace || !a) return false;
  return intent.peers.some((p) => {
    if (p.kind !== 'ip-peer') return false;
    const c = parseCidr(p.ipBlock.cidr);
    return c !== undefined && cidrContains(c, a);
  });
}

function valid(raw: Json): ValidIntent {
  const r = validateIntent(raw);
  if (!r.ok) throw new Error(`the arbitrary made an invalid intent: ${JSON.stringify(r.issues)}`);
  return r.intent;
}

async function render(file: string): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', 'render', '-f', file], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('reliability properties (fast-check, fixed seed)', function () {
  this.timeout(120_000);

  it('validate never throws on arbitrary JSON, and compile never throws on what validate accepts', () => {
    fc.assert(
      fc.property(fc.oneof(validIntent, fc.record({ apiVersion: fc.constant('netseg.io/v1alpha1'), kind: fc.constant('SegmentationIntent'), metadata: fc.anything(), spec: fc.anything() })), (raw) => {
        const r = validateIntent(raw);
        if (r.ok) assert.ok(Array.isArray(compile(r.intent)));
        else assert.ok(r.issues.length > 0);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('the compiled policies allow exactly the intent\'s flows in generated clusters (netseg verify\'s proof)', () => {
    let checkedPods = 0;
    fc.assert(
      fc.property(validIntent, randomPods, randomNamespaceLabels, (raw, pods, nsLabels) => {
        const intent = valid(raw);
        const policies = compile(intent);
        const cluster = clusterFor(intent, pods, nsLabels);
        const outcome = verifyAll([{ intent, policies }], { ...cluster, policies: [] });
        const report = outcome.reports[0];
        assert.ok(report);
        checkedPods += report.workloadPods;
        // A contradictory selector selects no pod in any cluster: verify --cluster rightly fails it as selecting
        // nothing. That is about the input, not the compiler; every other difference would be the compiler's.
        const unsatisfiable = new Set(synthesize([intent]).notes.flatMap((n) => /: ([^:]+): no pod can satisfy its selector$/.exec(n)?.[1] ?? []));
        const unexplained = report.differences.filter((d) => !(d.kind === 'selects-nothing' && unsatisfiable.has(d.workload)));
        assert.deepEqual(unexplained, [], `${unexplained.length} difference(s); first: ${JSON.stringify(unexplained[0])}\nspec: ${JSON.stringify(raw['spec'])}`);
      }),
      { seed: SEED, numRuns: 200 },
    );
    assert.ok(checkedPods > 200, `only ${checkedPods} workload pods were checked`);
  });

  // A selector peer whose namespaceSelector could also select the intent's own namespace (here {}): API.md's peers
  // are "anything outside this namespace", so the own pods are NOT members of it. Both sides must agree: the
  // compiled rule excludes the namespace by name, and verify expects exactly the flows without it.
  const coveringCases: [string, Json][] = [
    ['egress: everyone → api, where everyone is namespaceSelector {}', { isolation: { directions: ['Egress'] }, allowDNS: false, flows: [{ from: 'everyone', to: 'api', ports: [{ port: 8080 }] }] }],
    ['ingress: api → everyone, where everyone is namespaceSelector {}', { isolation: { directions: ['Ingress'] }, flows: [{ from: 'api', to: 'everyone', ports: [{ port: 8080 }] }] }],
  ];
  for (const [sentence, extra] of coveringCases) {
    it(`keeps the intent's own namespace out of a peer that could select it, exactly as verify expects (${sentence})`, () => {
      const intent = valid({
        apiVersion: 'netseg.io/v1alpha1',
        kind: 'SegmentationIntent',
        metadata: { name: 'a', namespace: 'shop' },
        spec: {
          workloads: [
            { name: 'api', selector: { matchLabels: { app: 'api' } } },
            { name: 'web', selector: { matchLabels: { app: 'web' } } },
          ],
          peers: [{ name: 'everyone', namespaceSelector: {} }],
          ...extra,
        },
      });
      const outcome = verifyAll([{ intent, policies: compile(intent) }], undefined);
      assert.deepEqual(outcome.reports[0]?.differences, []);
    });
  }

  it('netseg render is idempotent: same bytes twice, with its own output alongside, and for an equivalent rewrite', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-render-prop-'));
    try {
      await fc.assert(
        fc.asyncProperty(validIntent, fc.integer(), async (raw, seed) => {
          const file = path.join(dir, 'intent.yaml');
          fs.writeFileSync(file, stringify(raw));
          const first = await render(file);
          assert.equal(first.code, 0, first.err);
          assert.equal(first.err, '');
          const second = await render(file);
          assert.equal(second.out, first.out, 'two renders of the same file differ');
          // The intent and the policies it rendered to, in one file: policies are ignored, the output is the same.
          const both = path.join(dir, 'both.yaml');
          fs.writeFileSync(both, `${stringify(raw)}${first.out}`);
          const again = await render(both);
          assert.equal(again.code, 0, again.err);
          assert.equal(again.out, first.out, 'rendering the intent with its rendered policies changed the output');
          let s = seed >>> 0;
          const random = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
          const rewritten = path.join(dir, 'rewritten.yaml');
          fs.writeFileSync(rewritten, stringify(equivalentRewrite(raw, random)));
          assert.equal((await render(rewritten)).out, first.out, 'an equivalent rewrite renders differently');
        }),
        { seed: SEED, numRuns: 60 },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
