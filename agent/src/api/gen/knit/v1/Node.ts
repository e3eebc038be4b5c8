// Original file: proto/knit/v1/knit.proto

import type { BackendInfo as _knit_v1_BackendInfo, BackendInfo__Output as _knit_v1_BackendInfo__Output } from '../../knit/v1/BackendInfo';
import type { Condition as _knit_v1_Condition, Condition__Output as _knit_v1_Condition__Output } from '../../knit/v1/Condition';
import type { Versions as _knit_v1_Versions, Versions__Output as _knit_v1_Versions__Output } from '../../knit/v1/Versions';
import type { Long } from '@grpc/proto-loader';

export interface Node {
  'name'?: (string);
  'publicIp'?: (string);
  /**
   * This node's subnet, "10.244.1.0/24"; empty before a lease is held.
   */
  'subnet'?: (string);
  /**
   * When this node's etcd subnet lease runs out unless renewed, and when it
   * was last renewed (a keep-alive every 10 s), both from the TTL etcd granted.
   */
  'leaseExpiresAt'?: (string);
  'leaseRenewedAt'?: (string);
  'clusterCidr'?: (string);
  'backend'?: (_knit_v1_BackendInfo | null);
  /**
   * Container MTU.
   */
  'mtu'?: (number);
  'bridge'?: (string);
  /**
   * "cluster" (etcd) or "single-node".
   */
  'mode'?: (string);
  /**
   * Liveness: the process works.
   */
  'health'?: (_knit_v1_Condition | null);
  /**
   * Readiness: it can attach containers and reach its peers.
   */
  'readiness'?: (_knit_v1_Condition | null);
  'versions'?: (_knit_v1_Versions | null);
  'startedAt'?: (string);
  /**
   * Fields 20+ were added for operators (issue "operator truth"); additive.
   * Peers known from their subnet leases, and how many of their agents are
   * alive (liveness keys, see docs/subnet-leases.md).
   */
  'peersTotal'?: (number);
  'peersAlive'?: (number);
  /**
   * Seconds left on this node's etcd subnet lease (from the TTL etcd granted
   * at the last renewal); 0 when no lease is held.
   */
  'leaseRemainingSeconds'?: (number | string | Long);
  'uptimeSeconds'?: (number | string | Long);
  'masquerade'?: (boolean);
  /**
   * Listen address of /metrics, /healthz and /readyz; empty when disabled.
   */
  'metricsAddress'?: (string);
  /**
   * Container addresses allocated and allocatable in this node's subnet.
   */
  'ipamUsed'?: (number);
  'ipamTotal'?: (number);
  /**
   * Failed netlink requests since start, by errno code ("EEXIST").
   */
  'netlinkErrors'?: ({[key: string]: number | string | Long});
  /**
   * Fields 40+: dual-stack (docs/dual-stack.md); empty on an IPv4-only node.
   * This node's IPv6 subnet, "fd00:10:244:1::/64".
   */
  'ipv6Subnet'?: (string);
  /**
   * The network's IPv6 cluster CIDR.
   */
  'ipv6ClusterCidr'?: (string);
  /**
   * This node's IPv6 underlay address (published in its lease).
   */
  'publicIpv6'?: (string);
}

export interface Node__Output {
  'name': (string);
  'publicIp': (string);
  /**
   * This node's subnet, "10.244.1.0/24"; empty before a lease is held.
   */
  'subnet': (string);
  /**
   * When this node's etcd subnet lease runs out unless renewed, and when it
   * was last renewed (a keep-alive every 10 s), both from the TTL etcd granted.
   */
  'leaseExpiresAt': (string);
  'leaseRenewedAt': (string);
  'clusterCidr': (string);
  'backend': (_knit_v1_BackendInfo__Output | null);
  /**
   * Container MTU.
   */
  'mtu': (number);
  'bridge': (string);
  /**
   * "cluster" (etcd) or "single-node".
   */
  'mode': (string);
  /**
   * Liveness: the process works.
   */
  'health': (_knit_v1_Condition__Output | null);
  /**
   * Readiness: it can attach containers and reach its peers.
   */
  'readiness': (_knit_v1_Condition__Output | null);
  'versions': (_knit_v1_Versions__Output | null);
  'startedAt': (string);
  /**
   * Fields 20+ were added for operators (issue "operator truth"); additive.
   * Peers known from their subnet leases, and how many of their agents are
   * alive (liveness keys, see docs/subnet-leases.md).
   */
  'peersTotal': (number);
  'peersAlive': (number);
  /**
   * Seconds left on this node's etcd subnet lease (from the TTL etcd granted
   * at the last renewal); 0 when no lease is held.
   */
  'leaseRemainingSeconds': (number);
  'uptimeSeconds': (number);
  'masquerade': (boolean);
  /**
   * Listen address of /metrics, /healthz and /readyz; empty when disabled.
   */
  'metricsAddress': (string);
  /**
   * Container addresses allocated and allocatable in this node's subnet.
   */
  'ipamUsed': (number);
  'ipamTotal': (number);
  /**
   * Failed netlink requests since start, by errno code ("EEXIST").
   */
  'netlinkErrors': ({[key: string]: number});
  /**
   * Fields 40+: dual-stack (docs/dual-stack.md); empty on an IPv4-only node.
   * This node's IPv6 subnet, "fd00:10:244:1::/64".
   */
  'ipv6Subnet': (string);
  /**
   * The network's IPv6 cluster CIDR.
   */
  'ipv6ClusterCidr': (string);
  /**
   * This node's IPv6 underlay address (published in its lease).
   */
  'publicIpv6': (string);
}
