// Original file: proto/knit/v1/knit.proto


export interface NetworkSubnet {
  /**
   * The node's subnet (IPv6 in an IPv6-only network).
   */
  'subnet'?: (string);
  'nodeName'?: (string);
  'publicIp'?: (string);
  /**
   * Dual-stack: the node's IPv6 subnet of the network ("" otherwise).
   */
  'ipv6Subnet'?: (string);
  /**
   * Dual-stack: the node's IPv6 underlay address in its lease ("" otherwise).
   */
  'publicIpv6'?: (string);
}

export interface NetworkSubnet__Output {
  /**
   * The node's subnet (IPv6 in an IPv6-only network).
   */
  'subnet': (string);
  'nodeName': (string);
  'publicIp': (string);
  /**
   * Dual-stack: the node's IPv6 subnet of the network ("" otherwise).
   */
  'ipv6Subnet': (string);
  /**
   * Dual-stack: the node's IPv6 underlay address in its lease ("" otherwise).
   */
  'publicIpv6': (string);
}
