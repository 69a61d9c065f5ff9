/**
 * The default view of `netseg reach`: connectivity per workload pair, small enough to read at any cluster size.
 * Pods are grouped into workloads (the controlling owner, a ReplicaSet's hash removed; else the
 * `app.kubernetes.io/name` or `app` label; else the pod itself), always within one namespace. For a pair of
 * workloads and a port the destination pods declare, the per-pod truth is folded without losing anything:
 * - allowed: EVERY source pod may connect to EVERY destination pod that declares the port;
 * - partial: SOME pod pairs may and some may not, with the count (never shown as allowed, never hidden);
 * - a port no pair may use is not listed.
 * When every workload (two or more) of a namespace has the same allowed ports to a destination (and none
 * partial), they are one row `ns/*`; when every namespace does, one row `*`. A pod's connection to itself (always allowed) is not
 * a pair: it neither counts nor prevents `ns/*`. Rows are grouped by destination and computed one destination
 * workload at a time from matrix columns, so the pod-to-pod matrix never exists in memory.
 */
import { labelValue } from '../model/labels';
import type { Cluster, DeclaredPort, PodInfo } from '../reach';
import { matrixColumns } from '../reach';

export function workloadOf(pod: PodInfo): string {
  const labels = pod.labels;
  const name = ownerName(pod) ?? labelValue(labels, 'app.kubernetes.io/name') ?? labelValue(labels, 'app') ?? pod.name;
  return `${pod.namespace}/${name}`;
}

/** A ReplicaSet's pods belong to its Deployment: drop the pod-template hash the Deployment appends. */
function ownerName(pod: PodInfo): string | undefined {
  const refs = Array.isArray(pod.pod.metadata.ownerReferences) ? pod.pod.metadata.ownerReferences : [];
  const owner = refs.find((o) => o?.controller === true) ?? refs[0];
  if (!owner || typeof owner.name !== 'string' || owner.name === '') return undefined;
  return owner.kind === 'ReplicaSet' ? owner.name.replace(/-[a-z0-9]{5,10}$/, '') : owner.name;
}

export interface Workload {
  readonly name: string;
  readonly namespace: string;
  readonly pods: number;
}

/** Ports of some (not all) pod pairs: `pairs` of the `of` pairs checked may connect. */
export interface PartialPorts {
  readonly ports: string;
  readonly pairs: number;
  readonly of: number;
}

export interface Connection {
  /**
   * The sources that have exactly these allowed and partial ports to `to`, each "ns/workload", "ns/*" (every pod
   * of the namespace in the files) or "*" (every pod in the files).
   */
  readonly from: readonly string[];
  readonly to: string;
  /** "80/TCP", "8000-8100/TCP": consecutive declared ports merged. */
  readonly allowed: readonly string[];
  readonly partial: readonly PartialPorts[];
}

/**
 * A source of a row, as the graph draws it: a workload (its index in `workloads`), every pod of a namespace
 * (`ns/*`) or every pod (`*`). Kept beside the row, not in it (the JSON rows stay as they are), because a
 * workload named `*` (a pod named so in a file) would make `ns/*` ambiguous as text.
 */
export type SourceRef = { readonly kind: 'workload'; readonly index: number } | { readonly kind: 'namespace'; readonly namespace: string } | { readonly kind: 'all' };

const sourceRefs = new WeakMap<Connection, readonly SourceRef[]>();

/** The sources of a row `aggregate` made, in the order of its `from`. */
export function sourcesOf(c: Connection): readonly SourceRef[] {
  return sourceRefs.get(c) ?? [];
}

/**
 * Which allowed pod pairs are folded: `all` of them (the default view), or `policy`, only those a NetworkPolicy
 * decides: the destination pod is isolated for ingress or the source pod for egress (`--only-isolated`). The
 * others are open only because no policy isolates either side.
 */
export type Relation = 'all' | 'policy';

export interface Aggregation {
  readonly workloads: readonly Workload[];
  /** Calls visit with each destination workload's rows, destinations in name order, sources in name order. */
  forEachDestination(visit: (rows: readonly Connection[]) => void): void;
}

interface PortTally {
  readonly port: DeclaredPort;
  /** Destination pods of the workload that declare this port. */
  declaring: number;
  /** allowed[w]: pod pairs (source in workload w, destination declaring the port) that may connect. */
  readonly allowed: Int32Array;
}

