/**
 * `netseg reach -o dot|mermaid`: the per-workload view as a picture a reviewer can read.
 * - Nodes are workloads (reach-render's workloadOf), one cluster (subgraph) per namespace.
 * - Solid, labelled edges are the pairs a NetworkPolicy decides (the destination pod is isolated for ingress or
 *   the source pod for egress), folded per workload pair as the table folds them (`--only-isolated`'s rows).
 * - Everything else that is allowed is allowed only because neither side is isolated, and that set is a product:
 *   every pod not isolated for egress may reach every pod not isolated for ingress. It is drawn exactly, in
 *   |sources| + |destinations| dashed grey edges through one "not isolated" node instead of |sources| ×
 *   |destinations| edges, a namespace (or every pod) folded to one edge when all its pods are open.
 *   `--only-isolated` leaves it out.
 * Ids are made by the renderer (w0, a0, …), never from names, so they are injective whatever the names; names
 * only appear in quoted, escaped labels. Output is a pure function of the input: same files, same bytes.
 */
import type { Cluster, DeclaredPort } from '../reach';
import { type Aggregation, type Connection, type SourceRef, type Workload, mergeRanges, partialText, sourcesOf, workloadOf } from './reach-render';
import { type ReachFilter, rowSelected, selects } from './reach-view';

export type NodeKind = 'workload' | 'namespace-pods' | 'all-pods' | 'not-isolated';

export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly kind: NodeKind;
}

export type EdgeStyle = 'policy' | 'open';

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly style: EdgeStyle;
}

export interface Graph {
  /** One per namespace with a node, in name order; `id` is the index's. */
  readonly namespaces: readonly { readonly id: string; readonly name: string; readonly nodes: readonly GraphNode[] }[];
  /** Nodes outside every namespace: every pod (`*`), not isolated. */
  readonly outside: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export interface GraphOptions {
  /** Draw the pairs open only because neither side is isolated (false with --only-isolated). */
  readonly open: boolean;
  readonly filter?: ReachFilter;
}

const ALL_PODS = 'all_pods';
const NOT_ISOLATED = 'not_isolated';

/**
 * The graph of `policy` (aggregate(cluster, 'policy'): the policy-decided pairs) and, with `open`, of the pairs
 * open by default, computed from the cluster's isolation.
 */
export function buildGraph(cluster: Cluster, policy: Aggregation, opts: GraphOptions): Graph {
  const workloads = policy.workloads;
  const namespaces = [...new Set(workloads.map((w) => w.namespace))].sort();
  const nsIndex = new Map(namespaces.map((n, i) => [n, i]));
  const byName = new Map(workloads.map((w, i) => [w.name, i]));
  const used = new Set<string>();
  const edges: GraphEdge[] = [];
  const workloadId = (i: number): string => `w${i}`;
  const refId = (r: SourceRef): string => (r.kind === 'all' ? ALL_PODS : r.kind === 'namespace' ? `a${nsIndex.get(r.namespace) ?? 0}` : workloadId(r.index));
  const filter = opts.filter;
  const workloadByName = new Map(workloads.map((w) => [w.name, w]));
  // With no filter every workload is drawn, isolated ones too (a box with no edge says "nothing reaches it").
  workloads.forEach((w, i) => {
    if (!filter || selects(filter, w)) used.add(workloadId(i));
  });
  policy.forEachDestination((rows) => {
    for (const c of rows) {
      if (filter && !rowSelected(filter, c, workloads, workloadByName)) continue;
      const to = workloadId(byName.get(c.to) ?? 0);
      const label = edgeLabel(c);
      for (const r of sourcesOf(c)) edges.push({ from: refId(r), to, label, style: 'policy' });
    }
  });
  if (opts.open) edges.push(...openEdges(cluster, workloads, namespaces, refId, filter));
  for (const e of edges) used.add(e.from).add(e.to);

  const nodeOf = (id: string): GraphNode | undefined => {
    if (id === ALL_PODS) return { id, label: 'every pod of every namespace', kind: 'all-pods' };
    if (id === NOT_ISOLATED) return { id, label: 'not isolated: no policy on either side', kind: 'not-isolated' };
    if (id.startsWith('a')) return { id, label: 'every pod', kind: 'namespace-pods' };
    const w = workloads[Number(id.slice(1))];
    return w && { id, label: w.name.slice(w.namespace.length + 1), kind: 'workload' };
  };
  const nsOf = (id: string): number | undefined => (id.startsWith('a') ? Number(id.slice(1)) : id.startsWith('w') ? nsIndex.get(workloads[Number(id.slice(1))]?.namespace ?? '') : undefined);
  const order = (id: string): number => (id.startsWith('a') ? -1 : Number(id.slice(1)));
  const ids = [...used].filter((id) => id !== ALL_PODS && id !== NOT_ISOLATED).sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0));
  const clusters = namespaces
    .map((name, i) => ({ id: `${i}`, name, nodes: ids.filter((id) => nsOf(id) === i).map(nodeOf).filter((n): n is GraphNode => n !== undefined) }))
    .filter((c) => c.nodes.length > 0);
  const outside = [ALL_PODS, NOT_ISOLATED].filter((id) => used.has(id)).map(nodeOf).filter((n): n is GraphNode => n !== undefined);
  return { namespaces: clusters, outside, edges };
}

