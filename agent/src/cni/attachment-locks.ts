/**
 * One CNI request at a time per thing it touches.
 *
 * knitd is single-threaded, but every `await` lets another request in: two
 * ADDs for the same container ID and ifname would both see "not attached",
 * both allocate, both create the same host veth name, and the loser's undo
 * would release the winner's address. Handlers therefore run under locks
 * keyed by what they touch: the attachment (containerId/ifname) and the
 * container's network namespace (its nsfs identity, not its path). A request
 * takes all its keys in sorted order, so two requests that share several
 * keys cannot deadlock. Requests on disjoint keys still run concurrently.
 */

/** FIFO locks on string keys. */
export class KeyedLocks {
  /** per key: the promise the next waiter chains on */
  private readonly tails = new Map<string, Promise<void>>();
  /** per key: holders plus waiters; a key with none is absent */
  private readonly counts = new Map<string, number>();

  /**
   * Runs `fn` while holding every key in `keys` (duplicates ignored);
   * waiters on a key are served in arrival order.
   */
  async run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.acquire(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** True while a request holds or waits for `key` (GC and the reaper leave such keys alone). */
  busy(key: string): boolean {
    return this.counts.has(key);
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => { release = resolve; });
    this.tails.set(key, previous.then(() => mine));
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    await previous;
    return () => {
      release();
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left === 0) {
        this.counts.delete(key);
        this.tails.delete(key);
      } else {
        this.counts.set(key, left);
      }
    };
  }
}

/** The lock key of an attachment. */
export function attachmentLockKey(containerId: string, ifname: string): string {
  return `attachment:${containerId}\u0000${ifname}`;
}
