// Original file: proto/knit/v1/knit.proto

import type { SubnetLease as _knit_v1_SubnetLease, SubnetLease__Output as _knit_v1_SubnetLease__Output } from '../../knit/v1/SubnetLease';

export interface ListSubnetsResponse {
  'leases'?: (_knit_v1_SubnetLease)[];
  /**
   * Keys under the subnets prefix that did not parse and were skipped.
   */
  'invalidSkipped'?: (number);
}

export interface ListSubnetsResponse__Output {
  'leases': (_knit_v1_SubnetLease__Output)[];
  /**
   * Keys under the subnets prefix that did not parse and were skipped.
   */
  'invalidSkipped': (number);
}
