/**
 * Human views of the reachability matrix: pods are grouped into workloads (an `app.kubernetes.io/name` or
 * `app` label, else the controlling owner, else the pod itself), and each workload pair shows the ports that
 * are open. A port open for only some of the pod pairs is marked "*", so a partial opening is never hidden.
 * A pod's connections to itself are left out: loopback is always allowed and says nothing about policies.
 */
import { labelValue } from '../model/labels';
import type { Matrix, PodInfo } from '../reach';

export function workloadOf(pod: PodInfo): string {
  const labels = pod.labels;
  const name = labelValue(labels, 'app.kubernetes.io/name') ?? labelValue(labels, 'app') ?? ownerName(pod) ?? pod.name;
  return `${pod.namespace}/${name}`;
}

/** A ReplicaSet's pods belong to its Deployment: drop the pod-template hash the Deployment appends. */
function ownerName(pod: PodInfo): string | undefined {
  const owner = pod.pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.pod.metadata.ownerReferences?.[0];
  if (!owner) return undefined;
  return owner.kind === 'ReplicaSet' ? owner.name.replace(/-[a-z0-9]{5,10}$/, '') : owner.name;
}

interface PortTally {
  allowed: number;
  total: number;
}

export interface WorkloadMatrix {
  readonly workloads: readonly string[];
  /** cells[from][to]: "80/TCP" → how many pod pairs may connect, of how many pairs checked. */
  readonly cells: readonly (readonly Map<string, PortTally>[])[];
}

export function workloadMatrix(m: Matrix): WorkloadMatrix {
  const names = m.pods.map(workloadOf);
  const workloads = [...new Set(names)].sort();
  const indexOf = new Map(workloads.map((w, i) => [w, i]));
  const wi = names.map((n) => indexOf.get(n) ?? 0);
  const cells = workloads.map(() => workloads.map(() => new Map<string, PortTally>()));
  for (const col of m.columns) {
    const key = `${col.port.port}/${col.port.protocol}`;
    const row = wi[col.to] ?? 0;
    for (let s = 0; s < m.pods.length; s++) {
      if (s === col.to) continue;
      const cell = cells[wi[s] ?? 0]?.[row];
      if (!cell) continue;
      const tally = cell.get(key) ?? { allowed: 0, total: 0 };
      tally.total++;
      tally.allowed += col.allowed[s] ?? 0;
      cell.set(key, tally);
    }
  }
  return { workloads, cells };
}

function portOrder(a: string, b: string): number {
  const [pa, qa] = a.split('/');
  const [pb, qb] = b.split('/');
  return Number(pa) - Number(pb) || (qa ?? '').localeCompare(qb ?? '');
}

/** The open ports of one cell, e.g. "80/TCP 9090/TCP*", or "-" when nothing is open. */
export function cellText(cell: ReadonlyMap<string, PortTally>): string {
  const open = [...cell.entries()]
    .filter(([, t]) => t.allowed > 0)
    .sort(([a], [b]) => portOrder(a, b))
    .map(([k, t]) => (t.allowed < t.total ? `${k}*` : k));
  return open.length > 0 ? open.join(' ') : '-';
}

export function renderTable(m: Matrix): string {
  const wm = workloadMatrix(m);
  if (wm.workloads.length === 0) return 'no pods\n';
  const header = ['FROM \\ TO', ...wm.workloads];
  const rows = wm.workloads.map((w, i) => [w, ...wm.workloads.map((_, j) => cellText(wm.cells[i]?.[j] ?? new Map()))]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const legend = '\n(ports open between other pods; "*" = open for only some pod pairs; a pod always reaches itself)\n';
  return [line(header), ...rows.map(line)].join('\n') + '\n' + legend;
}

interface Edge {
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

function edges(wm: WorkloadMatrix): Edge[] {
  const out: Edge[] = [];
  wm.cells.forEach((row, i) =>
    row.forEach((cell, j) => {
      const label = cellText(cell);
      if (label !== '-') out.push({ from: i, to: j, label });
    }),
  );
  return out;
}

export function renderGraph(m: Matrix, format: 'dot' | 'mermaid'): string {
  const wm = workloadMatrix(m);
  const es = edges(wm);
  if (format === 'dot') {
    const nodes = wm.workloads.map((w, i) => `  n${i} [label=${JSON.stringify(w)}];`);
    const arrows = es.map((e) => `  n${e.from} -> n${e.to} [label=${JSON.stringify(e.label)}];`);
    return ['digraph reach {', '  rankdir=LR;', '  node [shape=box];', ...nodes, ...arrows, '}', ''].join('\n');
  }
  const nodes = wm.workloads.map((w, i) => `  n${i}["${w.replace(/"/g, '#quot;')}"]`);
  const arrows = es.map((e) => `  n${e.from} -->|"${e.label}"| n${e.to}`);
  return ['flowchart LR', ...nodes, ...arrows, ''].join('\n');
}
