/**
 * What the reconciler reports: per run (to `onRun` and run listeners, for
 * metrics and Watch) and in total since it was built.
 */

/** What `onRun` hears about one run. */
export interface ReconcileRunReport {
  /** 'error': setup or a dump failed and the run was abandoned (failed single writes still count as 'ok' runs, see stats.failed) */
  result: 'ok' | 'error';
  durationMs: number;
  /** the run's numbers, when it finished */
  stats?: ReconcileStats;
}

/** What one run did. */
export interface ReconcileStats {
  /** netlink write requests sent (setup's included) */
  writes: number;
  added: number;
  replaced: number;
  deleted: number;
  /** writes that failed (deletes of already-gone objects do not count) */
  failed: number;
  /** desired objects already right */
  unchanged: number;
  /** desired routes not written because a foreign route holds their slot */
  conflicts: number;
  /** setup() ran in this run */
  setupRan: boolean;
  /** diffed against the kernel view (kernel-view.ts) instead of a fresh dump */
  fromView: boolean;
  /** a view run that diffed only the peers whose plans changed (diff-changed.ts) */
  scoped: boolean;
  durationMs: number;
}

/** Totals since construction, for metrics. */
export interface ReconcilerStats {
  runs: number;
  /** runs that diffed against the kernel view instead of dumping */
  viewRuns: number;
  /** of those, runs that diffed only the changed peers' plans */
  scopedRuns: number;
  writes: number;
  failedWrites: number;
  setups: number;
  lastDurationMs: number;
  lastWrites: number;
  /** epoch ms of the last finished run */
  lastRunAt?: number;
  /** message of the last run that failed as a whole (setup or dump), cleared by a good run */
  lastError?: string;
  peers: number;
  refusedPeers: number;
  conflicts: number;
}
