/**
 * Reading the path attribute list of an UPDATE with RFC 7606's revised error
 * handling: each problem becomes a BgpDecodeError whose action is the one
 * RFC 7606 §7 (or RFC 6793 §6 for AS4_*) assigns, and reading goes on where
 * it safely can so the strongest action over the whole message is known.
 */
import { decodeAsPath, mergeAs4Path } from './as-path';
import { AS_TRANS, AttrFlag, AttrType, UpdateErrorSubcode } from './constants';
import { BgpDecodeError, ErrorAction, updateError } from './errors';
import { bytesToIpv4 } from './ip';
import { decodeMpReach, decodeMpUnreach } from './mp-nlri';
import type { AsPathSegment, Aggregator, PathAttributes } from './types';

/** What reading the attribute list produced. */
export interface AttributesResult {
  attributes: PathAttributes;
  /** Every problem met, in order; the caller picks the strongest action. */
  errors: BgpDecodeError[];
  /** Type codes present in the list, well-formed or not. */
  present: Set<number>;
}

type FlagClass = 'well-known' | 'optional' | 'optional-transitive';

const KNOWN: Record<number, FlagClass> = {
  [AttrType.ORIGIN]: 'well-known',
  [AttrType.AS_PATH]: 'well-known',
  [AttrType.NEXT_HOP]: 'well-known',
  [AttrType.MULTI_EXIT_DISC]: 'optional',
  [AttrType.LOCAL_PREF]: 'well-known',
  [AttrType.ATOMIC_AGGREGATE]: 'well-known',
  [AttrType.AGGREGATOR]: 'optional-transitive',
  [AttrType.COMMUNITIES]: 'optional-transitive',
  [AttrType.ORIGINATOR_ID]: 'optional',
  [AttrType.CLUSTER_LIST]: 'optional',
  [AttrType.MP_REACH_NLRI]: 'optional',
  [AttrType.MP_UNREACH_NLRI]: 'optional',
  [AttrType.AS4_PATH]: 'optional-transitive',
  [AttrType.AS4_AGGREGATOR]: 'optional-transitive',
};

const EXPECTED_BITS: Record<FlagClass, number> = {
  'well-known': AttrFlag.TRANSITIVE,
  optional: AttrFlag.OPTIONAL,
  'optional-transitive': AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
};

/** The action RFC 7606 §7 / RFC 6793 §6 assign to a malformed attribute of this type. */
function actionFor(type: number): ErrorAction {
  switch (type) {
    case AttrType.MP_REACH_NLRI:
    case AttrType.MP_UNREACH_NLRI:
      return 'session-reset';
    case AttrType.ATOMIC_AGGREGATE:
    case AttrType.AGGREGATOR:
    case AttrType.AS4_PATH:
    case AttrType.AS4_AGGREGATOR:
      return 'attribute-discard';
    default:
      return 'treat-as-withdraw';
  }
}

function aggregatorOf(value: Buffer, asSize: 2 | 4): Aggregator {
  return {
    asn: asSize === 4 ? value.readUInt32BE(0) : value.readUInt16BE(0),
    address: bytesToIpv4(value, asSize),
  };
}

/**
 * Reads buf[start, end) as a path attribute list. `fourOctetAs` selects the
 * AS number size of AS_PATH and AGGREGATOR; on 2-octet sessions AS4_PATH and
 * AS4_AGGREGATOR are merged in (RFC 6793 §4.2.3), on 4-octet sessions they
 * are dropped (§3). Never throws.
 */
