// Original file: proto/knit/v1/knit.proto

import type { Node as _knit_v1_Node, Node__Output as _knit_v1_Node__Output } from '../../knit/v1/Node';
import type { SubnetLease as _knit_v1_SubnetLease, SubnetLease__Output as _knit_v1_SubnetLease__Output } from '../../knit/v1/SubnetLease';
import type { Peer as _knit_v1_Peer, Peer__Output as _knit_v1_Peer__Output } from '../../knit/v1/Peer';
import type { Endpoint as _knit_v1_Endpoint, Endpoint__Output as _knit_v1_Endpoint__Output } from '../../knit/v1/Endpoint';
import type { BgpSession as _knit_v1_BgpSession, BgpSession__Output as _knit_v1_BgpSession__Output } from '../../knit/v1/BgpSession';
import type { Network as _knit_v1_Network, Network__Output as _knit_v1_Network__Output } from '../../knit/v1/Network';
import type { Policy as _knit_v1_Policy, Policy__Output as _knit_v1_Policy__Output } from '../../knit/v1/Policy';

/**
 * The whole state at the start of a Watch.
 */
export interface Snapshot {
  'node'?: (_knit_v1_Node | null);
  'leases'?: (_knit_v1_SubnetLease)[];
  'peers'?: (_knit_v1_Peer)[];
  'endpoints'?: (_knit_v1_Endpoint)[];
  'bgpSessions'?: (_knit_v1_BgpSession)[];
  /**
   * The cluster's networks (config only), when named networks are served.
   */
  'networks'?: (_knit_v1_Network)[];
  /**
   * The cluster's network policies (cluster mode).
   */
  'policies'?: (_knit_v1_Policy)[];
}

/**
 * The whole state at the start of a Watch.
 */
export interface Snapshot__Output {
  'node': (_knit_v1_Node__Output | null);
  'leases': (_knit_v1_SubnetLease__Output)[];
  'peers': (_knit_v1_Peer__Output)[];
  'endpoints': (_knit_v1_Endpoint__Output)[];
  'bgpSessions': (_knit_v1_BgpSession__Output)[];
  /**
   * The cluster's networks (config only), when named networks are served.
   */
  'networks': (_knit_v1_Network__Output)[];
  /**
   * The cluster's network policies (cluster mode).
   */
  'policies': (_knit_v1_Policy__Output)[];
}
