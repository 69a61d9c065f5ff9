/**
 * netseg's own flow format: the `netseg reach --queries` shape, `{"from", "to", "port", "protocol"}` with a pod
 * as "namespace/name" or an IP address on either side, as a JSON array or one object per line. Each entry is
 * one connection (nothing identifies a connection across entries). Protocol defaults to TCP, as in --queries.
 */
import { quote } from '../intent/syntax';
import { get, ipOf, isRecord, portOf, protocolOf } from './common';
import { type LineOutcome, type ObservedPod, malformed } from './types';

const POD_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

export function readNetseg(value: unknown): LineOutcome {
  if (!isRecord(value)) return malformed('expected an object {"from", "to", "port", "protocol"}');
  const from = endpoint(get(value, 'from'));
  const to = endpoint(get(value, 'to'));
  if (!from) return malformed(`from ${show(get(value, 'from'))} must be NAMESPACE/POD or an IP address`);
  if (!to) return malformed(`to ${show(get(value, 'to'))} must be NAMESPACE/POD or an IP address`);
  const port = portOf(get(value, 'port'));
  if (port === undefined) return malformed(`port ${show(get(value, 'port'))} must be a number from 1 to 65535`);
  const raw = get(value, 'protocol');
  const protocol = raw === undefined ? 'TCP' : protocolOf(raw);
  if (!protocol || (typeof raw === 'string' && raw !== protocol)) return malformed(`protocol ${show(raw)} must be TCP, UDP or SCTP`);
  return { kind: 'flow', flow: { from, to, port, protocol } };
}

function endpoint(raw: unknown): ObservedPod | { kind: 'ip'; ip: string } | undefined {
  if (typeof raw !== 'string' || raw.length > 317) return undefined;
  const ip = ipOf(raw);
  if (ip) return { kind: 'ip', ip };
  const m = POD_KEY.exec(raw);
  return m ? { kind: 'pod', namespace: m[1] as string, name: m[3] as string } : undefined;
}

/** A value quoted for a message, cut short: a hostile file must not turn into megabytes of stderr. */
function show(v: unknown): string {
  return typeof v === 'string' ? quote(v) : quote(JSON.stringify(v) ?? 'nothing', 32);
}
