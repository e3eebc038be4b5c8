// Original file: proto/knit/v1/knit.proto


export interface ListPeersRequest {
  /**
   * Only this peer node; NOT_FOUND when unknown.
   */
  'nodeName'?: (string);
}

export interface ListPeersRequest__Output {
  /**
   * Only this peer node; NOT_FOUND when unknown.
   */
  'nodeName': (string);
}
