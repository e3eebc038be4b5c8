// Original file: proto/knit/v1/knit.proto

import type { Snapshot as _knit_v1_Snapshot, Snapshot__Output as _knit_v1_Snapshot__Output } from '../../knit/v1/Snapshot';
import type { SubnetEvent as _knit_v1_SubnetEvent, SubnetEvent__Output as _knit_v1_SubnetEvent__Output } from '../../knit/v1/SubnetEvent';
import type { PeerEvent as _knit_v1_PeerEvent, PeerEvent__Output as _knit_v1_PeerEvent__Output } from '../../knit/v1/PeerEvent';
import type { EndpointEvent as _knit_v1_EndpointEvent, EndpointEvent__Output as _knit_v1_EndpointEvent__Output } from '../../knit/v1/EndpointEvent';
import type { BgpSessionEvent as _knit_v1_BgpSessionEvent, BgpSessionEvent__Output as _knit_v1_BgpSessionEvent__Output } from '../../knit/v1/BgpSessionEvent';
import type { NodeEvent as _knit_v1_NodeEvent, NodeEvent__Output as _knit_v1_NodeEvent__Output } from '../../knit/v1/NodeEvent';
import type { PeerLivenessEvent as _knit_v1_PeerLivenessEvent, PeerLivenessEvent__Output as _knit_v1_PeerLivenessEvent__Output } from '../../knit/v1/PeerLivenessEvent';
import type { NetworkEvent as _knit_v1_NetworkEvent, NetworkEvent__Output as _knit_v1_NetworkEvent__Output } from '../../knit/v1/NetworkEvent';
import type { PolicyEvent as _knit_v1_PolicyEvent, PolicyEvent__Output as _knit_v1_PolicyEvent__Output } from '../../knit/v1/PolicyEvent';
import type { Long } from '@grpc/proto-loader';

export interface WatchEvent {
  /**
   * Increases by one per event sent on this stream (the snapshot is 1).
   */
  'sequence'?: (number | string | Long);
  'time'?: (string);
  'snapshot'?: (_knit_v1_Snapshot | null);
  'subnet'?: (_knit_v1_SubnetEvent | null);
  'peer'?: (_knit_v1_PeerEvent | null);
  'endpoint'?: (_knit_v1_EndpointEvent | null);
  'bgpSession'?: (_knit_v1_BgpSessionEvent | null);
  'node'?: (_knit_v1_NodeEvent | null);
  'peerLiveness'?: (_knit_v1_PeerLivenessEvent | null);
  'network'?: (_knit_v1_NetworkEvent | null);
  'policy'?: (_knit_v1_PolicyEvent | null);
  'event'?: "snapshot"|"subnet"|"peer"|"endpoint"|"bgpSession"|"node"|"peerLiveness"|"network"|"policy";
}

export interface WatchEvent__Output {
  /**
   * Increases by one per event sent on this stream (the snapshot is 1).
   */
  'sequence': (number);
  'time': (string);
  'snapshot'?: (_knit_v1_Snapshot__Output | null);
  'subnet'?: (_knit_v1_SubnetEvent__Output | null);
  'peer'?: (_knit_v1_PeerEvent__Output | null);
  'endpoint'?: (_knit_v1_EndpointEvent__Output | null);
  'bgpSession'?: (_knit_v1_BgpSessionEvent__Output | null);
  'node'?: (_knit_v1_NodeEvent__Output | null);
  'peerLiveness'?: (_knit_v1_PeerLivenessEvent__Output | null);
  'network'?: (_knit_v1_NetworkEvent__Output | null);
  'policy'?: (_knit_v1_PolicyEvent__Output | null);
  'event'?: "snapshot"|"subnet"|"peer"|"endpoint"|"bgpSession"|"node"|"peerLiveness"|"network"|"policy";
}
