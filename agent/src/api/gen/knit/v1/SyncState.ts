// Original file: proto/knit/v1/knit.proto

/**
 * Whether a kernel object matches what knit wants.
 */
export const SyncState = {
  SYNC_STATE_UNSPECIFIED: 'SYNC_STATE_UNSPECIFIED',
  /**
   * Present and equal to the desired object.
   */
  SYNC_STATE_IN_SYNC: 'SYNC_STATE_IN_SYNC',
  /**
   * Desired but absent from the kernel.
   */
  SYNC_STATE_MISSING: 'SYNC_STATE_MISSING',
  /**
   * Present with different attributes (see detail).
   */
  SYNC_STATE_DIFFERS: 'SYNC_STATE_DIFFERS',
  /**
   * Present, owned by knit, but no longer desired.
   */
  SYNC_STATE_STALE: 'SYNC_STATE_STALE',
} as const;

/**
 * Whether a kernel object matches what knit wants.
 */
export type SyncState =
  | 'SYNC_STATE_UNSPECIFIED'
  | 0
  /**
   * Present and equal to the desired object.
   */
  | 'SYNC_STATE_IN_SYNC'
  | 1
  /**
   * Desired but absent from the kernel.
   */
  | 'SYNC_STATE_MISSING'
  | 2
  /**
   * Present with different attributes (see detail).
   */
  | 'SYNC_STATE_DIFFERS'
  | 3
  /**
   * Present, owned by knit, but no longer desired.
   */
  | 'SYNC_STATE_STALE'
  | 4

/**
 * Whether a kernel object matches what knit wants.
 */
export type SyncState__Output = typeof SyncState[keyof typeof SyncState]
