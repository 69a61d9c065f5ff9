/**
 * `netseg reach`'s reviewer view: the filters (--namespace, --workload, --only-isolated) on every output, and the
 * dot/mermaid graphs (a cluster per namespace, policy edges solid, the not-isolated product drawn through one
 * node), checked against the per-pod matrix on random clusters; escaping of hostile names; determinism.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { memoryIO } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { type Graph, buildGraph, dotString, mermaidText, renderDot, renderMermaid } from '../../src/cli/reach-graph';
import { aggregate, workloadOf } from '../../src/cli/reach-render';
import { parseFilter } from '../../src/cli/reach-view';
import type { Pod } from '../../src/model/kubernetes';
import { buildCluster, computeMatrix } from '../../src/reach';
import { world } from '../fixtures/reach-world';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLES = ['shop', 'billing-egress', 'monitoring'].map((e) => path.join(ROOT, 'examples', e));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['node', 'netseg', 'reach', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

/** The table's rows as "TO | FROM" lines (the legend dropped). */
function tableRows(out: string): string[] {
  return out
    .split('\n')
    .slice(1)
    .filter((l) => /^\S+\s+\S/.test(l) && !/^(ALLOWED|PARTIAL|"\*"|--only-isolated)/.test(l))
    .map((l) => l.replace(/\s{2,}/g, ' | '));
}

/** Node ids that cover a pod: its workload node, its namespace's "every pod" node, the "every pod" node. */
function coveringIds(g: Graph, workloadIds: ReadonlyMap<string, string>, pod: { workload: string; namespace: string }): string[] {
  const ns = g.namespaces.find((n) => n.name === pod.namespace);
  const group = ns?.nodes.find((n) => n.kind === 'namespace-pods')?.id;
  return [workloadIds.get(pod.workload) ?? '?', ...(group ? [group] : []), 'all_pods'];
}

function expand(label: string): string[] {
  // "80-82/TCP 53/UDP (1/2)" → ports; partial counts are not ports.
  return label
    .split(/[ ,]+/)
    .filter((t) => /^\d+(-\d+)?\/[A-Z]+$/.test(t))
    .flatMap((t) => {
      const [ports, protocol] = t.split('/');
      const [a, b] = (ports ?? '').split('-').map(Number);
      return Array.from({ length: (b ?? (a as number)) - (a as number) + 1 }, (_, k) => `${(a as number) + k}/${protocol}`);
    });
}

describe('reach graph: every allowed pod pair is drawn, solid when a policy decides it, through "not isolated" otherwise', () => {
  it('agrees with the per-pod matrix on random clusters', () => {
    fc.assert(
      fc.property(world, (w) => {
        const c = buildCluster(w);
        const g = buildGraph(c, aggregate(c, 'policy'), { open: true });
        const workloads = aggregate(c).workloads;
        const workloadIds = new Map(workloads.map((x, i) => [x.name, `w${i}`]));
        const pods = c.pods.map((p) => ({ workload: workloadOf(p), namespace: p.namespace }));
        const edge = (from: readonly string[], to: string, style: string, port: string): boolean =>
          g.edges.some((e) => from.includes(e.from) && e.to === to && e.style === style && (port === '' || expand(e.label).includes(port)));
        const m = computeMatrix(c);
        for (const col of m.columns) {
          const d = col.to;
          const port = `${col.port.port}/${col.port.protocol}`;
          const dst = workloadIds.get(pods[d]?.workload ?? '') ?? '?';
          for (let s = 0; s < c.pods.length; s++) {
            if (s === d) continue;
            const src = coveringIds(g, workloadIds, pods[s] as { workload: string; namespace: string });
            const egressOpen = (c.egressOf[s] ?? []).length === 0;
            const ingressOpen = (c.ingressOf[d] ?? []).length === 0;
            const allowed = col.allowed[s] === 1;
            if (egressOpen && ingressOpen) {
              assert.ok(allowed, 'neither side isolated: allowed');
              assert.ok(edge(src, 'not_isolated', 'open', '') && edge(['not_isolated'], dst, 'open', port), `${s}->${d} ${port}: open path`);
            } else if (allowed) {
              assert.ok(edge(src, dst, 'policy', port), `${s}->${d} ${port}: a policy edge`);
            }
          }
        }
        // What the open edges claim holds: every open source pod reaches every open destination pod on its ports.
        const intoHub = g.edges.filter((e) => e.to === 'not_isolated').map((e) => e.from);
        for (const e of g.edges.filter((x) => x.from === 'not_isolated')) {
          for (const col of m.columns.filter((x) => workloadIds.get(pods[x.to]?.workload ?? '') === e.to && (c.ingressOf[x.to] ?? []).length === 0)) {
            assert.ok(expand(e.label).includes(`${col.port.port}/${col.port.protocol}`), 'the open ports are the declared ones');
            for (let s = 0; s < c.pods.length; s++) {
              if (s === col.to || (c.egressOf[s] ?? []).length > 0) continue;
              if (coveringIds(g, workloadIds, pods[s] as { workload: string; namespace: string }).some((id) => intoHub.includes(id))) assert.equal(col.allowed[s], 1);
            }
          }
        }
        // Deterministic: the same input gives the same bytes.
        const again = buildGraph(buildCluster(w), aggregate(buildCluster(w), 'policy'), { open: true });
        assert.equal(renderDot(again), renderDot(g));
        assert.equal(renderMermaid(again), renderMermaid(g));
      }),
      { numRuns: 200 },
    );
  });
});

