// Original file: proto/knit/v1/knit.proto


export interface CreateNetworkRequest {
  'name'?: (string);
  /**
   * Required, e.g. "10.50.0.0/16"; an IPv6 CIDR ("fd00:50::/56") makes an IPv6-only network.
   */
  'cidr'?: (string);
  /**
   * 0: the default (/24, or /64 for an IPv6 cidr).
   */
  'subnetLength'?: (number);
  /**
   * "": vxlan.
   */
  'backend'?: (string);
  /**
   * vxlan only; 0: a free one.
   */
  'vni'?: (number);
  /**
   * 0: derived from the underlay.
   */
  'mtu'?: (number);
  /**
   * No masquerade and no outside access (Docker's --internal).
   */
  'internal'?: (boolean);
  'noMasquerade'?: (boolean);
  /**
   * Dual-stack: the IPv6 CIDR next to an IPv4 cidr (config ipv6ClusterCidr); "": none.
   */
  'ipv6Cidr'?: (string);
  /**
   * Dual-stack: each node's IPv6 subnet length; 0: the default (/64).
   */
  'ipv6SubnetLength'?: (number);
  /**
   * Masquerade IPv6 traffic leaving the network (config ipv6Masquerade; off by default).
   */
  'ipv6Masquerade'?: (boolean);
}

export interface CreateNetworkRequest__Output {
  'name': (string);
  /**
   * Required, e.g. "10.50.0.0/16"; an IPv6 CIDR ("fd00:50::/56") makes an IPv6-only network.
   */
  'cidr': (string);
  /**
   * 0: the default (/24, or /64 for an IPv6 cidr).
   */
  'subnetLength': (number);
  /**
   * "": vxlan.
   */
  'backend': (string);
  /**
   * vxlan only; 0: a free one.
   */
  'vni': (number);
  /**
   * 0: derived from the underlay.
   */
  'mtu': (number);
  /**
   * No masquerade and no outside access (Docker's --internal).
   */
  'internal': (boolean);
  'noMasquerade': (boolean);
  /**
   * Dual-stack: the IPv6 CIDR next to an IPv4 cidr (config ipv6ClusterCidr); "": none.
   */
  'ipv6Cidr': (string);
  /**
   * Dual-stack: each node's IPv6 subnet length; 0: the default (/64).
   */
  'ipv6SubnetLength': (number);
  /**
   * Masquerade IPv6 traffic leaving the network (config ipv6Masquerade; off by default).
   */
  'ipv6Masquerade': (boolean);
}