export function decodeAttributes(buf: Buffer, start: number, end: number, fourOctetAs: boolean): AttributesResult {
  const attributes: PathAttributes = {};
  const errors: BgpDecodeError[] = [];
  const seen = new Set<number>();
  const asSize: 2 | 4 = fourOctetAs ? 4 : 2;
  let as4Path: AsPathSegment[] | undefined;
  let as4Aggregator: Aggregator | undefined;
  let pos = start;

  while (pos < end) {
    const flags = buf[pos];
    const headLen = flags & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
    // RFC 7606 §4: too few octets for an attribute header, or an attribute
    // overrunning the list, is treat-as-withdraw (the NLRI is still found from
    // Total Path Attribute Length); MP_* are reset as their NLRI is unknowable.
    if (end - pos < headLen) {
      errors.push(updateError(UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST, Buffer.alloc(0), 'treat-as-withdraw', `${end - pos} stray octets after the last attribute`));
      break;
    }
    const type = buf[pos + 1];
    const len = headLen === 4 ? buf.readUInt16BE(pos + 2) : buf[pos + 2];
    if (pos + headLen + len > end) {
      const mp = type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI;
      errors.push(updateError(UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST, Buffer.alloc(0), mp ? 'session-reset' : 'treat-as-withdraw', `attribute ${type} of length ${len} overruns the attribute list`));
      break;
    }
    const whole = buf.subarray(pos, pos + headLen + len);
    const value = buf.subarray(pos + headLen, pos + headLen + len);
    pos += headLen + len;

    if (seen.has(type)) {
      // RFC 7606 §3(g): duplicates are discarded, except MP_* which reset.
      const mp = type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI;
      errors.push(updateError(UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST, Buffer.alloc(0), mp ? 'session-reset' : 'attribute-discard', `duplicate attribute ${type}`));
      continue;
    }
    seen.add(type);

    const cls = KNOWN[type];
    if (cls === undefined) {
      if (!(flags & AttrFlag.OPTIONAL)) {
        errors.push(updateError(UpdateErrorSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, Buffer.from(whole), 'session-reset', `unrecognised well-known attribute ${type}`));
      } else if (flags & AttrFlag.TRANSITIVE) {
        (attributes.unknown ??= []).push({ flags: flags & ~AttrFlag.EXTENDED_LENGTH & 0xf0, type, value: Buffer.from(value) });
      }
      // Unrecognised optional non-transitive attributes are quietly ignored (RFC 4271 §9).
      continue;
    }
    const fail = (subcode: number, reason: string, data: Buffer = Buffer.from(whole)): void => {
      errors.push(updateError(subcode, data, actionFor(type), reason));
    };
    if ((flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== EXPECTED_BITS[cls]) {
      const reason = `attribute ${type} with flags 0x${flags.toString(16)}`;
      if (type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI) {
        // RFC 7606 §3(c): flags in conflict with the type are treat-as-withdraw. For MP_* that is
        // only possible when the value still parses (its prefixes are what gets withdrawn);
        // otherwise nothing can be withdrawn and the session is reset (§5.3).
        const mp = type === AttrType.MP_REACH_NLRI ? decodeMpReach(value) : decodeMpUnreach(value);
        if (typeof mp === 'string') {
          fail(UpdateErrorSubcode.ATTRIBUTE_FLAGS_ERROR, `${reason}: ${mp}`);
        } else {
          if ('nextHop' in mp) attributes.mpReach = mp;
          else attributes.mpUnreach = mp;
          errors.push(updateError(UpdateErrorSubcode.ATTRIBUTE_FLAGS_ERROR, Buffer.from(whole), 'treat-as-withdraw', reason));
        }
        continue;
      }
      fail(UpdateErrorSubcode.ATTRIBUTE_FLAGS_ERROR, reason);
      continue;
    }
    switch (type) {
      case AttrType.ORIGIN:
        if (len !== 1) fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `ORIGIN of length ${len}`);
        else if (value[0] > 2) fail(UpdateErrorSubcode.INVALID_ORIGIN_ATTRIBUTE, `ORIGIN ${value[0]}`);
        else attributes.origin = value[0];
        break;
      case AttrType.AS_PATH: {
        const path = decodeAsPath(value, 0, len, asSize);
        if (typeof path === 'string') fail(UpdateErrorSubcode.MALFORMED_AS_PATH, `AS_PATH: ${path}`, Buffer.alloc(0));
        else attributes.asPath = path;
        break;
      }
      case AttrType.NEXT_HOP: {
        if (len !== 4) {
          fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `NEXT_HOP of length ${len}`);
          break;
        }
        const first = value[0];
        // Never a usable next hop: unspecified, broadcast, multicast (RFC 4271 §6.3).
        if (value.readUInt32BE(0) === 0 || value.readUInt32BE(0) === 0xffffffff || (first >= 224 && first <= 239)) {
          fail(UpdateErrorSubcode.INVALID_NEXT_HOP_ATTRIBUTE, `NEXT_HOP ${bytesToIpv4(value)}`);
        } else {
          attributes.nextHop = bytesToIpv4(value);
        }
        break;
      }
      case AttrType.MULTI_EXIT_DISC:
        if (len !== 4) fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `MULTI_EXIT_DISC of length ${len}`);
        else attributes.med = value.readUInt32BE(0);
        break;
      case AttrType.LOCAL_PREF:
        if (len !== 4) fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `LOCAL_PREF of length ${len}`);
        else attributes.localPref = value.readUInt32BE(0);
        break;
      case AttrType.ATOMIC_AGGREGATE:
        if (len !== 0) fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `ATOMIC_AGGREGATE of length ${len}`);
        else attributes.atomicAggregate = true;
        break;
      case AttrType.AGGREGATOR:
        if (len !== 2 + asSize + 2) fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `AGGREGATOR of length ${len}`);
        else attributes.aggregator = aggregatorOf(value, asSize);
        break;
      case AttrType.COMMUNITIES:
        if (len === 0 || len % 4 !== 0) {
          fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `COMMUNITIES of length ${len}`);
        } else {
          const list: number[] = [];
          for (let i = 0; i < len; i += 4) list.push(value.readUInt32BE(i));
          attributes.communities = list;
        }
        break;
      case AttrType.ORIGINATOR_ID:
        if (len !== 4) fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `ORIGINATOR_ID of length ${len}`);
        else attributes.originatorId = bytesToIpv4(value);
        break;
      case AttrType.CLUSTER_LIST:
        if (len === 0 || len % 4 !== 0) {
          fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `CLUSTER_LIST of length ${len}`);
        } else {
          const ids: string[] = [];
          for (let i = 0; i < len; i += 4) ids.push(bytesToIpv4(value.subarray(i, i + 4)));
          attributes.clusterList = ids;
        }
        break;
      case AttrType.MP_REACH_NLRI: {
        const mp = decodeMpReach(value);
        if (typeof mp === 'string') fail(UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR, mp);
        else attributes.mpReach = mp;
        break;
      }
      case AttrType.MP_UNREACH_NLRI: {
        const mp = decodeMpUnreach(value);
        if (typeof mp === 'string') fail(UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR, mp);
        else attributes.mpUnreach = mp;
        break;
      }
      case AttrType.AS4_PATH: {
        if (fourOctetAs) break; // RFC 6793 §3: a 4-octet speaker discards it from a 4-octet peer.
        const path = decodeAsPath(value, 0, len, 4);
        if (typeof path === 'string') fail(UpdateErrorSubcode.MALFORMED_AS_PATH, `AS4_PATH: ${path}`, Buffer.alloc(0));
        else as4Path = path;
        break;
      }
      case AttrType.AS4_AGGREGATOR:
        if (fourOctetAs) break;
        if (len !== 8) fail(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, `AS4_AGGREGATOR of length ${len}`);
        else as4Aggregator = aggregatorOf(value, 4);
        break;
      default:
        break;
    }
  }

  if (!fourOctetAs) {
    // RFC 6793 §4.2.3: an AGGREGATOR naming a 2-octet AS means a 2-octet speaker
    // aggregated after the path left 4-octet land: AS4_* are stale then.
    const stale = attributes.aggregator !== undefined && as4Aggregator !== undefined && attributes.aggregator.asn !== AS_TRANS;
    if (!stale) {
      if (as4Aggregator && attributes.aggregator) attributes.aggregator = as4Aggregator;
      if (as4Path && attributes.asPath) attributes.asPath = mergeAs4Path(attributes.asPath, as4Path);
    }
  }
  return { attributes, errors, present: seen };
}
