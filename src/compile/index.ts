/** The compiler: ValidIntent → NetworkPolicy[], plus the marks the operator needs to own and compare them. */
export { compile, compileChecked } from './compile';
export type { CompileResult } from './compile';
export { COMPILE_BUDGET, CompileBudgetError } from './budget';
export type { CompileBudget } from './budget';
export { canonicalJSON, canonicalSelector, specHash } from './canonical';
export {
  INTENT_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SPEC_HASH_ANNOTATION,
  intentLabelValue,
  managedLabels,
} from './labels';
export { type IntentIdentity, belongsTo, intentControllerRef, isManaged } from './ownership';
export { NAME_MAX, PLAIN_TAGS, policyName } from './names';
export { DNS_PEER } from './peers';
