/**
 * The typed shape of decoded BGP messages. Everything here is plain data so
 * the session and routing layers can compare, log and store it freely; the
 * wire details (flags, lengths, 2- versus 4-octet AS encoding) live only in
 * the encoders and decoders.
 */

/** An IP prefix. `addr` is canonical text (host bits zero, RFC 5952 for IPv6). */
export interface Prefix {
  afi: 4 | 6;
  addr: string;
  len: number;
}

/** What the session negotiated and the codec must know to read or write bytes. */
export interface CodecContext {
  /** True once both sides sent the 4-octet AS capability (RFC 6793): AS numbers are 4 octets on the wire. */
  fourOctetAs: boolean;
}

/** Optional checks of a received OPEN that need session knowledge. */
export interface OpenCheckContext {
  /** The AS the peer is configured with; a different one is refused with 2/2. */
  expectedPeerAs?: number;
  /** This speaker's BGP identifier (dotted quad) and AS: an iBGP peer with the same identifier is refused with 2/3. */
  localBgpId?: string;
  localAs?: number;
}

/** Context for decodeMessage: the codec context plus optional OPEN checks. */
export type DecodeContext = CodecContext & OpenCheckContext;

/** An address family as carried on the wire (AFI, SAFI). */
export interface AfiSafi {
  afi: number;
  safi: number;
}

/** Multiprotocol capability (RFC 4760). */
export interface MultiprotocolCapability {
  kind: 'multiprotocol';
  afi: number;
  safi: number;
}

/** Route refresh capability (RFC 2918). */
export interface RouteRefreshCapability {
  kind: 'route-refresh';
}

/** Support for 4-octet AS numbers, carrying the speaker's real AS (RFC 6793). */
export interface FourOctetAsCapability {
  kind: 'four-octet-as';
  asn: number;
}

/** One family of the graceful restart capability. */
export interface GracefulRestartFamily extends AfiSafi {
  /** F bit: forwarding state for this family was preserved across the restart. */
  forwardingPreserved: boolean;
}

/** Graceful restart capability (RFC 4724; N bit from RFC 8538). */
export interface GracefulRestartCapability {
  kind: 'graceful-restart';
  /** R bit: the sender has restarted. */
  restarting: boolean;
  /** N bit (RFC 8538): graceful restart also applies to NOTIFICATIONs. */
  notification: boolean;
  /** Restart time in seconds, 0..4095. */
  restartTime: number;
  families: GracefulRestartFamily[];
}

/** A capability knit does not interpret, kept byte for byte. */
export interface UnknownCapability {
  kind: 'unknown';
  code: number;
  value: Buffer;
}

export type Capability =
  | MultiprotocolCapability
  | RouteRefreshCapability
  | FourOctetAsCapability
  | GracefulRestartCapability
  | UnknownCapability;

/** OPEN message (RFC 4271 §4.2). */
export interface OpenMessage {
  type: 'open';
  /** Always 4 when decoded (other versions are refused). */
  version: number;
  /**
   * The sender's real AS: from the 4-octet AS capability when present,
   * otherwise the 2-octet My AS field. The encoder writes AS_TRANS in My AS
   * when this does not fit 2 octets.
   */
  asn: number;
  /** The 2-octet My AS field as it was on the wire (AS_TRANS for 4-octet speakers). */
  myAsField?: number;
  holdTime: number;
  /** BGP identifier as a dotted quad. */
  bgpId: string;
  /**
   * Capabilities, grouped as on the wire: one inner array per Capabilities
   * optional parameter (some speakers send one parameter per capability,
   * others one parameter holding all).
   */
  capabilityParams: Capability[][];
}

/** AS_PATH segment; confederation segments are decoded but not produced by knit. */
export interface AsPathSegment {
  type: 'sequence' | 'set' | 'confed-sequence' | 'confed-set';
  asns: number[];
}

/** AGGREGATOR value (RFC 4271 §5.1.7). */
export interface Aggregator {
  asn: number;
  /** IPv4 address as a dotted quad. */
  address: string;
}

/** Next hop of MP_REACH_NLRI: one address, or IPv6 global + link-local (RFC 2545). */
export interface MpNextHop {
  global: string;
  linkLocal?: string;
}

/** MP_REACH_NLRI (RFC 4760 §3). For families knit cannot parse, `raw` holds the attribute value. */
export interface MpReach extends AfiSafi {
  nextHop: MpNextHop;
  nlri: Prefix[];
  raw?: Buffer;
}

/** MP_UNREACH_NLRI (RFC 4760 §4). */
export interface MpUnreach extends AfiSafi {
  withdrawn: Prefix[];
  raw?: Buffer;
}

/** An attribute knit does not interpret (optional transitive), passed through. */
export interface RawAttribute {
  flags: number;
  type: number;
  value: Buffer;
}

/**
 * Path attributes as a typed record. `asPath` and `aggregator` always hold the
 * real (4-octet) values: towards and from 2-octet peers the codec converts
 * them to and from AS_PATH + AS4_PATH and AGGREGATOR + AS4_AGGREGATOR.
 */
export interface PathAttributes {
  /** 0 IGP, 1 EGP, 2 INCOMPLETE. */
  origin?: number;
  asPath?: AsPathSegment[];
  /** IPv4 NEXT_HOP as a dotted quad. */
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  /** RFC 1997 communities as unsigned 32-bit values (ASN << 16 | value). */
  communities?: number[];
  /** RFC 4456 ORIGINATOR_ID (set by a route reflector), as a dotted quad. */
  originatorId?: string;
  /** RFC 4456 CLUSTER_LIST (set by route reflectors), cluster IDs as dotted quads, nearest first. */
  clusterList?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  /** Unrecognised optional transitive attributes, in wire order. */
  unknown?: RawAttribute[];
}

/** UPDATE message (RFC 4271 §4.3). */
export interface UpdateMessage {
  type: 'update';
  /** IPv4 prefixes of the Withdrawn Routes field. */
  withdrawn: Prefix[];
  attributes: PathAttributes;
  /** IPv4 prefixes of the NLRI field. */
  nlri: Prefix[];
}

/** NOTIFICATION message (RFC 4271 §4.5). */
export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Buffer;
}

/** KEEPALIVE message (RFC 4271 §4.4). */
export interface KeepaliveMessage {
  type: 'keepalive';
}

/** ROUTE-REFRESH message (RFC 2918; `subtype` is RFC 7313's, 0 for a plain refresh). */
export interface RouteRefreshMessage extends AfiSafi {
  type: 'route-refresh';
  subtype: number;
}

export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;