function edgeLabel(c: Connection): string {
  return [...c.allowed, ...c.partial.map(partialText)].join(' ');
}

/** Per workload: its pods not isolated for egress, and for ingress (with the ports those declare). */
interface Openness {
  readonly egress: number[];
  readonly ingress: number[];
}

/**
 * The pairs open only because neither side is isolated, as edges through the "not isolated" node: a source edge
 * from each workload with pods not isolated for egress (one from `ns/*` when every pod of a namespace of two or
 * more workloads is, one from `*` when every pod is), and an edge to each workload with pods not isolated for
 * ingress, labelled with the ports those pods declare. "k of n pods" when only some pods of the workload are
 * open. A filter keeps the sources when a selected workload is a destination here, and the other way round.
 */
function openEdges(cluster: Cluster, workloads: readonly Workload[], namespaces: readonly string[], refId: (r: SourceRef) => string, filter: ReachFilter | undefined): GraphEdge[] {
  const index = new Map(workloads.map((w, i) => [w.name, i]));
  const open: Openness[] = workloads.map(() => ({ egress: [], ingress: [] }));
  cluster.pods.forEach((p, i) => {
    const o = open[index.get(workloadOf(p)) ?? -1];
    if (!o) return;
    if ((cluster.egressOf[i] ?? []).length === 0) o.egress.push(i);
    if ((cluster.ingressOf[i] ?? []).length === 0 && p.ports.length > 0) o.ingress.push(i);
  });
  const srcPods = open.flatMap((o) => o.egress);
  const dstPods = open.flatMap((o) => o.ingress);
  // A pod alone on both sides would only reach itself, which is not a pair.
  const onlySelf = (mine: readonly number[], others: readonly number[]): boolean => mine.length === 1 && others.length === 1 && mine[0] === others[0];
  const sources = workloads.map((_, i) => i).filter((i) => (open[i]?.egress.length ?? 0) > 0 && !onlySelf(open[i]?.egress ?? [], dstPods));
  const dests = workloads.map((_, i) => i).filter((i) => (open[i]?.ingress.length ?? 0) > 0 && !onlySelf(open[i]?.ingress ?? [], srcPods));
  if (sources.length === 0 || dests.length === 0) return [];
  if (filter) {
    const picked = (i: number): boolean => selects(filter, workloads[i] as Workload);
    if (!sources.some(picked) && !dests.some(picked)) return [];
  }
  const podsText = (n: number, of: number): string => (n === of ? '' : `${n} of ${of} pods`);
  const out: GraphEdge[] = [];
  // Sources, folded as the table folds them: a namespace whose every workload (two or more) is wholly open.
  const full = (i: number): boolean => (open[i]?.egress.length ?? 0) === (workloads[i]?.pods ?? -1);
  const perNs = namespaces.map((ns) => workloads.map((w, i) => ({ w, i })).filter((x) => x.w.namespace === ns));
  const whole = perNs.map((ws) => ws.length >= 2 && ws.every((x) => full(x.i) && sources.includes(x.i)));
  if (namespaces.length > 1 && whole.every((x) => x)) out.push({ from: refId({ kind: 'all' }), to: NOT_ISOLATED, label: '', style: 'open' });
  else {
    perNs.forEach((ws, n) => {
      if (whole[n]) out.push({ from: refId({ kind: 'namespace', namespace: namespaces[n] ?? '' }), to: NOT_ISOLATED, label: '', style: 'open' });
      else for (const { i } of ws.filter((x) => sources.includes(x.i))) out.push({ from: refId({ kind: 'workload', index: i }), to: NOT_ISOLATED, label: podsText(open[i]?.egress.length ?? 0, workloads[i]?.pods ?? 0), style: 'open' });
    });
  }
  for (const i of dests) {
    const pods = open[i]?.ingress ?? [];
    const ports = new Map<string, DeclaredPort>();
    for (const p of pods) for (const port of cluster.pods[p]?.ports ?? []) ports.set(`${port.protocol}/${port.port}`, port);
    const sorted = [...ports.values()].sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.port - b.port));
    const label = [mergeRanges(sorted).join(' '), podsText(pods.length, workloads[i]?.pods ?? 0)].filter((x) => x !== '').join(', ');
    out.push({ from: NOT_ISOLATED, to: refId({ kind: 'workload', index: i }), label, style: 'open' });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ dot

