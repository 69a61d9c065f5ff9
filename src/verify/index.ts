/**
 * The proof behind `netseg verify`, as a pure module beside src/reach: intents with their compiled policies, a
 * cluster (or none: synthetic pods are made from the intents) → per intent, every difference between what the
 * policies allow and what the intent's flows say. No file system, no process, no client-node: src/cli/verify.ts
 * parses the arguments, loads the input and prints what this returns.
 * - ./check.ts: the comparison, per workload pod and isolated direction (what "exactly" means);
 * - ./world.ts: the synthetic pods and namespaces when no cluster is given;
 * - ./coverage.ts: what a cluster must hold before the proof means anything (a workload selecting no pod...).
 */
import { belongsTo } from '../compile/ownership';
import type { ValidIntent } from '../intent/types';
import type { NetworkPolicy } from '../model/kubernetes';
import { NAMESPACE_NAME_LABEL, buildCluster, policyId } from '../reach';
import type { ClusterInput } from '../reach';
import { type IntentReport, type VerifyContext, verifyIntent } from './check';
import { coverageGaps } from './coverage';
import { synthesize } from './world';

export { type Difference, type IntentReport, type VerifyContext, endpointHas, insideAddress, verifyIntent } from './check';
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

/** The intents with their compiled policies, against a cluster or (undefined) a synthetic one. */
export function verifyAll(intents: readonly IntentWithPolicies[], cluster: ClusterInput | undefined): VerifyOutcome {
  const generated = intents.flatMap((i) => i.policies);
  const synthetic = cluster ? undefined : synthesize(intents.map((i) => i.intent));
  const world = cluster ?? { namespaces: synthetic?.namespaces ?? [], pods: synthetic?.pods ?? [], policies: [] };
  const replaced = new Set(generated.map(policyId));
  const others = world.policies.filter((p) => !replaced.has(policyId(p)) && !ownedByAny(p, intents));
  const built = buildCluster({ namespaces: world.namespaces, pods: world.pods, policies: [...others, ...generated] });
  const namespaceLabels = new Map(
    world.namespaces.map((n) => [n.metadata.name ?? '', { ...(n.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: n.metadata.name ?? '' }]),
  );
  const reports = intents.map(({ intent, policies }) => {
    const ctx: VerifyContext = { cluster: built, namespaceLabels, ownPolicies: new Set(policies.map(policyId)) };
    const report = verifyIntent(intent, ctx);
    // A cluster file may not hold what the intent names: that is a failure (a typo), listed before what it explains.
    return synthetic ? report : { ...report, differences: [...coverageGaps(intent, ctx), ...report.differences] };
  });
  const notes = [...built.issues, ...(synthetic?.notes ?? [])];
  if (synthetic) for (const r of reports) if (r.workloadPods === 0) notes.push(`${r.intent}: no pod matches its workloads; nothing was checked`);
  return { reports, notes, synthetic: cluster === undefined };
}

/** A cluster's copy of a policy one of these intents generates is stale by definition: the compiled one replaces it. */
function ownedByAny(p: NetworkPolicy, intents: readonly IntentWithPolicies[]): boolean {
  return intents.some(({ intent }) => belongsTo(p, intent));
}
