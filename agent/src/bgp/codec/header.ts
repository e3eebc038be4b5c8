/**
 * The 19-octet message header (RFC 4271 §4.1) and its checks (§6.1). Shared
 * by the stream splitter, which validates a header as soon as it has one, and
 * by decodeMessage.
 */
import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderErrorSubcode,
  MARKER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  MIN_LENGTH,
} from './constants';
import { BgpDecodeError, resetError } from './errors';

/** A header that passed every check of RFC 4271 §6.1. */
export interface ValidHeader {
  type: number;
  /** Total message length, header included. */
  length: number;
}

function lengthError(length: number, why: string): BgpDecodeError {
  const data = Buffer.alloc(2);
  data.writeUInt16BE(length & 0xffff);
  return resetError(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_LENGTH, data, why);
}

/**
 * Checks the header at buf[0..19): marker all ones (else 1/1), length within
 * 19..4096 and the minimum/exact length of its type (else 1/2 with the length
 * as data), a known type (else 1/3 with the type as data). Never throws;
 * `buf` must hold at least 19 octets (a shorter one is a 1/2 error).
 */
export function checkHeader(buf: Buffer): ValidHeader | BgpDecodeError {
  if (buf.length < HEADER_LENGTH) return lengthError(buf.length, `message of ${buf.length} octets is shorter than a header`);
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (buf[i] !== 0xff) {
      return resetError(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.CONNECTION_NOT_SYNCHRONIZED, Buffer.alloc(0), 'marker is not all ones');
    }
  }
  const length = buf.readUInt16BE(MARKER_LENGTH);
  const type = buf[MARKER_LENGTH + 2];
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) return lengthError(length, `length ${length} outside ${HEADER_LENGTH}..${MAX_MESSAGE_LENGTH}`);
  const min = MIN_LENGTH[type];
  if (min === undefined) {
    return resetError(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_TYPE, Buffer.from([type]), `unknown message type ${type}`);
  }
  if (length < min) return lengthError(length, `length ${length} below the minimum ${min} of message type ${type}`);
  if (type === MessageType.KEEPALIVE && length !== HEADER_LENGTH) return lengthError(length, `KEEPALIVE of length ${length}`);
  return { type, length };
}

/** Prepends a header of type `type` to `body`; throws when the result would exceed 4096 octets. */
export function withHeader(type: number, body: Buffer): Buffer {
  const length = HEADER_LENGTH + body.length;
  if (length > MAX_MESSAGE_LENGTH) {
    throw new RangeError(`BGP message of type ${type} would be ${length} octets (max ${MAX_MESSAGE_LENGTH}); split it`);
  }
  const out = Buffer.alloc(length, 0xff);
  out.writeUInt16BE(length, MARKER_LENGTH);
  out[MARKER_LENGTH + 2] = type;
  body.copy(out, HEADER_LENGTH);
  return out;
}
