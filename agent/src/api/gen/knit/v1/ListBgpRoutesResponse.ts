// Original file: proto/knit/v1/knit.proto

import type { BgpRoute as _knit_v1_BgpRoute, BgpRoute__Output as _knit_v1_BgpRoute__Output } from '../../knit/v1/BgpRoute';

export interface ListBgpRoutesResponse {
  'routes'?: (_knit_v1_BgpRoute)[];
}

export interface ListBgpRoutesResponse__Output {
  'routes': (_knit_v1_BgpRoute__Output)[];
}
