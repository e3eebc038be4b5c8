/**
 * Numbers of the BGP-4 wire format: message types, path attribute type codes
 * and flags, capability codes, address families, and every NOTIFICATION
 * error code and subcode knit emits or may receive.
 *
 * Sources: RFC 4271 (base protocol, §4.5 error codes), RFC 4760
 * (multiprotocol), RFC 6793 (4-octet AS), RFC 2918 / RFC 7313 (route
 * refresh), RFC 4724 (graceful restart), RFC 1997 (communities), RFC 4486 and
 * RFC 8538 (Cease subcodes), RFC 6608 (FSM error subcodes), RFC 7606
 * (revised UPDATE error handling; it keeps RFC 4271's UPDATE subcodes).
 */

/** Length of the all-ones marker that starts every message. */
export const MARKER_LENGTH = 16;
/** Marker + length (2) + type (1). */
export const HEADER_LENGTH = 19;
/** Largest message RFC 4271 allows (RFC 8654 extended messages are not negotiated by knit). */
export const MAX_MESSAGE_LENGTH = 4096;

/** The only BGP version knit speaks. */
export const BGP_VERSION = 4;
/** RFC 6793: the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;

/** Message type codes (RFC 4271 §4.1, RFC 2918). */
export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;

/** Smallest valid total length per message type (header included). */
export const MIN_LENGTH: Readonly<Record<number, number>> = {
  [MessageType.OPEN]: 29,
  [MessageType.UPDATE]: 23,
  [MessageType.NOTIFICATION]: 21,
  [MessageType.KEEPALIVE]: 19,
  [MessageType.ROUTE_REFRESH]: 23,
};

/** Path attribute flag bits (RFC 4271 §4.3). */
export const AttrFlag = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

/** Path attribute type codes knit understands. */
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  /** RFC 4456 route reflection: the router ID of the path's originator in the AS. */
  ORIGINATOR_ID: 9,
  /** RFC 4456: the cluster IDs of the reflectors the path passed. */
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
} as const;

/** ORIGIN values (RFC 4271 §5.1.1). */
export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

/** AS_PATH segment types (RFC 4271 §4.3; confederation types RFC 5065). */
export const AsPathSegmentType = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const;

/** Address family identifiers (IANA). */
export const Afi = { IPV4: 1, IPV6: 2 } as const;
/** Subsequent address family identifiers (IANA). */
export const Safi = { UNICAST: 1, MULTICAST: 2 } as const;

/** OPEN optional parameter types (RFC 5492; 1 = authentication, deprecated). */
export const OptParamType = { CAPABILITIES: 2 } as const;

/** Capability codes (IANA registry). */
export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  LONG_LIVED_GRACEFUL_RESTART: 71,
  FQDN: 73,
} as const;

/** Well-known communities (RFC 1997, RFC 8326). */
export const WellKnownCommunity = {
  GRACEFUL_SHUTDOWN: 0xffff0000,
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
} as const;

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313). */
export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH_MESSAGE: 7,
} as const;

/** Subcodes of error code 1, Message Header Error (RFC 4271 §6.1). */
export const HeaderErrorSubcode = {
  UNSPECIFIC: 0,
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

/** Subcodes of error code 2, OPEN Message Error (RFC 4271 §6.2, RFC 5492). */
export const OpenErrorSubcode = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  /** Deprecated by RFC 4271 (was Authentication Failure). */
  AUTHENTICATION_FAILURE: 5,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

/** Subcodes of error code 3, UPDATE Message Error (RFC 4271 §6.3, kept by RFC 7606). */
export const UpdateErrorSubcode = {
  UNSPECIFIC: 0,
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  /** Deprecated by RFC 4271 (was AS Routing Loop). */
  AS_ROUTING_LOOP: 7,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

/** Subcodes of error code 5, Finite State Machine Error (RFC 6608). */
export const FsmErrorSubcode = {
  UNSPECIFIED: 0,
  UNEXPECTED_MESSAGE_IN_OPENSENT: 1,
  UNEXPECTED_MESSAGE_IN_OPENCONFIRM: 2,
  UNEXPECTED_MESSAGE_IN_ESTABLISHED: 3,
} as const;

/** Subcodes of error code 6, Cease (RFC 4486, RFC 8538). */
export const CeaseSubcode = {
  UNSPECIFIC: 0,
  MAXIMUM_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
} as const;

/** Subcodes of error code 7, ROUTE-REFRESH Message Error (RFC 7313). */
export const RouteRefreshErrorSubcode = {
  INVALID_MESSAGE_LENGTH: 1,
} as const;
