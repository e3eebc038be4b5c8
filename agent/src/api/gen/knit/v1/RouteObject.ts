// Original file: proto/knit/v1/knit.proto

import type { SyncState as _knit_v1_SyncState, SyncState__Output as _knit_v1_SyncState__Output } from '../../knit/v1/SyncState';

export interface RouteObject {
  'destination'?: (string);
  /**
   * Empty for a route through a nexthop object (see nhid).
   */
  'gateway'?: (string);
  'device'?: (string);
  'onlink'?: (boolean);
  'state'?: (_knit_v1_SyncState);
  'detail'?: (string);
  /**
   * The nexthop object the route goes through (0: none; the route names its
   * gateway). knit's IPv4 peer routes use one per peer on kernels with them.
   */
  'nhid'?: (number);
}

export interface RouteObject__Output {
  'destination': (string);
  /**
   * Empty for a route through a nexthop object (see nhid).
   */
  'gateway': (string);
  'device': (string);
  'onlink': (boolean);
  'state': (_knit_v1_SyncState__Output);
  'detail': (string);
  /**
   * The nexthop object the route goes through (0: none; the route names its
   * gateway). knit's IPv4 peer routes use one per peer on kernels with them.
   */
  'nhid': (number);
}
