// Original file: proto/knit/v1/knit.proto


export interface Versions {
  'knitd'?: (string);
  'node'?: (string);
  'grpcJs'?: (string);
  /**
   * This API's version ("knit.v1").
   */
  'api'?: (string);
}

export interface Versions__Output {
  'knitd': (string);
  'node': (string);
  'grpcJs': (string);
  /**
   * This API's version ("knit.v1").
   */
  'api': (string);
}