export function aggregate(cluster: Cluster, relation: Relation = 'all'): Aggregation {
  const names = cluster.pods.map(workloadOf);
  const sorted = [...new Set(names)].sort();
  const indexOf = new Map(sorted.map((w, i) => [w, i]));
  const wOf = Int32Array.from(names, (n) => indexOf.get(n) ?? 0);
  const members: number[][] = sorted.map(() => []);
  wOf.forEach((w, p) => members[w]?.push(p));
  const workloads: Workload[] = sorted.map((name, i) => ({
    name,
    namespace: cluster.pods[members[i]?.[0] ?? 0]?.namespace ?? '',
    pods: members[i]?.length ?? 0,
  }));
  const namespaces = new Map<string, number[]>();
  workloads.forEach((w, i) => namespaces.set(w.namespace, [...(namespaces.get(w.namespace) ?? []), i]));
  const column = matrixColumns(cluster);
  const egressIsolated = Uint8Array.from(cluster.pods, (_, i) => ((cluster.egressOf[i] ?? []).length > 0 ? 1 : 0));
  const scratch = new Scratch(workloads.length);
  return {
    workloads,
    forEachDestination(visit) {
      workloads.forEach((_, dw) => {
        const tallies = new Map<string, PortTally>();
        for (const d of members[dw] ?? []) {
          for (const port of cluster.pods[d]?.ports ?? []) {
            const key = `${port.port}/${port.protocol}`;
            let t = tallies.get(key);
            if (!t) tallies.set(key, (t = { port, declaring: 0, allowed: scratch.counts() }));
            t.declaring++;
            const col = column(d, port);
            col[d] = 0; // a pod to itself is not a pair
            if (relation === 'policy' && (cluster.ingressOf[d] ?? []).length === 0) keepOnly(col, egressIsolated);
            tally(col, wOf, t.allowed, scratch);
          }
        }
        if (tallies.size > 0) visit(rowsTo(dw, [...tallies.values()], workloads, namespaces, scratch.candidates()));
        scratch.reset([...tallies.values()].map((t) => t.allowed));
      });
    },
  };
}

/** col[s] stays 1 only where mask[s] is 1: the pairs of a destination that is not isolated, from sources that are. */
function keepOnly(col: Uint8Array, mask: Uint8Array): void {
  for (let s = 0; s < col.length; s++) col[s] = (col[s] as number) & (mask[s] as number);
}

/**
 * Per-destination working memory, reused: at 10,000 pods there are ~9,000 workloads and ~18,000 destination
 * ports, so a fresh count per workload per port, and a scan of every workload per destination, cost more than
 * the counting itself. Only the workloads touched (with at least one allowed pair) are read and cleared.
 */
class Scratch {
  private readonly pool: Int32Array[] = [];
  /** seen[w] === 1 when workload w has an allowed pair towards the current destination; touched lists them. */
  readonly seen: Uint8Array;
  readonly touched: number[] = [];
  constructor(private readonly size: number) {
    this.seen = new Uint8Array(size);
  }

  /** A count per workload, all zero. */
  counts(): Int32Array {
    return this.pool.pop() ?? new Int32Array(this.size);
  }

  /** The touched workloads in name order. */
  candidates(): Int32Array {
    return Int32Array.from(this.touched).sort();
  }

  /** Clears what the destination used (its counts go back to the pool). */
  reset(counts: readonly Int32Array[]): void {
    for (const c of counts) {
      for (const w of this.touched) c[w] = 0;
      this.pool.push(c);
    }
    for (const w of this.touched) this.seen[w] = 0;
    this.touched.length = 0;
  }
}

/** allowed[w] += the sources of workload w that the column allows. Small on purpose: V8 optimizes it alone. */
function tally(col: Uint8Array, wOf: Int32Array, allowed: Int32Array, scratch: Scratch): void {
  const { seen, touched } = scratch;
  for (let s = 0; s < col.length; s++) {
    if (col[s] === 1) {
      const w = wOf[s] as number;
      (allowed[w] as number)++;
      if (seen[w] === 0) {
        seen[w] = 1;
        touched.push(w);
      }
    }
  }
}

