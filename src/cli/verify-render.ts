/**
 * What `netseg verify` prints: per intent, one line per difference set (src/verify's grouped answer: every pod
 * pair of the set differs the same way on every port of it), so that the output stays readable at any size
 * (issue 18: the per-pod list of a 1,000-pod random cluster was 3.3 M lines). Each side of a set is named by
 * workload (as `netseg reach` groups pods: owner, else app label, else the pod) with pod counts; a pod alone is
 * named as itself, so a small difference reads as before: `extra: edge/probe -> app/api-1 TCP/50051 ...`.
 * A set whose other side spans a few workloads is one line per workload; more, one line with counts.
 * `--per-pod` lists every (pod, pod, port), written as made. `-o json` writes each report as it is made.
 */
import type { Cluster } from '../reach';
import type { Difference, DifferenceSet, GroupedReport, PortProbe, VerifyContext } from '../verify';
import { forEachDifference } from '../verify';
import { mergeRanges, workloadOf } from './reach-render';

/** Up to this many workloads on the other side of a set get a line each; beyond, the set is one line. */
const LINES_PER_SET = 3;
/** Workloads named in the one line of a wide set. */
const NAMED_IN_SUMMARY = 3;

interface Tally {
  readonly workload: number;
  readonly pods: number;
  readonly first: number;
}

/** Which workload each pod belongs to, and how many pods each has: once per cluster. */
export class Workloads {
  readonly of: Int32Array;
  readonly names: string[] = [];
  readonly sizes: number[] = [];
  constructor(readonly cluster: Cluster) {
    const index = new Map<string, number>();
    this.counts = new Int32Array(cluster.pods.length);
    this.firsts = new Int32Array(cluster.pods.length);
    this.of = Int32Array.from(cluster.pods, (p) => {
      const name = workloadOf(p);
      let i = index.get(name);
      if (i === undefined) {
        index.set(name, (i = this.names.length));
        this.names.push(name);
        this.sizes.push(0);
      }
      this.sizes[i] = (this.sizes[i] as number) + 1;
      return i;
    });
  }

  private readonly counts: Int32Array;
  private readonly firsts: Int32Array;

  /**
   * The pods of a set's side per workload: [workload, pod count, first pod], in order of first pod. Counted in
   * typed arrays: the sides of one intent's sets may hold millions of pods in all.
   */
  tally(pods: ArrayLike<number>): Tally[] {
    const touched: number[] = [];
    for (let k = 0; k < pods.length; k++) {
      const p = pods[k] as number;
      const w = this.of[p] as number;
      if (this.counts[w] === 0) {
        touched.push(w);
        this.firsts[w] = p;
      }
      this.counts[w] = (this.counts[w] as number) + 1;
    }
    const out = touched.map((w) => ({ workload: w, pods: this.counts[w] as number, first: this.firsts[w] as number }));
    for (const w of touched) this.counts[w] = 0;
    return out;
  }

  /** A pod alone as itself; a whole workload of several pods "ns/name (3 pods)"; part of one "ns/name (2 of 5 pods)". */
  label(t: Tally): string {
    const size = this.sizes[t.workload] ?? 0;
    if (t.pods === 1) return this.cluster.pods[t.first]?.key ?? '';
    const name = this.names[t.workload] ?? '';
    return t.pods === size ? `${name} (${t.pods} pods)` : `${name} (${t.pods} of ${size} pods)`;
  }

