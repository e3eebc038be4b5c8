// Original file: proto/knit/v1/knit.proto


export interface DeletePolicyRequest {
  /**
   * Empty: "default".
   */
  'network'?: (string);
  'name'?: (string);
}

export interface DeletePolicyRequest__Output {
  /**
   * Empty: "default".
   */
  'network': (string);
  'name': (string);
}
