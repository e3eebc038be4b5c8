/**
 * MP_REACH_NLRI and MP_UNREACH_NLRI values (RFC 4760 §3–4). Next hops: 4
 * octets (IPv4), 16 (IPv6 global, or IPv4-mapped) or 32 (IPv6 global +
 * link-local, RFC 2545); IPv4 NLRI with an IPv6 next hop is RFC 8950's
 * extended next hop. Families other than IPv4/IPv6 unicast and multicast
 * are kept raw so the session can ignore them (RFC 4760 §7).
 */
import { Afi, Safi } from './constants';
import { addrToBytes, bytesToIpv4, bytesToIpv6 } from './ip';
import { decodePrefixes, encodePrefixes } from './prefix';
import type { MpNextHop, MpReach, MpUnreach, Prefix } from './types';

/** IP version of an AFI/SAFI knit parses, or undefined for one it keeps raw. */
export function familyOf(afi: number, safi: number): 4 | 6 | undefined {
  if (safi !== Safi.UNICAST && safi !== Safi.MULTICAST) return undefined;
  if (afi === Afi.IPV4) return 4;
  if (afi === Afi.IPV6) return 6;
  return undefined;
}

function decodeNextHop(value: Buffer, start: number, len: number, family: 4 | 6): MpNextHop | string {
  if (len === 4 && family === 4) return { global: bytesToIpv4(value, start) };
  if (len === 16) return { global: bytesToIpv6(value, start) };
  if (len === 32) return { global: bytesToIpv6(value, start), linkLocal: bytesToIpv6(value, start + 16) };
  return `next hop of ${len} octets for IPv${family}`;
}

/** Decodes an MP_REACH_NLRI value; a string says why it is malformed. Never throws. */
export function decodeMpReach(value: Buffer): MpReach | string {
  if (value.length < 5) return `MP_REACH_NLRI of ${value.length} octets`;
  const afi = value.readUInt16BE(0);
  const safi = value[2];
  const nhLen = value[3];
  if (4 + nhLen + 1 > value.length) return `next hop length ${nhLen} overruns MP_REACH_NLRI`;
  const family = familyOf(afi, safi);
  if (!family) return { afi, safi, nextHop: { global: '' }, nlri: [], raw: Buffer.from(value) };
  const nextHop = decodeNextHop(value, 4, nhLen, family);
  if (typeof nextHop === 'string') return nextHop;
  // The octet after the next hop is Reserved (formerly SNPA count): ignored on receipt.
  const nlri = decodePrefixes(value, 4 + nhLen + 1, value.length, family);
  if (!nlri.ok) return nlri.reason;
  return { afi, safi, nextHop, nlri: nlri.prefixes };
}

/** Decodes an MP_UNREACH_NLRI value; a string says why it is malformed. Never throws. */
export function decodeMpUnreach(value: Buffer): MpUnreach | string {
  if (value.length < 3) return `MP_UNREACH_NLRI of ${value.length} octets`;
  const afi = value.readUInt16BE(0);
  const safi = value[2];
  const family = familyOf(afi, safi);
  if (!family) return { afi, safi, withdrawn: [], raw: Buffer.from(value) };
  const withdrawn = decodePrefixes(value, 3, value.length, family);
  if (!withdrawn.ok) return withdrawn.reason;
  return { afi, safi, withdrawn: withdrawn.prefixes };
}

function nextHopBytes(family: 4 | 6, nh: MpNextHop): Buffer {
  const v4 = family === 4 && !nh.global.includes(':') ? addrToBytes(4, nh.global) : undefined;
  if (v4) {
    if (nh.linkLocal) throw new RangeError('an IPv4 next hop has no link-local part');
    return v4;
  }
  const global = addrToBytes(6, nh.global);
  if (!global) throw new RangeError(`next hop ${nh.global} is not an address`);
  if (nh.linkLocal === undefined) return global;
  const ll = addrToBytes(6, nh.linkLocal);
  if (!ll) throw new RangeError(`link-local next hop ${nh.linkLocal} is not an IPv6 address`);
  return Buffer.concat([global, ll]);
}

function checkFamily(prefixes: readonly Prefix[], family: 4 | 6, what: string): void {
  for (const p of prefixes) {
    if (p.afi !== family) throw new RangeError(`${what}: IPv${p.afi} prefix ${p.addr}/${p.len} in an IPv${family} attribute`);
  }
}

/** Encodes an MP_REACH_NLRI value. */
export function encodeMpReach(mp: MpReach): Buffer {
  if (mp.raw) return mp.raw;
  const family = familyOf(mp.afi, mp.safi);
  if (!family) throw new RangeError(`MP_REACH_NLRI for AFI ${mp.afi} SAFI ${mp.safi} needs raw bytes`);
  checkFamily(mp.nlri, family, 'MP_REACH_NLRI');
  const nh = nextHopBytes(family, mp.nextHop);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(mp.afi, 0);
  head[2] = mp.safi;
  head[3] = nh.length;
  return Buffer.concat([head, nh, Buffer.from([0]), encodePrefixes(mp.nlri)]);
}

/** Encodes an MP_UNREACH_NLRI value (with no prefixes it is the End-of-RIB of RFC 4724 §2). */
export function encodeMpUnreach(mp: MpUnreach): Buffer {
  if (mp.raw) return mp.raw;
  const family = familyOf(mp.afi, mp.safi);
  if (!family) throw new RangeError(`MP_UNREACH_NLRI for AFI ${mp.afi} SAFI ${mp.safi} needs raw bytes`);
  checkFamily(mp.withdrawn, family, 'MP_UNREACH_NLRI');
  const head = Buffer.alloc(3);
  head.writeUInt16BE(mp.afi, 0);
  head[2] = mp.safi;
  return Buffer.concat([head, encodePrefixes(mp.withdrawn)]);
}
