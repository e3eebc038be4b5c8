// Original file: proto/knit/v1/knit.proto


export interface WatchRequest {
}

export interface WatchRequest__Output {
}
