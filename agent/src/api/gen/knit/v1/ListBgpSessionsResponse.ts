// Original file: proto/knit/v1/knit.proto

import type { BgpSession as _knit_v1_BgpSession, BgpSession__Output as _knit_v1_BgpSession__Output } from '../../knit/v1/BgpSession';

export interface ListBgpSessionsResponse {
  'sessions'?: (_knit_v1_BgpSession)[];
}

export interface ListBgpSessionsResponse__Output {
  'sessions': (_knit_v1_BgpSession__Output)[];
}
