/**
 * Dumps decoded as they arrive. The `netlink` package collects every part of
 * a dump (a header object and a Buffer view per message) until NLMSG_DONE,
 * then parses each with its generic parser; for 30 000 routes, neighbours
 * and FDB entries that is tens of MiB of short-lived objects (issue 17). A
 * RawDumper owns one raw rtnetlink socket of its own, sends the dump request
 * itself, walks each datagram in place and hands every message body to the
 * caller's decoder (decode.ts), so a dump costs one result object per kernel
 * object and nothing else.
 *
 * One dump at a time (the kernel answers a second dump on the same socket
 * with EBUSY while one runs). A datagram whose framing is broken leaves the
 * socket's position in the stream unknown: the dump fails with a
 * NetlinkDecodeError and the socket is closed; the next dump opens another.
 * An exception from the caller's decoder fails the dump, but the rest of it
 * is still read off the socket (by sequence number) so the next one starts
 * clean.
 */
import { Protocol, RawNetlinkSocket } from 'netlink';
import { endianness } from 'node:os';
import { NetlinkDecodeError, NLMSG_HDRLEN, readErrno, readHeader } from './decode';
import { errnoName } from './errors';
import { withNetns } from './netns';

const NLMSG_NOOP = 1;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSG_OVERRUN = 4;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
/** SO_RCVBUF asked for (the kernel caps it at net.core.rmem_max and doubles it). */
const RCVBUF = 1 << 20;
const LE = endianness() === 'LE';

/** Called for each message of the dump: its type and the body's bounds in `buf`. */
export type DumpVisitor = (type: number, buf: Buffer, start: number, end: number) => void;

interface Running {
  seq: number;
  visit: DumpVisitor;
  resolve: () => void;
  reject: (err: Error) => void;
  /** the first error; the dump is drained to its end, then rejected */
  failed?: Error;
}

/** An errno from an NLMSG_ERROR reply, shaped as the package rejects (toNetlinkError reads it). */
function errnoError(errno: number): Error {
  return new Error(`Request rejected: ${errnoName(errno)}`);
}

export class RawDumper {
  private sock: RawNetlinkSocket | undefined;
  private seq = 1;
  private running: Running | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** `netns`: the namespace the socket is created in (null: the caller's own). */
  constructor(private readonly netns: string | null) {}

  /**
   * Dump messages of `type` (RTM_GETROUTE, RTM_GETNEIGH) with `body` (the
   * family header) as the request; `visit` sees every message body; resolves
   * at NLMSG_DONE. Queued behind a dump in progress.
   */
  dump(type: number, body: Buffer, visit: DumpVisitor): Promise<void> {
    const run = this.chain.then(() => this.start(type, body, visit));
    this.chain = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.closed = true;
    this.drop(Object.assign(new Error('handle closed'), { code: 'EBADF', errno: 9 }));
  }

  private socket(): RawNetlinkSocket {
    if (this.sock) return this.sock;
    const make = (): RawNetlinkSocket => new RawNetlinkSocket(Protocol.ROUTE, { recvBufferSize: RCVBUF, sendBufferSize: RCVBUF });
    const s = this.netns === null ? make() : withNetns(this.netns, make);
    // a dropped socket's late callbacks must not touch its successor
    s.on('message', (buf) => { if (this.sock === s) this.onDatagram(buf); });
    s.on('truncatedMessage', (buf) => {
      if (this.sock === s) this.fail(new NetlinkDecodeError('dump datagram', 0, `truncated by the receive buffer (${buf.length} bytes kept)`), true);
    });
    s.on('error', (err) => { if (this.sock === s) this.fail(err, true); });
    s.unref();
    this.sock = s;
    return s;
  }

  private start(type: number, body: Buffer, visit: DumpVisitor): Promise<void> {
    if (this.closed) return Promise.reject(Object.assign(new Error('handle closed'), { code: 'EBADF', errno: 9 }));
    const s = this.socket();
    const seq = this.seq;
    this.seq = (this.seq % 0xffffffff) + 1;
    const msg = Buffer.alloc(NLMSG_HDRLEN + body.length);
    const w32 = (v: number, o: number): void => { if (LE) msg.writeUInt32LE(v, o); else msg.writeUInt32BE(v, o); };
    const w16 = (v: number, o: number): void => { if (LE) msg.writeUInt16LE(v, o); else msg.writeUInt16BE(v, o); };
    w32(msg.length, 0);
    w16(type, 4);
    w16(NLM_F_REQUEST | NLM_F_DUMP, 6);
    w32(seq, 8);
    w32(s.address().port, 12);
    body.copy(msg, NLMSG_HDRLEN);
    return new Promise<void>((resolve, reject) => {
      this.running = { seq, visit, resolve, reject };
      s.ref();
      s.send(msg, {}, (err) => { if (err && this.sock === s) this.fail(err, true); });
    });
  }

  private onDatagram(buf: Buffer): void {
    const r = this.running;
    if (!r) return; // the tail of a dump that was failed and dropped
    let off = 0;
    try {
      while (off < buf.length) {
        const h = readHeader(buf, off);
        const start = off + NLMSG_HDRLEN;
        const end = off + h.length;
        off += (h.length + 3) & ~3;
        if (h.seq !== r.seq || h.type === NLMSG_NOOP) continue;
        if (h.type === NLMSG_DONE) {
          this.finish(r);
          return;
        }
        if (h.type === NLMSG_ERROR) {
          const errno = readErrno(buf, start, end);
          if (errno !== 0) {
            r.failed ??= errnoError(errno);
            this.finish(r);
            return;
          }
          continue;
        }
        if (h.type === NLMSG_OVERRUN) throw new NetlinkDecodeError('dump', off, 'NLMSG_OVERRUN: data lost');
        if (r.failed) continue;
        try {
          r.visit(h.type, buf, start, end);
        } catch (err) {
          r.failed = err instanceof Error ? err : new Error(String(err));
        }
      }
    } catch (err) {
      // framing broken: where the next message starts is unknown
      this.fail(err instanceof Error ? err : new Error(String(err)), true);
    }
  }

  private finish(r: Running): void {
    this.running = undefined;
    this.sock?.unref();
    if (r.failed) r.reject(r.failed);
    else r.resolve();
  }

  /** Fail the running dump; with `drop` the socket goes too (its stream position is lost). */
  private fail(err: Error, drop: boolean): void {
    const r = this.running;
    this.running = undefined;
    if (drop) {
      const s = this.sock;
      this.sock = undefined;
      try {
        s?.close();
      } catch {
        // already closed
      }
    }
    r?.reject(r.failed ?? err);
  }

  private drop(err: Error): void {
    this.fail(err, true);
  }
}
