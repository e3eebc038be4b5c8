// Original file: proto/knit/v1/knit.proto


export interface GetNodeRequest {
}

export interface GetNodeRequest__Output {
}
