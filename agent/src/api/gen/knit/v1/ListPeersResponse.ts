// Original file: proto/knit/v1/knit.proto

import type { Peer as _knit_v1_Peer, Peer__Output as _knit_v1_Peer__Output } from '../../knit/v1/Peer';

export interface ListPeersResponse {
  'peers'?: (_knit_v1_Peer)[];
}

export interface ListPeersResponse__Output {
  'peers': (_knit_v1_Peer__Output)[];
}
