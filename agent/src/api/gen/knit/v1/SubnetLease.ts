// Original file: proto/knit/v1/knit.proto


export interface SubnetLease {
  'subnet'?: (string);
  'nodeName'?: (string);
  'publicIp'?: (string);
  'backendType'?: (string);
  /**
   * Backend data from the lease (e.g. vtepMac), values as strings.
   */
  'backendData'?: ({[key: string]: string});
  'renewedAt'?: (string);
  /**
   * When the etcd lease runs out unless renewed; set for this node's own lease
   * (from its last keep-alive), empty for other nodes' leases.
   */
  'expiresAt'?: (string);
  /**
   * True for this node's own lease.
   */
  'own'?: (boolean);
  /**
   * Dual-stack: the node's IPv6 subnet and IPv6 underlay address (empty when absent).
   */
  'ipv6Subnet'?: (string);
  'publicIpv6'?: (string);
}

export interface SubnetLease__Output {
  'subnet': (string);
  'nodeName': (string);
  'publicIp': (string);
  'backendType': (string);
  /**
   * Backend data from the lease (e.g. vtepMac), values as strings.
   */
  'backendData': ({[key: string]: string});
  'renewedAt': (string);
  /**
   * When the etcd lease runs out unless renewed; set for this node's own lease
   * (from its last keep-alive), empty for other nodes' leases.
   */
  'expiresAt': (string);
  /**
   * True for this node's own lease.
   */
  'own': (boolean);
  /**
   * Dual-stack: the node's IPv6 subnet and IPv6 underlay address (empty when absent).
   */
  'ipv6Subnet': (string);
  'publicIpv6': (string);
}
