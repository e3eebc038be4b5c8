/**
 * Small, pure IPv4 arithmetic on unsigned 32-bit integers.
 *
 * Kept local instead of going through ip-num because the allocator only needs
 * a handful of operations on numbers, and strict parsing matters more than
 * breadth: "010.1.1.1" (octal-looking), "1.2.3" (inet_aton shorthand) and
 * "10.244.1.5/24" (host bits set) are all rejected so that a value read from a
 * state file or a config file means exactly one thing.
 */

/** An IPv4 prefix in canonical form: host bits of `network` are zero. */
export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  /** Prefix length, 0..32. */
  readonly prefixLength: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses a dotted-quad IPv4 address; undefined when `text` is not exactly one. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** True when `text` is a strict dotted-quad IPv4 address. */
export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

/** Formats an unsigned 32-bit integer as a dotted quad. */
export function formatIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`not an IPv4 address value: ${value}`);
  }
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** The netmask of a prefix length as an unsigned 32-bit integer (/0 → 0). */
export function prefixMask(prefixLength: number): number {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw new RangeError(`not an IPv4 prefix length: ${prefixLength}`);
  }
  // Shifting by 32 is a no-op in JS, so /0 is special-cased.
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/**
 * Parses "a.b.c.d/len". Returns undefined for anything else, including a
 * prefix whose host bits are not zero: callers that want to accept those
 * should say so explicitly rather than have them renumbered silently.
 */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIpv4(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (address === undefined || !/^(0|[1-9][0-9]?)$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > 32) return undefined;
  if (((address & ~prefixMask(prefixLength)) >>> 0) !== 0) return undefined;
  return { network: address, prefixLength };
}

/**
 * True when `text` is exactly a prefix parseCidr accepts and it lies inside
 * `outer`; undefined when `text` is not such a prefix (the caller's general
 * path decides). Read in place, without parseCidr's split, slices and
 * object: the reconciler asks this for every route of a dump and every route
 * event (30 000 at 10 000 vxlan peers, issue 17).
 */
export function ipv4PrefixInside(text: string, outer: Ipv4Cidr): boolean | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let octets = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 || c === 47) { // '.' or '/' ends an octet
      if (digits === 0 || octet > 255) return undefined;
      value = value * 256 + octet;
      octets++;
      octet = 0;
      digits = 0;
      if (c === 47) break;
      if (octets === 4) return undefined;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9 || (digits > 0 && octet === 0) || digits === 3) return undefined; // a leading zero, or a fourth digit
    octet = octet * 10 + d;
    digits++;
  }
  if (octets !== 4 || i === text.length) return undefined;
  // the length: 0 or [1-9][0-9]?, at most 32
  const n = text.length - i - 1;
  const d0 = text.charCodeAt(i + 1) - 48;
  const d1 = n === 2 ? text.charCodeAt(i + 2) - 48 : 0;
  if (n < 1 || n > 2 || d0 < 0 || d0 > 9 || d1 < 0 || d1 > 9 || (n === 2 && d0 === 0)) return undefined;
  const prefixLength = n === 2 ? d0 * 10 + d1 : d0;
  if (prefixLength > 32 || ((value & ~prefixMask(prefixLength)) >>> 0) !== 0) return undefined;
  return prefixLength >= outer.prefixLength && ((value & prefixMask(outer.prefixLength)) >>> 0) === outer.network;
}

/** "a.b.c.d/len" of a parsed prefix. */
export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefixLength}`;
}

/** Number of addresses in the prefix, network and broadcast included. */
export function cidrSize(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefixLength);
}

/** The broadcast (last) address of the prefix. */
export function broadcastAddress(cidr: Ipv4Cidr): number {
  return cidr.network + cidrSize(cidr) - 1;
}

/** True when `address` lies inside `cidr` (network and broadcast included). */
export function cidrContains(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.network && address <= broadcastAddress(cidr);
}

/** Number of addresses in a prefix of this length. */
export function blockSize(prefixLength: number): number {
  return 2 ** (32 - prefixLength);
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrCovers(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  if (inner.prefixLength < outer.prefixLength) return false;
  return inner.network >= outer.network
    && inner.network + blockSize(inner.prefixLength) <= outer.network + blockSize(outer.prefixLength);
}

/** Parses a dotted quad; throws an error quoting the text when it is not one (for validators). */
export function mustParseIpv4(text: string): number {
  const v = parseIpv4(text);
  if (v === undefined) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  return v;
}

/**
 * Parses "a.b.c.d/len", throwing an error that says what is wrong. With
 * `strict` (the default) host bits must be zero, because a config that says
 * 10.244.1.0/16 is almost always a typo; without it they are cleared.
 */
export function mustParseCidr(text: string, strict = true): Ipv4Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`not a CIDR (missing /len): ${JSON.stringify(text)}`);
  const address = mustParseIpv4(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]?)$/.test(lenText) || Number(lenText) > 32) {
    throw new Error(`not a CIDR (prefix length must be 0..32): ${JSON.stringify(text)}`);
  }
  const prefixLength = Number(lenText);
  const network = (address & prefixMask(prefixLength)) >>> 0;
  if (strict && network !== address) {
    throw new Error(`CIDR ${text} has host bits set (network address is ${formatIpv4(network)}/${prefixLength})`);
  }
  return { network, prefixLength };
}
