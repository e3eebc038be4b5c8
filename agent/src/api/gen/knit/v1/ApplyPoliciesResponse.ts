// Original file: proto/knit/v1/knit.proto

import type { Policy as _knit_v1_Policy, Policy__Output as _knit_v1_Policy__Output } from '../../knit/v1/Policy';

export interface ApplyPoliciesResponse {
  'policies'?: (_knit_v1_Policy)[];
}

export interface ApplyPoliciesResponse__Output {
  'policies': (_knit_v1_Policy__Output)[];
}