/** A DOT double-quoted string: `"` and `\` escaped (so no `\N`, `\G`, `\l` label escapes), control characters shown as \uXXXX. */
export function dotString(text: string): string {
  // eslint-disable-next-line no-control-regex
  const body = text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${body}"`;
}

const LEGEND_TEXT = 'solid: allowed by a NetworkPolicy (ports; "(a/b)": a of b pod pairs)    dashed grey: allowed only because no policy isolates either side';

export function renderDot(g: Graph): string {
  const node = (n: GraphNode, indent: string): string => {
    const attrs =
      n.kind === 'workload'
        ? ''
        : n.kind === 'not-isolated'
          ? ', shape=ellipse, style=dashed, color=gray50, fontcolor=gray40'
          : ', shape=box, style="rounded,dashed"';
    return `${indent}${n.id} [label=${dotString(n.label)}${attrs}];`;
  };
  const lines = [
    'digraph reach {',
    '  rankdir=LR;',
    '  newrank=true;',
    '  fontname="Helvetica"; fontsize=11;',
    `  label=${dotString(LEGEND_TEXT)}; labelloc=b;`,
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const ns of g.namespaces) {
    lines.push(`  subgraph cluster_${ns.id} {`, `    label=${dotString(ns.name)};`, '    labelloc=t; fontsize=13; style=rounded; color=gray60;');
    for (const n of ns.nodes) lines.push(node(n, '    '));
    lines.push('  }');
  }
  for (const n of g.outside) lines.push(node(n, '  '));
  for (const e of g.edges) {
    // Edges into "not isolated" do not rank it: it sits just before the destinations it opens, so it does
    // not pull every open source into one long column.
    const style = e.style === 'policy' ? '' : `, style=dashed, color=gray60, fontcolor=gray40${e.to === NOT_ISOLATED ? ', constraint=false' : ''}`;
    lines.push(`  ${e.from} -> ${e.to} [label=${dotString(e.label)}${style}];`);
  }
  lines.push('}', '');
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------------ mermaid

/**
 * Text for a mermaid quoted label: letters, digits and a few safe signs as they are, every other character as
 * mermaid's entity code `#<decimal>;` (so `"`, `]`, `|`, `#`, `<`, newlines and markdown cannot end the label).
 */
export function mermaidText(text: string): string {
  let out = '';
  for (const ch of text) out += /^[A-Za-z0-9 ./:,()_*-]$/.test(ch) ? ch : `#${ch.codePointAt(0) ?? 0};`;
  return out;
}

export function renderMermaid(g: Graph): string {
  const node = (n: GraphNode, indent: string): string => {
    const text = `"${mermaidText(n.label)}"`;
    const shape = n.kind === 'not-isolated' ? `([${text}])` : n.kind === 'workload' ? `[${text}]` : `(${text})`;
    return `${indent}${n.id}${shape}${n.kind === 'workload' ? '' : `:::${n.kind === 'not-isolated' ? 'open' : 'group'}`}`;
  };
  const lines = ['flowchart LR', '  classDef open stroke-dasharray:4 3,stroke:#888,color:#666', '  classDef group stroke-dasharray:4 3'];
  for (const ns of g.namespaces) {
    lines.push(`  subgraph c${ns.id}["${mermaidText(ns.name)}"]`);
    for (const n of ns.nodes) lines.push(node(n, '    '));
    lines.push('  end');
  }
  for (const n of g.outside) lines.push(node(n, '  '));
  const grey: number[] = [];
  g.edges.forEach((e, i) => {
    const label = e.label === '' ? '' : `|"${mermaidText(e.label)}"|`;
    lines.push(`  ${e.from} ${e.style === 'policy' ? '-->' : '-.->'}${label} ${e.to}`);
    if (e.style === 'open') grey.push(i);
  });
  if (grey.length > 0) lines.push(`  linkStyle ${grey.join(',')} stroke:#999,color:#666`);
  lines.push('');
  return lines.join('\n');
}
