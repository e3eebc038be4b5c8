/**
 * NLRI prefix encoding (RFC 4271 §4.3, RFC 4760 §5): one length octet in
 * bits, then the fewest octets holding that many bits. Decoded prefixes are
 * canonical: bits past the length are cleared, as RFC 4271 says they are
 * irrelevant, so two encodings of one prefix decode to equal values.
 */
import { addrToBytes, bytesToIpv4, bytesToIpv6 } from './ip';
import type { Prefix } from './types';

/** Result of reading a run of prefixes: the prefixes, or why the field is invalid. */
export type PrefixesResult = { ok: true; prefixes: Prefix[] } | { ok: false; reason: string };

/** Reads prefixes of family `afi` from buf[start, end). Never throws. */
export function decodePrefixes(buf: Buffer, start: number, end: number, afi: 4 | 6): PrefixesResult {
  const maxLen = afi === 4 ? 32 : 128;
  const size = afi === 4 ? 4 : 16;
  const prefixes: Prefix[] = [];
  let pos = start;
  while (pos < end) {
    const len = buf[pos];
    if (len > maxLen) return { ok: false, reason: `IPv${afi} prefix length ${len} > ${maxLen}` };
    const octets = (len + 7) >> 3;
    if (pos + 1 + octets > end) return { ok: false, reason: `IPv${afi} prefix /${len} overruns its field` };
    const bytes = Buffer.alloc(size);
    buf.copy(bytes, 0, pos + 1, pos + 1 + octets);
    if (len % 8 !== 0) bytes[octets - 1] &= (0xff << (8 - (len % 8))) & 0xff;
    prefixes.push({ afi, addr: afi === 4 ? bytesToIpv4(bytes) : bytesToIpv6(bytes), len });
    pos += 1 + octets;
  }
  return { ok: true, prefixes };
}

/** Encodes one prefix; throws on a malformed Prefix value (a caller bug, not peer input). */
export function encodePrefix(p: Prefix): Buffer {
  const bytes = addrToBytes(p.afi, p.addr);
  const maxLen = p.afi === 4 ? 32 : 128;
  if (!bytes || !Number.isInteger(p.len) || p.len < 0 || p.len > maxLen) {
    throw new RangeError(`not a valid IPv${p.afi} prefix: ${p.addr}/${p.len}`);
  }
  const octets = (p.len + 7) >> 3;
  const out = Buffer.alloc(1 + octets);
  out[0] = p.len;
  bytes.copy(out, 1, 0, octets);
  if (p.len % 8 !== 0) out[octets] &= (0xff << (8 - (p.len % 8))) & 0xff;
  return out;
}

/** Encodes a run of prefixes back to back. */
export function encodePrefixes(prefixes: readonly Prefix[]): Buffer {
  return Buffer.concat(prefixes.map(encodePrefix));
}

/** "10.0.0.0/8" style text of a prefix, for logs and maps. */
export function prefixToString(p: Prefix): string {
  // join() makes one flat string; a template makes a rope of three (~150 bytes instead of ~35),
  // and with 100 000 learned prefixes these are the RIB's keys and the kernel routes' dst.
  return [p.addr, p.len].join('/');
}
