// Original file: proto/knit/v1/knit.proto

import type { Network as _knit_v1_Network, Network__Output as _knit_v1_Network__Output } from '../../knit/v1/Network';

export interface ListNetworksResponse {
  /**
   * config_json set; subnets and attached left empty (GetNetwork has them).
   */
  'networks'?: (_knit_v1_Network)[];
  /**
   * Stored configs that do not validate: "name: error".
   */
  'invalid'?: (string)[];
}

export interface ListNetworksResponse__Output {
  /**
   * config_json set; subnets and attached left empty (GetNetwork has them).
   */
  'networks': (_knit_v1_Network__Output)[];
  /**
   * Stored configs that do not validate: "name: error".
   */
  'invalid': (string)[];
}
