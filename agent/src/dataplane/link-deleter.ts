/**
 * Deletes links, batching the ones requested while a deletion is running.
 *
 * Why: deleting a veth makes the kernel wait for the device's teardown (RCU
 * grace periods, references dropped) inside the netlink request, ≈ 15–20 ms
 * here, and the `netlink` package sends on knitd's only thread. So N
 * concurrent CNI DELs took N × 20 ms one after the other, where N reference
 * plugins (separate processes) overlap those waits. The kernel can tear
 * many links down with one wait: put them in one link group and delete the
 * group (`ip link del group G`): 50 veths take ≈ 25 ms that way instead of
 * ≈ 1 s one by one (measured in the lab).
 *
 * How: a request waits one turn of the event loop (setImmediate) for
 * company. Alone, it is a plain `link del` (no extra round trip). Requests
 * that arrive in that turn, or while a deletion is running, go together:
 * each link is moved into knit's deletion group, then the group is deleted
 * in one request. Only links about to be
 * deleted are ever put in that group, so deleting "the whole group" deletes
 * nothing else; a link left there by a failed batch was doomed anyway.
 *
 * The operations go through a `DeleterHandle`: knitd's is a socket whose
 * kernel waits happen on libuv's thread pool (netlink/link-delete-socket.ts),
 * or, when that cannot be opened, the main thread's netlink handle
 * (`deleterOverHandle`). This class never has two operations running at
 * once, so one socket serves it without replies crossing.
 *
 * `del` behaves like `Handle.linkDel`: it rejects with the netlink error
 * (code ENODEV when the link is already gone), so callers keep their
 * "already gone" handling.
 */
import type { Handle } from '../netlink';

/** Link group used for batched deletion ("knit" in ASCII); nothing else lives there. */
export const KNIT_DELETE_GROUP = 0x6b6e6974;

interface Pending {
  index: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The netlink operations deletion needs; LinkDeleter runs one at a time. */
export interface DeleterHandle {
  /** ip link del dev #index; rejects with code ENODEV when it is already gone */
  linkDel(index: number): Promise<void>;
  /** ip link set dev #i group G for each link: the outcome per link, in order, as Promise.allSettled gives it */
  linkSetGroups(indexes: readonly number[], group: number): Promise<Array<PromiseSettledResult<void>>>;
  /** ip link del group G: every link of the group, one request */
  linkDelGroup(group: number): Promise<void>;
}

/**
 * The operations over a netlink Handle (the main thread's): the group moves
 * are ordinary targeted requests, pipelined on its socket.
 */
export function deleterOverHandle(nl: Pick<Handle, 'linkDel' | 'linkSetGroup' | 'linkDelGroup'>): DeleterHandle {
  return {
    linkDel: (index) => nl.linkDel(index),
    linkSetGroups: (indexes, group) => Promise.allSettled(indexes.map((index) => nl.linkSetGroup(index, group))),
    linkDelGroup: (group) => nl.linkDelGroup(group),
  };
}

export class LinkDeleter {
  private queue: Pending[] = [];
  private running = false;
  /** Links deleted through a group request, and the number of group requests (for logs and tests). */
  readonly stats = { single: 0, batched: 0, batches: 0 };

  constructor(private readonly nl: DeleterHandle, private readonly group = KNIT_DELETE_GROUP) {}

  /** Deletes link `index` (ip link del); batched with others when deletions overlap. */
  del(index: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ index, resolve, reject });
      if (!this.running) {
        this.running = true;
        // One turn of the event loop first: DELs whose lookups are answered
        // in the same poll round join this batch instead of waiting behind
        // a lone delete's teardown wait (one operation runs at a time).
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        if (batch.length === 1) await this.single(batch[0]!);
        else await this.batch(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async single(p: Pending): Promise<void> {
    try {
      await this.nl.linkDel(p.index);
      this.stats.single++;
      p.resolve();
    } catch (err) {
      p.reject(err);
    }
  }

  private async batch(batch: Pending[]): Promise<void> {
    // The moves are cheap (no teardown wait); all of them in one call.
    let moved: Array<PromiseSettledResult<void>>;
    try {
      moved = await this.nl.linkSetGroups(batch.map((p) => p.index), this.group);
    } catch (err) {
      for (const p of batch) p.reject(err); // its contract is not to throw; if it does, no member hangs
      return;
    }
    const members: Pending[] = [];
    moved.forEach((m, i) => {
      if (m.status === 'fulfilled') members.push(batch[i]!);
      else batch[i]!.reject(m.reason); // e.g. ENODEV: already gone
    });
    if (members.length === 0) return;
    try {
      await this.nl.linkDelGroup(this.group);
      this.stats.batched += members.length;
      this.stats.batches++;
      for (const p of members) p.resolve();
    } catch (err) {
      // ENODEV here means every member vanished after its move: callers see "already gone".
      for (const p of members) p.reject(err);
    }
  }
}
