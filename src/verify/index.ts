/**
 * The proof behind `netseg verify`, as a pure module beside src/reach: intents with their compiled policies, a
 * cluster (or none: synthetic pods are made from the intents) → per intent, every difference between what the
 * policies allow and what the intent's flows say. No file system, no process, no client-node: src/cli/verify.ts
 * parses the arguments, loads the input and prints what this returns.
 * - ./check.ts: what "exactly" means per direction, and the answer, grouped or per pod pair;
 * - ./classes.ts: the comparison on classes of equivalent pods, so that it scales to 10,000 pods (ADR 0018);
 * - ./probes.ts: the other endpoints, the ports worth checking and the flows' meaning; ./members.ts: who each
 *   intent endpoint names;
 * - ./world.ts: the synthetic pods and namespaces when no cluster is given;
 * - ./coverage.ts: what a cluster must hold before the proof means anything (a workload selecting no pod...).
 */
import { belongsTo } from '../compile/ownership';
import type { ValidIntent } from '../intent/types';
import type { NetworkPolicy } from '../model/kubernetes';
import { type Cluster, NAMESPACE_NAME_LABEL, buildCluster, policyId } from '../reach';
import type { ClusterInput } from '../reach';
import { type GroupedReport, type IntentReport, type VerifyContext, expandReport, verifyGrouped } from './check';
import { coverageGaps } from './coverage';
import { synthesize } from './world';

export {
  type Difference,
  type GroupedReport,
  type IntentReport,
  type VerifyContext,
  expandReport,
  forEachDifference,
  verifyGrouped,
  verifyIntent,
} from './check';
export type { DifferenceSet, MissingDns, SetVerdict } from './classes';
export { endpointHas, insideAddress, type PortProbe } from './probes';
export { verifyBaseline } from './baseline';
export { type Gap, coverageGaps } from './coverage';
export { DNS_LABELS, DNS_NAMESPACE, STRANGER_LABEL, type SyntheticWorld, satisfy, synthesize } from './world';

export interface IntentWithPolicies {
  readonly intent: ValidIntent;
  readonly policies: readonly NetworkPolicy[];
}

export interface VerifyOutcome {
  readonly reports: IntentReport[];
  readonly notes: string[];
  readonly synthetic: boolean;
}

/** What proveAll says beside the reports it hands out one by one. */
export interface ProofOutcome {
  readonly cluster: Cluster;
  readonly notes: string[];
  readonly synthetic: boolean;
  /** True when every intent holds (no difference, no gap). */
  readonly holds: boolean;
}

/** The intents with their compiled policies, against a cluster or (undefined) a synthetic one: one difference per pod pair. */
export function verifyAll(intents: readonly IntentWithPolicies[], cluster: ClusterInput | undefined): VerifyOutcome {
  const reports: IntentReport[] = [];
  const outcome = proveAll(intents, cluster, (r, ctx) => reports.push(expandReport(r, ctx)));
  return { reports, notes: outcome.notes, synthetic: outcome.synthetic };
}

/**
 * The same proof, each intent's answer grouped and handed to `visit` as soon as it is made (then dropped), so
 * that memory does not grow with the number of intents or differences.
 */
export function proveAll(
  intents: readonly IntentWithPolicies[],
  cluster: ClusterInput | undefined,
  visit: (report: GroupedReport, ctx: VerifyContext) => void,
): ProofOutcome {
  const generated = intents.flatMap((i) => i.policies);
  const synthetic = cluster ? undefined : synthesize(intents.map((i) => i.intent));
  const world = cluster ?? { namespaces: synthetic?.namespaces ?? [], pods: synthetic?.pods ?? [], policies: [] };
  const replaced = new Set(generated.map(policyId));
  const others = world.policies.filter((p) => !replaced.has(policyId(p)) && !ownedByAny(p, intents));
  const built = buildCluster({ namespaces: world.namespaces, pods: world.pods, policies: [...others, ...generated] });
  const namespaceLabels = new Map(
    world.namespaces.map((n) => [n.metadata.name ?? '', { ...(n.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: n.metadata.name ?? '' }]),
  );
  const notes = [...built.issues, ...(synthetic?.notes ?? [])];
  let holds = true;
  for (const { intent, policies } of intents) {
    const ctx: VerifyContext = { cluster: built, namespaceLabels, ownPolicies: new Set(policies.map(policyId)) };
    // A cluster file may not hold what the intent names: that is a failure (a typo), listed before what it explains.
    const report = verifyGrouped(intent, ctx, synthetic ? [] : coverageGaps(intent, ctx));
    if (report.count > 0) holds = false;
    if (synthetic && report.workloadPods === 0) notes.push(`${report.intent}: no pod matches its workloads; nothing was checked`);
    visit(report, ctx);
  }
  return { cluster: built, notes, synthetic: cluster === undefined, holds };
}

/** A cluster's copy of a policy one of these intents generates is stale by definition: the compiled one replaces it. */
function ownedByAny(p: NetworkPolicy, intents: readonly IntentWithPolicies[]): boolean {
  return intents.some(({ intent }) => belongsTo(p, intent));
}
