/**
 * The lease watch: one etcd watch stream over the subnets prefix, resumed
 * from the next revision after every disconnect. We drive the raw gRPC
 * stream instead of etcd3's Watcher because that one hides the compaction
 * signal (it reports a compacted start revision only as an opaque
 * "Watcher canceled" error), and knit must re-list when history is gone.
 *
 * States: connecting -> watching -> (error) backoff -> connecting …;
 * on compaction: relisting -> connecting; closed is final.
 */
import type { Etcd3, IKeyValue, IWatchResponse } from 'etcd3';
import { Backoff, realClock, Timer, type Clock, errorMessage } from '../base';
import type { Logger } from '../log/logger';
import type { LeaseEvent, LeaseList, LeaseWatch, LeaseWatchHandlers, ParsedKv } from './lease-record';

/** Everything a watch needs, passed in by the registry. */
export interface WatchLeaseParams {
  client: Etcd3;
  prefix: Buffer;
  /** End of the prefix range (exclusive). */
  rangeEnd: Buffer;
  fromRevision: number;
  batchWindowMs: number;
  parse(kv: IKeyValue): ParsedKv;
  subnetOfKey(key: Buffer): string | undefined;
  relist(): Promise<LeaseList>;
  handlers: LeaseWatchHandlers;
  log: Logger;
  /** Back-off bounds for reconnects (default 100 ms … 5 s, doubled, ±20 % jitter). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Timers and jitter; default realClock. */
  clock?: Clock;
}

type State = 'connecting' | 'watching' | 'backoff' | 'relisting' | 'closed';

/** Starts a watch; see the module comment. */
export function watchLeasePrefix(p: WatchLeaseParams): LeaseWatch {
  const w = new PrefixWatch(p);
  w.start();
  return w;
}

class PrefixWatch implements LeaseWatch {
  private state: State = 'connecting';
  private next: number;
  private stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>> | undefined;
  /** the reconnect or re-list retry */
  private readonly timer: Timer;
  /** delivers a burst of events as one batch */
  private readonly batchTimer: Timer;
  private retryFn: () => void = () => undefined;
  private readonly clock: Clock;
  /** when the last batch was delivered (clock.now()) */
  private lastFlushAt = -Infinity;
  private pending: LeaseEvent[] = [];
  private readonly backoff: Backoff;
  /** Bumped on every (re)connect so callbacks of an abandoned stream are ignored. */
  private generation = 0;

  constructor(private readonly p: WatchLeaseParams) {
    this.next = p.fromRevision;
    const clock = p.clock ?? realClock;
    this.clock = clock;
    this.backoff = new Backoff({ minMs: p.minBackoffMs ?? 100, maxMs: p.maxBackoffMs ?? 5000, jitter: 0.2, random: () => clock.random() });
    this.timer = new Timer(clock, () => this.retryFn());
    this.batchTimer = new Timer(clock, () => this.flush());
  }

