/**
 * IFLA_LINKINFO, encoded and decoded by hand. The `netlink` package carries
 * IFLA_LINKINFO as a raw Buffer; its generated per-kind helpers do not cover
 * ipip and get some field widths wrong for us (vxlan port as an opaque
 * buffer), so this small TLV codec builds exactly the attributes `ip link
 * add ... type K ...` would send, and reads back the ones knit uses.
 */
import type { IpipAttrs, Link, VxlanAttrs } from './types';
import { bufToIp } from './validate';

/** A netlink attribute: type + payload (raw bytes, or nested attributes). */
export type Attr = [type: number, value: Buffer | Attr[]];

const NLA_TYPE_MASK = 0x3fff; // strips NLA_F_NESTED / NLA_F_NET_BYTEORDER

// rtnetlink attribute numbers (linux/if_link.h, linux/veth.h, linux/if_tunnel.h)
export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_LINKINFO = 18;
/** ifi_type of lo: its all-zero IFLA_ADDRESS is no MAC */
export const ARPHRD_LOOPBACK = 772;
export const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;
const VETH_INFO_PEER = 1;
const IFLA_VXLAN_ID = 1;
const IFLA_VXLAN_LINK = 3;
const IFLA_VXLAN_LOCAL = 4;
const IFLA_VXLAN_LEARNING = 7;
const IFLA_VXLAN_PORT = 15;
const IFLA_VXLAN_LOCAL6 = 17;
const IFLA_IPTUN_LINK = 1;
const IFLA_IPTUN_LOCAL = 2;
const IFLA_IPTUN_REMOTE = 3;
const IFLA_IPTUN_TTL = 4;
const IFLA_BRPORT_MODE = 4; // hairpin

export const u8 = (v: number): Buffer => Buffer.from([v]);
export function u32(v: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; }
function be16(v: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; }
export const str = (s: string): Buffer => Buffer.concat([Buffer.from(s), Buffer.alloc(1)]);

/** Encode attributes as a TLV stream (4-byte aligned). */
export function encodeAttrs(attrs: Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of attrs) {
    const payload = Buffer.isBuffer(value) ? value : encodeAttrs(value);
    const hdr = Buffer.alloc(4);
    hdr.writeUInt16LE(4 + payload.length, 0);
    hdr.writeUInt16LE(type, 2);
    parts.push(hdr, payload, Buffer.alloc((4 - (payload.length % 4)) % 4));
  }
  return Buffer.concat(parts);
}

