// Original file: proto/knit/v1/knit.proto

import type { ChangeType as _knit_v1_ChangeType, ChangeType__Output as _knit_v1_ChangeType__Output } from '../../knit/v1/ChangeType';
import type { Peer as _knit_v1_Peer, Peer__Output as _knit_v1_Peer__Output } from '../../knit/v1/Peer';

export interface PeerEvent {
  'change'?: (_knit_v1_ChangeType);
  /**
   * For REMOVED at least node_name and subnet are set.
   */
  'peer'?: (_knit_v1_Peer | null);
}

export interface PeerEvent__Output {
  'change': (_knit_v1_ChangeType__Output);
  /**
   * For REMOVED at least node_name and subnet are set.
   */
  'peer': (_knit_v1_Peer__Output | null);
}
