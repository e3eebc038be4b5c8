// Original file: proto/knit/v1/knit.proto


export interface ListNetworksRequest {
}

export interface ListNetworksRequest__Output {
}
