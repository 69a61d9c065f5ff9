/** Small readers shared by the flow formats: every field of a record is checked before it is believed. */
import { PROTOCOLS, type Protocol } from '../model/kubernetes';
import { parseAddress } from '../reach/cidr';

export type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own field (never one of Object.prototype's), null read as absent. */
export function get(o: Json, key: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(o, key)) return undefined;
  const v = o[key];
  return v === null ? undefined : v;
}

export function text(o: Json, key: string): string | undefined {
  const v = get(o, key);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function record(o: Json, key: string): Json | undefined {
  const v = get(o, key);
  return isRecord(v) ? v : undefined;
}

/** A destination port: an integer from 1 to 65535 (a number, or digits as text). */
export function portOf(raw: unknown): number | undefined {
  const n = typeof raw === 'string' && /^\d{1,5}$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

export function protocolOf(raw: unknown): Protocol | undefined {
  if (typeof raw !== 'string') return undefined;
  const upper = raw.toUpperCase();
  return PROTOCOLS.find((p) => p === upper);
}

/** An IP address as text, or undefined when it is not one (names, CIDRs, garbage). */
export function ipOf(raw: unknown): string | undefined {
  return typeof raw === 'string' && raw.length <= 45 && parseAddress(raw) !== undefined ? raw : undefined;
}

/** "k=v" (or "k:v" never: a label value may hold ":"), split at the first "=". */
export function splitLabel(entry: string): [string, string] | undefined {
  const eq = entry.indexOf('=');
  return eq <= 0 ? undefined : [entry.slice(0, eq), entry.slice(eq + 1)];
}

/** A label map from a JSON mapping of strings, or from "k=v,k2=v2" text; undefined when it is neither. */
export function labelMap(raw: unknown): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (isRecord(raw)) {
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') define(out, k, v);
    return out;
  }
  if (typeof raw !== 'string') return undefined;
  for (const entry of raw.split(',')) {
    const kv = splitLabel(entry.trim());
    if (kv) define(out, kv[0], kv[1]);
  }
  return out;
}

/** Sets an own property: a label key of `__proto__` must stay a key. */
export function define(o: Record<string, string>, key: string, value: string): void {
  // Assignment is several times cheaper; only `__proto__` needs defining (assigning it would set the prototype).
  if (key !== '__proto__') o[key] = value;
  else Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The identity of one connection: the same text for its every record, at either end. */
export function connectionKey(protocol: Protocol, srcIp: string, srcPort: number, dstIp: string, dstPort: number): string {
  return `${protocol} ${srcIp} ${srcPort} ${dstIp} ${dstPort}`;
}
