// Original file: proto/knit/v1/knit.proto

import type { SyncState as _knit_v1_SyncState, SyncState__Output as _knit_v1_SyncState__Output } from '../../knit/v1/SyncState';

export interface NeighbourObject {
  'ip'?: (string);
  'mac'?: (string);
  'device'?: (string);
  'state'?: (_knit_v1_SyncState);
  'detail'?: (string);
}

export interface NeighbourObject__Output {
  'ip': (string);
  'mac': (string);
  'device': (string);
  'state': (_knit_v1_SyncState__Output);
  'detail': (string);
}
