/**
 * Start-up retries: wait (with back-off, saying what for) for what knitd
 * cannot do without — etcd, the network config — and fail at once on
 * anything else.
 */
import { Backoff, errorMessage } from '../base';
import type { Logger } from '../log/logger';
import { isUnavailable } from '../store';

/** A condition worth waiting for (logged as a warning, retried), as opposed to a real failure. */
export class Waiting extends Error {}

export function retrier(log: Logger, timeoutMs?: number, onStep?: (step: string) => void) {
  return async function retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    // no jitter: one node waiting for its own start-up conditions
    const backoff = new Backoff({ minMs: 500, maxMs: 5_000 });
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof Waiting) && !isUnavailable(err)) throw err;
        const delay = backoff.next();
        if (Date.now() + delay > deadline) throw new Error(`gave up trying to ${what}`, { cause: err });
        log.warn(`waiting to ${what}`, { reason: errorMessage(err), retryInMs: delay });
        onStep?.(err instanceof Waiting ? `waiting: ${errorMessage(err)}` : `waiting for etcd: ${errorMessage(err)}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
}
