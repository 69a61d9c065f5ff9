/** The reachability engine: pure NetworkPolicy semantics over Namespaces, Pods and NetworkPolicies. */
export * from './types';
export { buildCluster, effectivePolicyTypes, ipBlockContains, policyId, NAMESPACE_NAME_LABEL } from './cluster';
export type { Cluster, PodInfo, PolicyModel, RuleModel, DeclaredPort, IpBlockModel } from './cluster';
export { evaluate, resolveEndpoint, endpointName, rulePortsMatch } from './evaluate';
export { computeMatrix, forEachEntry, matrixColumns } from './matrix';
export type { Matrix, MatrixColumn, MatrixEntry } from './matrix';
export { matchesSelector } from './selector';
export { parseAddress, parseCidr, cidrContains, formatAddress, lastAddress } from './cidr';
export type { Address, Cidr } from './cidr';
