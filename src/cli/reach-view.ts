/**
 * The filters of `netseg reach`'s aggregated view (`--namespace`, `--workload`), shared by the table, the JSON
 * and the graphs. A filter names workloads; a row is kept when its destination is one of them or one of its
 * sources covers one (a workload itself, `ns/*` of its namespace, `*`). Rows are kept whole: the other sources of
 * a kept row are not cut, since the row says what all of them may do.
 */
import type { Aggregation, Connection, SourceRef, Workload } from './reach-render';
import { sourcesOf } from './reach-render';

/** The workloads a filter selects; undefined: no filter, everything. */
export interface ReachFilter {
  readonly namespaces: ReadonlySet<string>;
  readonly workloads: ReadonlySet<string>;
  /** The namespaces with a selected workload: `ns/*` of these covers one. */
  readonly touched: ReadonlySet<string>;
}

/** Repeated flags and comma lists, trimmed, empty items dropped. */
function listOf(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * The filter of `--namespace` and `--workload` (either may be repeated or a comma list; a workload matches when
 * it is in one of the namespaces or is one of the workloads), checked against the workloads of the input: a name
 * that matches nothing is an error naming the flag, never an empty answer that reads as "isolated".
 */
export function parseFilter(namespaces: readonly string[] | undefined, workloadNames: readonly string[] | undefined, workloads: readonly Workload[]): ReachFilter | undefined | string {
  const ns = listOf(namespaces);
  const ws = listOf(workloadNames);
  if (ns.length === 0 && ws.length === 0) return undefined;
  const knownNs = new Set(workloads.map((w) => w.namespace));
  const knownW = new Set(workloads.map((w) => w.name));
  for (const n of ns) if (!knownNs.has(n)) return `--namespace ${JSON.stringify(n)}: no pod of the files is in that namespace`;
  for (const w of ws) {
    if (!w.includes('/')) return `--workload ${JSON.stringify(w)}: give NAMESPACE/NAME, as reach prints it`;
    if (!knownW.has(w)) return `--workload ${JSON.stringify(w)}: no such workload in the files (workloads are named as reach's table prints them)`;
  }
  const named = new Set(ws);
  const touched = new Set([...ns, ...workloads.filter((w) => named.has(w.name)).map((w) => w.namespace)]);
  return { namespaces: new Set(ns), workloads: named, touched };
}

export function selects(filter: ReachFilter, w: Workload): boolean {
  return filter.namespaces.has(w.namespace) || filter.workloads.has(w.name);
}

/** Whether a source of a row covers a workload the filter selects. */
function sourceSelected(filter: ReachFilter, ref: SourceRef, workloads: readonly Workload[]): boolean {
  switch (ref.kind) {
    case 'all':
      return true; // the filter matched some workload (parseFilter checked), and `*` covers every one
    case 'namespace':
      return filter.touched.has(ref.namespace);
    case 'workload': {
      const w = workloads[ref.index];
      return w !== undefined && selects(filter, w);
    }
  }
}

export function rowSelected(filter: ReachFilter, c: Connection, workloads: readonly Workload[], byName: ReadonlyMap<string, Workload>): boolean {
  const to = byName.get(c.to);
  return (to !== undefined && selects(filter, to)) || sourcesOf(c).some((r) => sourceSelected(filter, r, workloads));
}

/** The aggregation with the filter applied: the selected workloads, and the rows that concern them. */
export function filtered(agg: Aggregation, filter: ReachFilter | undefined): Aggregation {
  if (!filter) return agg;
  const byName = new Map(agg.workloads.map((w) => [w.name, w]));
  return {
    workloads: agg.workloads.filter((w) => selects(filter, w)),
    forEachDestination(visit) {
      agg.forEachDestination((rows) => {
        const kept = rows.filter((c) => rowSelected(filter, c, agg.workloads, byName));
        if (kept.length > 0) visit(kept);
      });
    },
  };
}
