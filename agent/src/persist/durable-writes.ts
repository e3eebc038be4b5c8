/**
 * State-file writes started and not yet awaited, so that other work (making
 * a veth) overlaps them; the caller reports success only after all(). Each is observed at once
 * (no unhandled rejection while other work goes on); all() throws the first
 * failure once every one has settled.
 */
export class DurableWrites {
  private readonly writes: Array<Promise<unknown>> = [];

  add(write: Promise<unknown>): void {
    this.writes.push(write.then(() => undefined, (err: unknown) => ({ failed: err })));
  }

  async all(): Promise<void> {
    for (const r of await Promise.all(this.writes)) {
      if (r !== undefined) throw (r as { failed: unknown }).failed;
    }
  }

  /** Waits for every write without throwing (before an undo, which writes again). */
  async settled(): Promise<void> {
    await Promise.all(this.writes);
  }
}
