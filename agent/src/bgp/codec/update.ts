/**
 * UPDATE message (RFC 4271 §4.3) with RFC 7606 error handling, and the
 * End-of-RIB marker of RFC 4724 §2 (an empty UPDATE for IPv4 unicast, an
 * MP_UNREACH_NLRI without prefixes for any other family).
 *
 * Decoding returns the message, or one BgpDecodeError carrying the strongest
 * action met (session-reset > treat-as-withdraw > attribute-discard) with the
 * weaker ones in `others`.
 */
import { decodeAttributes } from './attributes-decode';
import { encodeAttributes } from './attributes-encode';
import { Afi, AttrType, ErrorCode, MessageType, Safi, UpdateErrorSubcode } from './constants';
import { BgpDecodeError, malformedAttributeList, resetError, updateError } from './errors';
import { withHeader } from './header';
import { decodePrefixes, encodePrefixes } from './prefix';
import type { AfiSafi, CodecContext, PathAttributes, Prefix, UpdateMessage } from './types';

function strongest(errors: BgpDecodeError[]): BgpDecodeError | undefined {
  let top: BgpDecodeError | undefined;
  for (const e of errors) if (!top || e.outranks(top)) top = e;
  if (top) for (const e of errors) if (e !== top) top.others.push(e);
  return top;
}

/** Every prefix an UPDATE touches, for treat-as-withdraw. */
function allPrefixes(msg: UpdateMessage): Prefix[] {
  return [
    ...msg.withdrawn,
    ...msg.nlri,
    ...(msg.attributes.mpReach?.nlri ?? []),
    ...(msg.attributes.mpUnreach?.withdrawn ?? []),
  ];
}

/** Decodes an UPDATE body (the octets after the header). Never throws. */
export function decodeUpdate(body: Buffer, ctx: CodecContext): UpdateMessage | BgpDecodeError {
  // RFC 7606 §4: lengths that overrun the message are the one attribute-list
  // error that still resets the session: nothing after them can be located.
  if (body.length < 4) return malformedAttributeList(`UPDATE body of ${body.length} octets`);
  const wLen = body.readUInt16BE(0);
  if (2 + wLen + 2 > body.length) return malformedAttributeList(`withdrawn routes length ${wLen} overruns the message`);
  const aLen = body.readUInt16BE(2 + wLen);
  const aStart = 4 + wLen;
  if (aStart + aLen > body.length) return malformedAttributeList(`total path attribute length ${aLen} overruns the message`);

  const withdrawn = decodePrefixes(body, 2, 2 + wLen, 4);
  if (!withdrawn.ok) return resetError(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.INVALID_NETWORK_FIELD, Buffer.alloc(0), `withdrawn routes: ${withdrawn.reason}`);
  const nlri = decodePrefixes(body, aStart + aLen, body.length, 4);
  if (!nlri.ok) return resetError(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.INVALID_NETWORK_FIELD, Buffer.alloc(0), `NLRI: ${nlri.reason}`);

  const { attributes, errors, present } = decodeAttributes(body, aStart, aStart + aLen, ctx.fourOctetAs);
  const msg: UpdateMessage = { type: 'update', withdrawn: withdrawn.prefixes, attributes, nlri: nlri.prefixes };

  // RFC 7606 §3(d): missing well-known mandatory attributes with NLRI present
  // are treat-as-withdraw; NEXT_HOP is only mandatory for the NLRI field
  // (RFC 4760 §3 leaves it out for MP_REACH-only updates).
  const announces = msg.nlri.length > 0 || (attributes.mpReach !== undefined && (attributes.mpReach.nlri.length > 0 || attributes.mpReach.raw !== undefined));
  if (announces) {
    const missing: number[] = [];
    if (attributes.origin === undefined) missing.push(AttrType.ORIGIN);
    if (attributes.asPath === undefined) missing.push(AttrType.AS_PATH);
    if (msg.nlri.length > 0 && attributes.nextHop === undefined) missing.push(AttrType.NEXT_HOP);
    for (const type of missing) {
      // An attribute that was present but malformed has its own error already.
      if (present.has(type)) continue;
      errors.push(updateError(UpdateErrorSubcode.MISSING_WELL_KNOWN_ATTRIBUTE, Buffer.from([type]), 'treat-as-withdraw', `missing well-known attribute ${type}`));
    }
  }

  const top = strongest(errors);
  if (!top) return msg;
  if (top.action === 'treat-as-withdraw') top.withdrawn = allPrefixes(msg);
  if (top.action === 'attribute-discard') top.update = msg;
  return top;
}

/** Encodes an UPDATE; throws when it exceeds 4096 octets (the caller packs fewer prefixes). */
export function encodeUpdate(msg: UpdateMessage, ctx: CodecContext): Buffer {
  const withdrawn = encodePrefixes(msg.withdrawn);
  const attrs = encodeAttributes(msg.attributes, ctx.fourOctetAs);
  const nlri = encodePrefixes(msg.nlri);
  const body = Buffer.alloc(4 + withdrawn.length + attrs.length + nlri.length);
  body.writeUInt16BE(withdrawn.length, 0);
  withdrawn.copy(body, 2);
  body.writeUInt16BE(attrs.length, 2 + withdrawn.length);
  attrs.copy(body, 4 + withdrawn.length);
  nlri.copy(body, 4 + withdrawn.length + attrs.length);
  return withHeader(MessageType.UPDATE, body);
}

/** The End-of-RIB UPDATE for a family (RFC 4724 §2). */
export function endOfRib(family: AfiSafi): UpdateMessage {
  if (family.afi === Afi.IPV4 && family.safi === Safi.UNICAST) return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: family.afi, safi: family.safi, withdrawn: [] } }, nlri: [] };
}

/** The family whose End-of-RIB this UPDATE is, or undefined when it is an ordinary UPDATE. */
export function endOfRibFamily(msg: UpdateMessage): AfiSafi | undefined {
  if (msg.withdrawn.length > 0 || msg.nlri.length > 0) return undefined;
  const a: PathAttributes = msg.attributes;
  const keys = (Object.keys(a) as (keyof PathAttributes)[]).filter((k) => a[k] !== undefined);
  if (keys.length === 0) return { afi: Afi.IPV4, safi: Safi.UNICAST };
  const empty = a.mpUnreach && (a.mpUnreach.raw ? a.mpUnreach.raw.length === 3 : a.mpUnreach.withdrawn.length === 0);
  if (keys.length === 1 && a.mpUnreach && empty) {
    return { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi };
  }
  return undefined;
}
