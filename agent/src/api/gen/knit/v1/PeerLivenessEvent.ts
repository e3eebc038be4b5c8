// Original file: proto/knit/v1/knit.proto

import type { AgentState as _knit_v1_AgentState, AgentState__Output as _knit_v1_AgentState__Output } from '../../knit/v1/AgentState';

/**
 * A peer's agent came up (AGENT_STATE_ALIVE) or went away (AGENT_STATE_DOWN).
 */
export interface PeerLivenessEvent {
  'nodeName'?: (string);
  /**
   * The peer's subnet; empty when the node holds no lease.
   */
  'subnet'?: (string);
  'agent'?: (_knit_v1_AgentState);
  'since'?: (string);
}

/**
 * A peer's agent came up (AGENT_STATE_ALIVE) or went away (AGENT_STATE_DOWN).
 */
export interface PeerLivenessEvent__Output {
  'nodeName': (string);
  /**
   * The peer's subnet; empty when the node holds no lease.
   */
  'subnet': (string);
  'agent': (_knit_v1_AgentState__Output);
  'since': (string);
}