describe('reach filters: --namespace, --workload, --only-isolated', () => {
  it('--only-isolated keeps only the pairs a policy decides: the flows of the intents, not the unisolated namespaces', async () => {
    const r = await run('-f', ...EXAMPLES, '--only-isolated');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(tableRows(r.out), [
      'billing/billing-api | 8080/TCP | - | billing/invoice-worker',
      'kube-system/coredns-5d78c-x2p4q | 53/TCP 53/UDP | - | billing/*',
      'payments/ledger | 9103/TCP | - | monitoring/prometheus',
      'payments/ledger | 50052/TCP | - | payments/payments-api',
      'payments/payments-api | 9102/TCP | - | monitoring/prometheus',
      'shop/backend | 9000/TCP | - | shop/frontend',
      'shop/frontend | 8080/TCP | - | ingress-nginx/ingress-nginx',
      'shop/postgres | 5432/TCP | - | shop/backend',
    ]);
    assert.match(r.out, /\n--only-isolated: only the pod pairs a NetworkPolicy decides \(destination isolated for ingress or source for egress\)\.\n$/);
    const all = await run('-f', ...EXAMPLES);
    assert.doesNotMatch(all.out, /--only-isolated/);
    assert.ok(tableRows(all.out).some((l) => l.startsWith('ingress-nginx/ingress-nginx | 80/TCP 443/TCP')), 'without the flag the open destinations are there');
  });

  it('--namespace keeps the rows to or from a workload of the namespace, in table, json, dot and mermaid', async () => {
    const table = await run('-f', ...EXAMPLES, '--namespace', 'payments', '--only-isolated');
    assert.deepEqual(tableRows(table.out), [
      'payments/ledger | 9103/TCP | - | monitoring/prometheus',
      'payments/ledger | 50052/TCP | - | payments/payments-api',
      'payments/payments-api | 9102/TCP | - | monitoring/prometheus',
    ]);
    const json = JSON.parse((await run('-f', ...EXAMPLES, '-n', 'billing', '--only-isolated', '-o', 'json')).out) as { workloads: { name: string }[]; connections: { from: string[]; to: string }[] };
    assert.deepEqual(json.workloads.map((w) => w.name), ['billing/billing-api', 'billing/invoice-worker']);
    assert.deepEqual(json.connections.map((c) => `${c.from.join(',')}>${c.to}`), ['billing/invoice-worker>billing/billing-api', 'billing/*>kube-system/coredns-5d78c-x2p4q']);
    const dot = (await run('-f', ...EXAMPLES, '-n', 'billing', '--only-isolated', '-o', 'dot')).out;
    assert.deepEqual(dot.match(/label="[^"]*";\n\s+labelloc=t/g)?.map((l) => l.split('"')[1]), ['billing', 'kube-system']);
    assert.doesNotMatch(dot, /shop|payments|not_isolated/);
    const mermaid = (await run('-f', ...EXAMPLES, '-n', 'billing', '--only-isolated', '-o', 'mermaid')).out;
    assert.deepEqual(mermaid.match(/subgraph c\d+\["[^"]*"\]/g), ['subgraph c0["billing"]', 'subgraph c2["kube-system"]']);
    assert.equal((mermaid.match(/-->/g) ?? []).length, 2);
  });

  it('--workload and --namespace take repeats and comma lists, and select the union', async () => {
    const a = await run('-f', ...EXAMPLES, '--only-isolated', '--workload', 'shop/postgres,billing/billing-api');
    const b = await run('-f', ...EXAMPLES, '--only-isolated', '--workload', 'shop/postgres', '--workload', 'billing/billing-api');
    assert.equal(a.out, b.out);
    assert.deepEqual(tableRows(a.out), [
      'billing/billing-api | 8080/TCP | - | billing/invoice-worker',
      'kube-system/coredns-5d78c-x2p4q | 53/TCP 53/UDP | - | billing/*', // billing/* covers billing/billing-api
      'shop/postgres | 5432/TCP | - | shop/backend',
    ]);
    const c = await run('-f', ...EXAMPLES, '--only-isolated', '-n', 'billing', '--workload', 'shop/postgres');
    assert.equal(tableRows(c.out).length, 3);
  });

  it('keeps a row whose sources cover the filter (ns/* and *), whole', async () => {
    const r = await run('-f', ...EXAMPLES, '--workload', 'billing/invoice-worker', '--only-isolated');
    assert.deepEqual(tableRows(r.out), ['billing/billing-api | 8080/TCP | - | billing/invoice-worker', 'kube-system/coredns-5d78c-x2p4q | 53/TCP 53/UDP | - | billing/*']);
    const all = await run('-f', path.join(ROOT, 'examples', 'shop'), '--workload', 'shop/debug');
    assert.deepEqual(tableRows(all.out), ['ingress-nginx/ingress-nginx | 80/TCP 443/TCP | - | *'], 'debug reaches ingress-nginx as one of "*"');
  });

  it('refuses a name that matches nothing, a workload without its namespace, and filters with a question or --per-pod (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['-n', 'shopp'], /--namespace "shopp": no pod of the files is in that namespace/],
      [['--workload', 'frontend'], /--workload "frontend": give NAMESPACE\/NAME/],
      [['--workload', 'shop/front'], /--workload "shop\/front": no such workload/],
      [['-n', 'shop', '-o', 'json', '--per-pod'], /filter the aggregated view, not --per-pod/],
      [['--only-isolated', '--from', 'shop/frontend', '--to', 'shop/backend', '--port', '9000'], /not --from\/--to\/--port/],
    ];
    for (const [args, message] of cases) {
      const r = await run('-f', ...EXAMPLES, ...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, message);
      assert.equal(r.out, '');
    }
    assert.equal(parseFilter(undefined, [], []), undefined, 'no filter');
  });
});

describe('reach graph output', () => {
  it('draws a cluster per namespace, policy edges solid and labelled, open edges dashed grey through one node', async () => {
    const dot = (await run('-f', ...EXAMPLES, '-o', 'dot')).out;
    assert.match(dot, /^digraph reach \{/);
    const clusters = [...dot.matchAll(/subgraph (cluster_\d+) \{\n\s+label="([^"]*)"/g)].map((m) => m[2]);
    assert.deepEqual(clusters, ['billing', 'ingress-nginx', 'kube-system', 'monitoring', 'payments', 'shop']);
    const id = (label: string): string => new RegExp(`(\\w+) \\[label="${label}"\\]`).exec(dot)?.[1] ?? `no node ${label}`;
    assert.ok(dot.includes(`${id('frontend')} -> ${id('backend')} [label="9000/TCP"];`));
    assert.ok(dot.includes(`${id('ingress-nginx')} -> ${id('frontend')} [label="8080/TCP"];`));
    assert.ok(dot.includes(`not_isolated -> ${id('ingress-nginx')} [label="80/TCP 443/TCP", style=dashed, color=gray60, fontcolor=gray40];`));
    assert.ok(!/not_isolated -> \w+ \[label="[^"]*"\];/.test(dot), 'every open edge is dashed');
    assert.ok(!dot.includes(`-> ${id('debug')}`), 'nothing reaches the isolated debug pod');
    const mermaid = (await run('-f', ...EXAMPLES, '-o', 'mermaid')).out;
    assert.match(mermaid, /^flowchart LR/);
    assert.match(mermaid, /w\d+ -->\|"9000\/TCP"\| w\d+/);
    assert.match(mermaid, /not_isolated -.->\|"80\/TCP 443\/TCP"\| w\d+/);
    assert.match(mermaid, /\n {2}linkStyle [\d,]+ stroke:#999/);
    // --only-isolated: no open layer at all.
    const only = (await run('-f', ...EXAMPLES, '-o', 'dot', '--only-isolated')).out;
    assert.doesNotMatch(only, /not_isolated|dashed, color/);
  });

  it('folds a namespace whose every pod is open to one edge, and says "k of n pods" of a workload only partly open', () => {
    const pod = (ns: string, name: string, app: string, port = 80): Pod => ({ metadata: { namespace: ns, name, labels: { app } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: port }] }] } });
    const c = buildCluster({
      namespaces: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }],
      pods: [pod('a', 'x1', 'x'), pod('a', 'y1', 'y'), pod('b', 'z1', 'z'), pod('b', 'z2', 'z')],
      policies: [
        // Both pods of b/z are isolated both ways: z is not open at all; a's two workloads are wholly open.
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'b', name: 'p' }, spec: { podSelector: { matchLabels: { app: 'z' } }, policyTypes: ['Egress'] } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'b', name: 'q' }, spec: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['z'] }] }, policyTypes: ['Ingress'] } },
      ],
    });
    const g = buildGraph(c, aggregate(c, 'policy'), { open: true });
    const edges = g.edges.map((e) => `${e.from}>${e.to}:${e.label}:${e.style}`);
    assert.deepEqual(edges, ['a0>not_isolated::open', 'not_isolated>w0:80/TCP:open', 'not_isolated>w1:80/TCP:open']);
    // Only z2 is isolated: z is partly open both ways.
    const c2 = buildCluster({
      namespaces: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }],
      pods: [pod('a', 'x1', 'x'), pod('b', 'z1', 'z'), { ...pod('b', 'z2', 'z'), metadata: { namespace: 'b', name: 'z2', labels: { app: 'z', locked: 'yes' } } }],
      policies: [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'b', name: 'p' }, spec: { podSelector: { matchLabels: { locked: 'yes' } }, policyTypes: ['Ingress', 'Egress'] } }],
    });
    const g2 = buildGraph(c2, aggregate(c2, 'policy'), { open: true });
    assert.deepEqual(
      g2.edges.map((e) => `${e.from}>${e.to}:${e.label}`),
      ['w0>not_isolated:', 'w1>not_isolated:1 of 2 pods', 'not_isolated>w0:80/TCP', 'not_isolated>w1:80/TCP, 1 of 2 pods'],
    );
  });

  it('escapes hostile names: ids stay the renderer\'s, labels cannot end their string', () => {
    const evil = ['a"];\n  x -> y; "', 'back\\slash\\N', 'end', 'p|q]#x;<b>%%', '*'];
    const pods: Pod[] = evil.map((name, i) => ({ metadata: { namespace: i % 2 === 0 ? 'n"s' : 'end', name }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } }));
    const c = buildCluster({ namespaces: [], pods, policies: [] });
    const g = buildGraph(c, aggregate(c, 'policy'), { open: true });
    const dot = renderDot(g);
    // Every line is a statement the renderer wrote: ids are generated, every string is one quoted token.
    for (const line of dot.split('\n').slice(1, -2)) {
      const bare = line.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      assert.match(bare, /^\s*(\w+ \[[^"\]]*(""[^"\]]*)*\];|\w+ -> \w+ \[[^\]]*\];|subgraph cluster_\d+ \{|\}|label="";( labelloc=[bt];)?|[\w=;", ]+;)$/, `line: ${line}`);
    }
    assert.equal(dotString('a"b\\c\nd'), '"a\\"b\\\\c\\\\u000ad"');
    const mermaid = renderMermaid(g);
    for (const quoted of mermaid.match(/"[^"]*"/g) ?? []) assert.match(quoted, /^"[A-Za-z0-9 ./:,()_*#;-]*"$/, quoted);
    assert.equal(mermaidText('p|q]#"'), 'p#124;q#93;#35;#34;');
    // Mermaid's entity codes decode back to the name.
    const decode = (t: string): string => t.replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
    for (const name of evil) assert.equal(decode(mermaidText(name)), name);
    // The pod named "*" is a workload of its own, not "every pod".
    assert.ok(g.namespaces.some((n) => n.nodes.some((x) => x.kind === 'workload' && x.label === '*')));
  });

  it('writes the same bytes whatever the order of the files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netseg-graph-'));
    const shop = path.join(ROOT, 'examples', 'shop');
    for (const f of fs.readdirSync(shop)) fs.copyFileSync(path.join(shop, f), path.join(dir, `z-${f}`));
    const a = await run('-f', ...EXAMPLES, '-o', 'dot');
    const b = await run('-f', EXAMPLES[2] as string, EXAMPLES[1] as string, dir, '-o', 'dot');
    assert.equal(a.out, b.out);
    const m1 = await run('-f', ...EXAMPLES, '-o', 'mermaid');
    const m2 = await run('-f', ...[...EXAMPLES].reverse(), '-o', 'mermaid');
    assert.equal(m1.out, m2.out);
  });
});
