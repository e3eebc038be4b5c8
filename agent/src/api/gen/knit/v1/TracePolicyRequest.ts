// Original file: proto/knit/v1/knit.proto


export interface TracePolicyRequest {
  /**
   * An endpoint id ("<containerId>/<ifname>") or an address.
   */
  'from'?: (string);
  'to'?: (string);
  /**
   * "tcp/8080", "udp/53", "sctp/9" or "icmp".
   */
  'port'?: (string);
}

export interface TracePolicyRequest__Output {
  /**
   * An endpoint id ("<containerId>/<ifname>") or an address.
   */
  'from': (string);
  'to': (string);
  /**
   * "tcp/8080", "udp/53", "sctp/9" or "icmp".
   */
  'port': (string);
}
