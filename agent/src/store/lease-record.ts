/**
 * Lease records as the store hands them out: a parsed lease plus the etcd
 * bookkeeping (mod revision, etcd lease ID) a holder needs to prove it still
 * owns the key in a later compare-and-swap. Kept free of etcd3 types so the
 * subnet manager and its fakes can use them.
 */
import type { Lease } from './lease-codec';

/** A valid lease as stored in etcd. */
export interface LeaseRecord {
  lease: Lease;
  /** The key's mod revision when read or written: the CAS token for update/delete. */
  modRevision: number;
  /** The etcd lease (TTL) the key is bound to, as a decimal string ("0" = none). */
  etcdLeaseId: string;
}

/** A key under the subnets prefix that was refused by the codec. */
export interface InvalidLeaseEntry {
  /** The key's last segment, as found. */
  keyName: string;
  /** The subnet, when the key itself parsed and only the value was bad. */
  subnet?: string;
  /** Why it was refused (for the warning). */
  reason: string;
  /** The key's mod revision (so the same bad write is counted once). */
  modRevision: number;
}

/** Result of parsing one key/value: a record or the reason it was refused. */
export type ParsedKv = { ok: true; record: LeaseRecord } | { ok: false; entry: InvalidLeaseEntry };

/** A consistent snapshot of all leases. */
export interface LeaseList {
  leases: LeaseRecord[];
  invalid: InvalidLeaseEntry[];
  /** The etcd revision of the snapshot; watch from revision + 1. */
  revision: number;
}

/** One change seen by the watch. */
export type LeaseEvent =
  | { type: 'put'; record: LeaseRecord }
  /** The key was deleted (released, or its etcd lease expired). */
  | { type: 'delete'; subnet: string; modRevision: number }
  /** A value that does not parse was written; drop whatever was known for `subnet`. */
  | { type: 'invalid'; entry: InvalidLeaseEntry };

/** A running watch; `close` stops it for good. */
export interface LeaseWatch {
  close(): Promise<void>;
}

/** Callbacks of a watch. */
export interface LeaseWatchHandlers {
  /** A batch of changes, in revision order. */
  onEvents(batch: LeaseEvent[]): void;
  /** History was compacted past our position: here is a fresh full list; replace everything. */
  onReset(list: LeaseList): void;
  /** The watch stream failed and will be re-opened after a back-off. */
  onError?(err: Error): void;
}
