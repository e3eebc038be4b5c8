// Original file: proto/knit/v1/knit.proto

import type { RouteObject as _knit_v1_RouteObject, RouteObject__Output as _knit_v1_RouteObject__Output } from '../../knit/v1/RouteObject';
import type { NeighbourObject as _knit_v1_NeighbourObject, NeighbourObject__Output as _knit_v1_NeighbourObject__Output } from '../../knit/v1/NeighbourObject';
import type { FdbObject as _knit_v1_FdbObject, FdbObject__Output as _knit_v1_FdbObject__Output } from '../../knit/v1/FdbObject';
import type { NexthopObject as _knit_v1_NexthopObject, NexthopObject__Output as _knit_v1_NexthopObject__Output } from '../../knit/v1/NexthopObject';
import type { AgentState as _knit_v1_AgentState, AgentState__Output as _knit_v1_AgentState__Output } from '../../knit/v1/AgentState';

export interface Peer {
  'nodeName'?: (string);
  'subnet'?: (string);
  'publicIp'?: (string);
  'backendType'?: (string);
  'routes'?: (_knit_v1_RouteObject)[];
  'neighbours'?: (_knit_v1_NeighbourObject)[];
  'fdbEntries'?: (_knit_v1_FdbObject)[];
  /**
   * True when every object is SYNC_STATE_IN_SYNC.
   */
  'inSync'?: (boolean);
  'lastReconciledAt'?: (string);
  'nexthops'?: (_knit_v1_NexthopObject)[];
  /**
   * The peer's agent (knitd): alive, down or unknown, from its liveness key.
   * Informational only: a down agent's routes stay.
   */
  'agent'?: (_knit_v1_AgentState);
  /**
   * When the agent became alive or down; empty when not known.
   */
  'agentSince'?: (string);
  /**
   * The peer's knitd version, while alive.
   */
  'agentVersion'?: (string);
  /**
   * The last change this node saw for the peer (lease, programming or
   * liveness); empty when nothing changed since this knitd started.
   */
  'lastChangeAt'?: (string);
  /**
   * Dual-stack: the peer's IPv6 subnet and IPv6 underlay address (empty when absent).
   */
  'ipv6Subnet'?: (string);
  'publicIpv6'?: (string);
}

export interface Peer__Output {
  'nodeName': (string);
  'subnet': (string);
  'publicIp': (string);
  'backendType': (string);
  'routes': (_knit_v1_RouteObject__Output)[];
  'neighbours': (_knit_v1_NeighbourObject__Output)[];
  'fdbEntries': (_knit_v1_FdbObject__Output)[];
  /**
   * True when every object is SYNC_STATE_IN_SYNC.
   */
  'inSync': (boolean);
  'lastReconciledAt': (string);
  'nexthops': (_knit_v1_NexthopObject__Output)[];
  /**
   * The peer's agent (knitd): alive, down or unknown, from its liveness key.
   * Informational only: a down agent's routes stay.
   */
  'agent': (_knit_v1_AgentState__Output);
  /**
   * When the agent became alive or down; empty when not known.
   */
  'agentSince': (string);
  /**
   * The peer's knitd version, while alive.
   */
  'agentVersion': (string);
  /**
   * The last change this node saw for the peer (lease, programming or
   * liveness); empty when nothing changed since this knitd started.
   */
  'lastChangeAt': (string);
  /**
   * Dual-stack: the peer's IPv6 subnet and IPv6 underlay address (empty when absent).
   */
  'ipv6Subnet': (string);
  'publicIpv6': (string);
}
