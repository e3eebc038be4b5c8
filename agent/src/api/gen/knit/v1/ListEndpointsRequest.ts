// Original file: proto/knit/v1/knit.proto


export interface ListEndpointsRequest {
  /**
   * Only this container; NOT_FOUND when it has no endpoint here.
   */
  'containerId'?: (string);
}

export interface ListEndpointsRequest__Output {
  /**
   * Only this container; NOT_FOUND when it has no endpoint here.
   */
  'containerId': (string);
}
