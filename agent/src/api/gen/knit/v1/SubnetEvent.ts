// Original file: proto/knit/v1/knit.proto

import type { ChangeType as _knit_v1_ChangeType, ChangeType__Output as _knit_v1_ChangeType__Output } from '../../knit/v1/ChangeType';
import type { SubnetLease as _knit_v1_SubnetLease, SubnetLease__Output as _knit_v1_SubnetLease__Output } from '../../knit/v1/SubnetLease';

export interface SubnetEvent {
  'change'?: (_knit_v1_ChangeType);
  /**
   * For REMOVED at least the subnet is set.
   */
  'lease'?: (_knit_v1_SubnetLease | null);
}

export interface SubnetEvent__Output {
  'change': (_knit_v1_ChangeType__Output);
  /**
   * For REMOVED at least the subnet is set.
   */
  'lease': (_knit_v1_SubnetLease__Output | null);
}
