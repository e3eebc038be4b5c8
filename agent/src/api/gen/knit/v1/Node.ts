// Original file: proto/knit/v1/knit.proto

import type { BackendInfo as _knit_v1_BackendInfo, BackendInfo__Output as _knit_v1_BackendInfo__Output } from '../../knit/v1/BackendInfo';
import type { Condition as _knit_v1_Condition, Condition__Output as _knit_v1_Condition__Output } from '../../knit/v1/Condition';
import type { Versions as _knit_v1_Versions, Versions__Output as _knit_v1_Versions__Output } from '../../knit/v1/Versions';

export interface Node {
  'name'?: (string);
  'publicIp'?: (string);
  /**
   * This node's subnet, "10.244.1.0/24"; empty before a lease is held.
   */
  'subnet'?: (string);
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
}

export interface Node__Output {
  'name': (string);
  'publicIp': (string);
  /**
   * This node's subnet, "10.244.1.0/24"; empty before a lease is held.
   */
  'subnet': (string);
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
}
