/**
 * Link deletion requests whose kernel wait happens on libuv's thread pool.
 *
 * The `netlink` package sends and waits on the calling thread, and a veth's
 * deletion makes the kernel wait ≈ 15–20 ms for the device's teardown
 * before it acks. Here each call is one job of the native addon (knit_netns
 * rtnlSocket, agent/native/src/rtnl.cc): a pool thread sends the requests
 * and waits for their acks; the main thread only encodes them
 * (link-delete-messages.ts) and reads one errno per request back.
 *
 * The socket is made by `openLinkDeleteSocket()` in the calling thread's
 * namespace and acts there for good, whichever pool thread sends on it: call
 * it from knitd's own namespace, outside any withNetns window.
 *
 * Jobs on one socket run one after the other (they would read each other's
 * acks): calls are queued here, and the addon refuses an overlapping job.
 * Rejections are NetlinkErrors with the operation and object names of
 * Handle.linkDel / linkSetGroup / linkDelGroup (code ENODEV for a link that
 * is already gone), so callers cannot tell the two paths apart.
 */
import { loadNativeAddon } from '../base';
import { errnoToNetlinkError, toNetlinkError } from './errors';
import { encodeLinkDel, encodeLinkDelGroup, encodeLinkSetGroup } from './link-delete-messages';

/** The native socket (rtnl.cc): requests sent and acked on the pool, one job at a time. */
export interface NativeRtnlSocket {
  /** the socket's netlink port id */
  readonly port: number;
  /** sends each request (one message asking for an ack) and resolves with its errno, 0 when acked */
  transact(requests: Buffer[]): Promise<number[]>;
  /** closes the socket (after the running job, if any) */
  close(): void;
}

interface RtnlAddon {
  /** a NETLINK_ROUTE socket (SOCK_CLOEXEC) in the calling thread's namespace */
  rtnlSocket(): NativeRtnlSocket;
}

const noop = (): void => undefined;

export class LinkDeleteSocket {
  /** The last queued job; the next one starts when it has settled. */
  private tail: Promise<unknown> = Promise.resolve();

  /** Use openLinkDeleteSocket(). */
  constructor(private readonly sock: NativeRtnlSocket) {}

  /** The socket's netlink port id (for logs and tests). */
  get port(): number {
    return this.sock.port;
  }

  /** ip link del dev #index; rejects with code ENODEV when the link is already gone. */
  async linkDel(index: number): Promise<void> {
    const object = `link #${index}`;
    const msg = encodeLinkDel(index); // a bad index throws NetlinkInputError, before the queue
    const [errno] = await this.run([msg], 'link del', object);
    if (errno !== 0) throw errnoToNetlinkError(errno!, 'link del', object);
  }

  /**
   * ip link set dev #i group G for each of `indexes`, in one job; the
   * outcome per link, in order, as Promise.allSettled reports it (a bad
   * index or a failed socket rejects those links; nothing here throws).
   */
  async linkSetGroups(indexes: readonly number[], group: number): Promise<Array<PromiseSettledResult<void>>> {
    const out: Array<PromiseSettledResult<void>> = indexes.map(() => ({ status: 'fulfilled', value: undefined }));
    const msgs: Buffer[] = [];
    const sent: number[] = []; // positions in `indexes` of msgs
    indexes.forEach((index, i) => {
      try {
        msgs.push(encodeLinkSetGroup(index, group));
        sent.push(i);
      } catch (err) {
        out[i] = { status: 'rejected', reason: err };
      }
    });
    if (msgs.length === 0) return out;
    try {
      const errnos = await this.run(msgs, 'link set group', `${msgs.length} links`);
      errnos.forEach((errno, k) => {
        const i = sent[k]!;
        if (errno !== 0) out[i] = { status: 'rejected', reason: errnoToNetlinkError(errno, 'link set group', `link #${indexes[i]}`) };
      });
    } catch (err) {
      for (const i of sent) out[i] = { status: 'rejected', reason: err };
    }
    return out;
  }

  /** ip link del group G: every link of group G in one request, one teardown wait for all. */
  async linkDelGroup(group: number): Promise<void> {
    const object = `group ${group}`;
    const msg = encodeLinkDelGroup(group);
    const [errno] = await this.run([msg], 'link del group', object);
    if (errno !== 0) throw errnoToNetlinkError(errno!, 'link del group', object);
  }

  /** Closes the socket once the running job is done; later calls reject with EBADF. */
  close(): void {
    this.sock.close();
  }

  /** Queues one job; a socket failure (not a kernel refusal) rejects as a NetlinkError naming op and object. */
  private run(msgs: Buffer[], op: string, object: string): Promise<number[]> {
    const job = this.tail.then(() => this.sock.transact(msgs)).catch((err: unknown) => {
      throw toNetlinkError(err, op, object);
    });
    this.tail = job.then(noop, noop);
    return job;
  }
}

/**
 * A link deletion socket in the calling thread's namespace. Throws when the
 * addon is not built or the socket cannot be made.
 */
export function openLinkDeleteSocket(): LinkDeleteSocket {
  return new LinkDeleteSocket(loadNativeAddon<RtnlAddon>('knit_netns').rtnlSocket());
}
