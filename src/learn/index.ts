/** Learning intents from observed traffic: pure, from tallied flows (src/flows) and the cluster input. */
export { LEARNED_INTENT_NAME, type LearnInput, type LearnResult, type LearnedIntent, learnIntents } from './learn';
export { OwnerIndex, type WorkloadRef, workloadId, workloadOf } from './owners';
export { isStableKey, stableLabels } from './labels';
export { type Backends, type ServicePod, serviceBackends, servicesByName } from './services';
