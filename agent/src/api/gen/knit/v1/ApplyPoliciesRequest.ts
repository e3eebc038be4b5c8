// Original file: proto/knit/v1/knit.proto


export interface ApplyPoliciesRequest {
  /**
   * A policy file, YAML or JSON: one policy or a list of them.
   */
  'document'?: (string);
}

export interface ApplyPoliciesRequest__Output {
  /**
   * A policy file, YAML or JSON: one policy or a list of them.
   */
  'document': (string);
}
