/**
 * Neighbour (ARP/NDP) verbs: `ip neigh replace/del/show`. knit writes only
 * permanent entries (e.g. a VXLAN peer's gateway IP → its VTEP MAC).
 */
import { FlagsNew, rt } from 'netlink';
import type { RtConn } from './conn';
import { decodeNeighbour, NDA_DST, NDA_LLADDR, neighbourState } from './decode';
import { addrLen, addrScratch, parseAddr, type MessageWriter } from './encode';
import type { WriteKind } from './write-batch';
import { NetlinkInputError } from './errors';
import type { DumpReuse, Neighbour } from './types';
import { AF_INET, AF_INET6, bufToIp, bufToMac, checkFamily, checkIndex, checkMac, familyNumber } from './validate';

/** An RTM_GETNEIGH dump request body: ndmsg with only the family set (0: IPv4 and IPv6). */
export function neighDumpRequest(family: number): Buffer {
  const req = Buffer.alloc(12);
  req[0] = family;
  return req;
}

/** NUD_PERMANENT */
export const NUD_PERMANENT = 0x80;
const NUD_NOARP = 0x40;

/** struct ndmsg: family, 3 bytes of padding, ifindex (s32), state (u16), flags, type; for neighbours and FDB entries alike. */
export function encodeNdmsg(w: MessageWriter, family: number, ifindex: number, state: number, flags: number): void {
  w.u8(family);
  w.zeros(3);
  w.u32(ifindex);
  w.u16(state);
  w.u8(flags);
  w.u8(0);
}

// One neighbour is encoded at a time: its parsed address reuses this.
const ipAddr = addrScratch();

export function encodeNeighSet(w: MessageWriter, n: Neighbour): void {
  checkIndex('index', n.index);
  const ip = parseAddr(ipAddr, 'ip', n.ip);
  const mac = checkMac('mac', n.mac);
  if (n.permanent === false) throw new NetlinkInputError('permanent', n.permanent, 'knit writes only permanent neighbours');
  encodeNdmsg(w, familyNumber(ip.family), n.index, NUD_PERMANENT, 0);
  w.attrBytes(NDA_DST, ip.bytes, addrLen(ip));
  w.attrMac(NDA_LLADDR, 'mac', mac);
}

export function encodeNeighDel(w: MessageWriter, n: Pick<Neighbour, 'index' | 'ip'>): void {
  checkIndex('index', n.index);
  const ip = parseAddr(ipAddr, 'ip', n.ip);
  encodeNdmsg(w, familyNumber(ip.family), n.index, 0, 0);
  w.attrBytes(NDA_DST, ip.bytes, addrLen(ip));
}

const describe = (n: Pick<Neighbour, 'index' | 'ip'>): string => `neighbour ${n.ip} on link #${n.index}`;

const NEIGH_SET: WriteKind<Neighbour> = {
  op: 'neigh replace', type: rt.MessageType.NEWNEIGH, flags: FlagsNew.CREATE | FlagsNew.REPLACE, encode: encodeNeighSet, describe,
};
const NEIGH_DEL: WriteKind<Pick<Neighbour, 'index' | 'ip'>> = {
  op: 'neigh del', type: rt.MessageType.DELNEIGH, flags: 0, encode: encodeNeighDel, describe,
};

/** ip neigh replace IP lladdr MAC dev X nud permanent */
export function neighSet(c: RtConn, n: Neighbour): Promise<void> {
  return c.write(NEIGH_SET, n);
}

/** ip neigh del IP dev X (ENOENT when absent) */
export function neighDel(c: RtConn, n: Pick<Neighbour, 'index' | 'ip'>): Promise<void> {
  return c.write(NEIGH_DEL, n);
}

/**
 * Decode one IPv4/IPv6 neighbour message; undefined for other families or
 * entries without lladdr — unless `allowNoMac`: the kernel announces a
 * deleted entry with state FAILED and no lladdr, and that deletion matters.
 */
export function neighFromMessage(m: rt.NeighborMessage, allowNoMac = false): Neighbour | undefined {
  const { data, attrs } = m;
  if (data.family !== AF_INET && data.family !== AF_INET6) return undefined;
  const mac = bufToMac(attrs.lladdr) ?? (allowNoMac ? '' : undefined);
  if (!attrs.dst || mac === undefined) return undefined;
  const state = data.state ? rt.formatNeighborState(data.state) : 0;
  return { index: data.ifindex ?? 0, ip: bufToIp(attrs.dst), mac, permanent: (state & NUD_PERMANENT) !== 0 };
}

/**
 * ip [-4|-6] neigh show [dev X]: entries with a link-layer address; like
 * iproute2, NOARP-only entries (IPv6 multicast on every link) are left out.
 */
export async function neighList(c: RtConn, filter: { index?: number; family?: 4 | 6 } & DumpReuse<Neighbour> = {}): Promise<Neighbour[]> {
  const family = checkFamily('family', filter.family);
  if (filter.index !== undefined) checkIndex('index', filter.index);
  const out: Neighbour[] = [];
  await c.rawDump('neigh list', 'neighbours', rt.MessageType.GETNEIGH, neighDumpRequest(family ? familyNumber(family) : 0), (type, buf, start, end) => {
    if (type !== rt.MessageType.NEWNEIGH) return;
    const n = decodeNeighbour(buf, start, end);
    if (!n) return;
    if ((neighbourState(buf, start, end) & ~NUD_NOARP) === 0) return;
    if (filter.index !== undefined && n.index !== filter.index) return;
    out.push(filter.reuse ? filter.reuse(n) : n);
  });
  return out;
}
