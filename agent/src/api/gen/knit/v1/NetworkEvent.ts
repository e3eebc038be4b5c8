// Original file: proto/knit/v1/knit.proto

import type { ChangeType as _knit_v1_ChangeType, ChangeType__Output as _knit_v1_ChangeType__Output } from '../../knit/v1/ChangeType';
import type { Network as _knit_v1_Network, Network__Output as _knit_v1_Network__Output } from '../../knit/v1/Network';

/**
 * A network was created, its config changed, or it was removed (for REMOVED
 * only the name is set).
 */
export interface NetworkEvent {
  'change'?: (_knit_v1_ChangeType);
  'network'?: (_knit_v1_Network | null);
}

/**
 * A network was created, its config changed, or it was removed (for REMOVED
 * only the name is set).
 */
export interface NetworkEvent__Output {
  'change': (_knit_v1_ChangeType__Output);
  'network': (_knit_v1_Network__Output | null);
}
