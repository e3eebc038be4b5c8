// Original file: proto/knit/v1/knit.proto


export interface GetNetworkRequest {
  'name'?: (string);
}

export interface GetNetworkRequest__Output {
  'name': (string);
}
