/**
 * OPEN message (RFC 4271 §4.2) with Capabilities optional parameters
 * (RFC 5492) and RFC 9072's extended optional parameters length on receipt.
 * The checks of RFC 4271 §6.2 that need no session state are done here;
 * those that do (expected peer AS, own identifier) use OpenCheckContext.
 */
import { decodeCapabilities, encodeCapability, findCapability } from './capabilities';
import { AS_TRANS, BGP_VERSION, ErrorCode, MessageType, OpenErrorSubcode, OptParamType } from './constants';
import { BgpDecodeError, resetError } from './errors';
import { withHeader } from './header';
import { bytesToIpv4, ipv4ToBytes } from './ip';
import type { Capability, OpenCheckContext, OpenMessage } from './types';

const FIXED = 10; // version, my AS, hold time, BGP identifier, opt param len
const EXTENDED_PARAMS = 255; // RFC 9072 marker in both the length and the first type octet

function openError(subcode: number, reason: string, data: Buffer = Buffer.alloc(0)): BgpDecodeError {
  return resetError(ErrorCode.OPEN_MESSAGE, subcode, data, reason);
}

/** Decodes an OPEN body (the octets after the header). Never throws. */
export function decodeOpen(body: Buffer, check: OpenCheckContext = {}): OpenMessage | BgpDecodeError {
  if (body.length < FIXED) return openError(OpenErrorSubcode.UNSPECIFIC, `OPEN body of ${body.length} octets`);
  const version = body[0];
  if (version !== BGP_VERSION) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(BGP_VERSION);
    return openError(OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER, `version ${version}`, data);
  }
  const myAsField = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  const bgpId = bytesToIpv4(body, 5);

  // Optional parameters: 1-octet lengths, or RFC 9072's 2-octet form.
  let pos = FIXED;
  let end = FIXED + body[9];
  let wide = false;
  if (body[9] === EXTENDED_PARAMS && body.length > FIXED && body[FIXED] === EXTENDED_PARAMS) {
    if (body.length < FIXED + 3) return openError(OpenErrorSubcode.UNSPECIFIC, 'truncated extended optional parameters length');
    wide = true;
    pos = FIXED + 3;
    end = pos + body.readUInt16BE(FIXED + 1);
  }
  if (end !== body.length) {
    return openError(OpenErrorSubcode.UNSPECIFIC, `optional parameters end at ${end}, message body at ${body.length}`);
  }
  const capabilityParams: Capability[][] = [];
  while (pos < end) {
    const headLen = wide ? 3 : 2;
    if (pos + headLen > end) return openError(OpenErrorSubcode.UNSPECIFIC, 'truncated optional parameter');
    const type = body[pos];
    const len = wide ? body.readUInt16BE(pos + 1) : body[pos + 1];
    const vStart = pos + headLen;
    if (vStart + len > end) return openError(OpenErrorSubcode.UNSPECIFIC, `optional parameter ${type} overruns the parameters`);
    if (type !== OptParamType.CAPABILITIES) {
      return openError(OpenErrorSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `optional parameter type ${type}`);
    }
    const caps = decodeCapabilities(body, vStart, vStart + len);
    if (!caps.ok) return openError(OpenErrorSubcode.UNSPECIFIC, caps.reason);
    capabilityParams.push(caps.capabilities);
    pos = vStart + len;
  }

  const as4 = findCapability(capabilityParams, 'four-octet-as');
  const asn = as4 ? as4.asn : myAsField;
  // RFC 7607: AS 0 is never valid.
  if (asn === 0 || myAsField === 0) return openError(OpenErrorSubcode.BAD_PEER_AS, 'AS 0');
  if (check.expectedPeerAs !== undefined && asn !== check.expectedPeerAs) {
    return openError(OpenErrorSubcode.BAD_PEER_AS, `peer AS ${asn}, expected ${check.expectedPeerAs}`);
  }
  // RFC 6286: any non-zero identifier; within one AS it must differ from ours.
  if (bgpId === '0.0.0.0') return openError(OpenErrorSubcode.BAD_BGP_IDENTIFIER, 'BGP identifier 0.0.0.0');
  if (check.localBgpId === bgpId && check.localAs !== undefined && check.localAs === asn) {
    return openError(OpenErrorSubcode.BAD_BGP_IDENTIFIER, `iBGP peer uses our own identifier ${bgpId}`);
  }
  if (holdTime === 1 || holdTime === 2) return openError(OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime}`);
  return { type: 'open', version, asn, myAsField, holdTime, bgpId, capabilityParams };
}

/**
 * Encodes an OPEN. My AS is `myAsField` when given, else `asn` or AS_TRANS
 * when `asn` needs 4 octets (the caller adds the four-octet-as capability).
 * Parameters longer than 255 octets use RFC 9072's extended form.
 */
export function encodeOpen(msg: OpenMessage): Buffer {
  const id = ipv4ToBytes(msg.bgpId);
  if (!id) throw new RangeError(`BGP identifier ${msg.bgpId} is not a dotted quad`);
  if (msg.holdTime < 0 || msg.holdTime > 0xffff) throw new RangeError(`hold time ${msg.holdTime}`);
  const myAs = msg.myAsField ?? (msg.asn > 0xffff ? AS_TRANS : msg.asn);
  const values = msg.capabilityParams.map((group) => Buffer.concat(group.map(encodeCapability)));
  const total = values.reduce((n, v) => n + 2 + v.length, 0);
  const wide = total > 255 || values.some((v) => v.length > 255);
  const params = values.map((v) => {
    const head = wide ? Buffer.from([OptParamType.CAPABILITIES, v.length >> 8, v.length & 0xff]) : Buffer.from([OptParamType.CAPABILITIES, v.length]);
    return Buffer.concat([head, v]);
  });
  const paramBytes = Buffer.concat(params);
  const fixed = Buffer.alloc(FIXED);
  fixed[0] = msg.version;
  fixed.writeUInt16BE(myAs, 1);
  fixed.writeUInt16BE(msg.holdTime, 3);
  id.copy(fixed, 5);
  if (wide) {
    fixed[9] = EXTENDED_PARAMS;
    const ext = Buffer.from([EXTENDED_PARAMS, paramBytes.length >> 8, paramBytes.length & 0xff]);
    return withHeader(MessageType.OPEN, Buffer.concat([fixed, ext, paramBytes]));
  }
  fixed[9] = paramBytes.length;
  return withHeader(MessageType.OPEN, Buffer.concat([fixed, paramBytes]));
}
