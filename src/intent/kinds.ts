/**
 * Which objects of a file are netseg's: one rule, used by every command that reads files (render, reach, verify,
 * audit) through src/cli/load.ts. An object is netseg's when its apiVersion and kind are exactly those of a known
 * kind below. One that only looks like it (its apiVersion's group is or resembles netseg.io, or its kind is a
 * near miss of a known kind) is an error, never skipped: a skipped intent leaves its namespace open without a word.
 */
import { editDistance, quote } from './syntax';
import { API_VERSION, GROUP, KIND } from './types';
import { CLUSTER_KIND } from './baseline';

interface KnownKind {
  readonly kind: string;
  readonly apiVersion: string;
  /** false: recognised, so that a file holding one is an error rather than ignored, but not read by this version. */
  readonly supported: boolean;
}

/** Every netseg kind this version knows of. Supporting a new one is a line here plus the code that reads it. */
export const KNOWN_KINDS: readonly KnownKind[] = [
  { kind: KIND, apiVersion: API_VERSION, supported: true },
  { kind: CLUSTER_KIND, apiVersion: API_VERSION, supported: true },
];

export type Recognition =
  | { readonly is: 'netseg'; readonly kind: string }
  | { readonly is: 'other' }
  | { readonly is: 'error'; readonly message: string };

/** A kind this many edits (case aside) from a known one is taken for a typo of it: `SegmentationIntnet`. */
const KIND_TYPO_EDITS = 2;
/** The same for the group: `netseg.oi`, `netsge.io`. */
const GROUP_TYPO_EDITS = 2;
/** Longer text is nobody's typo of ours; the bound also keeps edit distances cheap on hostile input. */
const MAX_COMPARED_LENGTH = 64;

export function recognise(apiVersion: string, kind: string): Recognition {
  const exact = KNOWN_KINDS.find((k) => k.kind === kind);
  if (exact && exact.apiVersion === apiVersion) {
    return exact.supported ? { is: 'netseg', kind } : { is: 'error', message: unsupported(exact) };
  }
  const meant = exact ?? nearestKind(kind);
  if (!meant && !looksLikeOurGroup(apiVersion)) return { is: 'other' };
  return { is: 'error', message: problems(apiVersion, kind, meant).join('; ') };
}

/** What is wrong with a lookalike, each with its fix; `meant` is the known kind it is closest to, if any. */
function problems(apiVersion: string, kind: string, meant: KnownKind | undefined): string[] {
  const out: string[] = [];
  const wantVersion = meant?.apiVersion ?? API_VERSION;
  if (apiVersion !== wantVersion) {
    out.push(`apiVersion ${quote(apiVersion)} is not a netseg apiVersion this netseg knows: use ${wantVersion}`);
  }
  if (kind !== meant?.kind) {
    out.push(`kind ${quote(kind)} is not a netseg kind this netseg knows: use ${meant ? meant.kind : supportedKinds().join(' or ')}`);
  }
  if (meant && !meant.supported) out.push(unsupported(meant));
  return out;
}

/** True for an object every command reads as a SegmentationIntent. */
export function isSegmentationIntent(o: { readonly apiVersion?: unknown; readonly kind?: unknown }): boolean {
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return false;
  const r = recognise(o.apiVersion, o.kind);
  return r.is === 'netseg' && r.kind === KIND;
}

/** True for an object every command reads as a ClusterSegmentationIntent. */
export function isClusterSegmentationIntent(o: { readonly apiVersion?: unknown; readonly kind?: unknown }): boolean {
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return false;
  const r = recognise(o.apiVersion, o.kind);
  return r.is === 'netseg' && r.kind === CLUSTER_KIND;
}

function unsupported(k: KnownKind): string {
  return `${k.kind} is not supported by this version of netseg (it reads ${supportedKinds().join(', ')})`;
}

function supportedKinds(): string[] {
  return KNOWN_KINDS.filter((k) => k.supported).map((k) => k.kind);
}

function nearestKind(kind: string): KnownKind | undefined {
  if (kind.length > MAX_COMPARED_LENGTH) return undefined;
  const lower = kind.toLowerCase();
  let best: KnownKind | undefined;
  let bestEdits = KIND_TYPO_EDITS + 1;
  for (const k of KNOWN_KINDS) {
    const edits = editDistance(lower, k.kind.toLowerCase());
    if (edits < bestEdits) [best, bestEdits] = [k, edits];
  }
  return best;
}

/** `netseg.io/…`, `netseg/…`, `segmentation.netseg.io/…`, or a near miss of netseg.io, in any case. */
function looksLikeOurGroup(apiVersion: string): boolean {
  const slash = apiVersion.lastIndexOf('/');
  const group = (slash < 0 ? apiVersion : apiVersion.slice(0, slash)).toLowerCase();
  if (group === 'netseg' || group.endsWith(GROUP)) return true;
  return group.length <= MAX_COMPARED_LENGTH && editDistance(group, GROUP) <= GROUP_TYPO_EDITS;
}
