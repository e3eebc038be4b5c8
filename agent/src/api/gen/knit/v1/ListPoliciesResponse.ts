// Original file: proto/knit/v1/knit.proto

import type { Policy as _knit_v1_Policy, Policy__Output as _knit_v1_Policy__Output } from '../../knit/v1/Policy';

export interface ListPoliciesResponse {
  'policies'?: (_knit_v1_Policy)[];
  /**
   * Stored records that do not validate: "network/name: error".
   */
  'invalid'?: (string)[];
}

export interface ListPoliciesResponse__Output {
  'policies': (_knit_v1_Policy__Output)[];
  /**
   * Stored records that do not validate: "network/name: error".
   */
  'invalid': (string)[];
}
