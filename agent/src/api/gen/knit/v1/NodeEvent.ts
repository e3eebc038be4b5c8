// Original file: proto/knit/v1/knit.proto

import type { Node as _knit_v1_Node, Node__Output as _knit_v1_Node__Output } from '../../knit/v1/Node';

/**
 * This node's lease, health or readiness changed.
 */
export interface NodeEvent {
  'node'?: (_knit_v1_Node | null);
}

/**
 * This node's lease, health or readiness changed.
 */
export interface NodeEvent__Output {
  'node': (_knit_v1_Node__Output | null);
}
