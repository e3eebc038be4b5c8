/**
 * Group commit for a small state file. Every change bumps a generation and
 * gets a promise; one write at a time runs, and it persists a snapshot taken
 * when it starts, so it makes every change up to that generation durable at
 * once. Changes that arrive while a write is in flight wait for the single
 * next write. 200 concurrent allocations therefore cost one or two fsyncs,
 * not 200, yet no promise resolves before its change is on disk.
 *
 * Single-threaded JS needs no lock here: ordering the writes is enough.
 */

interface Waiter {
  generation: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class CoalescingWriter {
  private generation = 0;
  private durableGeneration = 0;
  private writing = false;
  private scheduled = false;
  private waiters: Waiter[] = [];
  private writeCount = 0;

  /**
   * @param snapshot serializes the current in-memory state (called when a write starts)
   * @param write persists one snapshot durably (e.g. writeFileAtomic)
   */
  constructor(
    private readonly snapshot: () => string,
    private readonly write: (data: string) => Promise<void>,
  ) {}

  /** Records a change to the state; resolves once a write containing it is durable. */
  changed(): Promise<void> {
    this.generation++;
    return this.whenDurable();
  }

  /**
   * Resolves once every change recorded so far is durable: immediately when
   * it already is, otherwise after the next successful write. Rejects when the
   * write meant to carry them fails (a later change will retry the lot).
   */
  whenDurable(): Promise<void> {
    const generation = this.generation;
    if (this.durableGeneration >= generation) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ generation, resolve, reject });
      this.schedule();
    });
  }

  /** Number of writes started so far (for logs and metrics). */
  get writesStarted(): number {
    return this.writeCount;
  }

  // A microtask, not an immediate write: changes made in the same tick (a
  // Promise.all of allocations) all land in the first write.
  private schedule(): void {
    if (this.writing || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.writing || this.waiters.length === 0) return;
    this.writing = true;
    this.writeCount++;
    const generation = this.generation;
    let failure: { error: unknown } | undefined;
    try {
      await this.write(this.snapshot());
    } catch (error) {
      failure = { error };
    }
    this.writing = false;
    if (failure === undefined) this.durableGeneration = Math.max(this.durableGeneration, generation);
    const settled = this.waiters.filter((w) => w.generation <= generation);
    this.waiters = this.waiters.filter((w) => w.generation > generation);
    for (const waiter of settled) {
      if (failure === undefined) waiter.resolve();
      else waiter.reject(failure.error);
    }
    if (this.waiters.length > 0) this.schedule();
  }
}
