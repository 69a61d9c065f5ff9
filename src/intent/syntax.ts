/**
 * Syntax checks of the Kubernetes names and values that an intent carries. Each returns undefined when the
 * text is valid, else a short reason that already says how to fix it. Lengths are checked before any regular
 * expression so that hostile, very long strings cost nothing.
 */
import { LIMITS } from './limits';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const IANA_SVC_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Quotes user text for a message, cut short so that a 1 MB string doesn't become a 1 MB message. */
export function quote(text: string, max = 64): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** Levenshtein distance: how many one-character edits turn `a` into `b`. Callers bound the lengths. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = row;
  }
  return prev[b.length] as number;
}

export function dnsLabelProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 63) return `${quote(name)} is ${name.length} characters; at most 63`;
  if (!DNS1123_LABEL.test(name)) {
    return `${quote(name)} must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit`;
  }
  return undefined;
}

export function dnsSubdomainProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 253) return `${quote(name)} is ${name.length} characters; at most 253`;
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return `${quote(name)} must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

export function labelKeyProblem(key: string): string | undefined {
  if (key.length > LIMITS.labelKeyLength) return `label key ${quote(key)} is too long`;
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    const bad = dnsSubdomainProblem(prefix);
    if (bad) return `label key ${quote(key)}: the prefix before "/" ${bad}`;
  }
  if (name.length === 0) return `label key ${quote(key)} has an empty name`;
  if (name.length > 63) return `label key ${quote(key)}: the name part is ${name.length} characters; at most 63`;
  if (!QUALIFIED_NAME.test(name)) {
    return `label key ${quote(key)}: the name part may hold letters, digits, "-", "_" and ".", and must start and end with a letter or digit`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > LIMITS.labelValueLength) return `label value ${quote(value)} is ${value.length} characters; at most 63`;
  if (!LABEL_VALUE.test(value)) {
    return `label value ${quote(value)} may hold letters, digits, "-", "_" and ".", and must start and end with a letter or digit (or be empty)`;
  }
  return undefined;
}

/** A named port (IANA_SVC_NAME): 1–15 characters, lowercase letters, digits and single "-", at least one letter. */
export function portNameProblem(name: string): string | undefined {
  const hint = 'a port name has 1-15 lowercase letters, digits and single "-", with at least one letter';
  if (name.length === 0 || name.length > LIMITS.portNameLength) return `${quote(name)}: ${hint}`;
  if (/^[0-9]+$/.test(name)) return `${quote(name)} is a number written as a string; write it without quotes`;
  if (!IANA_SVC_NAME.test(name) || name.includes('--') || !/[a-z]/.test(name)) return `${quote(name)}: ${hint}`;
  return undefined;
}

// ------------------------------------------------------------------------------------------------ CIDRs

export interface Cidr {
  readonly family: 4 | 6;
  /** The address as an unsigned integer of 32 or 128 bits. */
  readonly address: bigint;
  readonly prefix: number;
}

const DECIMAL = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // Leading zeros are refused: some parsers read them as octal, so "010" is ambiguous.
    if (!DECIMAL.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

/** The 16-bit groups of one side of "::", an embedded IPv4 tail counting as two groups. */
function ipv6Groups(text: string, allowIPv4Tail: boolean): bigint[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: bigint[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (allowIPv4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 === undefined) return undefined;
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else if (HEX_GROUP.test(part)) {
      groups.push(BigInt(`0x${part}`));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseIPv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = ipv6Groups(halves[0] as string, halves.length === 1);
  const tail = halves.length === 2 ? ipv6Groups(halves[1] as string, true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<bigint>(Math.max(0, missing)).fill(0n), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses "10.0.0.0/8" or "2001:db8::/32"; returns a reason on failure (host bits set included). */
export function parseCidr(text: string): Cidr | string {
  const hint = `${quote(text)} is not a CIDR; write an address and a prefix length, e.g. 10.0.0.0/8 or 2001:db8::/32`;
  if (text.length > LIMITS.cidrLength) return hint;
  const slash = text.indexOf('/');
  if (slash < 0 || !/^(0|[1-9][0-9]{0,2})$/.test(text.slice(slash + 1))) return hint;
  const ip = text.slice(0, slash);
  const prefix = Number(text.slice(slash + 1));
  const family: 4 | 6 = ip.includes(':') ? 6 : 4;
  const address = family === 4 ? parseIPv4(ip) : parseIPv6(ip);
  const width = family === 4 ? 32 : 128;
  if (address === undefined || prefix > width) return hint;
  const cidr: Cidr = { family, address, prefix };
  const network = networkOf(cidr);
  if (network !== address) {
    return `${quote(text)} has host bits set; write the network address ${formatCidr({ ...cidr, address: network })}`;
  }
  return cidr;
}

function networkOf(c: Cidr): bigint {
  const width = BigInt(c.family === 4 ? 32 : 128);
  const host = width - BigInt(c.prefix);
  return (c.address >> host) << host;
}

/** True when `inner` is a strict subset of `outer`, as Kubernetes requires of an ipBlock's `except`. */
export function strictlyInside(inner: Cidr, outer: Cidr): boolean {
  if (inner.family !== outer.family || inner.prefix <= outer.prefix) return false;
  const host = BigInt((outer.family === 4 ? 32 : 128) - outer.prefix);
  return inner.address >> host === outer.address >> host;
}

export function formatCidr(c: Cidr): string {
  return `${c.family === 4 ? formatIPv4(c.address) : formatIPv6(c.address)}/${c.prefix}`;
}

function formatIPv4(a: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((a >> s) & 0xffn)).join('.');
}

/** RFC 5952: lowercase, the longest run (≥ 2) of zero groups as "::". */
function formatIPv6(a: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((a >> BigInt(16 * (7 - i))) & 0xffffn));
  let best = { start: -1, length: 0 };
  let run = { start: -1, length: 0 };
  groups.forEach((g, i) => {
    run = g === 0 ? { start: run.start < 0 ? i : run.start, length: run.length + 1 } : { start: -1, length: 0 };
    if (run.length > best.length) best = run;
  });
  const hex = groups.map((g) => g.toString(16));
  if (best.length < 2) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}
