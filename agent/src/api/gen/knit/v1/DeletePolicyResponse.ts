// Original file: proto/knit/v1/knit.proto


export interface DeletePolicyResponse {
}

export interface DeletePolicyResponse__Output {
}