  /** Few workloads in name order (a stable, readable line order). */
  sorted(ts: Tally[]): Tally[] {
    return ts.sort((a, b) => compare(this.names[a.workload] ?? '', this.names[b.workload] ?? ''));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "TCP/80,443,8000-8002 UDP/53": the ports come sorted by protocol, then number. */
export function portsText(ports: readonly PortProbe[]): string {
  const out: string[] = [];
  let protocol = '';
  let runs: string[] = [];
  let start = -1;
  let end = -1;
  const flushRun = (): void => {
    if (start >= 0) runs.push(start === end ? `${start}` : `${start}-${end}`);
    start = end = -1;
  };
  const flushProtocol = (): void => {
    flushRun();
    if (runs.length > 0) out.push(`${protocol}/${runs.join(',')}`);
    runs = [];
  };
  for (const p of ports) {
    if (p.protocol !== protocol) {
      flushProtocol();
      protocol = p.protocol;
    }
    if (start >= 0 && p.port === end + 1) end = p.port;
    else {
      flushRun();
      start = end = p.port;
    }
  }
  flushProtocol();
  return out.join(' ');
}

/** The other side of a set as one or more names: a line each, or one summary when it spans many workloads. */
function otherSides(s: DifferenceSet, wl: Workloads): string[] {
  const groups = wl.tally(s.otherPods);
  if (groups.length + s.otherIps.length <= LINES_PER_SET) return [...wl.sorted(groups).map((g) => wl.label(g)), ...s.otherIps];
  const namespaces = new Set(groups.map((g) => wl.cluster.pods[g.first]?.namespace));
  const ips = s.otherIps.length > 0 ? ` and ${s.otherIps.length} address(es)` : '';
  const shown = [...groups.slice(0, NAMED_IN_SUMMARY).map((g) => wl.label(g)), ...s.otherIps].slice(0, NAMED_IN_SUMMARY).join(', ');
  return [`${s.otherPods.length} pods in ${groups.length} workloads of ${namespaces.size} namespaces${ips} (${shown}, …)`];
}

function workloadSide(s: DifferenceSet, wl: Workloads): string {
  const groups = wl.sorted(wl.tally(s.workloadPods));
  return groups.length === 1 && groups[0] ? wl.label(groups[0]) : `${s.workloadPods.length} pods (${groups.map((g) => wl.label(g)).join(', ')})`;
}

function setLines(s: DifferenceSet, wl: Workloads): string[] {
  const mine = workloadSide(s, wl);
  const ports = portsText(s.ports);
  return otherSides(s, wl).map((other) => {
    const [from, to] = s.direction === 'Ingress' ? [other, mine] : [mine, other];
    const side = s.direction === 'Ingress' ? `ingress of ${to}` : `egress of ${from}`;
    const conn = `${from} -> ${to} ${ports}`;
    if (s.kind === 'missing') return `missing: ${conn} is denied on the ${side}, but flow ${s.flow} allows it`;
    if (s.openedBy.length === 0) return `extra: ${conn} is allowed: nothing isolates the ${side}`;
    const by = s.openedBy.map((r) => `${r.policy} rule ${r.rule}`).join(', ');
    return `extra: ${conn} is allowed on the ${side} by ${by}${s.byOwnPolicy ? ' (this intent\'s own policy: a compiler bug)' : ''}`;
  });
}

/** The text of one intent's report: a header, then the gaps, the difference sets and missing DNS, one per line. */
export function reportText(r: GroupedReport, wl: Workloads, where: string): string {
  if (r.count === 0) return `OK   ${r.intent}: its policies allow exactly its flows (${r.workloadPods} workload pods, ${where})\n`;
  const lines = [`FAIL ${r.intent}: ${r.count} difference(s) (${r.workloadPods} workload pods, ${where})`];
  for (const g of r.gaps) lines.push(`  ${describe(g)}`);
  for (const s of r.sets) for (const l of setLines(s, wl)) lines.push(`  ${l}`);
  for (const m of r.missingDns) lines.push(`  ${describe({ kind: 'missing-dns', from: wl.cluster.pods[m.pod]?.key ?? '', protocol: m.protocol })}`);
  return lines.join('\n') + '\n';
}

/** One per-pod difference as a line (`--per-pod`, and the gaps of every report). */
export function describe(d: Difference): string {
  if (d.kind === 'missing-dns') return `missing DNS: ${d.from} cannot reach cluster DNS on ${d.protocol}/53`;
  if (d.kind === 'selects-nothing') {
    return `selects nothing: workload ${d.workload} (${d.field}) selects no pod of namespace ${d.namespace} in the cluster file, so none of it was checked (a label typo?)`;
  }
  if (d.kind === 'undeclared-port') {
    return `undeclared port: ${d.field} ${JSON.stringify(d.port)}: no pod of ${d.to} declares a ${d.protocol} container port named ${JSON.stringify(d.port)}, so the flow opens nothing there (a port name typo?)`;
  }
  const conn = `${d.from} -> ${d.to} ${d.protocol}/${d.port}`;
  const side = d.direction === 'Ingress' ? `ingress of ${d.to}` : `egress of ${d.from}`;
  if (d.kind === 'missing') return `missing: ${conn} is denied on the ${side}, but flow ${d.flow} allows it`;
  if (d.openedBy.length === 0) return `extra: ${conn} is allowed: nothing isolates the ${side}`;
  const by = d.openedBy.map((r) => `${r.policy} rule ${r.rule}`).join(', ');
  return `extra: ${conn} is allowed on the ${side} by ${by}${d.byOwnPolicy ? ' (this intent\'s own policy: a compiler bug)' : ''}`;
}

/** `--per-pod` text: the header, then every per-pod difference, in ~1 MB pieces as they are made. */
export function writePerPodText(r: GroupedReport, ctx: VerifyContext, where: string, out: (t: string) => void): void {
  if (r.count === 0) {
    out(`OK   ${r.intent}: its policies allow exactly its flows (${r.workloadPods} workload pods, ${where})\n`);
    return;
  }
  let chunk = `FAIL ${r.intent}: ${r.count} difference(s) (${r.workloadPods} workload pods, ${where})\n`;
  for (const g of r.gaps) chunk += `  ${describe(g)}\n`;
  forEachDifference(r, ctx, (d) => {
    chunk += `  ${describe(d)}\n`;
    if (chunk.length >= 1 << 20) {
      out(chunk);
      chunk = '';
    }
  });
  out(chunk);
}

/** `-o json --per-pod`: one report as before issue 18, `{"intent", "workloadPods", "differences": [...]}`, streamed. */
export function writePerPodJson(r: GroupedReport, ctx: VerifyContext, out: (t: string) => void): void {
  let chunk = `{"intent":${JSON.stringify(r.intent)},"workloadPods":${r.workloadPods},"differences":[`;
  let first = true;
  const add = (d: Difference): void => {
    chunk += `${first ? '\n' : ',\n'}${JSON.stringify(d)}`;
    first = false;
    if (chunk.length >= 1 << 20) {
      out(chunk);
      chunk = '';
    }
  };
  r.gaps.forEach(add);
  forEachDifference(r, ctx, add);
  out(`${chunk}${first ? '' : '\n'}]}`);
}

/** A side of a set in JSON: counts, and its workloads when there are few (else the first few, in pod order). */
function sideJson(pods: ArrayLike<number>, ips: readonly string[], wl: Workloads): Record<string, unknown> {
  const groups = wl.tally(pods);
  const namespaces = new Set(groups.map((g) => wl.cluster.pods[g.first]?.namespace));
  const listed = groups.length <= LINES_PER_SET ? wl.sorted(groups) : groups.slice(0, NAMED_IN_SUMMARY);
  return {
    pods: pods.length,
    workloadCount: groups.length,
    namespaceCount: namespaces.size,
    workloads: listed.map((g) => ({ name: wl.names[g.workload], pods: g.pods, of: wl.sizes[g.workload], ...(g.pods === 1 ? { pod: wl.cluster.pods[g.first]?.key } : {}) })),
    ips,
  };
}

/** A grouped report in JSON (the documented shape, docs/reach.md). */
export function reportJson(r: GroupedReport, wl: Workloads): string {
  const sets = r.sets.map((s) => {
    const other = sideJson(s.otherPods, s.otherIps, wl);
    const mine = sideJson(s.workloadPods, [], wl);
    const verdict = s.kind === 'missing' ? { flow: s.flow } : { openedBy: s.openedBy, byOwnPolicy: s.byOwnPolicy };
    const [from, to] = s.direction === 'Ingress' ? [other, mine] : [mine, other];
    return { kind: s.kind, direction: s.direction, from, to, ports: mergeRanges(s.ports), pairs: s.pairs, count: s.pairs * s.ports.length, ...verdict };
  });
  const dns = r.missingDns.map((m) => ({ kind: 'missing-dns', from: wl.cluster.pods[m.pod]?.key ?? '', protocol: m.protocol }));
  const differences = [...r.gaps, ...sets, ...dns].map((d) => JSON.stringify(d));
  return `{"intent":${JSON.stringify(r.intent)},"workloadPods":${r.workloadPods},"count":${r.count},"differences":[${differences.map((d) => `\n${d}`).join(',')}${differences.length ? '\n' : ''}]}`;
}
