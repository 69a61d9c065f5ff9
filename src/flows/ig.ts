/**
 * Inspektor Gadget `trace_tcp -o json`: one JSON event per line (test/fixtures/flows/README.md cites the fields):
 *   type: connect | accept | close;  k8s: {namespace, podName, podLabels, owner: {kind, name}} (the local pod);
 *   src / dst: {addr, version, port, proto, k8s: {kind: pod|svc|raw, name, namespace, labels}}.
 * Only `connect` events count: `accept` and `close` are reported from the local end of a connection that a
 * connect already reported (or that came from outside, whose source end is not traced), so they are ignored.
 * The connecting pod is the event's own `k8s` (the gadget runs in its network namespace); a destination of
 * `kind: svc` is a ClusterIP, whose pods are resolved later from the cluster input.
 */
import { quote } from '../intent/syntax';
import { type Json, connectionKey, get, ipOf, isRecord, labelMap, portOf, protocolOf, record, text } from './common';
import { type LineOutcome, type ObservedDestination, type ObservedSource, type ReportedOwner, ignored, malformed } from './types';

export function readIg(value: unknown): LineOutcome {
  if (!isRecord(value)) return malformed('expected a JSON object (an Inspektor Gadget trace_tcp event)');
  const type = get(value, 'type');
  if (type === 'accept' || type === 'close') return ignored(`ig ${type} event`);
  if (type !== 'connect') {
    return typeof type === 'string' ? ignored('ig event of another type') : malformed('type is missing (connect, accept or close)');
  }
  const src = record(value, 'src');
  const dst = record(value, 'dst');
  if (!src || !dst) return malformed('src and dst must be objects {addr, port, proto, k8s}');
  const port = portOf(get(dst, 'port'));
  if (port === undefined) return malformed('dst.port must be a port from 1 to 65535');
  // trace_tcp traces TCP only; proto is printed as "TCP" and checked when present.
  const rawProto = get(dst, 'proto');
  const protocol = rawProto === undefined ? 'TCP' : protocolOf(rawProto);
  if (!protocol) return malformed(`dst.proto ${quote(String(rawProto))} is not TCP, UDP or SCTP`);
  const from = source(record(value, 'k8s'), src);
  if (!from) return malformed('neither k8s.namespace/podName nor src.addr names the source');
  const to = destination(dst);
  if (!to) return malformed('dst.addr is not an IP address and dst.k8s names no pod or service');
  const srcIp = ipOf(get(src, 'addr'));
  const dstIp = ipOf(get(dst, 'addr'));
  const srcPort = portOf(get(src, 'port'));
  const connection = srcIp && dstIp && srcPort !== undefined ? connectionKey(protocol, srcIp, srcPort, dstIp, port) : undefined;
  return { kind: 'flow', flow: { from, to, port, protocol, ...(connection ? { connection } : {}) } };
}

function source(k8s: Json | undefined, src: Json): ObservedSource | undefined {
  const ip = ipOf(get(src, 'addr'));
  const namespace = k8s ? text(k8s, 'namespace') : undefined;
  const name = k8s ? text(k8s, 'podName') : undefined;
  if (k8s && namespace && name && get(k8s, 'hostNetwork') !== true) {
    const labels = labelMap(get(k8s, 'podLabels'));
    const owner = ownerOf(record(k8s, 'owner'));
    return { kind: 'pod', namespace, name, ...(ip ? { ip } : {}), ...(labels ? { labels } : {}), ...(owner ? { owner } : {}) };
  }
  return ip ? { kind: 'ip', ip } : undefined;
}

function destination(dst: Json): ObservedDestination | undefined {
  const ip = ipOf(get(dst, 'addr'));
  const k8s = record(dst, 'k8s');
  const kind = k8s ? text(k8s, 'kind') : undefined;
  const namespace = k8s ? text(k8s, 'namespace') : undefined;
  const name = k8s ? text(k8s, 'name') : undefined;
  if (k8s && namespace && name && kind === 'pod') {
    const labels = labelMap(get(k8s, 'labels'));
    return { kind: 'pod', namespace, name, ...(ip ? { ip } : {}), ...(labels ? { labels } : {}) };
  }
  if (namespace && name && kind === 'svc') return { kind: 'service', namespace, name, ...(ip ? { ip } : {}) };
  return ip ? { kind: 'ip', ip } : undefined;
}

function ownerOf(o: Json | undefined): ReportedOwner | undefined {
  const kind = o ? text(o, 'kind') : undefined;
  const name = o ? text(o, 'name') : undefined;
  return kind && name ? { kind, name } : undefined;
}
