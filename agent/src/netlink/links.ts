/**
 * Link verbs: list/get, create (bridge, veth, vxlan, ipip, any data-less
 * kind), set (up/down, MTU, MAC, master, name, hairpin) and delete.
 *
 * Creation is one RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL, so the kernel
 * creates all of it or nothing (a veth pair and its peer in another
 * namespace included); the result is then read back with one targeted
 * RTM_GETLINK by name, never a dump.
 */
import { openSync, closeSync } from 'node:fs';
import { FlagsNew, rt, type ifla } from 'netlink';
import type { RtConn } from './conn';
import { NetlinkError, NetlinkInputError, isNetlinkError, toNetlinkError } from './errors';
import { ARPHRD_LOOPBACK, hairpinInfo, ipipInfo, kindInfo, linkFromFields, vethInfo, vxlanInfo } from './link-info';
import type { CreateBridge, CreateIpip, CreateLink, CreateVeth, CreateVxlan, Link } from './types';
import {
  bufToMac, checkIfName, checkIndex, checkInt, checkMtu, macToBuf, parseIp,
} from './validate';

const CREATE_EXCL = FlagsNew.CREATE | FlagsNew.EXCL;

/** Decode one RTM_NEWLINK message, as the `netlink` package parsed it, into a Link. */
export function linkFromMessage(m: rt.LinkMessage): Link {
  const { data, attrs } = m;
  return linkFromFields({
    index: data.index ?? 0,
    name: attrs.ifname ?? '',
    mtu: attrs.mtu ?? 0,
    up: data.flags?.up === true,
    loopback: data.type === 'LOOPBACK' || data.type === ARPHRD_LOOPBACK,
    mac: bufToMac(attrs.address),
    master: attrs.master ?? 0,
    peer: attrs.link && attrs.link.length >= 4 ? attrs.link.readUInt32LE(0) : 0,
    linkinfo: attrs.linkinfo,
  });
}

/** ip link show */
export async function linkList(c: RtConn): Promise<Link[]> {
  const msgs = await c.dump('link list', 'all links', (s) => s.getLinks());
  return msgs.map(linkFromMessage);
}

/** ip link show dev NAME (one targeted RTM_GETLINK); undefined when absent */
export async function linkByName(c: RtConn, name: string): Promise<Link | undefined> {
  checkIfName('name', name);
  try {
    const msgs = await c.request('link get', `link ${name}`, (s) => s.getLink({}, { ifname: name }));
    return msgs[0] ? linkFromMessage(msgs[0]) : undefined;
  } catch (err) {
    if (isNetlinkError(err, 'ENODEV')) return undefined;
    throw err;
  }
}

/** ip link show (by ifindex); undefined when absent */
export async function linkByIndex(c: RtConn, index: number): Promise<Link | undefined> {
  checkIndex('index', index);
  try {
    const msgs = await c.request('link get', `link #${index}`, (s) => s.getLink({ index }));
    return msgs[0] ? linkFromMessage(msgs[0]) : undefined;
  } catch (err) {
    if (isNetlinkError(err, 'ENODEV')) return undefined;
    throw err;
  }
}

function baseAttrs(name: string, mtu?: number, mac?: string): ifla.LinkAttrs {
  const attrs: ifla.LinkAttrs = { ifname: checkIfName('name', name) };
  if (mtu !== undefined) attrs.mtu = checkMtu('mtu', mtu);
  if (mac !== undefined) attrs.address = macToBuf('mac', mac);
  return attrs;
}

async function create(c: RtConn, kind: string, attrs: ifla.LinkAttrs, object: string, up = false): Promise<Link> {
  const name = attrs.ifname as string;
  const data: rt.Link = up ? { flags: { up: true }, change: { up: true } } : {};
  try {
    await c.request('link add', object, (s) => s.newLink(data, attrs, { flags: CREATE_EXCL }));
  } catch (err) {
    if (isNetlinkError(err, 'EOPNOTSUPP')) {
      throw new NetlinkError({
        errno: err.errno, code: err.code, op: 'link add', object,
        detail: `link kind '${kind}' is not supported by this kernel`, cause: err,
      });
    }
    throw err;
  }
  const link = await linkByName(c, name);
  if (!link) throw new NetlinkError({ errno: 19, code: 'ENODEV', op: 'link add', object, detail: 'created but gone on read-back' });
  return link;
}

