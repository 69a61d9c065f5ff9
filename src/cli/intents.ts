/**
 * Every command's intents, validated and compiled one way: validateIntent, then compileChecked (so an intent
 * whose output is over the compile budget is an issue with its path, as in the operator, not a crash). Every
 * problem has one format, whatever the command or the cause (src/cli/issues.ts).
 */
import { compileChecked } from '../compile';
import { validateIntent } from '../intent/validate';
import type { SegmentationIntent, ValidIntent } from '../intent/types';
import type { NetworkPolicy } from '../model/kubernetes';
import { intentIssue } from './issues';

export interface SourcedIntent {
  readonly source: string;
  readonly intent: SegmentationIntent;
}

export interface CompiledIntent {
  readonly source: string;
  readonly intent: ValidIntent;
  readonly policies: NetworkPolicy[];
}

export interface CompileOutcome {
  readonly compiled: CompiledIntent[];
  readonly errors: string[];
}

/** Validates and compiles every intent, in order; an invalid one is an error naming its source and the issue's path. */
export function compileIntents(intents: readonly SourcedIntent[]): CompileOutcome {
  const compiled: CompiledIntent[] = [];
  const errors: string[] = [];
  for (const { source, intent } of intents) {
    const validation = validateIntent(intent);
    const result = validation.ok ? compileChecked(validation.intent) : validation;
    if (!result.ok) {
      errors.push(...result.issues.map((issue) => intentIssue(source, intent, issue)));
      continue;
    }
    if (validation.ok) compiled.push({ source, intent: validation.intent, policies: result.policies });
  }
  return { compiled, errors };
}
