// Original file: proto/knit/v1/knit.proto

import type { Endpoint as _knit_v1_Endpoint, Endpoint__Output as _knit_v1_Endpoint__Output } from '../../knit/v1/Endpoint';

export interface ListEndpointsResponse {
  'endpoints'?: (_knit_v1_Endpoint)[];
}

export interface ListEndpointsResponse__Output {
  'endpoints': (_knit_v1_Endpoint__Output)[];
}
