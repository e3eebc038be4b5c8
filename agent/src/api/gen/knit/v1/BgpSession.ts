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
}
