/** The compiler: ValidIntent → NetworkPolicy[], plus the marks the operator needs to own and compare them. */
export { compile, compileChecked } from './compile';
export type { CompileResult } from './compile';
export { COMPILE_BUDGET, CompileBudgetError } from './budget';
export type { CompileBudget } from './budget';
export { canonicalJSON, canonicalSelector, specHash } from './canonical';
export {
  CLUSTER_INTENT_LABEL,
  INTENT_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SPEC_HASH_ANNOTATION,
  intentLabelValue,
  managedLabels,
} from './labels';
export { type BaselineIdentity, type IntentIdentity, baselineControllerRef, belongsTo, belongsToBaseline, intentControllerRef, isManaged } from './ownership';
export { BASELINE_TAGS, NAME_MAX, PLAIN_TAGS, baselinePolicyName, policyName } from './names';
export { type BaselineCompileResult, compileBaseline, compileBaselineChecked, selectsNamespace } from './baseline';
export { DNS_PEER } from './peers';
