// Original file: proto/knit/v1/knit.proto


export interface ListSubnetsRequest {
  /**
   * Only this subnet ("10.244.1.0/24"); NOT_FOUND when no lease holds it.
   */
  'subnet'?: (string);
}

export interface ListSubnetsRequest__Output {
  /**
   * Only this subnet ("10.244.1.0/24"); NOT_FOUND when no lease holds it.
   */
  'subnet': (string);
}
