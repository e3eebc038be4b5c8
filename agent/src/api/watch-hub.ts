/**
 * Watch fan-out: one subscription to the state source, one bounded queue per
 * client.
 *
 * Why bounded: a client that stops reading (a paused `knitctl watch`, a
 * stuck dashboard) would otherwise make knitd buffer every future event for
 * it. Each client gets at most `queueLimit` queued events; writes to the
 * gRPC stream stop whenever it reports back-pressure (`write` false), so
 * the stream itself holds only its own small high-water mark. On overflow
 * the client is dropped: its queue is freed at once and the stream ends with
 * RESOURCE_EXHAUSTED telling it to watch again (it will get a fresh snapshot).
 *
 * Ordering: a client subscribes before its snapshot is read, buffers what
 * happens meanwhile, and replays it after the snapshot; events may thus
 * repeat what the snapshot already shows, never miss a change.
 */
import { status } from '@grpc/grpc-js';
import type { WatchEvent } from './gen/knit/v1/WatchEvent';
import type { StateChange } from './state-source';

/** The part of a gRPC server stream the hub uses (a fake in unit tests). */
export interface WatchSink {
  write(ev: WatchEvent): boolean;
  once(event: 'drain', cb: () => void): unknown;
  /** Ends the stream with an error status. */
  fail(code: status, details: string): void;
}

/** Counters the hub reports (wired to KnitMetrics by the server). */
export interface WatchHubObserver {
  watchers(n: number): void;
  dropped(): void;
}

/** One connected Watch client. */
export class WatchClient {
  private queue: WatchEvent[] = [];
  private live = false;
  private waitingDrain = false;
  private closed = false;
  private seq = 0;

  constructor(
    private readonly sink: WatchSink,
    private readonly queueLimit: number,
    private readonly onOverflow: (c: WatchClient) => void,
    private readonly now: () => Date,
  ) {}

  /** Events queued and not yet handed to the stream. */
  get queued(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues an event; before `start` it is held back until the snapshot is sent. */
  push(ev: WatchEvent): void {
    if (this.closed) return;
    if (this.queue.length >= this.queueLimit) {
      this.overflow();
      return;
    }
    this.queue.push(ev);
    if (this.live) this.pump();
  }

  /** Sends the snapshot first, then whatever was queued meanwhile. */
  start(snapshot: WatchEvent): void {
    if (this.closed) return;
    this.queue.unshift(snapshot);
    this.live = true;
    this.pump();
  }

  /** Stops sending (client gone or server closing); frees the queue. */
  close(): void {
    this.closed = true;
    this.queue = [];
  }

  /** Frees the queue and ends the stream with an error status. */
  end(code: status, details: string): void {
    this.close();
    this.sink.fail(code, details);
  }

  private overflow(): void {
    this.close();
    this.onOverflow(this);
    this.sink.fail(
      status.RESOURCE_EXHAUSTED,
      `watch client fell more than ${this.queueLimit} events behind and was dropped; call Watch again for a fresh snapshot`,
    );
  }

  private pump(): void {
    while (!this.closed && !this.waitingDrain && this.queue.length > 0) {
      const ev = this.queue.shift() as WatchEvent;
      this.seq += 1;
      const ok = this.sink.write({ ...ev, sequence: this.seq, time: this.now().toISOString() });
      if (!ok) {
        this.waitingDrain = true;
        this.sink.once('drain', () => {
          this.waitingDrain = false;
          this.pump();
        });
      }
    }
  }
}

/** Shares one source subscription among all Watch clients. */
export class WatchHub {
  private readonly clients = new Set<WatchClient>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly subscribe: (listener: (c: StateChange) => void) => () => void,
    private readonly toWire: (c: StateChange) => WatchEvent,
    private readonly queueLimit: number,
    private readonly observer: WatchHubObserver,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Registers a client; events from now on are queued for it. */
  add(sink: WatchSink): WatchClient {
    const client = new WatchClient(sink, this.queueLimit, (c) => {
      this.remove(c);
      this.observer.dropped();
    }, this.now);
    this.clients.add(client);
    this.observer.watchers(this.clients.size);
    if (this.unsubscribe === undefined) this.unsubscribe = this.subscribe((c) => this.broadcast(c));
    return client;
  }

  remove(client: WatchClient): void {
    client.close();
    if (!this.clients.delete(client)) return;
    this.observer.watchers(this.clients.size);
    if (this.clients.size === 0 && this.unsubscribe !== undefined) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  /** Ends every client's stream with `code` (server shutdown). */
  closeAll(code: status, details: string): void {
    for (const c of [...this.clients]) {
      this.remove(c);
      c.end(code, details);
    }
  }

  private broadcast(change: StateChange): void {
    // Converted once, shared by every client (each adds its own sequence/time).
    const ev = this.toWire(change);
    for (const c of this.clients) c.push(ev);
  }
}
