/**
 * Batched writes: several rtnetlink requests in one sendmsg datagram and one
 * ack for the lot, as iproute2's batch mode and vishvananda/netlink's bulk
 * paths avoid a syscall pair per object.
 *
 * The kernel walks every message of a datagram in order (netlink_rcv_skb)
 * and answers a message with NLMSG_ERROR when it fails, or when it carries
 * NLM_F_ACK. So only the last message of a batch asks for an ack: a failed
 * message still gets its own error reply, and because replies on one socket
 * arrive in order, the last message's ack means every message before it
 * without an error reply succeeded. Per request that saves one send, two
 * receives, one reply parse and one JS callback: 1000 route adds take about
 * a third of the one-request-per-datagram time (docs/benchmarks.md).
 *
 * Requests queued in the same turn of the event loop go out together
 * (flushed from setImmediate, or at once when a batch is full); a single
 * request goes out alone, as before. Each request keeps its own promise and
 * its own error.
 */
import { AttrStream, checkError, Flags, formatMessage, type NetlinkMessage, type RtNetlinkSocket } from 'netlink';

/** Messages per datagram; also bounds the error replies one batch can queue on our receive buffer. */
const MAX_MESSAGES = 256;
/** Bytes per datagram, well below the socket's send buffer (1 MiB asked). */
const MAX_BYTES = 64 * 1024;
/** Messages sent and not yet acknowledged; beyond, batches wait (the receive buffer must hold every error reply). */
const MAX_OUTSTANDING = 1024;

const PAD = new Uint8Array(4);

/** One queued request. */
export interface BatchedWrite {
  /** rtnetlink message type (RTM_NEWROUTE, ...) */
  type: number;
  /** NLM_F_* flags besides REQUEST and ACK */
  flags: number;
  /** fills the message body */
  body: (s: AttrStream) => void;
}

interface Entry {
  seq: number;
  /** the batch it went out in (set when sent) */
  batch?: SentBatch;
  w: BatchedWrite;
  /** the formatted body */
  body: Uint8Array[];
  resolve: () => void;
  reject: (err: Error) => void;
}

interface SentBatch {
  entries: Entry[];
  /** seq of the last message, the one with NLM_F_ACK */
  ackSeq: number;
}

export class WriteBatcher {
  private queue: Array<{ w: BatchedWrite; resolve: () => void; reject: (err: Error) => void }> = [];
  private flushScheduled = false;
  /** seq → entry, for every message sent and not yet answered */
  private readonly outstanding = new Map<number, Entry>();
  private closedWith: Error | null = null;
  private referenced = false;
  private readonly port: number;

  constructor(private readonly s: RtNetlinkSocket) {
    this.port = s.socket.address().port;
    // Replies whose seq the package does not wait for reach 'message': ours.
    s.socket.on('message', (msgs) => this.onReplies(msgs));
  }

  /** Queue one request; resolves on its success, rejects with the package's error text (toNetlinkError reads it). */
  write(w: BatchedWrite): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ w, resolve, reject });
      if (this.queue.length >= MAX_MESSAGES) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => { this.flushScheduled = false; this.flush(); });
      }
    });
  }

  /** Fail every queued and outstanding request (socket error or close). */
  failAll(err: Error): void {
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) q.reject(err);
    const out = [...this.outstanding.values()];
    this.outstanding.clear();
    for (const e of out) e.reject(err);
    this.updateRef();
  }

  close(err: Error): void {
    this.closedWith = err;
    this.failAll(err);
  }

  private flush(): void {
    while (this.queue.length > 0 && this.outstanding.size < MAX_OUTSTANDING) {
      const entries: Entry[] = [];
      let bytes = 0;
      const room = Math.min(MAX_MESSAGES, MAX_OUTSTANDING - this.outstanding.size);
      while (this.queue.length > 0 && entries.length < room && bytes < MAX_BYTES) {
        const q = this.queue.shift()!;
        const st = new AttrStream();
        try {
          q.w.body(st);
        } catch (err) {
          q.reject(err instanceof Error ? err : new Error(String(err)));
          continue;
        }
        const body = st.bufs as Uint8Array[];
        entries.push({ seq: this.s.socket.generateSeq(), w: q.w, body, resolve: q.resolve, reject: q.reject });
        for (const b of body) bytes += b.length;
      }
      if (entries.length > 0) this.send(entries, entries[entries.length - 1]!.seq);
    }
  }

  private send(entries: Entry[], ackSeq: number): void {
    const port = this.port;
    const parts: Uint8Array[] = [];
    for (const e of entries) {
      const flags = e.w.flags | Flags.REQUEST | (e.seq === ackSeq ? Flags.ACK : 0);
      let len = 0;
      for (const part of formatMessage({ type: e.w.type, flags, seq: e.seq, port, data: e.body })) {
        parts.push(part);
        len += part.length;
      }
      // The kernel steps to the next message at NLMSG_ALIGN(nlmsg_len); a
      // body ending in an unpadded attribute (a 6-byte MAC) must be padded
      // here, or every message after it is read from the wrong offset.
      if (len % 4 !== 0) parts.push(PAD.subarray(0, 4 - (len % 4)));
    }
    // One buffer: the package hands an array to sendmsg as that many iovecs,
    // and beyond IOV_MAX the send fails inside native code.
    const datagram = Buffer.concat(parts);
    const batch: SentBatch = { entries, ackSeq };
    for (const e of entries) {
      e.batch = batch;
      this.outstanding.set(e.seq, e);
    }
    this.updateRef();
    this.s.socket.socket.send(datagram, {}, (err) => {
      if (!err) return;
      this.settleBatch(batch, err);
    });
  }

  private onReplies(msgs: NetlinkMessage[]): void {
    for (const m of msgs) {
      const e = this.outstanding.get(m.seq);
      if (!e) continue;
      let err: Error | undefined;
      try {
        checkError(m);
      } catch (x) {
        err = x instanceof Error ? x : new Error(String(x));
      }
      this.outstanding.delete(m.seq);
      if (err) e.reject(err);
      else e.resolve();
      // the ack of the batch's last message: the rest of the batch that had no error reply succeeded
      if (e.batch && e.seq === e.batch.ackSeq) this.settleBatch(e.batch);
    }
    this.updateRef();
    if (this.queue.length > 0 && !this.flushScheduled) this.flush();
  }

  /** Settle every still-outstanding entry of `batch`: success, or `err` for all. */
  private settleBatch(batch: SentBatch, err?: Error): void {
    for (const e of batch.entries) {
      if (!this.outstanding.delete(e.seq)) continue;
      if (err) e.reject(err);
      else e.resolve();
    }
    this.updateRef();
  }

  /** Keep the event loop alive while writes are outstanding (the package unrefs an idle socket). */
  private updateRef(): void {
    const want = this.outstanding.size > 0;
    if (want === this.referenced) return; // ref/unref are native calls: only on a change
    this.referenced = want;
    this.s.socket.ref(want);
  }
}
