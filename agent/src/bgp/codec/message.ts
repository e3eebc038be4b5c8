/**
 * The codec's front door: whole messages (header included) to and from
 * typed values. decodeMessage never throws on any input; encodeMessage
 * throws only on values no peer could have produced (a caller bug), e.g. a
 * malformed address or an UPDATE larger than 4096 octets.
 */
import { ErrorCode, HEADER_LENGTH, HeaderErrorSubcode, MessageType } from './constants';
import { BgpDecodeError, resetError } from './errors';
import { checkHeader } from './header';
import { decodeOpen, encodeOpen } from './open';
import {
  decodeKeepalive,
  decodeNotification,
  decodeRouteRefresh,
  encodeKeepalive,
  encodeNotification,
  encodeRouteRefresh,
} from './simple-messages';
import type { BgpMessage, CodecContext, DecodeContext } from './types';
import { decodeUpdate, encodeUpdate } from './update';

/** Encodes any message, header included. */
export function encodeMessage(msg: BgpMessage, ctx: CodecContext): Buffer {
  switch (msg.type) {
    case 'open':
      return encodeOpen(msg);
    case 'update':
      return encodeUpdate(msg, ctx);
    case 'notification':
      return encodeNotification(msg);
    case 'keepalive':
      return encodeKeepalive();
    case 'route-refresh':
      return encodeRouteRefresh(msg);
  }
}

/**
 * Decodes one whole message (as the MessageSplitter yields them). The header
 * is checked again here so the function is safe on any bytes; a buffer longer
 * than its header's length is a 1/2 error rather than silently truncated.
 */
export function decodeMessage(buf: Buffer, ctx: DecodeContext): BgpMessage | BgpDecodeError {
  const header = checkHeader(buf);
  if (header instanceof BgpDecodeError) return header;
  if (header.length !== buf.length) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(header.length);
    return resetError(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_LENGTH, data, `header says ${header.length} octets, buffer holds ${buf.length}`);
  }
  const body = buf.subarray(HEADER_LENGTH);
  switch (header.type) {
    case MessageType.OPEN:
      return decodeOpen(body, ctx);
    case MessageType.UPDATE:
      return decodeUpdate(body, ctx);
    case MessageType.NOTIFICATION:
      return decodeNotification(body);
    case MessageType.KEEPALIVE:
      return decodeKeepalive();
    default:
      return decodeRouteRefresh(body);
  }
}
