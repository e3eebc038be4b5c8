// Original file: proto/knit/v1/knit.proto


export interface ListPoliciesRequest {
  /**
   * Empty: every network.
   */
  'network'?: (string);
}

export interface ListPoliciesRequest__Output {
  /**
   * Empty: every network.
   */
  'network': (string);
}
