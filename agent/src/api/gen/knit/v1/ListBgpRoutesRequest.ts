// Original file: proto/knit/v1/knit.proto


export interface ListBgpRoutesRequest {
}

export interface ListBgpRoutesRequest__Output {
}