/**
 * The rows towards destination workload dw. Only source workloads with at least one allowed pair (candidates,
 * in name order) are looked at one by one; every other workload has pairs and none allowed (or, for a single-pod
 * destination itself, no pair at all). A candidate's state is a key, one code per destination port ('F' every
 * pair allowed, '.' none, 'a/b' a of b pairs), and sources are grouped by key: the cost is O(namespaces + ports)
 * per destination plus a short loop per candidate, with no object per source (10,000 pods make tens of millions
 * of candidates).
 */
function rowsTo(
  dw: number,
  tallies: PortTally[],
  workloads: readonly Workload[],
  namespaces: ReadonlyMap<string, number[]>,
  touched: Int32Array,
): Connection[] {
  tallies.sort((a, b) => compareProtocol(a.port.protocol, b.port.protocol) || a.port.port - b.port.port);
  const to = workloads[dw]?.name ?? '';
  const candidates = new Map<string, number[]>(); // namespace → candidate workloads, in name order
  let lastNs = '';
  let list: number[] = [];
  for (const w of touched) {
    const ns = workloads[w]?.namespace ?? '';
    if (ns !== lastNs || list.length === 0) {
      list = candidates.get(ns) ?? [];
      if (list.length === 0) candidates.set(ns, list);
      lastNs = ns;
    }
    list.push(w);
  }
  // A number (bit i: port i allowed for every pair) when nothing is partial and there are at most 30 ports, the
  // common case, else text; the two never compare equal.
  const keyOf = (w: number): StateKey => {
    const size = workloads[w]?.pods ?? 0;
    let mask = 0;
    for (let i = 0; i < tallies.length; i++) {
      const t = tallies[i] as PortTally;
      const of = size * t.declaring - (w === dw ? t.declaring : 0);
      const pairs = t.allowed[w] as number;
      if (pairs === of && i < 30) mask |= 1 << i;
      else if (pairs !== 0 || (pairs === of && i >= 30)) return textKey(w, size);
    }
    return mask;
  };
  const textKey = (w: number, size: number): string => {
    let key = '';
    for (const t of tallies) {
      const of = size * t.declaring - (w === dw ? t.declaring : 0);
      const pairs = t.allowed[w] as number;
      key += pairs === of ? 'F,' : pairs === 0 ? '.,' : `${pairs}/${of},`;
    }
    return key;
  };
  const vacuousDw = workloads[dw]?.pods === 1;
  const groups = new Map<StateKey, { from: string[]; refs: SourceRef[] }>();
  const add = (key: StateKey, from: string, ref: SourceRef): void => {
    const g = groups.get(key);
    if (g) {
      g.from.push(from);
      g.refs.push(ref);
    } else groups.set(key, { from: [from], refs: [ref] });
  };
  let common: StateKey | undefined;
  let everyone = namespaces.size > 1;
  for (const [ns, ws] of namespaces) {
    const cs = candidates.get(ns) ?? [];
    const rest = ws.length - cs.length;
    // The only workload of the namespace without an allowed pair is the single-pod destination itself (no pair).
    const onlyVacuous = rest === 1 && vacuousDw && ws.includes(dw) && !cs.includes(dw);
    if (cs.length === 0) {
      if (!onlyVacuous) everyone = false; // nothing allowed from this namespace
      continue;
    }
    const keys = cs.map(keyOf);
    const first = keys[0] as StateKey;
    const same = (rest === 0 || onlyVacuous) && !(typeof first === 'string' && first.includes('/')) && keys.every((k) => k === first);
    if (same && cs.length >= 2) {
      add(first, `${ns}/*`, { kind: 'namespace', namespace: ns });
    } else {
      cs.forEach((w, i) => add(keys[i] as string, workloads[w]?.name ?? '', { kind: 'workload', index: w }));
    }
    if (!same) everyone = false;
    else if (common === undefined) common = first;
    else if (common !== first) everyone = false;
  }
  if (everyone && common !== undefined) return [withRefs({ from: ['*'], to, ...decode(common, tallies) }, [{ kind: 'all' }])];
  return [...groups].map(([key, g]) => withRefs({ from: g.from, to, ...decode(key, tallies) }, g.refs));
}

function withRefs(c: Connection, refs: readonly SourceRef[]): Connection {
  sourceRefs.set(c, refs);
  return c;
}

/** A source's state towards one destination: a bitmask of fully allowed ports, or one code per port. */
type StateKey = number | string;

