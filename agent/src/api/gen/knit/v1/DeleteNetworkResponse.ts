// Original file: proto/knit/v1/knit.proto


export interface DeleteNetworkResponse {
}

export interface DeleteNetworkResponse__Output {
}
