// Original file: proto/knit/v1/knit.proto

import type { ChangeType as _knit_v1_ChangeType, ChangeType__Output as _knit_v1_ChangeType__Output } from '../../knit/v1/ChangeType';
import type { BgpSession as _knit_v1_BgpSession, BgpSession__Output as _knit_v1_BgpSession__Output } from '../../knit/v1/BgpSession';

export interface BgpSessionEvent {
  'change'?: (_knit_v1_ChangeType);
  'session'?: (_knit_v1_BgpSession | null);
}

export interface BgpSessionEvent__Output {
  'change': (_knit_v1_ChangeType__Output);
  'session': (_knit_v1_BgpSession__Output | null);
}
