/**
 * The store's typed errors. etcd3 throws a zoo of gRPC error classes (and
 * cockatiel's BrokenCircuitError while its breaker is open); callers only need
 * to know "etcd is unreachable, retry later" versus "the key is not what you
 * expected". The conversion happens once, here, at the boundary.
 */
import { isRecoverableError } from 'etcd3';
import { errorMessage } from '../base';

/** Base class of every error the store throws. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** etcd could not be reached or did not answer in time; the operation may be retried. */
export class EtcdUnavailableError extends StoreError {
  /** Always true: callers retry with back-off. */
  readonly recoverable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtcdUnavailableError';
  }
}

/**
 * A compare-and-swap failed: the key exists when it should not, or no longer
 * holds the value/revision we wrote. `currentValue` is what etcd holds now
 * (undefined when the key is gone).
 */
export class ConflictError extends StoreError {
  constructor(
    message: string,
    /** The key's current raw value, if it exists. */
    readonly currentValue?: string,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The etcd lease (TTL) behind a key has expired or was revoked; its keys are gone. */
export class LeaseExpiredError extends StoreError {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseExpiredError';
  }
}

/** True for errors that mean "etcd is unreachable right now". */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof EtcdUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  // cockatiel (etcd3's fault-handling library, not a direct dependency) marks
  // its open-breaker error with this flag.
  const broken = (err as { isBrokenCircuitError?: unknown }).isBrokenCircuitError === true;
  return isRecoverableError(err) || broken;
}

/** Wraps any error thrown by etcd3 with the operation's context, typed. */
export function wrapEtcdError(context: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  if (isUnavailable(err)) return new EtcdUnavailableError(`${context}: etcd unavailable: ${errorMessage(err)}`, { cause: err });
  return new StoreError(`${context}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
