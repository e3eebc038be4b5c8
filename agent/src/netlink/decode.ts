/**
 * A compact decoder for the message kinds the reconciler dumps and
 * follows: routes (RTM_NEWROUTE/DELROUTE), neighbours and bridge FDB entries
 * (RTM_NEWNEIGH/DELNEIGH), and nexthop objects (RTM_NEWNEXTHOP/DELNEXTHOP). It reads only the fixed header and the attributes
 * knit compares, straight from the received buffer, into the layer's Route /
 * Neighbour / FdbEntry; it replaces the `netlink` package's generic parser on
 * these paths, which builds an object per message, an object per attribute
 * set and a Buffer view per attribute (issue 17: 10 000 peers are 30 000
 * objects per dump and 30 000 events while they are programmed, and that
 * garbage was a large part of the garbage collector's time).
 *
 * What it returns is exactly what routeFromMessage / neighFromMessage /
 * fdbFromMessage return for the same bytes (unit tests compare both). Kernel
 * input is still input: every length is checked against the buffer, and a
 * message that does not fit its own header throws NetlinkDecodeError naming
 * the message and what is wrong, never an out-of-range read.
 */
import { endianness } from 'node:os';
import type { FdbEntry, Link, Neighbour, Nexthop, Route, RouteScope } from './types';
import { ARPHRD_LOOPBACK, IFLA_ADDRESS, IFLA_IFNAME, IFLA_LINK, IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU, linkFromFields } from './link-info';
import { AF_BRIDGE, AF_INET, AF_INET6, ipv6BytesToText } from './validate';

/** A message (or datagram) that does not decode: which, where, and why. */
export class NetlinkDecodeError extends Error {
  override readonly name = 'NetlinkDecodeError';
  readonly code = 'EBADMSG';
  constructor(readonly what: string, readonly offset: number, reason: string) {
    super(`malformed ${what} at byte ${offset}: ${reason}`);
  }
}

/** netlink is host byte order */
const LE = endianness() === 'LE';
const u16 = (b: Buffer, o: number): number => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o));
const u32 = (b: Buffer, o: number): number => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));
const s32 = (b: Buffer, o: number): number => (LE ? b.readInt32LE(o) : b.readInt32BE(o));

export const NLMSG_HDRLEN = 16;
const RTMSG_LEN = 12;
const NDMSG_LEN = 12;
const NLA_HDRLEN = 4;
const NLA_TYPE_MASK = 0x3fff;

const RTN_UNICAST = 1;
const RTNH_F_ONLINK = 4;
/** Route and neighbour attribute types (linux/rtnetlink.h, linux/neighbour.h): decoded here, encoded by routes.ts, neighbours.ts, fdb.ts. */
export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;
export const RTA_NH_ID = 30;
/** Nexthop attributes (linux/nexthop.h): decoded here, encoded by nexthops.ts. */
export const NHA_ID = 1;
export const NHA_OIF = 5;
export const NHA_GATEWAY = 6;
const NHMSG_LEN = 8;
export const NDA_DST = 1;
export const NDA_LLADDR = 2;
const NUD_PERMANENT = 0x80;

const SCOPE_NAMES: ReadonlyMap<number, RouteScope> = new Map([[0, 'universe'], [253, 'link'], [254, 'host']]);

/** One netlink message header as it sits in a datagram. */
export interface NetlinkHeader {
  /** nlmsg_len: header included */
  length: number;
  type: number;
  flags: number;
  seq: number;
  port: number;
}

/**
 * The header of the message at `off` of a datagram, checked to fit: its
 * length covers at least the header and ends inside `buf`.
 */
export function readHeader(buf: Buffer, off: number): NetlinkHeader {
  if (off + NLMSG_HDRLEN > buf.length) {
    throw new NetlinkDecodeError('netlink message', off, `${buf.length - off} bytes left, a header needs ${NLMSG_HDRLEN}`);
  }
  const length = u32(buf, off);
  if (length < NLMSG_HDRLEN) throw new NetlinkDecodeError('netlink message', off, `nlmsg_len ${length} is shorter than its header`);
  if (off + length > buf.length) throw new NetlinkDecodeError('netlink message', off, `nlmsg_len ${length} runs past the datagram (${buf.length - off} bytes left)`);
  return { length, type: u16(buf, off + 4), flags: u16(buf, off + 6), seq: u32(buf, off + 8), port: u32(buf, off + 12) };
}

