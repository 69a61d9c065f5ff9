/**
 * Every command's ClusterSegmentationIntents, checked, resolved and compiled one way (as ./intents.ts does for
 * SegmentationIntents): checkBaseline, resolveBaseline against the cluster objects the command was given (its
 * `service`/`workloadRef` peers; none given = each object it needs is named), then compileBaselineChecked for
 * each Namespace of the input the baseline selects. A file has no "every namespace of the cluster", so a baseline covers exactly the Namespaces
 * given with it (`kubectl get ns -o yaml`), the way the operator covers the namespaces of its cluster.
 */
import { compileBaselineChecked, selectsNamespace } from '../compile';
import { formatIssue } from '../intent/validate';
import { checkBaseline } from '../intent/validate-baseline';
import type { ClusterSegmentationIntent, NamespaceView, ValidBaseline } from '../intent/baseline';
import type { Namespace, NetworkPolicy } from '../model/kubernetes';
import { type ClusterObjects, indexObjects, resolveBaseline } from '../resolve';

export interface SourcedBaseline {
  readonly source: string;
  readonly baseline: ClusterSegmentationIntent;
}

export interface CompiledBaseline {
  readonly source: string;
  readonly baseline: ValidBaseline;
  /** The namespaces of the input it selects, sorted by name. */
  readonly namespaces: readonly NamespaceView[];
  /** Their policies, namespace by namespace. */
  readonly policies: NetworkPolicy[];
}

export interface BaselineCompileOutcome {
  readonly compiled: CompiledBaseline[];
  readonly errors: string[];
}

export function namespaceViews(namespaces: readonly Namespace[]): NamespaceView[] {
  return namespaces
    .map((n) => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} }))
    .filter((n) => n.name !== '')
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const NO_OBJECTS = indexObjects([]);

/** Checks, resolves and compiles every baseline for each selected namespace; an invalid one is an error naming its source. */
export function compileBaselines(baselines: readonly SourcedBaseline[], namespaces: readonly Namespace[], objects: ClusterObjects = NO_OBJECTS): BaselineCompileOutcome {
  const views = namespaceViews(namespaces);
  const compiled: CompiledBaseline[] = [];
  const errors: string[] = [];
  for (const { source, baseline } of baselines) {
    const what = `${source}: ClusterSegmentationIntent${typeof baseline.metadata?.name === 'string' ? ` ${baseline.metadata.name}` : ''}`;
    const checked = checkBaseline(baseline);
    const v = checked.ok ? resolveBaseline(checked.baseline, objects) : checked;
    if (!v.ok) {
      errors.push(...v.issues.map((i) => `${what}: ${formatIssue(i)}`));
      continue;
    }
    const selected = views.filter((n) => selectsNamespace(v.baseline, n));
    const policies: NetworkPolicy[] = [];
    for (const n of selected) {
      const r = compileBaselineChecked(v.baseline, n);
      if (r.ok) policies.push(...r.policies);
      else errors.push(...r.issues.map((i) => `${what}: in namespace ${n.name}: ${formatIssue(i)}`));
    }
    compiled.push({ source, baseline: v.baseline, namespaces: selected, policies });
  }
  return { compiled, errors };
}
