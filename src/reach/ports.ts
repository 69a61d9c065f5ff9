/**
 * NetworkPolicyPort matching. Upstream: protocol defaults to TCP; a port that is absent matches every port
 * of the protocol; endPort makes an inclusive range from a numeric port; a named port matches the destination
 * pod's containerPort of that name AND protocol (an address outside the cluster has no named ports).
 */
import type { NetworkPolicyPort, Protocol } from '../model/kubernetes';

export type PortMatcher =
  | { readonly kind: 'any'; readonly protocol: Protocol }
  | { readonly kind: 'range'; readonly protocol: Protocol; readonly from: number; readonly to: number }
  | { readonly kind: 'named'; readonly protocol: Protocol; readonly name: string };

/** A destination's declared container ports, keyed "name/protocol" → number, for named-port resolution. */
export type NamedPorts = ReadonlyMap<string, number>;

export function namedPortKey(name: string, protocol: Protocol): string {
  return `${name}/${protocol}`;
}

export function toPortMatcher(p: NetworkPolicyPort): PortMatcher {
  const protocol = p.protocol ?? 'TCP';
  if (p.port === undefined || p.port === null) return { kind: 'any', protocol };
  if (typeof p.port === 'string') return { kind: 'named', protocol, name: p.port };
  // endPort below port is invalid upstream; treat the range as the single port rather than widen it.
  return { kind: 'range', protocol, from: p.port, to: Math.max(p.port, p.endPort ?? p.port) };
}

export function portMatches(m: PortMatcher, port: number, protocol: Protocol, named: NamedPorts | undefined): boolean {
  if (m.protocol !== protocol) return false;
  switch (m.kind) {
    case 'any':
      return true;
    case 'range':
      return port >= m.from && port <= m.to;
    case 'named':
      return named !== undefined && named.get(namedPortKey(m.name, protocol)) === port;
  }
}
