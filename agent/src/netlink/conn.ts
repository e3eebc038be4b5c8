/**
 * The sockets behind one Handle, all created inside the handle's namespace.
 *
 * - `req`: targeted requests (add/del/get-one), pipelined: many may be in
 *   flight; the package matches replies by sequence number. A window caps
 *   how many are outstanding so the kernel's acks never overflow the
 *   socket's receive buffer (an overflow would lose acks and hang callers).
 * - `dump`: NLM_F_DUMP requests, one at a time. A dump's parts arrive over
 *   several reads; on a shared socket another request's ack would land
 *   between them and the package would cut the dump short, so dumps get
 *   their own socket and a queue.
 * - the raw dumper (raw-dump.ts, opened at its first use): the route,
 *   neighbour and FDB dumps, decoded message by message as they arrive
 *   (decode.ts) instead of through the package's generic parser.
 *
 * Every failure leaves here as a NetlinkError naming the operation and object.
 */
import { createRtNetlink, Protocol, RawNetlinkSocket, type RtNetlinkSocket } from 'netlink';
import { toNetlinkError } from './errors';
import { withNetns } from './netns';
import { RawDumper, type DumpVisitor } from './raw-dump';
import { WriteBatcher, type WriteKind } from './write-batch';

/**
 * Outstanding targeted requests per handle; beyond this, callers queue.
 * Measured here: 20000 route adds through one socket with no cap aborted
 * the process inside the package's native code from about 3000 in flight;
 * with 64 they complete. Deeper pipelines gain nothing (the package reads
 * replies one at a time), see docs/benchmarks.md.
 */
const WINDOW = 64;
/** SO_RCVBUF asked for (the kernel caps it at net.core.rmem_max and doubles it). */
const RCVBUF = 1 << 20;

/**
 * `open` then `inside` (which must run in the same namespace, right after);
 * when `inside` throws, `close` undoes the socket.
 */
function opener<S>(open: () => S, close: (s: S) => void, inside?: (s: S) => void): () => S {
  return () => {
    const s = open();
    try {
      inside?.(s);
    } catch (err) {
      close(s);
      throw err;
    }
    return s;
  };
}

/**
 * Create an rtnetlink socket bound to `netns` (null: the caller's own
 * namespace). `inside` runs right after, still in that namespace.
 */
export function createSocketIn(netns: string | null, inside?: (s: RtNetlinkSocket) => void): RtNetlinkSocket {
  // createRtNetlink() calls socket(2) and bind(2) synchronously in its
  // constructor, so the socket is bound to whatever namespace is current.
  const make = opener((): RtNetlinkSocket => createRtNetlink({ recvBufferSize: RCVBUF, sendBufferSize: RCVBUF }), (s) => s.socket.close(), inside);
  return pinLocalPort(netns === null ? make() : withNetns(netns, make));
}

/**
 * A bare rtnetlink socket in `netns`: datagrams as they come, without the
 * package's wrappers, which split every datagram into a message object and
 * a Buffer view per message, and (RtNetlinkSocket) decode each with the
 * generic parser before anyone asks. For an event socket (knitd's own
 * 30 000 writes echoed back at 10 000 peers) that is garbage on top of the
 * compact decoder events.ts walks the datagram with anyway. `inside` runs in
 * the namespace.
 */
export function createRawSocketIn(netns: string | null, inside?: (s: RawNetlinkSocket) => void): RawNetlinkSocket {
  const make = opener((): RawNetlinkSocket => new RawNetlinkSocket(Protocol.ROUTE, { recvBufferSize: RCVBUF, sendBufferSize: RCVBUF }), (s) => s.close(), inside);
  return netns === null ? make() : withNetns(netns, make);
}

/**
 * The package looks up the socket's own port (getsockname(2) plus an object)
 * on every send unless told; the port never changes, so tell it once. Worth
 * about 3 µs per request in test/bench/netlink-routes.ts.
 */
function pinLocalPort(s: RtNetlinkSocket): RtNetlinkSocket {
  const nl = s.socket;
  const localPort = nl.address().port;
  const send = nl.send.bind(nl);
  nl.send = (type, data, options, callback) => send(type, data, { ...options, localPort }, callback);
  return s;
}

/**
 * Sees every request of a handle once it finished: the operation ('route
 * replace', 'link list', …) and, when it failed, the errno code. For
 * metrics; it must not throw (an exception is swallowed, never reaches the
 * caller of the request).
 */
export interface NetlinkObserver {
  onRequest?(op: string, error?: { code: string }): void;
}

