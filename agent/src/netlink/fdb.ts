/**
 * Bridge forwarding database verbs (AF_BRIDGE neighbours with NTF_SELF):
 * what `bridge fdb replace|append|del MAC dev vxlan0 dst IP self permanent`
 * sends. On a VXLAN device the entry maps a peer's MAC to its VTEP IP.
 */
import { FlagsNew, rt } from 'netlink';
import type { RtConn } from './conn';
import type { DumpReuse, FdbEntry } from './types';
import { AF_BRIDGE, bufToIp, bufToMac, checkIndex, checkMac } from './validate';
import { encodeNdmsg, NUD_PERMANENT, neighDumpRequest } from './neighbours';
import { addrLen, addrScratch, parseAddr, type MessageWriter } from './encode';
import type { WriteKind } from './write-batch';
import { decodeFdb, NDA_DST, NDA_LLADDR } from './decode';

const NTF_SELF = 0x02;

// One entry is encoded at a time: its parsed VTEP address reuses this.
const dstAddr = addrScratch();

/** The ndmsg and attributes of one FDB entry (NTF_SELF: the device's own table), validated and written into `w`. */
export function encodeFdb(w: MessageWriter, e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>, permanent: boolean): void {
  checkIndex('index', e.index);
  const mac = checkMac('mac', e.mac);
  const dst = e.dst !== undefined ? parseAddr(dstAddr, 'dst', e.dst) : undefined;
  encodeNdmsg(w, AF_BRIDGE, e.index, permanent ? NUD_PERMANENT : 0, NTF_SELF);
  w.attrMac(NDA_LLADDR, 'mac', mac);
  if (dst) w.attrBytes(NDA_DST, dst.bytes, addrLen(dst));
}

function describe(e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>): string {
  return `fdb ${String(e.mac)}${e.dst ? ` dst ${e.dst}` : ''} on link #${e.index}`;
}

const FDB_SET: WriteKind<FdbEntry> = {
  op: 'fdb replace', type: rt.MessageType.NEWNEIGH, flags: FlagsNew.CREATE | FlagsNew.REPLACE,
  encode: (w, e) => encodeFdb(w, e, e.permanent !== false), describe,
};
const FDB_APPEND: WriteKind<FdbEntry> = {
  op: 'fdb append', type: rt.MessageType.NEWNEIGH, flags: FlagsNew.CREATE | FlagsNew.APPEND,
  encode: (w, e) => encodeFdb(w, e, e.permanent !== false), describe,
};
const FDB_DEL: WriteKind<Pick<FdbEntry, 'index' | 'mac' | 'dst'>> = {
  op: 'fdb del', type: rt.MessageType.DELNEIGH, flags: 0, encode: (w, e) => encodeFdb(w, e, false), describe,
};

/** bridge fdb replace MAC dev X [dst IP] self permanent */
export function fdbSet(c: RtConn, e: FdbEntry): Promise<void> {
  return c.write(FDB_SET, e);
}

/** bridge fdb append MAC dev X dst IP self permanent (adds one more remote for MAC) */
export function fdbAppend(c: RtConn, e: FdbEntry): Promise<void> {
  return c.write(FDB_APPEND, e);
}

/** bridge fdb del MAC dev X [dst IP] self (ENOENT when absent) */
export function fdbDel(c: RtConn, e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>): Promise<void> {
  return c.write(FDB_DEL, e);
}

/** Decode one AF_BRIDGE neighbour message. */
export function fdbFromMessage(m: rt.NeighborMessage): FdbEntry | undefined {
  const { data, attrs } = m;
  if (data.family !== AF_BRIDGE) return undefined;
  const mac = bufToMac(attrs.lladdr);
  if (!mac) return undefined;
  const state = data.state ? rt.formatNeighborState(data.state) : 0;
  const e: FdbEntry = { index: data.ifindex ?? 0, mac, permanent: (state & NUD_PERMANENT) !== 0 };
  if (attrs.dst) e.dst = bufToIp(attrs.dst);
  return e;
}

/** bridge fdb show [dev X] */
export async function fdbList(c: RtConn, filter: { index?: number } & DumpReuse<FdbEntry> = {}): Promise<FdbEntry[]> {
  if (filter.index !== undefined) checkIndex('index', filter.index);
  const out: FdbEntry[] = [];
  await c.rawDump('fdb list', 'bridge fdb', rt.MessageType.GETNEIGH, neighDumpRequest(AF_BRIDGE), (type, buf, start, end) => {
    if (type !== rt.MessageType.NEWNEIGH) return;
    const e = decodeFdb(buf, start, end);
    if (!e) return;
    if (filter.index !== undefined && e.index !== filter.index) return;
    out.push(filter.reuse ? filter.reuse(e) : e);
  });
  return out;
}
