/**
 * Writing a path attribute list. Order: MP_UNREACH_NLRI and MP_REACH_NLRI
 * first (RFC 7606 §5.1 asks for that, so a receiver can always find the NLRI
 * it must withdraw), then ascending type code, unknown pass-through
 * attributes last. Towards 2-octet peers AS_PATH/AGGREGATOR are written with
 * AS_TRANS and the truth goes in AS4_PATH/AS4_AGGREGATOR (RFC 6793 §4.2.2).
 */
import { encodeAsPath, needsFourOctets, toTwoOctetPath, withoutConfed } from './as-path';
import { AS_TRANS, AttrFlag, AttrType } from './constants';
import { ipv4ToBytes } from './ip';
import { encodeMpReach, encodeMpUnreach } from './mp-nlri';
import type { Aggregator, PathAttributes } from './types';

const WELL_KNOWN = AttrFlag.TRANSITIVE;
const OPTIONAL = AttrFlag.OPTIONAL;
const OPTIONAL_TRANSITIVE = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;

/**
 * One attribute: flags, type, length, value. The extended (2-octet) length is
 * used when the value needs it or `extended` asks for it.
 */
export function encodeAttribute(flags: number, type: number, value: Buffer, extended = false): Buffer {
  if (value.length > 0xffff) throw new RangeError(`attribute ${type} value of ${value.length} octets`);
  if (value.length > 255 || extended) {
    const head = Buffer.from([flags | AttrFlag.EXTENDED_LENGTH, type, value.length >> 8, value.length & 0xff]);
    return Buffer.concat([head, value]);
  }
  return Buffer.concat([Buffer.from([flags & ~AttrFlag.EXTENDED_LENGTH, type, value.length]), value]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function aggregatorBytes(agg: Aggregator, asSize: 2 | 4): Buffer {
  const addr = ipv4ToBytes(agg.address);
  if (!addr) throw new RangeError(`aggregator address ${agg.address} is not a dotted quad`);
  const out = Buffer.alloc(asSize + 4);
  if (asSize === 4) out.writeUInt32BE(agg.asn >>> 0, 0);
  else out.writeUInt16BE(agg.asn > 0xffff ? AS_TRANS : agg.asn, 0);
  addr.copy(out, asSize);
  return out;
}

/** Encodes a typed attribute record; `fourOctetAs` is the negotiated AS number size. */
export function encodeAttributes(attrs: PathAttributes, fourOctetAs: boolean): Buffer {
  const out: Buffer[] = [];
  // MP_* carrying prefixes get the extended length whatever their size, as BIRD
  // writes them (their size depends on how many prefixes are packed in); an
  // End-of-RIB MP_UNREACH keeps the short form, as BIRD's does.
  if (attrs.mpUnreach) {
    const value = encodeMpUnreach(attrs.mpUnreach);
    out.push(encodeAttribute(OPTIONAL, AttrType.MP_UNREACH_NLRI, value, value.length > 3));
  }
  if (attrs.mpReach) {
    out.push(encodeAttribute(OPTIONAL, AttrType.MP_REACH_NLRI, encodeMpReach(attrs.mpReach), attrs.mpReach.nlri.length > 0));
  }
  if (attrs.origin !== undefined) out.push(encodeAttribute(WELL_KNOWN, AttrType.ORIGIN, Buffer.from([attrs.origin])));
  if (attrs.asPath !== undefined) {
    const path = fourOctetAs ? attrs.asPath : toTwoOctetPath(attrs.asPath);
    out.push(encodeAttribute(WELL_KNOWN, AttrType.AS_PATH, encodeAsPath(path, fourOctetAs ? 4 : 2)));
  }
  if (attrs.nextHop !== undefined) {
    const nh = ipv4ToBytes(attrs.nextHop);
    if (!nh) throw new RangeError(`NEXT_HOP ${attrs.nextHop} is not a dotted quad`);
    out.push(encodeAttribute(WELL_KNOWN, AttrType.NEXT_HOP, nh));
  }
  if (attrs.med !== undefined) out.push(encodeAttribute(OPTIONAL, AttrType.MULTI_EXIT_DISC, u32(attrs.med)));
  if (attrs.localPref !== undefined) out.push(encodeAttribute(WELL_KNOWN, AttrType.LOCAL_PREF, u32(attrs.localPref)));
  if (attrs.atomicAggregate) out.push(encodeAttribute(WELL_KNOWN, AttrType.ATOMIC_AGGREGATE, Buffer.alloc(0)));
  if (attrs.aggregator) {
    out.push(encodeAttribute(OPTIONAL_TRANSITIVE, AttrType.AGGREGATOR, aggregatorBytes(attrs.aggregator, fourOctetAs ? 4 : 2)));
  }
  if (attrs.communities !== undefined && attrs.communities.length > 0) {
    out.push(encodeAttribute(OPTIONAL_TRANSITIVE, AttrType.COMMUNITIES, Buffer.concat(attrs.communities.map(u32))));
  }
  // RFC 4456 attributes: only a reflector sets them (knit never does; export builds fresh attributes), encoded for round trips and tests.
  if (attrs.originatorId !== undefined) {
    const id = ipv4ToBytes(attrs.originatorId);
    if (!id) throw new RangeError(`ORIGINATOR_ID ${attrs.originatorId} is not a dotted quad`);
    out.push(encodeAttribute(OPTIONAL, AttrType.ORIGINATOR_ID, id));
  }
  if (attrs.clusterList !== undefined && attrs.clusterList.length > 0) {
    out.push(encodeAttribute(OPTIONAL, AttrType.CLUSTER_LIST, Buffer.concat(attrs.clusterList.map((c) => {
      const id = ipv4ToBytes(c);
      if (!id) throw new RangeError(`CLUSTER_LIST entry ${c} is not a dotted quad`);
      return id;
    }))));
  }
  if (!fourOctetAs && attrs.asPath && needsFourOctets(attrs.asPath)) {
    out.push(encodeAttribute(OPTIONAL_TRANSITIVE, AttrType.AS4_PATH, encodeAsPath(withoutConfed(attrs.asPath), 4)));
  }
  if (!fourOctetAs && attrs.aggregator && attrs.aggregator.asn > 0xffff) {
    out.push(encodeAttribute(OPTIONAL_TRANSITIVE, AttrType.AS4_AGGREGATOR, aggregatorBytes(attrs.aggregator, 4)));
  }
  for (const raw of attrs.unknown ?? []) {
    // RFC 4271 §5: an unrecognised optional transitive attribute is passed on with Partial set.
    out.push(encodeAttribute((raw.flags & 0xe0) | AttrFlag.PARTIAL, raw.type, raw.value));
  }
  return Buffer.concat(out);
}
