/**
 * Nexthop object verbs: `ip nexthop replace/del/show` for single-gateway
 * nexthops (no groups), IPv4 and IPv6. A route names one by id (Route.nhid,
 * routes.ts); the gateway can then change under all its routes in one write.
 *
 * Requests are built as iproute2 builds them: struct nhmsg (family, scope,
 * protocol, reserved, u32 flags) then NHA_ID, NHA_OIF, NHA_GATEWAY. A delete
 * or dump must leave every nhmsg field but the family zero (the kernel
 * rejects it otherwise). Writes go through the write batcher like routes.
 */
import { FlagsNew, rt } from 'netlink';
import type { RtConn } from './conn';
import { decodeNexthop, NHA_GATEWAY, NHA_ID, NHA_OIF } from './decode';
import { addrLen, addrScratch, parseAddr, type MessageWriter } from './encode';
import { isNetlinkError, NetlinkInputError } from './errors';
import type { WriteKind } from './write-batch';
import type { DumpReuse, Nexthop } from './types';
import { checkIndex, checkInt, familyNumber } from './validate';

const RTNH_F_ONLINK = 4;
/** what `ip nexthop` leaves a nexthop without `proto` (unlike a route's boot) */
const RTPROT_UNSPEC = 0;

// One nexthop is encoded at a time (single-threaded): its parsed gateway reuses this.
const gwAddr = addrScratch();

/** The nhmsg and attributes of `ip nexthop replace id N via GW dev X [onlink] [proto P]`, validated and written into `w`. */
export function encodeNexthopSet(w: MessageWriter, nh: Nexthop): void {
  if (!nh || typeof nh !== 'object') throw new NetlinkInputError('nexthop', nh, 'must be an object');
  const id = checkInt('id', nh.id, 1, 0xffffffff);
  const index = checkIndex('index', nh.index);
  const gw = parseAddr(gwAddr, 'gateway', nh.gateway);
  const protocol = nh.protocol !== undefined ? checkInt('protocol', nh.protocol, 0, 255) : RTPROT_UNSPEC;
  w.u8(familyNumber(gw.family));
  w.u8(0); // scope: the kernel sets it from the gateway
  w.u8(protocol);
  w.u8(0);
  w.u32(nh.onlink ? RTNH_F_ONLINK : 0);
  w.attrU32(NHA_ID, id);
  w.attrU32(NHA_OIF, index);
  w.attrBytes(NHA_GATEWAY, gw.bytes, addrLen(gw));
}

/** `ip nexthop del id N`: an all-zero nhmsg and NHA_ID. */
export function encodeNexthopDel(w: MessageWriter, nh: Pick<Nexthop, 'id'>): void {
  if (!nh || typeof nh !== 'object') throw new NetlinkInputError('nexthop', nh, 'must be an object');
  const id = checkInt('id', nh.id, 1, 0xffffffff);
  w.zeros(4);
  w.u32(0);
  w.attrU32(NHA_ID, id);
}

function describe(nh: Pick<Nexthop, 'id'> & Partial<Nexthop>): string {
  const via = nh.gateway ? ` via ${nh.gateway}` : '';
  const dev = nh.index !== undefined ? ` dev #${nh.index}` : '';
  return `nexthop id ${String(nh?.id)}${via}${dev}`;
}

const NEXTHOP_REPLACE: WriteKind<Nexthop> = {
  op: 'nexthop replace', type: rt.MessageType.NEWNEXTHOP, flags: FlagsNew.CREATE | FlagsNew.REPLACE, encode: encodeNexthopSet, describe,
};
const NEXTHOP_DEL: WriteKind<Pick<Nexthop, 'id'>> = {
  op: 'nexthop del', type: rt.MessageType.DELNEXTHOP, flags: 0, encode: encodeNexthopDel, describe,
};

/** ip nexthop replace id N via GW dev X [onlink] [proto P] (creates it, or rewrites it under the routes that use it) */
export function nexthopReplace(c: RtConn, nh: Nexthop): Promise<void> {
  return c.write(NEXTHOP_REPLACE, nh);
}

/** ip nexthop del id N (ENOENT when absent; the kernel deletes the routes using it too) */
export function nexthopDel(c: RtConn, nh: Pick<Nexthop, 'id'>): Promise<void> {
  return c.write(NEXTHOP_DEL, nh);
}

/** ip nexthop show: every nexthop object, groups and blackholes included (gateway "", index 0). */
export async function nexthopList(c: RtConn, filter: DumpReuse<Nexthop> = {}): Promise<Nexthop[]> {
  const out: Nexthop[] = [];
  // struct nhmsg, all zero: every family
  await c.rawDump('nexthop list', 'nexthops', rt.MessageType.GETNEXTHOP, Buffer.alloc(8), (type, buf, start, end) => {
    if (type !== rt.MessageType.NEWNEXTHOP) return;
    const nh = decodeNexthop(buf, start, end);
    if (nh) out.push(filter.reuse ? filter.reuse(nh) : nh);
  });
  return out;
}

/**
 * The error of a nexthop dump or write on a kernel without nexthop objects
 * (before 5.3, or built without them): the request type is unknown
 * (EOPNOTSUPP), or refused (EINVAL, EAFNOSUPPORT, EPROTONOSUPPORT).
 */
export function nexthopsUnsupported(err: unknown): boolean {
  return isNetlinkError(err, 'EOPNOTSUPP', 'EINVAL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT');
}
