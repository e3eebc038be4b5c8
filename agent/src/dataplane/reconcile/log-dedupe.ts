/**
 * Log a condition once, not on every run: the reconciler re-evaluates every
 * refused peer and route conflict each run (level-triggered), but an
 * operator wants one warning when it appears (or its reason changes), not
 * one every resync.
 */

/** Remembers what was logged at the last update; see the module comment. */
export class LogOnChange<V> {
  private logged = new Map<string, V>();

  /**
   * The conditions present now: calls `log` for each item whose key is new or
   * whose value changed since the last update, and forgets keys that went.
   */
  update<T>(items: readonly T[], keyOf: (item: T) => string, valueOf: (item: T) => V, log: (item: T) => void): void {
    const next = new Map<string, V>();
    for (const item of items) {
      const key = keyOf(item);
      const value = valueOf(item);
      next.set(key, value);
      if (!this.logged.has(key) || this.logged.get(key) !== value) log(item);
    }
    this.logged = next;
  }
}
