// Original file: proto/knit/v1/knit.proto

/**
 * Whether a node's agent (knitd) runs, as its liveness key in etcd says.
 */
export const AgentState = {
  AGENT_STATE_UNSPECIFIED: 'AGENT_STATE_UNSPECIFIED',
  /**
   * Its liveness key exists: the agent renewed it within the liveness TTL.
   */
  AGENT_STATE_ALIVE: 'AGENT_STATE_ALIVE',
  /**
   * Its liveness key is gone (expired or withdrawn on stop), or it never had one.
   */
  AGENT_STATE_DOWN: 'AGENT_STATE_DOWN',
  /**
   * This node's own view of etcd is lost: no verdict.
   */
  AGENT_STATE_UNKNOWN: 'AGENT_STATE_UNKNOWN',
} as const;

/**
 * Whether a node's agent (knitd) runs, as its liveness key in etcd says.
 */
export type AgentState =
  | 'AGENT_STATE_UNSPECIFIED'
  | 0
  /**
   * Its liveness key exists: the agent renewed it within the liveness TTL.
   */
  | 'AGENT_STATE_ALIVE'
  | 1
  /**
   * Its liveness key is gone (expired or withdrawn on stop), or it never had one.
   */
  | 'AGENT_STATE_DOWN'
  | 2
  /**
   * This node's own view of etcd is lost: no verdict.
   */
  | 'AGENT_STATE_UNKNOWN'
  | 3

/**
 * Whether a node's agent (knitd) runs, as its liveness key in etcd says.
 */
export type AgentState__Output = typeof AgentState[keyof typeof AgentState]
