/**
 * One explained answer: a connection needs the source's egress AND the destination's ingress. A side outside the
 * cluster (an IP) has nothing to filter; a pod no policy isolates in a direction passes everything in it; an
 * isolated pod passes what at least one rule of one isolating policy admits. A pod may always reach itself.
 */
import type { Protocol } from '../model/kubernetes';
import { parseAddress } from './cidr';
import { type Cluster, type RuleModel, ipBlockContains } from './cluster';
import { type NamedPorts, portMatches } from './ports';
import type { Endpoint, RuleRef, SideVerdict, Traffic, Verdict } from './types';

/** Reads "namespace/name" or an IP address; an IP that belongs to a pod of the cluster is that pod. */
export function resolveEndpoint(cluster: Cluster, text: string): Endpoint | undefined {
  const byKey = cluster.podByKey.get(text);
  if (byKey !== undefined) return { kind: 'pod', index: byKey };
  const address = parseAddress(text);
  if (!address) return undefined;
  const byIp = cluster.podByIp.get(text);
  return byIp !== undefined ? { kind: 'pod', index: byIp } : { kind: 'ip', ip: text };
}

export function endpointName(cluster: Cluster, e: Endpoint): string {
  return e.kind === 'ip' ? e.ip : (cluster.pods[e.index]?.key ?? `#${e.index}`);
}

export function evaluate(cluster: Cluster, t: Traffic): Verdict {
  if (t.from.kind === 'pod' && t.to.kind === 'pod' && t.from.index === t.to.index) {
    return { allowed: true, ingress: { kind: 'self', allowed: true }, egress: { kind: 'self', allowed: true } };
  }
  const named = t.to.kind === 'pod' ? cluster.pods[t.to.index]?.named : undefined;
  const q = { port: t.port, protocol: t.protocol, named };
  const ingress = t.to.kind === 'pod' ? side(cluster, 'ingress', t.to.index, { ...q, peer: t.from }) : NOT_APPLICABLE;
  const egress = t.from.kind === 'pod' ? side(cluster, 'egress', t.from.index, { ...q, peer: t.to }) : NOT_APPLICABLE;
  return { allowed: ingress.allowed && egress.allowed, ingress, egress };
}

const NOT_APPLICABLE: SideVerdict = { kind: 'not-applicable', allowed: true };

interface SideQuery {
  /** The other end: the source for ingress, the destination for egress. */
  readonly peer: Endpoint;
  readonly port: number;
  readonly protocol: Protocol;
  /** The destination's named ports (undefined for an IP destination). */
  readonly named: NamedPorts | undefined;
}

function side(cluster: Cluster, dir: 'ingress' | 'egress', subject: number, q: SideQuery): SideVerdict {
  const isolating = (dir === 'ingress' ? cluster.ingressOf : cluster.egressOf)[subject] ?? [];
  if (isolating.length === 0) return { kind: 'not-isolated', allowed: true };
  const isolatedBy: string[] = [];
  const allowedBy: RuleRef[] = [];
  for (const pi of isolating) {
    const policy = cluster.policies[pi];
    if (!policy) continue;
    isolatedBy.push(policy.id);
    for (const rule of policy[dir] ?? []) {
      if (ruleAdmits(rule, q)) allowedBy.push({ policy: policy.id, rule: rule.index });
    }
  }
  return allowedBy.length > 0
    ? { kind: 'allowed', allowed: true, isolatedBy, allowedBy }
    : { kind: 'denied', allowed: false, isolatedBy };
}

export function rulePortsMatch(rule: RuleModel, port: number, protocol: Protocol, named: NamedPorts | undefined): boolean {
  return rule.ports === undefined || rule.ports.some((m) => portMatches(m, port, protocol, named));
}

function ruleAdmits(rule: RuleModel, q: SideQuery): boolean {
  return rulePortsMatch(rule, q.port, q.protocol, q.named) && rulePeerMatches(rule, q.peer);
}

function rulePeerMatches(rule: RuleModel, peer: Endpoint): boolean {
  if (rule.allPeers) return true;
  if (peer.kind === 'pod') return rule.pods[peer.index] === 1;
  const address = parseAddress(peer.ip);
  return address !== undefined && rule.ipBlocks.some((b) => ipBlockContains(b, address));
}
