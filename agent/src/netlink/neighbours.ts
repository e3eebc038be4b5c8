/**
 * Neighbour (ARP/NDP) verbs: `ip neigh replace/del/show`. knit writes only
 * permanent entries (e.g. a VXLAN peer's gateway IP → its VTEP MAC).
 */
import { FlagsNew, rt } from 'netlink';
import type { RtConn } from './conn';
import { decodeNeighbour, neighbourState } from './decode';
import type { BatchedWrite } from './write-batch';
import { NetlinkInputError } from './errors';
import type { Neighbour } from './types';
import { AF_INET, AF_INET6, bufToIp, bufToMac, checkFamily, checkIndex, familyNumber, macToBuf, parseIp } from './validate';

/** An RTM_GETNEIGH dump request body: ndmsg with only the family set (0: IPv4 and IPv6). */
export function neighDumpRequest(family: number): Buffer {
  const req = Buffer.alloc(12);
  req[0] = family;
  return req;
}

/** NUD_PERMANENT */
export const NUD_PERMANENT = 0x80;
const NUD_NOARP = 0x40;

/** One neighbour (or FDB) request for the write batcher (conn.ts), as the package's newNeighbor/delNeighbor would send it. */
export function neighWrite(type: number, data: rt.Neighbor, attrs: rt.NeighborAttrs, flags: number): BatchedWrite {
  return { type, flags, body: (st) => rt.formatNeighborMessage({ kind: 'neighbor', data, attrs }, st) };
}

/** ip neigh replace IP lladdr MAC dev X nud permanent */
export async function neighSet(c: RtConn, n: Neighbour): Promise<void> {
  checkIndex('index', n.index);
  const ip = parseIp('ip', n.ip);
  const mac = macToBuf('mac', n.mac);
  if (n.permanent === false) throw new NetlinkInputError('permanent', n.permanent, 'knit writes only permanent neighbours');
  await c.write('neigh replace', `neighbour ${n.ip} on link #${n.index}`, neighWrite(
    rt.MessageType.NEWNEIGH,
    { family: familyNumber(ip.family), ifindex: n.index, state: { permanent: true } },
    { dst: ip.bytes, lladdr: mac },
    FlagsNew.CREATE | FlagsNew.REPLACE,
  ));
}

/** ip neigh del IP dev X (ENOENT when absent) */
export async function neighDel(c: RtConn, n: Pick<Neighbour, 'index' | 'ip'>): Promise<void> {
  checkIndex('index', n.index);
  const ip = parseIp('ip', n.ip);
  await c.write('neigh del', `neighbour ${n.ip} on link #${n.index}`, neighWrite(
    rt.MessageType.DELNEIGH, { family: familyNumber(ip.family), ifindex: n.index }, { dst: ip.bytes }, 0));
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
export async function neighList(c: RtConn, filter: { index?: number; family?: 4 | 6 } = {}): Promise<Neighbour[]> {
  const family = checkFamily('family', filter.family);
  if (filter.index !== undefined) checkIndex('index', filter.index);
  const out: Neighbour[] = [];
  await c.rawDump('neigh list', 'neighbours', rt.MessageType.GETNEIGH, neighDumpRequest(family ? familyNumber(family) : 0), (type, buf, start, end) => {
    if (type !== rt.MessageType.NEWNEIGH) return;
    const n = decodeNeighbour(buf, start, end);
    if (!n) return;
    if ((neighbourState(buf, start, end) & ~NUD_NOARP) === 0) return;
    if (filter.index !== undefined && n.index !== filter.index) return;
    out.push(n);
  });
  return out;
}
