// Original file: proto/knit/v1/knit.proto


/**
 * A network policy.
 */
export interface Policy {
  'network'?: (string);
  'name'?: (string);
  /**
   * The policy's file form as JSON (docs/policy.md): name, network, selector,
   * ingress, egress, as `knitctl policy inspect -o json` prints it.
   */
  'documentJson'?: (string);
  /**
   * The endpoints it selects (empty: every endpoint of the network).
   */
  'selector'?: ({[key: string]: string});
}

/**
 * A network policy.
 */
export interface Policy__Output {
  'network': (string);
  'name': (string);
  /**
   * The policy's file form as JSON (docs/policy.md): name, network, selector,
   * ingress, egress, as `knitctl policy inspect -o json` prints it.
   */
  'documentJson': (string);
  /**
   * The endpoints it selects (empty: every endpoint of the network).
   */
  'selector': ({[key: string]: string});
}
