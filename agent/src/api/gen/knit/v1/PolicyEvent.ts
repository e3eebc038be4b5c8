// Original file: proto/knit/v1/knit.proto

import type { ChangeType as _knit_v1_ChangeType, ChangeType__Output as _knit_v1_ChangeType__Output } from '../../knit/v1/ChangeType';
import type { Policy as _knit_v1_Policy, Policy__Output as _knit_v1_Policy__Output } from '../../knit/v1/Policy';

/**
 * A policy was applied (created or replaced) or removed (for REMOVED only
 * network and name are set).
 */
export interface PolicyEvent {
  'change'?: (_knit_v1_ChangeType);
  'policy'?: (_knit_v1_Policy | null);
}

/**
 * A policy was applied (created or replaced) or removed (for REMOVED only
 * network and name are set).
 */
export interface PolicyEvent__Output {
  'change': (_knit_v1_ChangeType__Output);
  'policy': (_knit_v1_Policy__Output | null);
}
