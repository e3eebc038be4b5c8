/**
 * knitd's link deletion: the kernel's teardown wait happens on libuv's
 * thread pool, so it never blocks the event loop.
 *
 * The `netlink` package sends synchronously, and deleting a veth makes the
 * kernel wait ≈ 15–20 ms for the device's teardown inside that send. On the
 * main thread that wait stalls everything: other CNI requests, their plugin
 * connections, the gRPC API. So the deletions go through a socket of their
 * own whose requests are sent and acked by a pool job of knit's addon
 * (netlink/link-delete-socket.ts); the requests that queue up meanwhile go
 * together as one group delete (LinkDeleter). A worker thread did this
 * before, at the price of a second V8 isolate (≈ 13 MiB of RSS for good);
 * a pool job holds a pool thread only while it waits.
 *
 * The socket is opened here, from the main thread at start-up, outside any
 * setns window, so it acts in knitd's own network namespace whichever pool
 * thread uses it. If it cannot be opened (the addon is not built), the
 * deletions run on the main thread's netlink handle: slower, never wrong,
 * and said once in the log.
 *
 * A deletion counts as done when the link has left the namespace (its
 * RTM_DELLINK, seen on the main thread's event socket) or the kernel acks
 * it, whichever is first: see unlisted-links.ts.
 */
import type { Handle } from '../netlink';
import type { Logger } from '../log/logger';
import { errorMessage } from '../base';
import { deleterOverHandle, LinkDeleter, type DeleterHandle } from './link-deleter';
import { UnlistedLinks } from './unlisted-links';

/** The pool socket (netlink's LinkDeleteSocket): the deleter's operations, and close. */
export interface PoolDeleteSocket extends DeleterHandle {
  /** closes the socket once its running job is done */
  close(): void;
}

export class PoolLinkDeleter {
  private readonly socket: PoolDeleteSocket | undefined;
  private readonly deleter: LinkDeleter;
  private readonly unlisted: UnlistedLinks;

  /**
   * `openSocket` makes the pool socket (called once, here, on the calling
   * thread); `nl` (knitd's own namespace) hears the links leave, and
   * deletes them itself when the socket cannot be opened.
   */
  constructor(
    nl: Pick<Handle, 'linkDel' | 'linkSetGroup' | 'linkDelGroup' | 'subscribe'>,
    openSocket: () => PoolDeleteSocket,
    log: Logger,
  ) {
    let socket: PoolDeleteSocket | undefined;
    try {
      socket = openSocket();
    } catch (err) {
      log.warn('no link deletion socket; veths are deleted on the main thread, which waits ≈ 20 ms for each teardown',
        { error: errorMessage(err) });
    }
    this.socket = socket;
    this.deleter = new LinkDeleter(socket ?? deleterOverHandle(nl));
    this.unlisted = new UnlistedLinks(nl, log);
  }

  /** True when deletions wait on the thread pool, false when on the main thread. */
  get onPool(): boolean {
    return this.socket !== undefined;
  }

  /** How deletions went: plain and group deletes, ended at the event or at the ack (for logs and tests). */
  get stats(): LinkDeleter['stats'] & UnlistedLinks['stats'] {
    return { ...this.deleter.stats, ...this.unlisted.stats };
  }

  /**
   * Deletes link `index` (ip link del) and resolves once it has left the
   * namespace; ENODEV-coded rejection when it is already gone.
   */
  del(index: number): Promise<void> {
    return this.unlisted.delete(index, () => this.deleter.del(index));
  }

  /** Stops listening and closes the socket (after its running job); later deletions reject (EBADF). */
  close(): void {
    this.unlisted.close();
    this.socket?.close();
  }
}
