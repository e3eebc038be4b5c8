// Original file: proto/knit/v1/knit.proto


/**
 * One direction's verdict.
 */
export interface PolicyVerdict {
  'allowed'?: (boolean);
  /**
   * Why: "allowed by policy db-in ingress[0]", "default deny: …", "… is not isolated …".
   */
  'reason'?: (string);
  /**
   * The deciding policy (its name, in the network of the endpoint whose direction
   * this is) and its rule index, when a rule decided.
   */
  'policy'?: (string);
  'rule'?: (number);
}

/**
 * One direction's verdict.
 */
export interface PolicyVerdict__Output {
  'allowed': (boolean);
  /**
   * Why: "allowed by policy db-in ingress[0]", "default deny: …", "… is not isolated …".
   */
  'reason': (string);
  /**
   * The deciding policy (its name, in the network of the endpoint whose direction
   * this is) and its rule index, when a rule decided.
   */
  'policy': (string);
  'rule': (number);
}