/** A state key back to ports: 'F' codes (or mask bits) as allowed ranges, 'a/b' codes as partial ranges. */
function decode(key: StateKey, tallies: readonly PortTally[]): { allowed: string[]; partial: PartialPorts[] } {
  const codes = typeof key === 'number' ? tallies.map((_, i) => ((key >>> i) & 1 ? 'F' : '.')) : key.split(',');
  const full: DeclaredPort[] = [];
  const partial: { port: DeclaredPort; pairs: number; of: number }[] = [];
  tallies.forEach((t, i) => {
    const code = codes[i] ?? '.';
    if (code === 'F') full.push(t.port);
    else if (code !== '.') {
      const [pairs, of] = code.split('/').map(Number);
      partial.push({ port: t.port, pairs: pairs ?? 0, of: of ?? 0 });
    }
  });
  return { allowed: mergeRanges(full), partial: mergePartial(partial) };
}

function compareProtocol(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "80/TCP", "8000-8002/TCP": runs of consecutive port numbers of one protocol, in order (ports come sorted). */
export function mergeRanges(ports: readonly DeclaredPort[]): string[] {
  const out: string[] = [];
  let start: DeclaredPort | undefined;
  let end: DeclaredPort | undefined;
  const flush = (): void => {
    if (start && end) out.push(`${start.port === end.port ? start.port : `${start.port}-${end.port}`}/${start.protocol}`);
  };
  for (const p of ports) {
    if (start && end && p.protocol === end.protocol && p.port === end.port + 1) {
      end = p;
      continue;
    }
    flush();
    start = p;
    end = p;
  }
  flush();
  return out;
}

function mergePartial(ports: readonly { port: DeclaredPort; pairs: number; of: number }[]): PartialPorts[] {
  const out: PartialPorts[] = [];
  let run: { port: DeclaredPort; pairs: number; of: number }[] = [];
  const flush = (): void => {
    const head = run[0];
    if (head) out.push({ ports: mergeRanges(run.map((r) => r.port))[0] ?? '', pairs: head.pairs, of: head.of });
    run = [];
  };
  for (const p of ports) {
    const last = run[run.length - 1];
    if (last && !(p.port.protocol === last.port.protocol && p.port.port === last.port.port + 1 && p.pairs === last.pairs && p.of === last.of)) flush();
    run.push(p);
  }
  flush();
  return out;
}

export function partialText(p: PartialPorts): string {
  return `${p.ports} (${p.pairs}/${p.of})`;
}

const LEGEND = [
  '',
  'ALLOWED: every pod of every FROM workload may connect to every TO pod declaring the port.',
  'PARTIAL: only some pod pairs may (allowed/checked pairs). "ns/*": every pod of namespace ns in the files;',
  '"*": every pod in the files. A pod always reaches itself. Every pod pair: -o json --per-pod.',
  '',
].join('\n');

/** The table, written as it is computed: one line per destination and set of ports, its sources last. */
export function writeTable(agg: Aggregation, out: (text: string) => void): void {
  if (agg.workloads.length === 0) {
    out('no pods\n');
    return;
  }
  const width = Math.max('TO'.length, ...agg.workloads.map((w) => w.name.length));
  const line = (to: string, allowed: string, partial: string, from: string): string =>
    `${to.padEnd(width)}  ${allowed.padEnd(16)}  ${partial.padEnd(16)}  ${from}`.trimEnd() + '\n';
  out(line('TO', 'ALLOWED', 'PARTIAL', 'FROM'));
  let rows = 0;
  agg.forEachDestination((conns) => {
    out(conns.map((c) => line(c.to, c.allowed.join(' ') || '-', c.partial.map(partialText).join(' ') || '-', c.from.join(' '))).join(''));
    rows += conns.length;
  });
  if (rows === 0) out('(no connections between different pods)\n');
  out(LEGEND);
}

/** `{"workloads": [...], "connections": [...]}`, the connections written as they are computed. */
export function writeJson(agg: Aggregation, out: (text: string) => void): void {
  out(`{"workloads": [${agg.workloads.map((w) => `\n${JSON.stringify(w)}`).join(',')}\n],\n"connections": [`);
  let first = true;
  agg.forEachDestination((conns) => {
    if (conns.length === 0) return;
    out(`${first ? '\n' : ',\n'}${conns.map((c) => JSON.stringify(c)).join(',\n')}`);
    first = false;
  });
  out('\n]}\n');
}
