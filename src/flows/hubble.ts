/**
 * `hubble observe -o json`: one JSON object per line, a GetFlowsResponse `{"flow": {...}, "node_name", "time"}`
 * (observer.proto), or a bare Flow object. Field names are the proto names of Cilium's api/v1/flow/flow.proto,
 * as protojson prints them (test/fixtures/flows/README.md cites each one):
 *   verdict, is_reply (google.protobuf.BoolValue: absent = unknown, read as false), traffic_direction,
 *   IP.source / IP.destination, l4.TCP|UDP|SCTP.source_port / destination_port,
 *   source / destination: Endpoint {namespace, pod_name, labels: ["k8s:app=x", ...], workloads: [{name, kind}]}.
 * Rules (API.md): only FORWARDED, non-reply flows count; ICMP and flows without ports open nothing a
 * NetworkPolicy port names and are ignored; other responses (node_status, lost_events) are not flows.
 */
import type { Protocol } from '../model/kubernetes';
import { type Json, connectionKey, define, get, ipOf, isRecord, portOf, record, splitLabel, text } from './common';
import { type LineOutcome, type ObservedPod, type ReportedOwner, ignored, malformed } from './types';

/** flow.proto `enum Verdict`: rules are counted by name, so only these names (a hostile file can't grow the count). */
const VERDICTS = new Set(['VERDICT_UNKNOWN', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED']);
const L4_PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
/** Cilium's own labels on an endpoint that are not the pod's labels. */
const K8S_PREFIX = 'k8s:';
const NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
const CILIUM_KEY_PREFIX = 'io.cilium.';

export function readHubble(value: unknown): LineOutcome {
  if (!isRecord(value)) return malformed('expected a JSON object (a hubble GetFlowsResponse or a Flow)');
  const flow = record(value, 'flow') ?? (looksLikeFlow(value) ? value : undefined);
  if (!flow) {
    if (get(value, 'lost_events') !== undefined) return ignored('hubble lost events (flows were lost before they were printed)');
    if (get(value, 'node_status') !== undefined) return ignored('hubble node status, not a flow');
    return malformed('neither {"flow": {...}} nor a Flow object (no verdict, source or destination)');
  }
  const verdict = get(flow, 'verdict');
  if (verdict !== 'FORWARDED') {
    return typeof verdict === 'string' ? ignored(VERDICTS.has(verdict) ? `verdict ${verdict}` : 'verdict not FORWARDED (a value flow.proto does not define)') : malformed('flow.verdict is missing or not a string');
  }
  const isReply = get(flow, 'is_reply');
  if (isReply !== undefined && typeof isReply !== 'boolean') return malformed('flow.is_reply must be true or false');
  if (isReply === true) return ignored('reply');
  const l4 = record(flow, 'l4');
  const proto = l4 ? L4_PROTOCOLS.find((p) => isRecord(get(l4, p))) : undefined;
  if (!l4 || !proto) return ignored('no TCP, UDP or SCTP layer (ICMP or L3 only)');
  const ports = record(l4, proto) as Json;
  const port = portOf(get(ports, 'destination_port'));
  if (port === undefined) return malformed(`flow.l4.${proto}.destination_port must be a port from 1 to 65535`);
  const ip = record(flow, 'IP');
  const srcIp = ip ? ipOf(get(ip, 'source')) : undefined;
  const dstIp = ip ? ipOf(get(ip, 'destination')) : undefined;
  const from = endpoint(record(flow, 'source'), srcIp);
  const to = endpoint(record(flow, 'destination'), dstIp);
  if (!from) return malformed('flow.source has no namespace and pod_name, and flow.IP.source is not an IP address');
  if (!to) return malformed('flow.destination has no namespace and pod_name, and flow.IP.destination is not an IP address');
  const srcPort = portOf(get(ports, 'source_port'));
  const connection = srcIp && dstIp && srcPort !== undefined ? connectionKey(proto, srcIp, srcPort, dstIp, port) : undefined;
  return { kind: 'flow', flow: { from, to, port, protocol: proto, ...(connection ? { connection } : {}) } };
}

function looksLikeFlow(o: Json): boolean {
  return get(o, 'verdict') !== undefined || isRecord(get(o, 'source')) || isRecord(get(o, 'destination'));
}

function endpoint(ep: Json | undefined, ip: string | undefined): ObservedPod | { kind: 'ip'; ip: string } | undefined {
  const namespace = ep ? text(ep, 'namespace') : undefined;
  const name = ep ? text(ep, 'pod_name') : undefined;
  if (ep && namespace && name) {
    const labels = podLabels(get(ep, 'labels'));
    const owner = ownerOf(get(ep, 'workloads'));
    return { kind: 'pod', namespace, name, ...(ip ? { ip } : {}), ...(labels ? { labels } : {}), ...(owner ? { owner } : {}) };
  }
  return ip ? { kind: 'ip', ip } : undefined;
}

/** Only `k8s:`-prefixed entries are the pod's labels, minus Cilium's namespace label and `io.cilium.*` keys. */
function podLabels(raw: unknown): Record<string, string> | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: Record<string, string> = {};
  for (const entry of raw) {
    if (typeof entry !== 'string' || !entry.startsWith(K8S_PREFIX)) continue;
    const kv = splitLabel(entry.slice(K8S_PREFIX.length));
    if (!kv || kv[0] === NAMESPACE_LABEL || kv[0].startsWith(CILIUM_KEY_PREFIX)) continue;
    define(out, kv[0], kv[1]);
  }
  return out;
}

/** Cilium names the pod's workload (a Deployment, not its ReplicaSet); the first entry is taken. */
function ownerOf(raw: unknown): ReportedOwner | undefined {
  if (!Array.isArray(raw)) return undefined;
  const first: unknown = raw[0];
  if (!isRecord(first)) return undefined;
  const kind = text(first, 'kind');
  const name = text(first, 'name');
  return kind && name ? { kind, name } : undefined;
}
