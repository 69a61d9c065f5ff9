/**
 * Generated policy names: readable, deterministic, and INJECTIVE within a namespace (API.md): no two (intent,
 * workload, direction) and no two default-denies may ever want the same name, whatever their lengths, and a
 * shortened name can't be produced by naming another intent after it. The scheme (docs/intent-reference.md,
 * "Generated names"):
 *
 *   <intent>.<workload>.ingress    <intent>.<workload>.egress    <intent>.default-deny
 *
 * "." separates the parts because a workload name (a DNS-1123 label) can't contain one and the last part is one
 * of a fixed set of tags: read from the right, a name gives back its tag, then its workload (for ingress/egress),
 * then its intent, so two different tuples can't spell the same name. ("-" could not do this: `a-b` + `c` and
 * `a` + `b-c` both spell `a-b-c`.)
 *
 * NetworkPolicy names are DNS-1123 subdomains of at most 253 characters; an intent name may already have 253.
 * A name that would be longer becomes
 *
 *   <head>.<tag>-<32 hex of sha256 of the tuple>
 *
 * whose last part is never one of the plain tags, so a shortened name never equals a plain one; two shortened
 * names are equal only if 128 bits of sha256 collide. The head (a prefix of the plain name) is for humans.
 */
import { sha256Hex } from './hash';

/** NetworkPolicy names are DNS-1123 subdomains. */
export const NAME_MAX = 253;

export type PolicyKind = 'ingress' | 'egress' | 'default-deny';

/**
 * The plain tags: the last dot-separated part of every unshortened generated name. Reserved here, so that no
 * future kind of generated policy reuses one: a new kind of owner (e.g. a cluster-wide baseline) gets tags of its
 * own that are not in this list.
 */
export const PLAIN_TAGS: readonly string[] = ['ingress', 'egress', 'default-deny'];

/** 32 hex characters = 128 bits: a deliberate collision would need ~2^64 sha256 evaluations. */
const HASH_HEX = 32;

export function policyName(intentName: string, workload: string | undefined, kind: PolicyKind): string {
  const readable = workload === undefined ? intentName : `${intentName}.${workload}`;
  return nameOf(['SegmentationIntent', intentName, workload ?? null, kind], readable, kind);
}

/**
 * The tags of a ClusterSegmentationIntent's policies in one namespace (docs/baseline.md, "Names"): none is a
 * PLAIN_TAG, so no baseline policy can ever be named like an intent's, whatever the names.
 *  - `cluster-ingress`, `cluster-egress`: the deny-all of a direction, `<baseline>.<tag>`;
 *  - `peer-ingress`, `peer-egress`: a flow's other end in this namespace, `<baseline>.<peer>.<tag>`;
 *  - `dns-ingress`: cluster DNS admitting the selected namespaces, `<baseline>.<tag>`.
 * The tag fixes how many parts precede it, so read from the right a name gives back its tag, its peer (if any)
 * and its baseline: injective like policyName.
 */
export type BaselinePolicyKind = 'cluster-ingress' | 'cluster-egress' | 'peer-ingress' | 'peer-egress' | 'dns-ingress';
export const BASELINE_TAGS: readonly BaselinePolicyKind[] = ['cluster-ingress', 'cluster-egress', 'peer-ingress', 'peer-egress', 'dns-ingress'];

export function baselinePolicyName(baseline: string, peer: string | undefined, kind: BaselinePolicyKind): string {
  const readable = peer === undefined ? baseline : `${baseline}.${peer}`;
  return nameOf(['ClusterSegmentationIntent', baseline, peer ?? null, kind], readable, kind);
}

/** `<readable>.<tag>`, or past NAME_MAX `<head>.<tag>-<32 hex of sha256 of the tuple>`. */
function nameOf(tuple: readonly (string | null)[], readable: string, tag: string): string {
  const plain = `${readable}.${tag}`;
  if (plain.length <= NAME_MAX) return plain;
  // JSON of the tuple: an unambiguous encoding, whatever characters the parts hold.
  const digest = sha256Hex(JSON.stringify(tuple)).slice(0, HASH_HEX);
  const shortened = `${tag}-${digest}`;
  const head = readable.slice(0, NAME_MAX - shortened.length - 1).replace(/[-.]+$/, '');
  return `${head}.${shortened}`;
}
