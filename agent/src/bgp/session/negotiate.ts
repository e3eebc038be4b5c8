/**
 * OPEN building and negotiation, pure: what knit puts in its OPEN, and what
 * two OPENs agree on (hold time = the smaller one, 4-octet AS when both
 * support it, the families both announce, the peer's graceful restart
 * state). Refusals come back as the NOTIFICATION to send.
 */
import {
  Afi, BGP_VERSION, CapabilityCode, ErrorCode, findCapability, OpenErrorSubcode, Safi,
  type AfiSafi, type Capability, type GracefulRestartFamily, type NotificationMessage, type OpenMessage,
} from '../codec';

/** What this speaker offers in its OPEN. */
export interface LocalOpenParams {
  asn: number;
  routerId: string;
  /** Seconds: 0 (no keepalives) or 3..65535. */
  holdTime: number;
  families: readonly AfiSafi[];
  /** Advertise the graceful restart capability (only when configured). */
  gracefulRestart?: { restartTime: number; restarting: boolean };
}

/** The peer's graceful restart capability as received. */
export interface PeerGracefulRestart {
  restartTime: number;
  restarting: boolean;
  families: GracefulRestartFamily[];
}

/** What a pair of OPENs agreed on. */
export interface Negotiated {
  peerAsn: number;
  peerBgpId: string;
  /** Seconds; 0 = no hold timer and no keepalives. */
  holdTime: number;
  /** Keepalive interval in milliseconds (hold/3, at least 1 s); 0 when holdTime is 0. */
  keepaliveMs: number;
  fourOctetAs: boolean;
  families: AfiSafi[];
  routeRefresh: boolean;
  peerGracefulRestart?: PeerGracefulRestart;
}

/** IPv4 unicast (AFI 1, SAFI 1). */
export const IPV4_UNICAST: AfiSafi = { afi: Afi.IPV4, safi: Safi.UNICAST };
/** IPv6 unicast (AFI 2, SAFI 1). */
export const IPV6_UNICAST: AfiSafi = { afi: Afi.IPV6, safi: Safi.UNICAST };

/** The OPEN knit sends. */
export function buildOpen(p: LocalOpenParams): OpenMessage {
  const caps: Capability[] = p.families.map((f) => ({ kind: 'multiprotocol', afi: f.afi, safi: f.safi }));
  caps.push({ kind: 'route-refresh' }, { kind: 'four-octet-as', asn: p.asn });
  if (p.gracefulRestart) {
    caps.push({
      kind: 'graceful-restart', restarting: p.gracefulRestart.restarting, notification: false,
      restartTime: p.gracefulRestart.restartTime,
      families: p.families.map((f) => ({ ...f, forwardingPreserved: true })),
    });
  }
  return { type: 'open', version: BGP_VERSION, asn: p.asn, holdTime: p.holdTime, bgpId: p.routerId, capabilityParams: [caps] };
}

function openError(subcode: number, data: Buffer = Buffer.alloc(0)): NotificationMessage {
  return { type: 'notification', code: ErrorCode.OPEN_MESSAGE, subcode, data };
}

const sameFamily = (a: AfiSafi, b: AfiSafi): boolean => a.afi === b.afi && a.safi === b.safi;

/**
 * Agrees on the session parameters, or returns the NOTIFICATION refusing the
 * peer's OPEN. The codec already refused what needs no local knowledge
 * (version, AS 0, hold time 1–2, wrong AS when told the expected one); the
 * hold-time check is repeated because a refusal here must never depend on
 * how the OPEN reached us.
 */
export function negotiate(local: LocalOpenParams, peer: OpenMessage): Negotiated | NotificationMessage {
  if (peer.holdTime === 1 || peer.holdTime === 2) return openError(OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME);
  // A 4-octet-AS capability whose length is not 4 (the codec keeps it as an unknown capability):
  // the peer's AS cannot be known, so the OPEN is refused with 2/0 (what BIRD and FRR send).
  const badAs4 = peer.capabilityParams.flat().find((c) => c.kind === 'unknown' && c.code === CapabilityCode.FOUR_OCTET_AS);
  if (badAs4 && badAs4.kind === 'unknown') return openError(OpenErrorSubcode.UNSPECIFIC, Buffer.from([CapabilityCode.FOUR_OCTET_AS, badAs4.value.length, ...badAs4.value]));
  const mp = peer.capabilityParams.flat().filter((c): c is Extract<Capability, { kind: 'multiprotocol' }> => c.kind === 'multiprotocol');
  // RFC 4760 §8: a peer without multiprotocol capabilities speaks IPv4 unicast only.
  const offered: AfiSafi[] = mp.length > 0 ? mp.map((c) => ({ afi: c.afi, safi: c.safi })) : [IPV4_UNICAST];
  const families = local.families.filter((f) => offered.some((o) => sameFamily(o, f)));
  if (families.length === 0) {
    // RFC 5492 §5: name the capability we need in the data.
    const data = Buffer.alloc(6);
    data[0] = 1;
    data[1] = 4;
    data.writeUInt16BE(local.families[0]?.afi ?? Afi.IPV4, 2);
    data[5] = local.families[0]?.safi ?? Safi.UNICAST;
    return openError(OpenErrorSubcode.UNSUPPORTED_CAPABILITY, data);
  }
  const holdTime = Math.min(local.holdTime, peer.holdTime);
  const keepaliveMs = holdTime === 0 ? 0 : Math.max(1, Math.floor(holdTime / 3)) * 1000;
  const gr = findCapability(peer.capabilityParams, 'graceful-restart');
  const out: Negotiated = {
    peerAsn: peer.asn,
    peerBgpId: peer.bgpId,
    holdTime,
    keepaliveMs,
    fourOctetAs: findCapability(peer.capabilityParams, 'four-octet-as') !== undefined,
    families,
    routeRefresh: findCapability(peer.capabilityParams, 'route-refresh') !== undefined,
  };
  if (gr) out.peerGracefulRestart = { restartTime: gr.restartTime, restarting: gr.restarting, families: gr.families };
  return out;
}
