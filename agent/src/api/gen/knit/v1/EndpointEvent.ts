// Original file: proto/knit/v1/knit.proto

import type { ChangeType as _knit_v1_ChangeType, ChangeType__Output as _knit_v1_ChangeType__Output } from '../../knit/v1/ChangeType';
import type { Endpoint as _knit_v1_Endpoint, Endpoint__Output as _knit_v1_Endpoint__Output } from '../../knit/v1/Endpoint';

export interface EndpointEvent {
  'change'?: (_knit_v1_ChangeType);
  'endpoint'?: (_knit_v1_Endpoint | null);
}

export interface EndpointEvent__Output {
  'change': (_knit_v1_ChangeType__Output);
  'endpoint': (_knit_v1_Endpoint__Output | null);
}
