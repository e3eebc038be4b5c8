/**
 * What the subnet module needs from the outside world, as narrow interfaces:
 * the lease store (implemented by store/EtcdRegistry, faked in unit tests),
 * the lease feed for peers, and metric counters (the clock is base/clock). Two store
 * interfaces instead of one, so a fake for the manager does not have to stub
 * the watch and vice versa.
 */
import type { LeaseValue, LeaseList, LeaseRecord, LeaseWatch, LeaseWatchHandlers } from '../store';

/** Conditional writes of this node's own lease (see EtcdRegistry for semantics and errors). */
export interface LeaseStore {
  /** Create if absent; ConflictError when taken. */
  createLease(subnet: string, value: LeaseValue, ttlSeconds: number): Promise<LeaseRecord>;
  /** Rewrite with a fresh etcd lease if the mod revision still matches; ConflictError otherwise. */
  updateLease(held: LeaseRecord, value: LeaseValue, ttlSeconds: number): Promise<LeaseRecord>;
  /** Keep-alive + ownership check; LeaseExpiredError / ConflictError. */
  renewLease(held: LeaseRecord): Promise<{ ttlSeconds: number }>;
  /** Delete if still ours; ConflictError otherwise. */
  deleteLease(held: LeaseRecord): Promise<void>;
  /** Snapshot of all leases. */
  listLeases(): Promise<LeaseList>;
}

/** Read side: snapshot + watch of all leases. */
export interface LeaseFeed {
  listLeases(): Promise<LeaseList>;
  watchLeases(fromRevision: number, handlers: LeaseWatchHandlers): LeaseWatch;
}

/** The part of a prom-client Counter we use. */
export interface CounterLike {
  inc(value?: number): void;
}
