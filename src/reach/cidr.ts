/**
 * IPv4 and IPv6 addresses and CIDRs as bigints, for ipBlock matching. An address only ever matches a CIDR of
 * its own family (as Go's net.IPNet.Contains does for a plain IPv4 address against an IPv6 network).
 */
export type Family = 4 | 6;

export interface Address {
  readonly family: Family;
  readonly value: bigint;
}

export interface Cidr {
  readonly family: Family;
  readonly prefix: number;
  /** The network address: host bits cleared, as net.ParseCIDR returns it. */
  readonly network: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function parseAddress(text: string): Address | undefined {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

function parseIPv4(text: string): Address | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(part));
  }
  return { family: 4, value };
}

function parseIPv6(text: string): Address | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n) };
}

/** Splits "a:b:c" into 16-bit groups; a trailing dotted IPv4 ("::ffff:1.2.3.4") counts as two groups. */
function groups(text: string): number[] | undefined {
  if (text === '') return [];
  const out: number[] = [];
  const parts = text.split(':');
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (!v4) return undefined;
      out.push(Number(v4.value >> 16n), Number(v4.value & 0xffffn));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      out.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return out;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const bits = BITS[address.family];
  if (prefix > bits) return undefined;
  const shift = BigInt(bits - prefix);
  return { family: address.family, prefix, network: (address.value >> shift) << shift };
}

export function cidrContains(cidr: Cidr, address: Address): boolean {
  if (cidr.family !== address.family) return false;
  const shift = BigInt(BITS[cidr.family] - cidr.prefix);
  return address.value >> shift === cidr.network >> shift;
}

export function formatAddress(address: Address): string {
  if (address.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((address.value >> s) & 0xffn)).join('.');
  }
  const groupsOut: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groupsOut.push(((address.value >> s) & 0xffffn).toString(16));
  return groupsOut.join(':');
}

/** The last address of a CIDR: a representative that is easy to keep apart from the network address. */
export function lastAddress(cidr: Cidr): Address {
  const hostBits = BITS[cidr.family] - cidr.prefix;
  return { family: cidr.family, value: cidr.network | ((1n << BigInt(hostBits)) - 1n) };
}
