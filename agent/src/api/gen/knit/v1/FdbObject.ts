// Original file: proto/knit/v1/knit.proto

import type { SyncState as _knit_v1_SyncState, SyncState__Output as _knit_v1_SyncState__Output } from '../../knit/v1/SyncState';

export interface FdbObject {
  'mac'?: (string);
  /**
   * The remote VTEP (peer public IP).
   */
  'destination'?: (string);
  'device'?: (string);
  'state'?: (_knit_v1_SyncState);
  'detail'?: (string);
}

export interface FdbObject__Output {
  'mac': (string);
  /**
   * The remote VTEP (peer public IP).
   */
  'destination': (string);
  'device': (string);
  'state': (_knit_v1_SyncState__Output);
  'detail': (string);
}
