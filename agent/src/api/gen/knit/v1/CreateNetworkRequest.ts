// Original file: proto/knit/v1/knit.proto


export interface CreateNetworkRequest {
  'name'?: (string);
  /**
   * Required, e.g. "10.50.0.0/16".
   */
  'cidr'?: (string);
  /**
   * 0: the default (/24).
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
}

export interface CreateNetworkRequest__Output {
  'name': (string);
  /**
   * Required, e.g. "10.50.0.0/16".
   */
  'cidr': (string);
  /**
   * 0: the default (/24).
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
}