/** The package's table of outstanding requests (protected there): seq → completion callback. */
type PendingTable = Map<number, (err: Error | null) => void>;

/**
 * A socket error (ENOBUFS: the kernel dropped replies because our receive
 * buffer was full) means the replies of outstanding requests may never come.
 * Without a listener the package throws inside its native callback, which
 * aborts the process; with this one every outstanding request fails with
 * the error instead of hanging, and the socket stays usable.
 */
function failPendingOnError(s: RtNetlinkSocket, batcher?: WriteBatcher): void {
  s.socket.on('error', (err) => {
    const pending = (s.socket as unknown as { requests: PendingTable }).requests;
    for (const cb of [...pending.values()]) cb(err);
    batcher?.failAll(err);
  });
}

/** What a request on a closed handle fails with (EBADF). */
function closedError(): Error {
  return Object.assign(new Error('handle closed'), { code: 'EBADF', errno: 9 });
}

export class RtConn {
  private readonly req: RtNetlinkSocket;
  private readonly dumpSock: RtNetlinkSocket;
  private readonly batcher: WriteBatcher;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private dumpChain: Promise<unknown> = Promise.resolve();
  private readonly raw: RawDumper;
  private closed = false;

  constructor(readonly netns: string | null, private readonly observer: NetlinkObserver = {}) {
    this.req = createSocketIn(netns);
    try {
      this.dumpSock = createSocketIn(netns);
    } catch (err) {
      this.req.socket.close();
      throw err;
    }
    this.raw = new RawDumper(netns);
    this.batcher = new WriteBatcher(this.req, (kind, x, err) => {
      if (err === undefined) {
        this.observe(kind.op);
        return undefined;
      }
      // the object's text is built only now: a write that succeeds never needs it
      const e = toNetlinkError(err, kind.op, kind.describe(x));
      this.observe(kind.op, e);
      return e;
    });
    failPendingOnError(this.req, this.batcher);
    failPendingOnError(this.dumpSock);
  }

  /**
   * Run one write whose only answer is an ack (route, nexthop, neighbour, FDB
   * add/replace/del) through the batcher: writes issued in the same turn of
   * the event loop share one datagram and one ack (write-batch.ts). Not
   * async: the batcher's promise is the caller's, one promise per write.
   */
  write<T>(kind: WriteKind<T>, x: T): Promise<void> {
    if (this.closed) return Promise.reject(toNetlinkError(closedError(), kind.op, kind.describe(x)));
    return this.batcher.write(kind, x);
  }

  /** Run one targeted request on the pipelined socket; errors become NetlinkError(op, object). */
  async request<T>(op: string, object: string, fn: (s: RtNetlinkSocket) => Promise<T>): Promise<T> {
    if (this.closed) throw toNetlinkError(closedError(), op, object);
    if (this.inFlight < WINDOW) this.inFlight++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // slot handed over by release
    try {
      const out = await fn(this.req);
      this.observe(op);
      return out;
    } catch (err) {
      const e = toNetlinkError(err, op, object);
      this.observe(op, e);
      throw e;
    } finally {
      this.release();
    }
  }

  private observe(op: string, error?: { code: string }): void {
    if (!this.observer.onRequest) return;
    try {
      this.observer.onRequest(op, error ? { code: error.code } : undefined);
    } catch {
      // a broken metrics hook must not fail a kernel request that succeeded
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.inFlight--;
  }

  /** Run one dump on the dump socket, after any dump already queued. */
  dump<T>(op: string, object: string, fn: (s: RtNetlinkSocket) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(toNetlinkError(closedError(), op, object));
    const run = this.dumpChain.then(() => fn(this.dumpSock)).then((out) => {
      this.observe(op);
      return out;
    }, (err: unknown) => {
      const e = toNetlinkError(err, op, object);
      this.observe(op, e);
      throw e;
    });
    this.dumpChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Run one dump of `type` (RTM_GETROUTE, RTM_GETNEIGH) with `body` as its
   * family header on the raw dumper; `visit` decodes each message as it
   * arrives. Errors (the kernel's, a malformed message, the decoder's) become
   * NetlinkError(op, object).
   */
  async rawDump(op: string, object: string, type: number, body: Buffer, visit: DumpVisitor): Promise<void> {
    if (this.closed) throw toNetlinkError(closedError(), op, object);
    try {
      await this.raw.dump(type, body, visit);
      this.observe(op);
    } catch (err) {
      const e = toNetlinkError(err, op, object);
      this.observe(op, e);
      throw e;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.raw.close();
    this.batcher.close(closedError());
    this.req.socket.close();
    this.dumpSock.socket.close();
  }
}
