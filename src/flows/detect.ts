/** Which format a flow file is in, told from its first record (`--format` overrides). */
import { get, isRecord } from './common';
import type { FlowFormat } from './types';

const IG_TYPES = new Set(['connect', 'accept', 'close']);

/** `first` is the first non-empty line parsed as JSON; a file starting with "[" is a netseg JSON array. */
export function detectFormat(first: unknown): FlowFormat | undefined {
  if (Array.isArray(first)) return 'netseg';
  if (!isRecord(first)) return undefined;
  if (isRecord(get(first, 'flow')) || get(first, 'verdict') !== undefined || get(first, 'lost_events') !== undefined || get(first, 'node_status') !== undefined) {
    return 'hubble';
  }
  if (isRecord(get(first, 'src')) || isRecord(get(first, 'dst')) || IG_TYPES.has(get(first, 'type') as string)) return 'ig';
  if (get(first, 'from') !== undefined && get(first, 'to') !== undefined) return 'netseg';
  if (isRecord(get(first, 'source')) || isRecord(get(first, 'destination'))) return 'hubble';
  return undefined;
}
