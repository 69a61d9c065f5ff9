/**
 * The marks netseg puts on every object it generates, in one place: the operator selects its policies by these
 * labels and detects drift with the spec-hash annotation, so compile and operator must agree on them.
 */
import { sha256Hex } from './hash';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'netseg-operator';
/** Value: intentLabelValue(intent name), which is the name itself unless it is longer than 63 characters. */
export const INTENT_LABEL = 'netseg.io/intent';
/**
 * On the policies of a ClusterSegmentationIntent (a baseline), instead of INTENT_LABEL: value
 * intentLabelValue(baseline name). Like INTENT_LABEL, a way to list them, never a proof of ownership.
 */
export const CLUSTER_INTENT_LABEL = 'netseg.io/cluster-intent';
/** Value: specHash(policy), hex sha256 of the policy's normalised spec (see ./canonical.ts). */
export const SPEC_HASH_ANNOTATION = 'netseg.io/spec-hash';

/** Label values are at most 63 characters; intent names (DNS subdomains) may have 253. */
const LABEL_VALUE_MAX = 63;
const HASH_LENGTH = 16;

/**
 * The `netseg.io/intent` label value for an intent name: the name when it fits, else its first 46 characters +
 * "_" + 16 hex characters of sha256(name). "_" is legal in a label value but never in an intent name, so no
 * intent can be named after another's shortened value. Still, a label is only a way to LIST an intent's
 * policies: ownership is decided by the controller ownerReference's uid, never by this value.
 */
export function intentLabelValue(intentName: string): string {
  if (intentName.length <= LABEL_VALUE_MAX) return intentName;
  const head = intentName.slice(0, LABEL_VALUE_MAX - HASH_LENGTH - 1);
  return `${head}_${sha256Hex(intentName).slice(0, HASH_LENGTH)}`;
}

/** The labels of every object generated for an intent. Nothing is copied from the intent's own labels. */
export function managedLabels(intentName: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INTENT_LABEL]: intentLabelValue(intentName) };
}