/** The errno an NLMSG_ERROR body carries (0: an ack), positive. */
export function readErrno(buf: Buffer, start: number, end: number): number {
  if (end - start < 4) throw new NetlinkDecodeError('NLMSG_ERROR', start, `body of ${end - start} bytes, needs 4`);
  return -s32(buf, start);
}

/**
 * Calls `visit(type, start, end)` for every attribute between `start` and
 * `end` (payload bounds), padding skipped; throws on an attribute that
 * overruns the message.
 */
function forEachAttr(buf: Buffer, start: number, end: number, what: string, visit: (type: number, start: number, end: number) => void): void {
  let off = start;
  while (off + NLA_HDRLEN <= end) {
    const len = u16(buf, off);
    if (len < NLA_HDRLEN) throw new NetlinkDecodeError(what, off, `attribute length ${len} is shorter than its header`);
    if (off + len > end) throw new NetlinkDecodeError(what, off, `attribute ${u16(buf, off + 2) & NLA_TYPE_MASK} of ${len} bytes runs past the message`);
    visit(u16(buf, off + 2) & NLA_TYPE_MASK, off + NLA_HDRLEN, off + len);
    off += (len + 3) & ~3;
  }
}

/** An address attribute: 4 bytes → dotted quad, 16 → RFC 5952 text; anything else is malformed. */
function addrText(buf: Buffer, start: number, end: number, what: string): string {
  const n = end - start;
  if (n === 4) return `${buf[start]}.${buf[start + 1]}.${buf[start + 2]}.${buf[start + 3]}`;
  if (n === 16) return ipv6BytesToText(buf, start);
  throw new NetlinkDecodeError(what, start, `address of ${n} bytes`);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A 6-byte link-layer address → "aa:bb:cc:dd:ee:ff"; undefined for other lengths (as bufToMac). */
function macText(buf: Buffer, start: number, end: number): string | undefined {
  if (end - start !== 6) return undefined;
  return `${HEX[buf[start]!]}:${HEX[buf[start + 1]!]}:${HEX[buf[start + 2]!]}:${HEX[buf[start + 3]!]}:${HEX[buf[start + 4]!]}:${HEX[buf[start + 5]!]}`;
}

function u32Attr(buf: Buffer, start: number, end: number, what: string, name: string): number {
  if (end - start < 4) throw new NetlinkDecodeError(what, start, `${name} of ${end - start} bytes, needs 4`);
  return u32(buf, start);
}

const IFINFOMSG_LEN = 16;
const IFF_UP = 0x1;

/**
 * One link message body (ifinfomsg + attributes) → the Link that
 * linkFromMessage makes of the `netlink` package's parse, and the message's
 * ifi_change (~0 when the kernel announces a new device). Link events come
 * through here: the package's generic parser builds an object for every
 * attribute of the message (statistics, queues, XDP, ...), and knitd reads
 * six of them.
 */
export function decodeLink(buf: Buffer, start: number, end: number): { link: Link; change: number } {
  if (end - start < IFINFOMSG_LEN) throw new NetlinkDecodeError('link message', start, `body of ${end - start} bytes, ifinfomsg needs ${IFINFOMSG_LEN}`);
  const type = u16(buf, start + 2);
  const index = s32(buf, start + 4);
  const flags = u32(buf, start + 8);
  const change = u32(buf, start + 12);
  let name = '';
  let mtu = 0;
  let mac: string | undefined;
  let master = 0;
  let peer = 0;
  let linkinfo: Buffer | undefined;
  let linkinfoAt = 0;
  forEachAttr(buf, start + IFINFOMSG_LEN, end, 'link message', (t, s, e) => {
    switch (t) {
      case IFLA_IFNAME: {
        const nul = buf.indexOf(0, s);
        name = buf.toString('utf8', s, nul >= s && nul < e ? nul : e);
        break;
      }
      case IFLA_MTU: mtu = u32Attr(buf, s, e, 'link message', 'IFLA_MTU'); break;
      case IFLA_ADDRESS: mac = macText(buf, s, e); break;
      case IFLA_MASTER: master = u32Attr(buf, s, e, 'link message', 'IFLA_MASTER'); break;
      // (little-endian as the package reads it: the kernel's host order on every knit platform)
      case IFLA_LINK: if (e - s >= 4) peer = buf.readUInt32LE(s); break;
      case IFLA_LINKINFO: linkinfo = buf.subarray(s, e); linkinfoAt = s; break;
      default: break;
    }
  });
  try {
    const link = linkFromFields({ index, name, mtu, up: (flags & IFF_UP) !== 0, loopback: type === ARPHRD_LOOPBACK, mac, master, peer, linkinfo });
    return { link, change };
  } catch (err) {
    // link-info.ts reads nested attributes with Buffer reads: a short one is a RangeError there
    throw new NetlinkDecodeError('link IFLA_LINKINFO', linkinfoAt, err instanceof Error ? err.message : String(err));
  }
}

/**
 * One route message body (rtmsg + attributes, `start`..`end` of `buf`) →
 * Route; undefined for what routeFromMessage leaves out (not unicast, not
 * IPv4/IPv6).
 */
export function decodeRoute(buf: Buffer, start: number, end: number): Route | undefined {
  if (end - start < RTMSG_LEN) throw new NetlinkDecodeError('route message', start, `body of ${end - start} bytes, rtmsg needs ${RTMSG_LEN}`);
  const family = buf[start]!;
  const dstLen = buf[start + 1]!;
  const table = buf[start + 4]!;
  const protocol = buf[start + 5]!;
  const scope = buf[start + 6]!;
  const type = buf[start + 7]!;
  const flags = u32(buf, start + 8);
  if (type !== RTN_UNICAST) return undefined;
  if (family !== AF_INET && family !== AF_INET6) return undefined;
  let dst: string | undefined;
  // the gateway's bounds: its text is made only for a route without a nexthop id (below)
  let gwStart = -1;
  let gwEnd = -1;
  let src: string | undefined;
  let oif = 0;
  let metric = 0;
  let tableAttr: number | undefined;
  let nhid = 0;
  forEachAttr(buf, start + RTMSG_LEN, end, 'route message', (t, a, b) => {
    switch (t) {
      case RTA_DST: dst = addrText(buf, a, b, 'route RTA_DST'); break;
      case RTA_GATEWAY:
        if (b - a !== 4 && b - a !== 16) throw new NetlinkDecodeError('route RTA_GATEWAY', a, `address of ${b - a} bytes`);
        gwStart = a;
        gwEnd = b;
        break;
      case RTA_PREFSRC: src = addrText(buf, a, b, 'route RTA_PREFSRC'); break;
      case RTA_OIF: oif = u32Attr(buf, a, b, 'route message', 'RTA_OIF'); break;
      case RTA_PRIORITY: metric = u32Attr(buf, a, b, 'route message', 'RTA_PRIORITY'); break;
      case RTA_TABLE: tableAttr = u32Attr(buf, a, b, 'route message', 'RTA_TABLE'); break;
      case RTA_NH_ID: nhid = u32Attr(buf, a, b, 'route message', 'RTA_NH_ID'); break;
      default: break;
    }
  });
  // Same fields, same order as routeFromMessage (objects of one shape)
  const route: Route = { dst: `${dst ?? (family === AF_INET ? '0.0.0.0' : '::')}/${dstLen}`, table: tableAttr ?? table };
  // A route through a nexthop object is that id: the gateway and device the
  // kernel's compat mode adds are the nexthop's, not the route's (and are
  // absent without compat mode), so the route reads the same either way.
  if (nhid === 0) {
    if (gwStart >= 0) route.gateway = addrText(buf, gwStart, gwEnd, 'route RTA_GATEWAY');
    if (oif) route.index = oif;
    if (flags & RTNH_F_ONLINK) route.onlink = true;
  }
  route.protocol = protocol;
  const scopeName = SCOPE_NAMES.get(scope);
  if (scopeName) route.scope = scopeName;
  if (src !== undefined) route.src = src;
  route.metric = metric;
  if (nhid !== 0) route.nhid = nhid;
  return route;
}

/**
 * One nexthop message body (struct nhmsg + attributes) → Nexthop; undefined
 * for a message without NHA_ID. A group or blackhole nexthop has no gateway
 * or device: gateway "" and index 0 (its id is still taken).
 */
export function decodeNexthop(buf: Buffer, start: number, end: number): Nexthop | undefined {
  if (end - start < NHMSG_LEN) throw new NetlinkDecodeError('nexthop message', start, `body of ${end - start} bytes, nhmsg needs ${NHMSG_LEN}`);
  const protocol = buf[start + 2]!;
  const flags = u32(buf, start + 4);
  let id = 0;
  let oif = 0;
  let gateway = '';
  forEachAttr(buf, start + NHMSG_LEN, end, 'nexthop message', (t, a, b) => {
    if (t === NHA_ID) id = u32Attr(buf, a, b, 'nexthop message', 'NHA_ID');
    else if (t === NHA_OIF) oif = u32Attr(buf, a, b, 'nexthop message', 'NHA_OIF');
    else if (t === NHA_GATEWAY) gateway = addrText(buf, a, b, 'nexthop NHA_GATEWAY');
  });
  if (id === 0) return undefined;
  const nh: Nexthop = { id, gateway, index: oif };
  if (flags & RTNH_F_ONLINK) nh.onlink = true;
  nh.protocol = protocol;
  return nh;
}

/** The fixed part of a neighbour message: family, ifindex, NUD state. */
function neighHead(buf: Buffer, start: number, end: number): { family: number; index: number; state: number } {
  if (end - start < NDMSG_LEN) throw new NetlinkDecodeError('neighbour message', start, `body of ${end - start} bytes, ndmsg needs ${NDMSG_LEN}`);
  return { family: buf[start]!, index: s32(buf, start + 4), state: u16(buf, start + 8) };
}

/** NDA_DST and NDA_LLADDR of a neighbour message (text; mac undefined unless 6 bytes). */
function neighAttrs(buf: Buffer, start: number, end: number): { dst?: string; mac?: string } {
  const out: { dst?: string; mac?: string } = {};
  forEachAttr(buf, start + NDMSG_LEN, end, 'neighbour message', (t, a, b) => {
    if (t === NDA_DST) out.dst = addrText(buf, a, b, 'neighbour NDA_DST');
    else if (t === NDA_LLADDR) out.mac = macText(buf, a, b);
  });
  return out;
}

/** NUD state of a neighbour message body (for neighList's NOARP filter). */
export function neighbourState(buf: Buffer, start: number, end: number): number {
  return neighHead(buf, start, end).state;
}

/**
 * One IPv4/IPv6 neighbour message body → Neighbour, as neighFromMessage:
 * undefined for other families and entries without NDA_DST or a 6-byte
 * lladdr, unless `allowNoMac` (a deletion may come without one: mac "").
 */
export function decodeNeighbour(buf: Buffer, start: number, end: number, allowNoMac = false): Neighbour | undefined {
  const h = neighHead(buf, start, end);
  if (h.family !== AF_INET && h.family !== AF_INET6) return undefined;
  const a = neighAttrs(buf, start, end);
  const mac = a.mac ?? (allowNoMac ? '' : undefined);
  if (a.dst === undefined || mac === undefined) return undefined;
  return { index: h.index, ip: a.dst, mac, permanent: (h.state & NUD_PERMANENT) !== 0 };
}

/** One AF_BRIDGE neighbour message body → FdbEntry, as fdbFromMessage; undefined for other families or no 6-byte lladdr. */
export function decodeFdb(buf: Buffer, start: number, end: number): FdbEntry | undefined {
  const h = neighHead(buf, start, end);
  if (h.family !== AF_BRIDGE) return undefined;
  const a = neighAttrs(buf, start, end);
  if (a.mac === undefined) return undefined;
  const e: FdbEntry = { index: h.index, mac: a.mac, permanent: (h.state & NUD_PERMANENT) !== 0 };
  if (a.dst !== undefined) e.dst = a.dst;
  return e;
}

/** The family byte of a neighbour message body (AF_BRIDGE: an FDB entry). */
export function neighbourFamily(buf: Buffer, start: number, end: number): number {
  return neighHead(buf, start, end).family;
}
