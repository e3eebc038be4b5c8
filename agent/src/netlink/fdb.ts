/**
 * Bridge forwarding database verbs (AF_BRIDGE neighbours with NTF_SELF):
 * what `bridge fdb replace|append|del MAC dev vxlan0 dst IP self permanent`
 * sends. On a VXLAN device the entry maps a peer's MAC to its VTEP IP.
 */
import { FlagsNew, rt } from 'netlink';
import type { RtConn } from './conn';
import type { FdbEntry } from './types';
import { AF_BRIDGE, bufToIp, bufToMac, checkIndex, macToBuf, parseIp } from './validate';
import { NUD_PERMANENT, neighDumpRequest, neighWrite } from './neighbours';
import { decodeFdb } from './decode';

function fdbMessage(e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>, permanent: boolean): { data: rt.Neighbor; attrs: rt.NeighborAttrs } {
  checkIndex('index', e.index);
  const attrs: rt.NeighborAttrs = { lladdr: macToBuf('mac', e.mac) };
  if (e.dst !== undefined) attrs.dst = parseIp('dst', e.dst).bytes;
  return {
    data: { family: AF_BRIDGE, ifindex: e.index, flags: { self: true }, state: permanent ? { permanent: true } : {} },
    attrs,
  };
}

function describe(e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>): string {
  return `fdb ${String(e.mac)}${e.dst ? ` dst ${e.dst}` : ''} on link #${e.index}`;
}

/** bridge fdb replace MAC dev X [dst IP] self permanent */
export async function fdbSet(c: RtConn, e: FdbEntry): Promise<void> {
  const m = fdbMessage(e, e.permanent !== false);
  await c.write('fdb replace', describe(e), neighWrite(rt.MessageType.NEWNEIGH, m.data, m.attrs, FlagsNew.CREATE | FlagsNew.REPLACE));
}

/** bridge fdb append MAC dev X dst IP self permanent (adds one more remote for MAC) */
export async function fdbAppend(c: RtConn, e: FdbEntry): Promise<void> {
  const m = fdbMessage(e, e.permanent !== false);
  await c.write('fdb append', describe(e), neighWrite(rt.MessageType.NEWNEIGH, m.data, m.attrs, FlagsNew.CREATE | FlagsNew.APPEND));
}

/** bridge fdb del MAC dev X [dst IP] self (ENOENT when absent) */
export async function fdbDel(c: RtConn, e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>): Promise<void> {
  const m = fdbMessage(e, false);
  await c.write('fdb del', describe(e), neighWrite(rt.MessageType.DELNEIGH, m.data, m.attrs, 0));
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
export async function fdbList(c: RtConn, filter: { index?: number } = {}): Promise<FdbEntry[]> {
  if (filter.index !== undefined) checkIndex('index', filter.index);
  const out: FdbEntry[] = [];
  await c.rawDump('fdb list', 'bridge fdb', rt.MessageType.GETNEIGH, neighDumpRequest(AF_BRIDGE), (type, buf, start, end) => {
    if (type !== rt.MessageType.NEWNEIGH) return;
    const e = decodeFdb(buf, start, end);
    if (!e) return;
    if (filter.index !== undefined && e.index !== filter.index) return;
    out.push(e);
  });
  return out;
}
