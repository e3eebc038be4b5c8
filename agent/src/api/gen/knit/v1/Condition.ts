// Original file: proto/knit/v1/knit.proto


/**
 * A health or readiness verdict with the reasons it is not OK.
 */
export interface Condition {
  'ok'?: (boolean);
  /**
   * Human-readable, one per problem ("etcd unreachable: ECONNREFUSED").
   */
  'reasons'?: (string)[];
}

/**
 * A health or readiness verdict with the reasons it is not OK.
 */
export interface Condition__Output {
  'ok': (boolean);
  /**
   * Human-readable, one per problem ("etcd unreachable: ECONNREFUSED").
   */
  'reasons': (string)[];
}
