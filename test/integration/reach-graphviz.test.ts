/**
 * The pictures of the examples in README.md and docs/reach.md, rendered by the real Graphviz: the committed .dot
 * files equal what `netseg reach -o dot` prints today (docs true to the code), Graphviz lays them out without a
 * warning, and the layout (`dot -Tjson`) has one cluster per namespace, the intents' flows as solid labelled
 * edges and the not-isolated ones dashed. The PNG is rendered and its size checked; a person looked at it
 * (scripts/reach-pictures regenerates both). Fails, never skips, without Graphviz.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const IMAGES = path.join(ROOT, 'docs', 'images');

interface GvObject {
  _gvid: number;
  name: string;
  label?: string;
  style?: string;
  nodes?: number[];
  subgraphs?: number[];
}
interface GvEdge {
  tail: number;
  head: number;
  label?: string;
  style?: string;
}
interface GvGraph {
  objects: GvObject[];
  edges: GvEdge[];
}

function graphviz(args: string[], input: string): { stdout: Buffer; stderr: string } {
  const r = spawnSync('dot', args, { input, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`graphviz's dot could not run (${r.error.message}): install it (apt-get install graphviz; .ci/run does)`);
  assert.equal(r.status, 0, `dot ${args.join(' ')}: ${r.stderr.toString()}`);
  return { stdout: r.stdout, stderr: r.stderr.toString() };
}

async function reachDot(...files: string[]): Promise<string> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', 'reach', '-f', ...files.map((f) => path.join(ROOT, f)), '-o', 'dot'], io);
  assert.equal(code, 0, io.stderr);
  return io.stdout;
}

/** The laid-out graph as "cluster label → node labels" and "tail label -> head label [label] style" lines. */
function layout(dot: string): { clusters: Record<string, string[]>; edges: string[] } {
  const { stdout, stderr } = graphviz(['-Tjson'], dot);
  assert.equal(stderr, '', 'Graphviz lays it out without a warning');
  const g = JSON.parse(stdout.toString()) as GvGraph;
  const byId = new Map(g.objects.map((o) => [o._gvid, o]));
  const clusters: Record<string, string[]> = {};
  for (const o of g.objects.filter((x) => x.name.startsWith('cluster_'))) clusters[o.label ?? '?'] = (o.nodes ?? []).map((n) => byId.get(n)?.label ?? '?');
  const nodeLabel = (id: number): string => {
    const o = byId.get(id);
    const ns = g.objects.find((c) => c.name.startsWith('cluster_') && (c.nodes ?? []).includes(id));
    return ns ? `${ns.label}/${o?.label}` : (o?.label ?? '?');
  };
  const edges = g.edges.map((e) => `${nodeLabel(e.tail)} -> ${nodeLabel(e.head)} [${e.label ?? ''}]${e.style === 'dashed' ? ' dashed' : ''}`);
  return { clusters, edges: edges.sort() };
}

