/**
 * The three small messages: NOTIFICATION (RFC 4271 §4.5), KEEPALIVE (§4.4)
 * and ROUTE-REFRESH (RFC 2918, with RFC 7313's subtype octet).
 */
import { CeaseSubcode, ErrorCode, HeaderErrorSubcode, MessageType, RouteRefreshErrorSubcode } from './constants';
import { BgpDecodeError, resetError } from './errors';
import { withHeader } from './header';
import type { KeepaliveMessage, NotificationMessage, RouteRefreshMessage } from './types';

/** Decodes a NOTIFICATION body (code, subcode, data). Never throws; any code is accepted. */
export function decodeNotification(body: Buffer): NotificationMessage | BgpDecodeError {
  if (body.length < 2) {
    return resetError(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_LENGTH, Buffer.from([0, 19 + body.length]), `NOTIFICATION body of ${body.length} octets`);
  }
  return { type: 'notification', code: body[0], subcode: body[1], data: Buffer.from(body.subarray(2)) };
}

/** Encodes a NOTIFICATION. */
export function encodeNotification(msg: NotificationMessage): Buffer {
  return withHeader(MessageType.NOTIFICATION, Buffer.concat([Buffer.from([msg.code, msg.subcode]), msg.data]));
}

/** The NOTIFICATION a session sends for a session-reset decode error. */
export function notificationFor(err: BgpDecodeError): NotificationMessage {
  return { type: 'notification', code: err.code, subcode: err.subcode, data: err.data };
}

/**
 * A Cease NOTIFICATION, optionally with an RFC 9003 shutdown communication
 * (length octet + UTF-8, at most 255 octets) for Administrative Shutdown/Reset.
 */
export function ceaseNotification(subcode: number = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, communication?: string): NotificationMessage {
  let data = Buffer.alloc(0);
  if (communication !== undefined) {
    let text = Buffer.from(communication, 'utf8');
    if (text.length > 255) text = text.subarray(0, 255);
    data = Buffer.concat([Buffer.from([text.length]), text]);
  }
  return { type: 'notification', code: ErrorCode.CEASE, subcode, data };
}

/** The RFC 9003 shutdown communication of a Cease NOTIFICATION, if it carries a well-formed one. */
export function shutdownCommunication(msg: NotificationMessage): string | undefined {
  if (msg.code !== ErrorCode.CEASE) return undefined;
  if (msg.subcode !== CeaseSubcode.ADMINISTRATIVE_SHUTDOWN && msg.subcode !== CeaseSubcode.ADMINISTRATIVE_RESET) return undefined;
  if (msg.data.length < 1 || msg.data[0] + 1 > msg.data.length) return undefined;
  return msg.data.subarray(1, 1 + msg.data[0]).toString('utf8');
}

/** Decodes a KEEPALIVE body (always empty: the header check enforces length 19). */
export function decodeKeepalive(): KeepaliveMessage {
  return { type: 'keepalive' };
}

/** Encodes a KEEPALIVE (a bare header). */
export function encodeKeepalive(): Buffer {
  return withHeader(MessageType.KEEPALIVE, Buffer.alloc(0));
}

/** Decodes a ROUTE-REFRESH body: AFI (2), subtype (1), SAFI (1); any other length is 7/1. */
export function decodeRouteRefresh(body: Buffer): RouteRefreshMessage | BgpDecodeError {
  if (body.length !== 4) {
    return resetError(ErrorCode.ROUTE_REFRESH_MESSAGE, RouteRefreshErrorSubcode.INVALID_MESSAGE_LENGTH, Buffer.from(body), `ROUTE-REFRESH body of ${body.length} octets`);
  }
  return { type: 'route-refresh', afi: body.readUInt16BE(0), subtype: body[2], safi: body[3] };
}

/** Encodes a ROUTE-REFRESH. */
export function encodeRouteRefresh(msg: RouteRefreshMessage): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16BE(msg.afi, 0);
  body[2] = msg.subtype;
  body[3] = msg.safi;
  return withHeader(MessageType.ROUTE_REFRESH, body);
}
