// Original file: proto/knit/v1/knit.proto


export interface ListBgpSessionsRequest {
}

export interface ListBgpSessionsRequest__Output {
}
