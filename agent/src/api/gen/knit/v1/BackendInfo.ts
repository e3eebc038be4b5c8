// Original file: proto/knit/v1/knit.proto


/**
 * The backend device of this node (VXLAN device, IPIP tunnel, bridge only…).
 */
export interface BackendInfo {
  /**
   * "vxlan", "host-gw", "ipip", "bgp", or "none" (single-node mode).
   */
  'type'?: (string);
  /**
   * Kernel device name, e.g. "knit.1"; empty for host-gw.
   */
  'device'?: (string);
  /**
   * VXLAN only.
   */
  'vni'?: (number);
  'port'?: (number);
  'vtepMac'?: (string);
  /**
   * The underlay device the backend uses, e.g. "eth0".
   */
  'underlayDevice'?: (string);
  /**
   * Anything else the backend reports.
   */
  'details'?: ({[key: string]: string});
}

/**
 * The backend device of this node (VXLAN device, IPIP tunnel, bridge only…).
 */
export interface BackendInfo__Output {
  /**
   * "vxlan", "host-gw", "ipip", "bgp", or "none" (single-node mode).
   */
  'type': (string);
  /**
   * Kernel device name, e.g. "knit.1"; empty for host-gw.
   */
  'device': (string);
  /**
   * VXLAN only.
   */
  'vni': (number);
  'port': (number);
  'vtepMac': (string);
  /**
   * The underlay device the backend uses, e.g. "eth0".
   */
  'underlayDevice': (string);
  /**
   * Anything else the backend reports.
   */
  'details': ({[key: string]: string});
}
