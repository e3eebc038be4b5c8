/**
 * Input checks and address codecs. Every verb validates its arguments here
 * before anything is put on the wire, so a bad name or CIDR fails with an
 * error naming the field instead of a bare EINVAL from the kernel (or, worse,
 * a silently truncated interface name).
 */
import { isIP } from 'node:net';
import { NetlinkInputError } from './errors';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_BRIDGE = 7;

/** The kernel's dev_valid_name(): 1–15 bytes, not . or .., no '/', ':' or whitespace. */
export function checkIfName(field: string, name: unknown): string {
  if (typeof name !== 'string') throw new NetlinkInputError(field, name, 'interface name must be a string');
  const len = Buffer.byteLength(name);
  if (len < 1 || len > 15) throw new NetlinkInputError(field, name, 'interface name must be 1–15 bytes');
  if (name === '.' || name === '..') throw new NetlinkInputError(field, name, 'interface name cannot be . or ..');
  if (/[/:\s]/.test(name)) throw new NetlinkInputError(field, name, "interface name cannot contain '/', ':' or whitespace");
  return name;
}

/** An integer in [min, max]. */
export function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new NetlinkInputError(field, v, `must be an integer in [${min}, ${max}]`);
  }
  return v;
}

/** A positive ifindex. */
export function checkIndex(field: string, v: unknown): number {
  return checkInt(field, v, 1, 0x7fffffff);
}

export function checkMtu(field: string, v: unknown): number {
  return checkInt(field, v, 68, 65535);
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** A MAC as "aa:bb:cc:dd:ee:ff" (either case); throws NetlinkInputError(field) otherwise. */
export function checkMac(field: string, mac: unknown): string {
  if (typeof mac !== 'string' || !MAC_RE.test(mac)) {
    throw new NetlinkInputError(field, mac, 'MAC must look like aa:bb:cc:dd:ee:ff');
  }
  return mac;
}

/** "aa:bb:cc:dd:ee:ff" → 6-byte buffer. */
export function macToBuf(field: string, mac: unknown): Buffer {
  return Buffer.from(checkMac(field, mac).replace(/:/g, ''), 'hex');
}

/** 6-byte buffer → lower-case "aa:bb:cc:dd:ee:ff"; undefined for other lengths. */
export function bufToMac(b: Buffer | undefined): string | undefined {
  if (!b || b.length !== 6) return undefined;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A parsed IP address with its family and wire bytes. */
export interface ParsedIp {
  family: 4 | 6;
  bytes: Buffer;
  text: string;
}

/** "10.0.0.1" / "fd00::1" → bytes in network order. */
export function parseIp(field: string, ip: unknown): ParsedIp {
  const fam = typeof ip === 'string' ? isIP(ip) : 0;
  if (fam === 4) {
    const bytes = Buffer.from((ip as string).split('.').map(Number));
    return { family: 4, bytes, text: ip as string };
  }
  if (fam === 6) {
    return { family: 6, bytes: ipv6ToBytes(ip as string), text: bufToIp(ipv6ToBytes(ip as string)) };
  }
  throw new NetlinkInputError(field, ip, 'not an IPv4 or IPv6 address');
}

function ipv6ToBytes(ip: string): Buffer {
  let s = ip;
  const out = Buffer.alloc(16);
  // a trailing dotted quad ("::ffff:1.2.3.4") becomes two hex groups
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    const b = quad[1].split('.').map(Number);
    s = s.slice(0, -quad[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Wire bytes (4 or 16) → canonical text (RFC 5952 for v6). */
export function bufToIp(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) throw new Error(`address of ${b.length} bytes`);
  return ipv6BytesToText(b, 0);
}

/** The 16 bytes of an IPv6 address at `start` of `b` → RFC 5952 text (read in place: dumps decode thousands). */
export function ipv6BytesToText(b: Buffer, start: number): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[start + i]! << 8) | b[start + i + 1]!);
  // longest run (≥ 2) of zero groups becomes "::" (the first on a tie)
  let best = -1; let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** A parsed CIDR: the address, its family and prefix length. */
export interface ParsedCidr extends ParsedIp {
  prefixLen: number;
}

/**
 * "10.244.1.1/24" → address + prefix length. With `network: true` the host
 * bits must be zero (route destinations), as the kernel requires.
 */
export function parseCidr(field: string, cidr: unknown, opts: { network?: boolean } = {}): ParsedCidr {
  if (typeof cidr !== 'string' || !cidr.includes('/')) throw new NetlinkInputError(field, cidr, 'CIDR must look like 10.0.0.0/24 or fd00::/64');
  const slash = cidr.indexOf('/');
  const lenText = cidr.slice(slash + 1);
  const ip = parseIp(field, cidr.slice(0, slash));
  const max = ip.family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
    throw new NetlinkInputError(field, cidr, `prefix length must be 0–${max}`);
  }
  const prefixLen = Number(lenText);
  if (opts.network && !hostBitsZero(ip.bytes, prefixLen)) {
    throw new NetlinkInputError(field, cidr, 'host bits must be zero for a network prefix');
  }
  return { ...ip, prefixLen };
}

function hostBitsZero(bytes: Buffer, prefixLen: number): boolean {
  for (let bit = prefixLen; bit < bytes.length * 8; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) return false;
  }
  return true;
}

export function familyNumber(f: 4 | 6): number {
  return f === 4 ? AF_INET : AF_INET6;
}

/** Optional family filter → 4 | 6 | undefined, validated. */
export function checkFamily(field: string, f: unknown): 4 | 6 | undefined {
  if (f === undefined) return undefined;
  if (f !== 4 && f !== 6) throw new NetlinkInputError(field, f, 'family must be 4 or 6');
  return f;
}