/** Decode one level of a TLV stream into type → payload (last one wins). */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len < 4 || off + len > buf.length) break;
    out.set(type, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

/** IFLA_LINKINFO for a kind without data (bridge, or any kind named by the caller). */
export function kindInfo(kind: string, data?: Attr[]): Buffer {
  const attrs: Attr[] = [[IFLA_INFO_KIND, str(kind)]];
  if (data && data.length) attrs.push([IFLA_INFO_DATA, data]);
  return encodeAttrs(attrs);
}

/** Peer end of a veth: its name, namespace fd and optional MAC/MTU. */
export interface VethPeerSpec {
  name: string;
  netnsFd?: number;
  mac?: Buffer;
  mtu?: number;
}

/**
 * IFLA_LINKINFO for a veth pair. VETH_INFO_PEER carries a whole ifinfomsg +
 * link attributes; IFLA_NET_NS_FD there makes the kernel create the peer
 * directly inside that namespace, under its final name, in the same atomic
 * operation as the local end.
 */
export function vethInfo(peer: VethPeerSpec): Buffer {
  const peerAttrs: Attr[] = [[IFLA_IFNAME, str(peer.name)]];
  if (peer.netnsFd !== undefined) peerAttrs.push([IFLA_NET_NS_FD, u32(peer.netnsFd)]);
  if (peer.mac) peerAttrs.push([IFLA_ADDRESS, peer.mac]);
  if (peer.mtu !== undefined) peerAttrs.push([IFLA_MTU, u32(peer.mtu)]);
  // family, type, index, flags, change: all zero. Not IFF_UP: the kernel configures the peer before the
  // pair is linked, and opening a veth without its peer fails (ENOTCONN).
  const ifinfomsg = Buffer.alloc(16);
  return kindInfo('veth', [[VETH_INFO_PEER, Buffer.concat([ifinfomsg, encodeAttrs(peerAttrs)])]]);
}

/** IFLA_LINKINFO for `type vxlan id VNI dstport PORT [local IP] [dev N] [no]learning`. */
export function vxlanInfo(v: VxlanAttrs, local?: Buffer): Buffer {
  const data: Attr[] = [
    [IFLA_VXLAN_ID, u32(v.vni)],
    [IFLA_VXLAN_PORT, be16(v.port)],
    [IFLA_VXLAN_LEARNING, u8(v.learning ? 1 : 0)],
  ];
  if (local) data.push([local.length === 4 ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, local]);
  if (v.underlayIndex !== undefined) data.push([IFLA_VXLAN_LINK, u32(v.underlayIndex)]);
  return kindInfo('vxlan', data);
}

/** IFLA_LINKINFO for `type ipip [local IP] [remote IP] [ttl N] [dev N]`. */
export function ipipInfo(v: IpipAttrs, local?: Buffer, remote?: Buffer): Buffer {
  const data: Attr[] = [];
  if (local) data.push([IFLA_IPTUN_LOCAL, local]);
  if (remote) data.push([IFLA_IPTUN_REMOTE, remote]);
  if (v.ttl !== undefined) data.push([IFLA_IPTUN_TTL, u8(v.ttl)]);
  if (v.underlayIndex !== undefined) data.push([IFLA_IPTUN_LINK, u32(v.underlayIndex)]);
  return kindInfo('ipip', data);
}

/** IFLA_LINKINFO that sets a bridge port's hairpin mode (`type bridge_slave hairpin on`). */
export function hairpinInfo(on: boolean): Buffer {
  return encodeAttrs([
    [IFLA_INFO_SLAVE_KIND, str('bridge')],
    [IFLA_INFO_SLAVE_DATA, [[IFLA_BRPORT_MODE, u8(on ? 1 : 0)]]],
  ]);
}

/** What knit reads back from IFLA_LINKINFO. */
export interface DecodedLinkInfo {
  kind?: string;
  slaveKind?: string;
  vxlan?: VxlanAttrs;
  ipip?: IpipAttrs;
  /** bridge port hairpin mode, when the link is a bridge port */
  hairpin?: boolean;
}

function cstr(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString();
}

const isZero = (b: Buffer): boolean => b.every((x) => x === 0);

/** Decode IFLA_LINKINFO (kind, vxlan/ipip data, bridge-port hairpin). */
function decodeLinkInfo(buf: Buffer | undefined): DecodedLinkInfo {
  if (!buf) return {};
  const top = decodeAttrs(buf);
  const out: DecodedLinkInfo = {};
  const kind = top.get(IFLA_INFO_KIND);
  if (kind) out.kind = cstr(kind);
  const slaveKind = top.get(IFLA_INFO_SLAVE_KIND);
  if (slaveKind) out.slaveKind = cstr(slaveKind);
  const data = top.get(IFLA_INFO_DATA);
  if (data && out.kind === 'vxlan') {
    const d = decodeAttrs(data);
    const vx: VxlanAttrs = {
      vni: d.get(IFLA_VXLAN_ID)?.readUInt32LE(0) ?? 0,
      port: d.get(IFLA_VXLAN_PORT)?.readUInt16BE(0) ?? 0,
      learning: (d.get(IFLA_VXLAN_LEARNING)?.[0] ?? 0) !== 0,
    };
    const local = d.get(IFLA_VXLAN_LOCAL) ?? d.get(IFLA_VXLAN_LOCAL6);
    if (local && !isZero(local)) vx.local = bufToIp(local);
    const link = d.get(IFLA_VXLAN_LINK)?.readUInt32LE(0);
    if (link) vx.underlayIndex = link;
    out.vxlan = vx;
  }
  if (out.kind === 'ipip') {
    const d = data ? decodeAttrs(data) : new Map<number, Buffer>();
    const ip: IpipAttrs = {};
    const local = d.get(IFLA_IPTUN_LOCAL);
    if (local && !isZero(local)) ip.local = bufToIp(local);
    const remote = d.get(IFLA_IPTUN_REMOTE);
    if (remote && !isZero(remote)) ip.remote = bufToIp(remote);
    const link = d.get(IFLA_IPTUN_LINK)?.readUInt32LE(0);
    if (link) ip.underlayIndex = link;
    const ttl = d.get(IFLA_IPTUN_TTL)?.[0];
    if (ttl) ip.ttl = ttl;
    out.ipip = ip;
  }
  const slaveData = top.get(IFLA_INFO_SLAVE_DATA);
  if (slaveData && out.slaveKind === 'bridge') {
    const mode = decodeAttrs(slaveData).get(IFLA_BRPORT_MODE);
    if (mode) out.hairpin = mode[0] !== 0;
  }
  return out;
}

/** What a link message says that knit reads, however it was decoded (the package's parser, or decode.ts in place). */
export interface LinkFields {
  index: number;
  name: string;
  mtu: number;
  up: boolean;
  loopback: boolean;
  mac: string | undefined;
  /** IFLA_MASTER, 0 when none */
  master: number;
  /** IFLA_LINK (a veth's peer), 0 when none */
  peer: number;
  linkinfo: Buffer | undefined;
}

/** The Link of a link message's fields: the one place both decoders make it. */
export function linkFromFields(f: LinkFields): Link {
  const info = decodeLinkInfo(f.linkinfo);
  const link: Link = { index: f.index, name: f.name, kind: info.kind ?? 'device', mtu: f.mtu, up: f.up };
  if (!f.loopback && f.mac) link.mac = f.mac;
  if (f.master) link.masterIndex = f.master;
  if (link.kind === 'veth' && f.peer) link.peerIndex = f.peer;
  if (info.vxlan) link.vxlan = info.vxlan;
  if (info.ipip) link.ipip = info.ipip;
  if (info.hairpin !== undefined) link.hairpin = info.hairpin;
  return link;
}
