// Original file: proto/knit/v1/knit.proto


export interface GetPolicyRequest {
  /**
   * Empty: "default".
   */
  'network'?: (string);
  'name'?: (string);
}

export interface GetPolicyRequest__Output {
  /**
   * Empty: "default".
   */
  'network': (string);
  'name': (string);
}
