// Original file: proto/knit/v1/knit.proto


export interface DeleteNetworkRequest {
  'name'?: (string);
}

export interface DeleteNetworkRequest__Output {
  'name': (string);
}