/** The texts Graphviz draws (SVG <text> elements, entities decoded). */
function drawnTexts(dot: string): string[] {
  const svg = graphviz(['-Tsvg'], dot).stdout.toString();
  const decode = (t: string): string =>
    t.replace(/&(#x?[0-9a-f]+|quot|amp|lt|gt|apos);/gi, (_, e: string) =>
      e.startsWith('#') ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ({ quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" } as Record<string, string>)[e] ?? e,
    );
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => decode(m[1] ?? ''));
}

function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('reach pictures of the examples, rendered by Graphviz', () => {
  it('the application examples: a cluster per namespace, the intents\' flows solid, the unisolated namespaces dashed through one node', async () => {
    const dot = await reachDot('examples/shop', 'examples/billing-egress', 'examples/monitoring');
    assert.equal(fs.readFileSync(path.join(IMAGES, 'reach-examples.dot'), 'utf8'), dot, 'docs/images/reach-examples.dot is today\'s output: run scripts/reach-pictures');
    const { clusters, edges } = layout(dot);
    assert.deepEqual(clusters, {
      billing: ['every pod', 'billing-api', 'invoice-worker'],
      'ingress-nginx': ['ingress-nginx'],
      'kube-system': ['coredns-5d78c-x2p4q'],
      monitoring: ['prometheus'],
      payments: ['every pod', 'ledger', 'payments-api'],
      shop: ['every pod', 'backend', 'debug', 'frontend', 'postgres'],
    });
    assert.deepEqual(edges, [
      'billing/every pod -> kube-system/coredns-5d78c-x2p4q [53/TCP 53/UDP]',
      'billing/invoice-worker -> billing/billing-api [8080/TCP]',
      'ingress-nginx/ingress-nginx -> not isolated: no policy on either side [] dashed',
      'ingress-nginx/ingress-nginx -> shop/frontend [8080/TCP]',
      'kube-system/coredns-5d78c-x2p4q -> not isolated: no policy on either side [] dashed',
      'monitoring/prometheus -> not isolated: no policy on either side [] dashed',
      'monitoring/prometheus -> payments/ledger [9103/TCP]',
      'monitoring/prometheus -> payments/payments-api [9102/TCP]',
      'not isolated: no policy on either side -> ingress-nginx/ingress-nginx [80/TCP 443/TCP] dashed',
      'not isolated: no policy on either side -> kube-system/coredns-5d78c-x2p4q [53/TCP 9153/TCP 53/UDP] dashed',
      'not isolated: no policy on either side -> monitoring/prometheus [9090/TCP] dashed',
      'payments/every pod -> not isolated: no policy on either side [] dashed',
      'payments/payments-api -> payments/ledger [50052/TCP]',
      'shop/backend -> shop/postgres [5432/TCP]',
      'shop/every pod -> not isolated: no policy on either side [] dashed',
      'shop/frontend -> shop/backend [9000/TCP]',
    ]);
  });

  it('the ClusterSegmentationIntent example: every namespace isolated, no dashed edge', async () => {
    const dot = await reachDot('examples/baseline');
    assert.equal(fs.readFileSync(path.join(IMAGES, 'reach-baseline.dot'), 'utf8'), dot, 'docs/images/reach-baseline.dot is today\'s output: run scripts/reach-pictures');
    const { clusters, edges } = layout(dot);
    assert.deepEqual(Object.keys(clusters), ['kube-system', 'monitoring', 'payments', 'shop']);
    assert.deepEqual(edges, [
      'every pod of every namespace -> kube-system/coredns-7db6d [53/TCP 53/UDP]',
      'monitoring/prometheus -> payments/payments-api [9102/TCP]',
      'monitoring/prometheus -> shop/web [9102/TCP]',
      'shop/cart -> shop/web [8080/TCP 9102/TCP]',
      'shop/web -> shop/cart [8080/TCP]',
    ]);
  });

  it('renders PNGs of a readable size, like the committed ones', () => {
    for (const name of ['reach-examples', 'reach-baseline']) {
      const dot = fs.readFileSync(path.join(IMAGES, `${name}.dot`), 'utf8');
      const fresh = pngSize(graphviz(['-Tpng', '-Gdpi=110'], dot).stdout);
      const committed = pngSize(fs.readFileSync(path.join(IMAGES, `${name}.png`)));
      assert.ok(fresh.width <= 2000 && fresh.height <= 1400, `${name}: ${fresh.width}×${fresh.height} fits a screen`);
      // Fonts differ between machines: the same layout within a tenth.
      assert.ok(Math.abs(fresh.width - committed.width) <= committed.width / 10 && Math.abs(fresh.height - committed.height) <= committed.height / 10, `${name}: ${JSON.stringify(fresh)} vs committed ${JSON.stringify(committed)}`);
    }
  });

  it('a hostile name cannot break the dot syntax: Graphviz reads back the very labels', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-gv-'));
    const names = ['x"];\n}\ndigraph evil {', 'back\\slash\\N\\G', 'uni-ü-✓'];
    const pods = names.map((name, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: i === 0 ? 'ns"{}' : 'plain', name }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } }));
    fs.writeFileSync(path.join(dir, 'pods.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }));
    const io = memoryIO();
    assert.equal(await main(['node', 'netseg', 'reach', '-f', dir, '-o', 'dot'], io), 0, io.stderr);
    const { clusters } = layout(io.stdout);
    assert.deepEqual(Object.keys(clusters).sort(), ['ns"{}', 'plain'], 'one cluster per namespace, no other graph');
    assert.equal(clusters['ns"{}']?.length, 1);
    const texts = drawnTexts(io.stdout);
    for (const t of ['ns"{}', 'x"];\\u000a}\\u000adigraph evil {', 'back\\slash\\N\\G', 'uni-ü-✓', 'plain']) assert.ok(texts.includes(t), `${t} drawn as is: ${JSON.stringify(texts)}`);
  });
});