/** ip link add NAME type KIND [mtu M] [address MAC] — any kind that needs no IFLA_INFO_DATA */
export async function linkAdd(c: RtConn, o: CreateLink): Promise<Link> {
  const attrs = baseAttrs(o.name, o.mtu, o.mac);
  if (typeof o.kind !== 'string' || !/^[a-z0-9_]{1,31}$/.test(o.kind)) {
    throw (new NetlinkInputError('kind', o.kind, 'link kind must be 1–31 chars of [a-z0-9_]'));
  }
  attrs.linkinfo = kindInfo(o.kind);
  return create(c, o.kind, attrs, `${o.kind} ${o.name}`);
}

/** ip link add NAME type bridge [mtu M] [address MAC] */
export async function bridgeAdd(c: RtConn, o: CreateBridge): Promise<Link> {
  const attrs = baseAttrs(o.name, o.mtu, o.mac);
  attrs.linkinfo = kindInfo('bridge');
  return create(c, 'bridge', attrs, `bridge ${o.name}`);
}

/**
 * ip link add NAME [mtu M] [address MAC] [master BR] [up] type veth peer name PEER [address PMAC] [mtu M] netns NS
 *
 * The peer is created directly inside `peerNetns` under its final name (no
 * later move or rename). Kernel-side this is one atomic operation: when the
 * peer's name is taken, neither end is created. With `masterIndex` and `up`
 * the kernel also enslaves the local end and brings it up before it answers
 * (one request instead of three). The read-back's `peerIndex` is the peer's
 * index in its own namespace.
 */
