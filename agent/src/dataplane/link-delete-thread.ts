/**
 * Link deletion on a worker thread, so the kernel's teardown wait never
 * blocks knitd's event loop.
 *
 * The `netlink` package sends synchronously, and deleting a veth makes the
 * kernel wait ≈ 15–20 ms for the device's teardown inside that send. On the
 * main thread that wait stalls everything: other CNI requests, their plugin
 * connections, the gRPC API. On a worker thread with its own netlink socket
 * the main thread keeps serving, and the requests that queue up while the
 * worker waits go together as one group delete (LinkDeleter).
 *
 * The worker is started from the main thread at start-up, outside any setns
 * window, so it lives in knitd's own network namespace (a new thread
 * inherits its creator's namespaces). If the worker dies, deletions fall
 * back to the given main-thread handle: slower, never wrong.
 *
 * This file is both the main-thread proxy and (when loaded as a worker) the
 * worker's entry point; the worker builds its own netlink handle because a
 * socket cannot be handed across threads.
 *
 * A deletion counts as done when the link has left the namespace (its
 * RTM_DELLINK, seen on the main thread) or the worker reports the ack,
 * whichever is first: see unlisted-links.ts.
 */
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import type { Handle } from '../netlink';
import type { Logger } from '../log/logger';
import { LinkDeleter } from './link-deleter';
import { UnlistedLinks } from './unlisted-links';

interface DeleteRequest { id: number; index: number }
interface DeleteReply { id: number; error?: { message: string; code?: string } }

/** Main-thread side: `del` resolves/rejects like `Handle.linkDel`. */
export class ThreadedLinkDeleter {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  private readonly fallback: LinkDeleter;
  private readonly unlisted: UnlistedLinks;

  /** `nl` (knitd's own namespace) hears the links leave; it deletes only if the worker is gone. */
  constructor(nl: Pick<Handle, 'linkDel' | 'linkSetGroup' | 'linkDelGroup' | 'subscribe'>, private readonly log: Logger) {
    this.fallback = new LinkDeleter(nl);
    this.unlisted = new UnlistedLinks(nl, log);
    const worker = new Worker(__filename);
    worker.unref();
    worker.on('message', (m: DeleteReply) => this.settle(m));
    worker.on('error', (err) => this.lost(`failed: ${err.message}`));
    worker.on('exit', (code) => this.lost(`exited with code ${code}`));
    this.worker = worker;
  }

  /**
   * Deletes link `index` (ip link del) and resolves once it has left the
   * namespace; ENODEV-coded rejection when it is already gone.
   */
  del(index: number): Promise<void> {
    return this.unlisted.delete(index, () => this.acked(index));
  }

  private acked(index: number): Promise<void> {
    const worker = this.worker;
    if (!worker) return this.fallback.del(index);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, index } satisfies DeleteRequest);
    });
  }

  /** Stops the worker; later deletions use the main-thread handle. */
  async close(): Promise<void> {
    this.unlisted.close();
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private settle(m: DeleteReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (!m.error) p.resolve();
    else p.reject(Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}));
  }

  private lost(why: string): void {
    if (!this.worker) return; // closed on purpose
    this.worker = undefined;
    this.log.error('link delete worker lost; deleting on the main thread from now on', { reason: why, pending: this.pending.size });
    for (const p of this.pending.values()) p.reject(new Error(`link delete worker ${why}`));
    this.pending.clear();
  }
}

/** Worker side: one netlink handle in knitd's namespace, deletions batched. */
function runWorker(): void {
  const port = parentPort!;
  // Loaded lazily: the main thread's import of this file must not open sockets.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { openHandle } = require('../netlink') as typeof import('../netlink');
  const deleter = new LinkDeleter(openHandle());
  port.on('message', (m: DeleteRequest) => {
    deleter.del(m.index).then(
      () => port.postMessage({ id: m.id } satisfies DeleteReply),
      (err: unknown) => {
        const e = err as { message?: string; code?: unknown };
        port.postMessage({
          id: m.id,
          error: { message: e.message ?? String(err), ...(typeof e.code === 'string' ? { code: e.code } : {}) },
        } satisfies DeleteReply);
      },
    );
  });
}

if (!isMainThread && parentPort) runWorker();
