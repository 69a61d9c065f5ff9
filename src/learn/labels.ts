/**
 * The labels a learned selector may use: a pod's stable labels, never the ones Kubernetes sets per pod or per
 * revision (API.md lists them), which would make a selector match one pod, or one rollout, only.
 * A label whose key or value Kubernetes would refuse is dropped too: learned intents must pass validation.
 */
import { labelKeyProblem, labelValueProblem } from '../intent/syntax';

const PER_POD_KEYS = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'pod-template-generation',
  'job-name',
  'controller-uid',
]);
const PER_POD_PREFIXES = ['batch.kubernetes.io/'];

export function isStableKey(key: string): boolean {
  return !PER_POD_KEYS.has(key) && !PER_POD_PREFIXES.some((p) => key.startsWith(p));
}

export function stableLabels(labels: Readonly<Record<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(labels)) {
    if (isStableKey(k) && labelKeyProblem(k) === undefined && labelValueProblem(v) === undefined) out.set(k, v);
  }
  return out;
}
