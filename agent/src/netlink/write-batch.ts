/**
 * Batched writes: several rtnetlink requests in one sendmsg datagram and one
 * ack for the lot, as iproute2's batch mode and vishvananda/netlink's bulk
 * paths avoid a syscall pair per object.
 *
 * The kernel walks every message of a datagram in order (netlink_rcv_skb)
 * and answers a message with NLMSG_ERROR when it fails, or when it carries
 * NLM_F_ACK. So only the last message of a datagram asks for an ack: a
 * failed message still gets its own error reply, and because replies on one
 * socket arrive in order, an ack means every earlier message without an
 * error reply succeeded. Per request that saves one send, two receives, one
 * reply parse and one JS callback (docs/benchmarks.md).
 *
 * A request is encoded when it is issued, straight into the datagram being
 * filled (encode.ts), so a queued request costs its bytes and one small
 * record, not a message object, attribute buffers and a closure. Requests
 * issued in the same turn of the event loop go out together (sealed from a
 * microtask, or at once when the datagram is full). The sequence numbers are
 * the batcher's own, consecutive, in the upper half of the space (the
 * package numbers its own requests on this socket from 1), so a reply finds
 * its request by subtraction. Each request keeps its own promise and error.
 */
import { checkError, Flags, type NetlinkMessage, type RtNetlinkSocket } from 'netlink';
import { MessageWriter } from './encode';

/** Messages per datagram; also bounds the error replies one batch can queue on our receive buffer. */
const MAX_MESSAGES = 256;
/** Bytes per datagram, well below the socket's send buffer (1 MiB asked). */
const MAX_BYTES = 64 * 1024;
/** Messages sent and not yet acknowledged; beyond, datagrams wait (the receive buffer must hold every error reply). */
const MAX_OUTSTANDING = 1024;
/** Our sequence numbers: SEQ_BASE + a 31-bit counter. */
const SEQ_BASE = 0x80000000;
const SEQ_MASK = 0x7fffffff;

/** One kind of write (route replace, neighbour delete, ...): static, shared by every request of that kind. */
export interface WriteKind<T> {
  /** the operation, as errors and metrics name it ('route replace') */
  readonly op: string;
  /** rtnetlink message type (RTM_NEWROUTE, ...) */
  readonly type: number;
  /** NLM_F_* flags besides REQUEST and ACK */
  readonly flags: number;
  /** writes the body (family struct and attributes); throws NetlinkInputError on a bad field, before anything is sent */
  encode(w: MessageWriter, x: T): void;
  /** the object, for an error message (called only when the write failed) */
  describe(x: T): string;
}

/** Maps a write's outcome before its promise settles (conn.ts: metrics, and the typed NetlinkError). */
export type WriteSettled = <T>(kind: WriteKind<T>, x: T, err?: Error) => Error | undefined;

interface Entry {
  seq: number;
  kind: WriteKind<unknown>;
  x: unknown;
  /** the last message of its datagram: carries NLM_F_ACK */
  ack: boolean;
  done: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Datagram {
  data: Buffer;
  entries: Entry[];
}

export class WriteBatcher {
  private readonly w = new MessageWriter(MAX_BYTES + 4096);
  /** encoded into `w`, not sealed yet */
  private open: Entry[] = [];
  private lastStart = 0;
  private sealScheduled = false;
  /** sealed, waiting for room under MAX_OUTSTANDING */
  private ready: Datagram[] = [];
  /** sent, in seq order, from `head`: the first not yet settled */
  private sent: Entry[] = [];
  private head = 0;
  /** entries sent and not settled */
  private live = 0;
  private nextSeq = 0;
  private closedWith: Error | null = null;
  private referenced = false;
  private readonly port: number;

  constructor(private readonly s: RtNetlinkSocket, private readonly settled: WriteSettled) {
    this.port = s.socket.address().port;
    // Replies whose seq the package does not wait for reach 'message': ours.
    s.socket.on('message', (msgs) => this.onReplies(msgs));
  }