  private to(state: State, why: string): void {
    if (this.state === state) return;
    this.p.log.debug(`lease watch ${this.state} -> ${state}`, { why, revision: this.next });
    this.state = state;
  }

  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.to('connecting', 'connect');
    const gen = ++this.generation;
    this.p.client.watchClient
      .watch()
      .then((stream) => {
        if (gen !== this.generation || this.state === 'closed') {
          stream.cancel();
          return;
        }
        this.stream = stream;
        stream.on('data', (res: IWatchResponse) => this.onResponse(gen, res));
        stream.on('error', (err: Error) => this.onStreamError(gen, err));
        stream.on('end', () => this.onStreamError(gen, new Error('watch stream ended')));
        stream.write({
          create_request: { key: this.p.prefix, range_end: this.p.rangeEnd, start_revision: this.next, progress_notify: true },
        });
      })
      .catch((err: Error) => this.onStreamError(gen, err));
  }

  private onResponse(gen: number, res: IWatchResponse): void {
    if (gen !== this.generation || this.state === 'closed') return;
    if (res.compact_revision !== undefined && res.compact_revision !== '0' && res.compact_revision !== '') {
      this.p.log.warn('lease watch fell behind a compaction; re-listing', { wanted: this.next, compactRevision: res.compact_revision });
      this.relist(gen);
      return;
    }
    if (res.canceled) {
      this.onStreamError(gen, new Error(`watch canceled by etcd: ${res.cancel_reason || 'no reason given'}`));
      return;
    }
    if (res.created && Number(res.header?.revision ?? 0) < this.next - 1) {
      // etcd is behind what we already saw (restored from a backup, or a new
      // cluster at the same address): a watch from `next` would wait for
      // revisions that mean something else. Start over from a full list.
      this.p.log.warn('etcd revision went backwards; re-listing', { wanted: this.next, etcdRevision: res.header.revision });
      this.relist(gen);
      return;
    }
    if (res.created) {
      this.to('watching', 'created');
      this.backoff.reset();
    }
    for (const ev of res.events ?? []) {
      const rev = Number(ev.kv.mod_revision);
      if (ev.type === 'Delete') {
        const subnet = this.p.subnetOfKey(ev.kv.key);
        if (subnet !== undefined) this.pending.push({ type: 'delete', subnet, modRevision: rev });
      } else {
        const parsed = this.p.parse(ev.kv);
        this.pending.push(parsed.ok ? { type: 'put', record: parsed.record } : { type: 'invalid', entry: parsed.entry });
      }
      this.next = Math.max(this.next, rev + 1);
    }
    // A progress notification (no events) still proves nothing below header.revision is pending.
    if ((res.events ?? []).length === 0 && res.header?.revision) {
      this.next = Math.max(this.next, Number(res.header.revision) + 1);
    }
    if (this.pending.length === 0 || this.batchTimer.armed) return;
    // Leading edge: a lone change (nothing delivered within the window) goes
    // out at once, so a join costs etcd's delay and not the window too; what
    // follows within the window is coalesced into one trailing delivery, so a
    // burst of thousands of leases still arrives as a few batches.
    const since = this.clock.now() - this.lastFlushAt;
    if (since >= this.p.batchWindowMs) this.flush();
    else this.batchTimer.arm(this.p.batchWindowMs - since);
  }

  private flush(): void {
    if (this.state === 'closed' || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.lastFlushAt = this.clock.now();
    try {
      this.p.handlers.onEvents(batch);
    } catch (err) {
      this.p.log.error('lease watch handler threw', { error: errorMessage(err) });
    }
  }

  private dropStream(): void {
    this.generation++;
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      try {
        s.cancel();
      } catch {
        // already gone
      }
    }
  }

  private onStreamError(gen: number, err: Error): void {
    if (gen !== this.generation || this.state === 'closed') return;
    this.dropStream();
    // Deliver what we already have: those events are real, the error is only about what follows.
    if (this.batchTimer.armed) {
      this.batchTimer.cancel();
      this.flush();
    }
    this.to('backoff', err.message);
    this.p.handlers.onError?.(err);
    this.p.log.warn('lease watch failed; retrying', { error: err.message, inMs: this.backoff.currentMs, revision: this.next });
    this.schedule(() => this.connect());
  }

  private schedule(fn: () => void): void {
    this.retryFn = fn;
    this.timer.arm(this.backoff.next());
  }

  private relist(gen: number): void {
    if (gen !== this.generation) return;
    this.dropStream();
    this.to('relisting', 'compacted');
    // Events queued before the compaction are superseded by the full list.
    this.batchTimer.cancel();
    this.pending = [];
    const relistGen = this.generation;
    this.p
      .relist()
      .then((list) => {
        if (relistGen !== this.generation || this.state === 'closed') return;
        this.next = list.revision + 1;
        this.backoff.reset();
        try {
          this.p.handlers.onReset(list);
        } catch (err) {
          this.p.log.error('lease watch reset handler threw', { error: errorMessage(err) });
        }
        this.connect();
      })
      .catch((err: Error) => {
        if (relistGen !== this.generation || this.state === 'closed') return;
        this.p.handlers.onError?.(err);
        this.p.log.warn('lease re-list failed; retrying', { error: err.message, inMs: this.backoff.currentMs });
        this.to('backoff', err.message);
        this.schedule(() => this.relist(this.generation));
      });
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.dropStream();
    this.to('closed', 'close');
    this.timer.cancel();
    this.batchTimer.cancel();
    this.pending = [];
  }
}
