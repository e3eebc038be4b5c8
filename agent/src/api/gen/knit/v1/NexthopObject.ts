// Original file: proto/knit/v1/knit.proto

import type { SyncState as _knit_v1_SyncState, SyncState__Output as _knit_v1_SyncState__Output } from '../../knit/v1/SyncState';

/**
 * A nexthop object (`ip nexthop`): the gateway one peer's IPv4 routes go
 * through. Its id is the peer subnet's network address as a u32.
 */
export interface NexthopObject {
  'id'?: (number);
  'gateway'?: (string);
  'device'?: (string);
  'onlink'?: (boolean);
  'state'?: (_knit_v1_SyncState);
  'detail'?: (string);
}

/**
 * A nexthop object (`ip nexthop`): the gateway one peer's IPv4 routes go
 * through. Its id is the peer subnet's network address as a u32.
 */
export interface NexthopObject__Output {
  'id': (number);
  'gateway': (string);
  'device': (string);
  'onlink': (boolean);
  'state': (_knit_v1_SyncState__Output);
  'detail': (string);
}