  /** Queue one request; resolves on its success, rejects with what `settled` makes of the kernel's error (or the encoder's NetlinkInputError). */
  write<T>(kind: WriteKind<T>, x: T): Promise<void> {
    if (this.closedWith) return Promise.reject(this.settled(kind, x, this.closedWith));
    const seq = SEQ_BASE + (this.nextSeq & SEQ_MASK);
    const start = this.w.begin(kind.type, kind.flags | Flags.REQUEST, seq, this.port);
    try {
      kind.encode(this.w, x);
    } catch (err) {
      this.w.rewind(start);
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.w.end(start);
    this.nextSeq = (this.nextSeq + 1) & SEQ_MASK;
    this.lastStart = start;
    return new Promise<void>((resolve, reject) => {
      this.open.push({ seq, kind: kind as WriteKind<unknown>, x, ack: false, done: false, resolve, reject });
      if (this.open.length >= MAX_MESSAGES || this.w.len >= MAX_BYTES) this.seal();
      else if (!this.sealScheduled) {
        this.sealScheduled = true;
        queueMicrotask(() => { this.sealScheduled = false; this.seal(); });
      }
    });
  }

  /** Fail every queued and outstanding request (socket error or close). */
  failAll(err: Error): void {
    const open = this.open;
    const ready = this.ready;
    const sent = this.sent.slice(this.head);
    this.open = [];
    this.ready = [];
    this.sent = [];
    this.head = 0;
    this.live = 0;
    this.w.rewind(0);
    for (const e of open) this.finish(e, err);
    for (const d of ready) for (const e of d.entries) this.finish(e, err);
    for (const e of sent) this.finish(e, err);
    this.updateRef();
  }

  close(err: Error): void {
    this.closedWith = err;
    this.failAll(err);
  }

  /** The open datagram is complete: its last message asks for the ack; send it when there is room. */
  private seal(): void {
    if (this.open.length === 0) return;
    this.w.orFlags(this.lastStart, Flags.ACK);
    this.open[this.open.length - 1]!.ack = true;
    this.ready.push({ data: this.w.take(), entries: this.open });
    this.open = [];
    this.pump();
  }

  private pump(): void {
    while (this.ready.length > 0) {
      const d = this.ready[0]!;
      const inFlight = this.sent.length - this.head;
      if (inFlight > 0 && inFlight + d.entries.length > MAX_OUTSTANDING) return;
      this.ready.shift();
      this.send(d);
    }
  }

  private send(d: Datagram): void {
    for (const e of d.entries) this.sent.push(e);
    this.live += d.entries.length;
    this.updateRef();
    this.s.socket.socket.send(d.data, {}, (err) => {
      if (!err) return;
      for (const e of d.entries) this.finish(e, err);
      this.trim();
    });
  }

  private onReplies(msgs: NetlinkMessage[]): void {
    for (const m of msgs) {
      if (this.head >= this.sent.length) break;
      const idx = ((m.seq >>> 0) - this.sent[this.head]!.seq) & SEQ_MASK;
      const e = this.sent[this.head + idx];
      if (e === undefined || e.seq !== m.seq >>> 0) continue; // not ours, or already gone
      let err: Error | undefined;
      try {
        checkError(m);
      } catch (x) {
        err = x instanceof Error ? x : new Error(String(x));
      }
      this.finish(e, err);
      // the ack of a datagram's last message: every earlier message without an error reply succeeded
      if (e.ack) for (let i = this.head; i < this.head + idx; i++) this.finish(this.sent[i]!);
      this.trim();
    }
    this.updateRef();
    this.pump();
  }

  /** Settle one entry (once): success, or `err`. */
  private finish(e: Entry, err?: Error): void {
    if (e.done) return;
    e.done = true;
    if (this.live > 0) this.live--;
    const mapped = this.settled(e.kind, e.x, err);
    if (mapped) e.reject(mapped);
    else e.resolve();
  }

  /** Drop the settled entries at the front of `sent`. */
  private trim(): void {
    while (this.head < this.sent.length && this.sent[this.head]!.done) this.head++;
    if (this.head === this.sent.length) {
      this.sent = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.sent.length) {
      this.sent = this.sent.slice(this.head);
      this.head = 0;
    }
    this.updateRef();
  }

  /** Keep the event loop alive while writes are outstanding (the package unrefs an idle socket). */
  private updateRef(): void {
    const want = this.live > 0;
    if (want === this.referenced) return; // ref/unref are native calls: only on a change
    this.referenced = want;
    this.s.socket.ref(want);
  }
}
