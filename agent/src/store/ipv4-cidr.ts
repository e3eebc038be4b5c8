/**
 * IPv4 CIDR arithmetic on plain numbers: the network config validator, the
 * lease codec and the subnet allocator all need the same few operations, and
 * keeping them pure (no library objects) makes them trivial to table-test.
 * Addresses are unsigned 32-bit integers (0 … 2^32-1) held in JS numbers.
 */

/** An IPv4 network: base address (host bits zero) and prefix length. */
export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  /** Prefix length, 0 … 32. */
  readonly prefix: number;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted quad ("10.244.0.1") to an unsigned integer; throws on anything else. */
export function parseIpv4(text: string): number {
  const m = IPV4_RE.exec(text);
  if (!m) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i];
    // Leading zeros are ambiguous (octal in some parsers): refuse them.
    if (part.length > 1 && part.startsWith('0')) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
    const octet = Number(part);
    if (octet > 255) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
    n = n * 256 + octet;
  }
  return n;
}

/** Formats an unsigned integer as a dotted quad. */
export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Number of addresses in a network of this prefix length. */
export function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/**
 * Parses "a.b.c.d/len". With `strict` (the default) host bits must be zero,
 * because a config that says 10.244.1.0/16 is almost always a typo.
 */
export function parseCidr(text: string, strict = true): Ipv4Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`not a CIDR (missing /len): ${JSON.stringify(text)}`);
  const addr = parseIpv4(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(lenText) || Number(lenText) > 32) {
    throw new Error(`not a CIDR (prefix length must be 0..32): ${JSON.stringify(text)}`);
  }
  const prefix = Number(lenText);
  const size = blockSize(prefix);
  const base = addr - (addr % size);
  if (strict && base !== addr) {
    throw new Error(`CIDR ${text} has host bits set (network address is ${formatIpv4(base)}/${prefix})`);
  }
  return { base, prefix };
}

/** Formats a network as "a.b.c.d/len". */
export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  if (inner.prefix < outer.prefix) return false;
  return inner.base >= outer.base && inner.base + blockSize(inner.prefix) <= outer.base + blockSize(outer.prefix);
}

/** True when the address lies inside the network. */
export function cidrHas(net: Ipv4Cidr, addr: number): boolean {
  return addr >= net.base && addr < net.base + blockSize(net.prefix);
}
