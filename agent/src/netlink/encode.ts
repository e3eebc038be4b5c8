/**
 * Encoding netlink requests straight into one growing buffer: the header,
 * the family struct and each attribute written in place, the way iproute2
 * fills one request buffer. The `netlink` package's formatter builds a
 * Buffer per attribute header, per value and per padding, plus a stream
 * object and a header array per message; at 10 000 vxlan peers that is
 * 30 000 writes and, with the promises around them, about half of
 * everything knitd allocated while programming (an allocation profile of
 * the cluster-scale bench, docs/benchmarks.md), which the young-generation
 * collector then had to sweep.
 *
 * Addresses are parsed from their text into the buffer (dotted quads and
 * MACs without an intermediate array or Buffer); anything the fast path does
 * not take (IPv6, a malformed value) goes through validate.ts, which throws
 * the usual NetlinkInputError naming the field. Pure: no socket, no state
 * beyond the buffer.
 */
import { macToBuf, parseCidr, parseIp } from './validate';

/** nlmsghdr: len u32, type u16, flags u16, seq u32, port u32 */
export const NLMSG_HDRLEN = 16;
const NLMSG_FLAGS_OFFSET = 6;

/** A byte sink for netlink messages; `take()` hands out what was written and starts over. */
export class MessageWriter {
  private buf: Buffer;
  /** bytes written */
  len = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.alloc(initial);
  }

  /** Start a message; returns its offset (for end(), rewind(), orFlags()). */
  begin(type: number, flags: number, seq: number, port: number): number {
    const start = this.len;
    this.room(NLMSG_HDRLEN);
    const b = this.buf;
    b.writeUInt32LE(0, start); // patched by end()
    b.writeUInt16LE(type, start + 4);
    b.writeUInt16LE(flags, start + NLMSG_FLAGS_OFFSET);
    b.writeUInt32LE(seq >>> 0, start + 8);
    b.writeUInt32LE(port >>> 0, start + 12);
    this.len = start + NLMSG_HDRLEN;
    return start;
  }

  /**
   * Finish the message begun at `start`: nlmsg_len is its unpadded length,
   * then zero padding up to NLMSG_ALIGN, where the kernel reads the next
   * message of the datagram (a body ending in a 6-byte MAC is not aligned).
   */
  end(start: number): void {
    this.buf.writeUInt32LE(this.len - start, start);
    this.pad();
  }

  /** Set more flags on the message at `start` (NLM_F_ACK on a datagram's last message). */
  orFlags(start: number, flags: number): void {
    this.buf.writeUInt16LE(this.buf.readUInt16LE(start + NLMSG_FLAGS_OFFSET) | flags, start + NLMSG_FLAGS_OFFSET);
  }

  /** Forget everything from `offset` on (a message whose body failed validation). */
  rewind(offset: number): void {
    this.len = offset;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16LE(v & 0xffff, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  /** n zero bytes (a struct's unused fields). */
  zeros(n: number): void {
    this.room(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
  }

  /** rtattr with a u32 value. */
  attrU32(type: number, v: number): void {
    this.attrHeader(type, 4);
    this.u32(v);
  }

  /** rtattr with `n` bytes of `src` (an address parsed by parseAddr / parseDst). */
  attrBytes(type: number, src: Uint8Array, n: number): void {
    this.attrHeader(type, n);
    this.room(n);
    // 4 or 16 bytes: a loop, not a subarray view per attribute
    const b = this.buf;
    for (let i = 0; i < n; i++) b[this.len + i] = src[i]!;
    this.len += n;
  }

  /** rtattr with the 6 bytes of a MAC given as text; throws NetlinkInputError(field) when malformed. */
  attrMac(type: number, field: string, mac: unknown): void {
    this.attrHeader(type, 6);
    this.room(6);
    if (!writeMac(this.buf, this.len, mac)) this.buf.set(macToBuf(field, mac), this.len);
    this.len += 6;
  }

  /** A copy of the bytes written (its own memory: the socket may still hold it after the writer moved on); the writer is empty again. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    this.len = 0;
    return out;
  }

  private attrHeader(type: number, n: number): void {
    this.pad(); // an attribute starts aligned (RTA_ALIGN)
    this.u16(4 + n);
    this.u16(type);
  }

  private pad(): void {
    const p = (4 - (this.len & 3)) & 3;
    if (p > 0) this.zeros(p);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
}

/** An address parsed into reusable bytes: family, prefix length and 4 or 16 bytes in `bytes`. */
export interface AddrScratch {
  family: 4 | 6;
  prefixLen: number;
  readonly bytes: Uint8Array;
}

export function addrScratch(): AddrScratch {
  return { family: 4, prefixLen: 0, bytes: new Uint8Array(16) };
}

/** An address length in bytes. */
export function addrLen(a: AddrScratch): number {
  return a.family === 4 ? 4 : 16;
}

/** "10.0.0.1" / "fd00::1" into `out`; throws NetlinkInputError(field) otherwise. */
export function parseAddr(out: AddrScratch, field: string, text: unknown): AddrScratch {
  if (typeof text === 'string' && readIpv4(text, 0, text.length, out.bytes)) {
    out.family = 4;
    return out;
  }
  const ip = parseIp(field, text);
  out.family = ip.family;
  out.bytes.set(ip.bytes);
  return out;
}

/**
 * A route destination "10.244.3.0/24" into `out`, host bits zero, as
 * validate.ts's parseCidr(…, { network: true }) checks it (which also
 * throws the error of anything the fast path leaves to it).
 */
export function parseDst(out: AddrScratch, field: string, cidr: unknown): AddrScratch {
  if (typeof cidr === 'string') {
    const slash = cidr.indexOf('/');
    const len = slash > 0 ? prefixLength(cidr, slash + 1) : -1;
    if (len >= 0 && len <= 32 && readIpv4(cidr, 0, slash, out.bytes) && hostBitsZero4(out.bytes, len)) {
      out.family = 4;
      out.prefixLen = len;
      return out;
    }
  }
  const c = parseCidr(field, cidr, { network: true });
  out.family = c.family;
  out.prefixLen = c.prefixLen;
  out.bytes.set(c.bytes);
  return out;
}

/** 1–3 decimal digits from `from` to the end of `s`, or -1. */
function prefixLength(s: string, from: number): number {
  const n = s.length - from;
  if (n < 1 || n > 3) return -1;
  let v = 0;
  for (let i = from; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * s[from, to) as a dotted quad into out[0..4), with node:net's isIPv4 rules
 * (four decimal octets ≤ 255, no leading zeros); false, with `out` partly
 * written, for anything else.
 */
function readIpv4(s: string, from: number, to: number, out: Uint8Array): boolean {
  let octet = 0;
  let v = 0;
  let digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? s.charCodeAt(i) : 46; // the end closes the last octet like a dot
    if (c === 46) {
      if (digits === 0 || octet > 3) return false;
      out[octet++] = v;
      v = 0;
      digits = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9 || (digits === 1 && v === 0)) return false; // not a digit, or a leading zero
    v = v * 10 + d;
    if (v > 255) return false;
    digits++;
  }
  return octet === 4;
}

/** The host bits of a dotted quad's 4 bytes under /prefixLen are zero (whole bytes compared, then the split one). */
function hostBitsZero4(bytes: Uint8Array, prefixLen: number): boolean {
  const whole = prefixLen >> 3;
  const rest = prefixLen & 7;
  if (whole < 4 && rest !== 0 && (bytes[whole]! & (0xff >> rest)) !== 0) return false;
  for (let i = rest === 0 ? whole : whole + 1; i < 4; i++) if (bytes[i] !== 0) return false;
  return true;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20; // lower case
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** "aa:bb:cc:dd:ee:ff" into buf[at..at+6); false when it is not exactly that shape. */
function writeMac(buf: Buffer, at: number, mac: unknown): boolean {
  if (typeof mac !== 'string' || mac.length !== 17) return false;
  for (let i = 0; i < 6; i++) {
    const p = i * 3;
    if (i < 5 && mac.charCodeAt(p + 2) !== 58) return false;
    const hi = hexDigit(mac.charCodeAt(p));
    const lo = hexDigit(mac.charCodeAt(p + 1));
    if (hi < 0 || lo < 0) return false;
    buf[at + i] = (hi << 4) | lo;
  }
  return true;
}
