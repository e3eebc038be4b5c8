// Original file: proto/knit/v1/knit.proto


export interface GetEndpointRequest {
  'containerId'?: (string);
  /**
   * Defaults to "eth0".
   */
  'ifname'?: (string);
}

export interface GetEndpointRequest__Output {
  'containerId': (string);
  /**
   * Defaults to "eth0".
   */
  'ifname': (string);
}
