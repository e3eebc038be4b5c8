// Original file: proto/knit/v1/knit.proto

import type { Long } from '@grpc/proto-loader';

export interface BgpSession {
  'peerAddress'?: (string);
  'peerAsn'?: (number);
  'localAsn'?: (number);
  /**
   * FSM state: "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established".
   */
  'state'?: (string);
  /**
   * Seconds in the current state.
   */
  'uptimeSeconds'?: (number | string | Long);
  'prefixesSent'?: (number | string | Long);
  'prefixesReceived'?: (number | string | Long);
  'lastError'?: (string);
  /**
   * Received prefixes that passed the import policy (docs/bgp.md "Import policy").
   */
  'prefixesAccepted'?: (number | string | Long);
  /**
   * Received prefixes refused, by reason ("own-subnet", "underlay", "special-purpose",
   * "default-route", "filter", "no-lease", "next-hop", "as-loop", "first-as").
   */
  'prefixesRejected'?: ({[key: string]: number | string | Long});
  /**
   * Times the session was ended with Cease 6/1 for exceeding max-prefix.
   */
  'maxPrefixHits'?: (number | string | Long);
}

export interface BgpSession__Output {
  'peerAddress': (string);
  'peerAsn': (number);
  'localAsn': (number);
  /**
   * FSM state: "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established".
   */
  'state': (string);
  /**
   * Seconds in the current state.
   */
  'uptimeSeconds': (number);
  'prefixesSent': (number);
  'prefixesReceived': (number);
  'lastError': (string);
  /**
   * Received prefixes that passed the import policy (docs/bgp.md "Import policy").
   */
  'prefixesAccepted': (number);
  /**
   * Received prefixes refused, by reason ("own-subnet", "underlay", "special-purpose",
   * "default-route", "filter", "no-lease", "next-hop", "as-loop", "first-as").
   */
  'prefixesRejected': ({[key: string]: number});
  /**
   * Times the session was ended with Cease 6/1 for exceeding max-prefix.
   */
  'maxPrefixHits': (number);
}
