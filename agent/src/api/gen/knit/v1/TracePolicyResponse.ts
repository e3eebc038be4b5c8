// Original file: proto/knit/v1/knit.proto

import type { PolicyVerdict as _knit_v1_PolicyVerdict, PolicyVerdict__Output as _knit_v1_PolicyVerdict__Output } from '../../knit/v1/PolicyVerdict';

export interface TracePolicyResponse {
  /**
   * Egress allowed at the source and ingress allowed at the destination.
   */
  'allowed'?: (boolean);
  /**
   * The addresses traced (an endpoint's first address when one was named).
   */
  'from'?: (string);
  'to'?: (string);
  'egress'?: (_knit_v1_PolicyVerdict | null);
  'ingress'?: (_knit_v1_PolicyVerdict | null);
}

export interface TracePolicyResponse__Output {
  /**
   * Egress allowed at the source and ingress allowed at the destination.
   */
  'allowed': (boolean);
  /**
   * The addresses traced (an endpoint's first address when one was named).
   */
  'from': (string);
  'to': (string);
  'egress': (_knit_v1_PolicyVerdict__Output | null);
  'ingress': (_knit_v1_PolicyVerdict__Output | null);
}
