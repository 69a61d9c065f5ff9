/**
 * Every command's intents, checked, resolved and compiled one way: checkIntent, then resolveIntent against the
 * cluster objects the command was given (src/resolve; none given = an intent with references names each object
 * it needs), then compileChecked (so an intent whose output is over the compile budget is an issue with its path,
 * as in the operator, not a crash). Every problem has one format, whatever the command or the cause
 * (src/cli/issues.ts).
 */
import { compileChecked } from '../compile';
import { checkIntent } from '../intent/validate';
import { isReference, refText } from '../intent/references';
import type { SegmentationIntent, ValidIntent } from '../intent/types';
import type { NetworkPolicy } from '../model/kubernetes';
import { type ClusterObjects, indexObjects, resolveIntent } from '../resolve';
import { intentIssue } from './issues';

export interface SourcedIntent {
  readonly source: string;
  readonly intent: SegmentationIntent;
}

export interface CompiledIntent {
  readonly source: string;
  readonly intent: ValidIntent;
  readonly policies: NetworkPolicy[];
  /** Ingress backends of spec.ingressRoutes that open nothing (`<ingress>/<service>:<port>`). */
  readonly uncoveredBackends: readonly string[];
  readonly coveredBackends: readonly string[];
  /** Endpoints given by reference, and the object each names (`Service shop/api`). */
  readonly references: readonly { readonly endpoint: string; readonly object: string }[];
}

export interface CompileOutcome {
  readonly compiled: CompiledIntent[];
  readonly errors: string[];
}

const NO_OBJECTS = indexObjects([]);

/** Checks, resolves and compiles every intent, in order; an invalid one is an error naming its source and the issue's path. */
export function compileIntents(intents: readonly SourcedIntent[], objects: ClusterObjects = NO_OBJECTS): CompileOutcome {
  const compiled: CompiledIntent[] = [];
  const errors: string[] = [];
  for (const { source, intent } of intents) {
    const checked = checkIntent(intent);
    const resolved = checked.ok ? resolveIntent(checked.intent, objects) : checked;
    const result = resolved.ok ? compileChecked(resolved.intent) : resolved;
    if (!result.ok) {
      errors.push(...result.issues.map((issue) => intentIssue(source, intent, issue)));
      continue;
    }
    if (!resolved.ok || !checked.ok) continue;
    const references = [...checked.intent.workloads, ...checked.intent.peers].filter(isReference).map((e) => ({ endpoint: e.name, object: refText(e.ref) }));
    const { uncoveredBackends, coveredBackends } = resolved;
    compiled.push({ source, intent: resolved.intent, policies: result.policies, uncoveredBackends, coveredBackends, references });
  }
  return { compiled, errors };
}
