// Original file: proto/knit/v1/knit.proto

import type { PortMapping as _knit_v1_PortMapping, PortMapping__Output as _knit_v1_PortMapping__Output } from '../../knit/v1/PortMapping';

export interface Endpoint {
  'containerId'?: (string);
  'ifname'?: (string);
  'netns'?: (string);
  /**
   * "10.244.1.5/24".
   */
  'address'?: (string);
  'mac'?: (string);
  'hostVeth'?: (string);
  'portMappings'?: (_knit_v1_PortMapping)[];
  'createdAt'?: (string);
  /**
   * Dual-stack: the container's IPv6 address with prefix length, "fd00:10:244:1::5/64".
   */
  'ipv6Address'?: (string);
}

export interface Endpoint__Output {
  'containerId': (string);
  'ifname': (string);
  'netns': (string);
  /**
   * "10.244.1.5/24".
   */
  'address': (string);
  'mac': (string);
  'hostVeth': (string);
  'portMappings': (_knit_v1_PortMapping__Output)[];
  'createdAt': (string);
  /**
   * Dual-stack: the container's IPv6 address with prefix length, "fd00:10:244:1::5/64".
   */
  'ipv6Address': (string);
}
