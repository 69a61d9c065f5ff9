/**
 * The union of the ports of every flow between one workload and one peer, in its smallest spelling: "all ports"
 * absorbs everything, "all ports of a protocol" absorbs that protocol's numbers and names, overlapping or
 * adjacent numeric ranges merge. Named ports stay as written: they resolve per pod, so they can't be merged
 * with numbers.
 */
import type { NetworkPolicyPort, Protocol } from '../model/kubernetes';
import type { FlowPort } from '../intent/types';
import { byString } from './canonical';

interface ProtocolPorts {
  all: boolean;
  ranges: [number, number][];
  names: Set<string>;
}

export class PortUnion {
  private everything = false;
  private readonly byProtocol = new Map<Protocol, ProtocolPorts>();

  /** Adds one flow's ports; an empty list means every port of every protocol. */
  add(ports: readonly FlowPort[]): void {
    if (ports.length === 0) this.everything = true;
    if (this.everything) return;
    for (const p of ports) this.addOne(p);
  }

  private addOne(p: FlowPort): void {
    let entry = this.byProtocol.get(p.protocol);
    if (!entry) {
      entry = { all: false, ranges: [], names: new Set() };
      this.byProtocol.set(p.protocol, entry);
    }
    if (p.port === undefined) entry.all = true;
    else if (typeof p.port === 'string') entry.names.add(p.port);
    else entry.ranges.push([p.port, p.endPort ?? p.port]);
  }

  /** undefined = every port (the rule gets no `ports` field). */
  toPorts(): NetworkPolicyPort[] | undefined {
    if (this.everything) return undefined;
    const out: NetworkPolicyPort[] = [];
    for (const protocol of [...this.byProtocol.keys()].sort(byString)) {
      out.push(...protocolPorts(protocol, this.byProtocol.get(protocol) as ProtocolPorts));
    }
    return out;
  }
}

function protocolPorts(protocol: Protocol, entry: ProtocolPorts): NetworkPolicyPort[] {
  if (entry.all) return [{ protocol }];
  const numeric = mergeRanges(entry.ranges).map(([from, to]): NetworkPolicyPort =>
    from === to ? { port: from, protocol } : { endPort: to, port: from, protocol },
  );
  const named = [...entry.names].sort(byString).map((name): NetworkPolicyPort => ({ port: name, protocol }));
  return [...numeric, ...named];
}

export function mergeRanges(ranges: readonly [number, number][]): [number, number][] {
  if (ranges.length <= 1) return ranges.map(([a, b]): [number, number] => [a, b]);
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = out[out.length - 1];
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/** The canonical JSON of toPorts()'s list, written directly: JSON.stringify is the compiler's hot spot. */
export function portsJSON(ports: readonly NetworkPolicyPort[]): string {
  return `[${ports.map(portJSON).join(',')}]`;
}

function portJSON(p: NetworkPolicyPort): string {
  const end = p.endPort === undefined ? '' : `"endPort":${p.endPort},`;
  const port = p.port === undefined ? '' : `"port":${typeof p.port === 'string' ? JSON.stringify(p.port) : p.port},`;
  return `{${end}${port}"protocol":${protocolJSON(p.protocol)}}`;
}

function protocolJSON(protocol: string | undefined): string {
  return (protocol !== undefined && PROTOCOL_JSON.get(protocol)) || JSON.stringify(protocol);
}

/** The protocols' JSON, written once: one JSON.stringify per port adds up over thousands of policies. */
const PROTOCOL_JSON: ReadonlyMap<string, string> = new Map(['TCP', 'UDP', 'SCTP'].map((p) => [p, JSON.stringify(p)]));

/** A port union in canonical form: the list and its JSON, both absent for "every port". */
export interface CanonicalPorts {
  readonly list?: NetworkPolicyPort[];
  readonly json?: string;
}

export function canonicalPorts(...lists: (readonly FlowPort[])[]): CanonicalPorts {
  const only = lists.length === 1 && lists[0]?.length === 1 ? lists[0][0] : undefined;
  if (only) return singlePort(only);
  const union = new PortUnion();
  for (const ports of lists) union.add(ports);
  const list = union.toPorts();
  return list ? { list, json: portsJSON(list) } : {};
}

/** The most common flow, one port: no union to compute (what toPorts would return for it, built directly). */
function singlePort(p: FlowPort): CanonicalPorts {
  const port: NetworkPolicyPort =
    p.port === undefined
      ? { protocol: p.protocol }
      : p.endPort === undefined || p.endPort === p.port
        ? { port: p.port, protocol: p.protocol }
        : { endPort: p.endPort, port: p.port, protocol: p.protocol };
  return { list: [port], json: `[${portJSON(port)}]` };
}
