// Original file: proto/knit/v1/knit.proto

import type { RouteObject as _knit_v1_RouteObject, RouteObject__Output as _knit_v1_RouteObject__Output } from '../../knit/v1/RouteObject';
import type { NeighbourObject as _knit_v1_NeighbourObject, NeighbourObject__Output as _knit_v1_NeighbourObject__Output } from '../../knit/v1/NeighbourObject';
import type { FdbObject as _knit_v1_FdbObject, FdbObject__Output as _knit_v1_FdbObject__Output } from '../../knit/v1/FdbObject';

export interface Peer {
  'nodeName'?: (string);
  'subnet'?: (string);
  'publicIp'?: (string);
  'backendType'?: (string);
  'routes'?: (_knit_v1_RouteObject)[];
  'neighbours'?: (_knit_v1_NeighbourObject)[];
  'fdbEntries'?: (_knit_v1_FdbObject)[];
  /**
   * True when every object is SYNC_STATE_IN_SYNC.
   */
  'inSync'?: (boolean);
  'lastReconciledAt'?: (string);
}

export interface Peer__Output {
  'nodeName': (string);
  'subnet': (string);
  'publicIp': (string);
  'backendType': (string);
  'routes': (_knit_v1_RouteObject__Output)[];
  'neighbours': (_knit_v1_NeighbourObject__Output)[];
  'fdbEntries': (_knit_v1_FdbObject__Output)[];
  /**
   * True when every object is SYNC_STATE_IN_SYNC.
   */
  'inSync': (boolean);
  'lastReconciledAt': (string);
}
