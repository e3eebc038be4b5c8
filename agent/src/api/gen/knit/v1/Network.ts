// Original file: proto/knit/v1/knit.proto

import type { NetworkSubnet as _knit_v1_NetworkSubnet, NetworkSubnet__Output as _knit_v1_NetworkSubnet__Output } from '../../knit/v1/NetworkSubnet';
import type { NetworkAttachment as _knit_v1_NetworkAttachment, NetworkAttachment__Output as _knit_v1_NetworkAttachment__Output } from '../../knit/v1/NetworkAttachment';

/**
 * A network of the cluster.
 */
export interface Network {
  'name'?: (string);
  /**
   * The stored config document (JSON; docs/networks.md): clusterCidr,
   * subnetLength, backend, mtu, masquerade, internal, …
   */
  'configJson'?: (string);
  /**
   * The bridge every node makes for it ("knb…"); empty for the default network.
   */
  'bridge'?: (string);
  'subnets'?: (_knit_v1_NetworkSubnet)[];
  'attached'?: (_knit_v1_NetworkAttachment)[];
}

/**
 * A network of the cluster.
 */
export interface Network__Output {
  'name': (string);
  /**
   * The stored config document (JSON; docs/networks.md): clusterCidr,
   * subnetLength, backend, mtu, masquerade, internal, …
   */
  'configJson': (string);
  /**
   * The bridge every node makes for it ("knb…"); empty for the default network.
   */
  'bridge': (string);
  'subnets': (_knit_v1_NetworkSubnet__Output)[];
  'attached': (_knit_v1_NetworkAttachment__Output)[];
}