export async function vethAdd(c: RtConn, o: CreateVeth): Promise<Link> {
  const attrs = baseAttrs(o.name, o.mtu, o.mac);
  checkIfName('peerName', o.peerName);
  if (o.masterIndex !== undefined) attrs.master = checkIndex('masterIndex', o.masterIndex);
  const peerMac = o.peerMac !== undefined ? macToBuf('peerMac', o.peerMac) : undefined;
  const where = o.peerNetns ? ` in ${o.peerNetns}` : '';
  const object = `veth ${o.name} (peer ${o.peerName}${where})`;
  let fd: number | undefined;
  if (o.peerNetns) {
    try {
      fd = openSync(o.peerNetns, 'r');
    } catch (err) {
      throw toNetlinkError(err, 'link add', object, `open peer netns ${o.peerNetns}`);
    }
  }
  try {
    attrs.linkinfo = vethInfo({ name: o.peerName, netnsFd: fd, mac: peerMac, mtu: attrs.mtu });
    return await create(c, 'veth', attrs, object, o.up === true);
  } catch (err) {
    // EEXIST is ambiguous (this end or the peer); say which one it was.
    if (isNetlinkError(err, 'EEXIST') && !(await linkByName(c, o.name))) {
      throw new NetlinkError({ errno: err.errno, code: err.code, op: 'link add', object, detail: `peer name ${o.peerName} is taken${where}`, cause: err });
    }
    if (isNetlinkError(err, 'EEXIST')) {
      throw new NetlinkError({ errno: err.errno, code: err.code, op: 'link add', object, detail: `link ${o.name} exists`, cause: err });
    }
    throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** ip link add NAME type vxlan id VNI dstport PORT [local IP] [dev UNDERLAY] nolearning [mtu M] [address MAC] */
export async function vxlanAdd(c: RtConn, o: CreateVxlan): Promise<Link> {
  const attrs = baseAttrs(o.name, o.mtu, o.mac);
  checkInt('vni', o.vni, 0, 0xffffff);
  checkInt('port', o.port, 1, 65535);
  if (typeof o.learning !== 'boolean') checkInt('learning', o.learning, 0, 1);
  if (o.underlayIndex !== undefined) checkIndex('underlayIndex', o.underlayIndex);
  const local = o.local !== undefined ? parseIp('local', o.local).bytes : undefined;
  attrs.linkinfo = vxlanInfo(o, local);
  return create(c, 'vxlan', attrs, `vxlan ${o.name}`);
}

/** ip link add NAME type ipip [local IP] [remote IP] [ttl N] [dev UNDERLAY] [mtu M] */
export async function ipipAdd(c: RtConn, o: CreateIpip): Promise<Link> {
  const attrs = baseAttrs(o.name, o.mtu);
  const v4 = (field: string, ip: string | undefined): Buffer | undefined => {
    if (ip === undefined) return undefined;
    const p = parseIp(field, ip);
    if (p.family !== 4) throw new NetlinkInputError(field, ip, 'ipip endpoints are IPv4');
    return p.bytes;
  };
  const local = v4('local', o.local);
  const remote = v4('remote', o.remote);
  if (o.ttl !== undefined) checkInt('ttl', o.ttl, 0, 255);
  if (o.underlayIndex !== undefined) checkIndex('underlayIndex', o.underlayIndex);
  attrs.linkinfo = ipipInfo(o, local, remote);
  return create(c, 'ipip', attrs, `ipip ${o.name}`);
}

async function set(c: RtConn, op: string, index: number, data: rt.Link, attrs: ifla.LinkAttrs): Promise<void> {
  checkIndex('index', index);
  await c.request(op, `link #${index}`, (s) => s.setLink({ ...data, index }, attrs));
}

/** ip link set dev X up */
export const linkSetUp = async (c: RtConn, index: number): Promise<void> =>
  set(c, 'link set up', index, { flags: { up: true }, change: { up: true } }, {});

/** ip link set dev X down */
export const linkSetDown = async (c: RtConn, index: number): Promise<void> =>
  set(c, 'link set down', index, { flags: {}, change: { up: true } }, {});

/** ip link set dev X mtu M */
export const linkSetMtu = async (c: RtConn, index: number, mtu: number): Promise<void> =>
  set(c, 'link set mtu', index, {}, { mtu: checkMtu('mtu', mtu) });

/** ip link set dev X address MAC */
export const linkSetMac = async (c: RtConn, index: number, mac: string): Promise<void> =>
  set(c, 'link set address', index, {}, { address: macToBuf('mac', mac) });

/** ip link set dev X master BR (masterIndex 0: nomaster) */
export const linkSetMaster = async (c: RtConn, index: number, masterIndex: number): Promise<void> =>
  set(c, 'link set master', index, {}, { master: checkInt('masterIndex', masterIndex, 0, 0x7fffffff) });

/** ip link set dev X name NEW (the kernel refuses with EBUSY while X is up) */
export const linkRename = async (c: RtConn, index: number, name: string): Promise<void> =>
  set(c, 'link rename', index, {}, { ifname: checkIfName('name', name) });

/** bridge link set dev X hairpin on|off (= ip link set dev X type bridge_slave hairpin on|off) */
export async function linkSetHairpin(c: RtConn, index: number, on: boolean): Promise<void> {
  checkIndex('index', index);
  await c.request('link set hairpin', `link #${index}`, (s) => s.newLink({ index }, { linkinfo: hairpinInfo(on) }));
}

/** ip link set dev X group G */
export const linkSetGroup = async (c: RtConn, index: number, group: number): Promise<void> =>
  set(c, 'link set group', index, {}, { group: checkInt('group', group, 1, 0xffffffff) });

/**
 * ip link del group G: every link of the group in one request. The kernel
 * unregisters them together and waits for their teardown once, where one
 * `link del` per link waits once per link (≈ 15–20 ms each for veths here).
 */
export async function linkDelGroup(c: RtConn, group: number): Promise<void> {
  checkInt('group', group, 1, 0xffffffff);
  await c.request('link del group', `group ${group}`, (s) => s.delLink({}, { group }));
}

/** ip link del dev X (ENODEV surfaces) */
export async function linkDel(c: RtConn, index: number): Promise<void> {
  checkIndex('index', index);
  await c.request('link del', `link #${index}`, (s) => s.delLink({ index }));
}
