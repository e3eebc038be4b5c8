/**
 * Which nodes' agents are alive: this node publishes its own short-lived
 * liveness key and keeps it alive every TTL/3; it lists and watches everyone
 * else's (store/liveness-registry.ts has the etcd side and the why).
 *
 * Per node the view is one of
 *   alive   — its key exists (since: when we saw it appear; at start-up, its
 *             knitd's start time);
 *   down    — its key vanished while we watched (since: when it vanished), or
 *             it never had one since we started (since unknown);
 *   unknown — our own watch has lost etcd: we cannot tell.
 * Transitions are reported to subscribers (Watch: peer-alive / peer-down).
 * Nothing here removes or changes routes: a dead agent's containers may
 * still run, and its routes stay until its subnet lease goes.
 */
import { silentLogger, type Logger } from '../log/logger';
import { Backoff, realClock, Timer, type Clock, errorMessage, asError } from '../base';
import type { AliveList, AliveRecord, AliveValue, AliveWatch, AliveWatchHandlers } from '../store';

/** The etcd side (store/EtcdLivenessRegistry; faked in unit tests). */
export interface LivenessStore {
  publish(value: AliveValue, ttlSeconds: number): Promise<string>;
  keepAlive(id: string): Promise<number>;
  revoke(id: string): Promise<void>;
  list(): Promise<AliveList>;
  watch(fromRevision: number, handlers: AliveWatchHandlers): Promise<AliveWatch>;
}

export type AgentState = 'alive' | 'down' | 'unknown';

/** What this node knows about one node's agent. */
export interface AgentLiveness {
  state: AgentState;
  /** When it became alive or down; absent when not known (down since before we started). */
  since?: Date;
  /** The agent's knitd version, while alive. */
  version?: string;
}

export interface PeerLivenessOptions {
  store: LivenessStore;
  /** This node's key value. */
  self: AliveValue;
  /** TTL of the liveness etcd lease, seconds (≥ 3); peers see this node down at most this long after it died. */
  ttlSeconds: number;
  clock?: Clock;
  logger?: Logger;
}

/** A transition seen on the watch. */
export type LivenessListener = (nodeName: string, liveness: AgentLiveness) => void;

const RELIST_MIN_MS = 500;
const RELIST_MAX_MS = 10_000;

export class PeerLiveness {
  private readonly store: LivenessStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly intervalMs: number;
  /** node → alive since (only nodes whose key exists) */
  private readonly alive = new Map<string, { since: Date; version: string }>();
  /** node → down since (nodes whose key vanished while we watched) */
  private readonly down = new Map<string, Date>();
  private readonly listeners = new Set<LivenessListener>();
  private connected = false;
  private leaseId: string | undefined;
  private readonly keepTimer: Timer;
  private readonly relistTimer: Timer;
  private readonly relistBackoff: Backoff;
  private watch: AliveWatch | undefined;
  private stopped = false;
  private publishFailing = false;
  /** epoch ms of the last successful publish or keep-alive of our own key */
  private lastRenewal: number | undefined;
  private everListed = false;

  constructor(private readonly opts: PeerLivenessOptions) {
    this.store = opts.store;
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? silentLogger();
    this.intervalMs = Math.max(1000, Math.floor((opts.ttlSeconds * 1000) / 3));
    this.keepTimer = new Timer(this.clock, () => void this.keepOwnAlive());
    this.relistTimer = new Timer(this.clock, () => void this.relist());
    this.relistBackoff = new Backoff({ minMs: RELIST_MIN_MS, maxMs: RELIST_MAX_MS, jitter: 0.2, random: () => this.clock.random() });
  }

  /** Publishes this node's key and starts watching everyone's. Never throws: etcd trouble is retried. */
  async start(): Promise<void> {
    await this.keepOwnAlive();
    await this.relist();
  }

  /** Stops watching and withdraws this node's key (peers see it down at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.keepTimer.cancel();
    this.relistTimer.cancel();
    const w = this.watch;
    this.watch = undefined;
    await w?.close().catch(() => undefined);
    if (this.leaseId !== undefined) await this.store.revoke(this.leaseId);
    this.leaseId = undefined;
  }

  /** Hears every transition; returns the unsubscribe function. */
  subscribe(listener: LivenessListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** The view of one node's agent. */
  of(nodeName: string): AgentLiveness {
    if (!this.connected) return { state: 'unknown' };
    const a = this.alive.get(nodeName);
    if (a) return { state: 'alive', since: a.since, version: a.version };
    const d = this.down.get(nodeName);
    return d ? { state: 'down', since: d } : { state: 'down' };
  }

  /** Epoch ms of the last successful keep-alive of this node's own key. */
  get lastOwnRenewal(): number | undefined {
    return this.lastRenewal;
  }

  /** Keeps our own key alive; re-publishes it when its etcd lease is gone. Reschedules itself. */
  private async keepOwnAlive(): Promise<void> {
    if (this.stopped) return;
    try {
      const ttl = this.leaseId === undefined ? 0 : await this.store.keepAlive(this.leaseId);
      if (ttl <= 0) {
        if (this.leaseId !== undefined) this.log.warn('liveness key expired (etcd was out of reach longer than its TTL); publishing it again');
        this.leaseId = await this.store.publish(this.opts.self, this.opts.ttlSeconds);
        if (this.stopped) await this.store.revoke(this.leaseId);
      }
      this.lastRenewal = this.clock.wallNow();
      if (this.publishFailing) this.log.info('liveness key kept alive again');
      this.publishFailing = false;
    } catch (err) {
      if (!this.publishFailing) this.log.warn('cannot keep the liveness key alive; retrying', { error: errorMessage(err) });
      this.publishFailing = true;
    }
    if (!this.stopped) this.keepTimer.arm(this.intervalMs);
  }

  /** Lists every key, reports the differences to what we knew, and watches from there. */
  private async relist(): Promise<void> {
    if (this.stopped) return;
    const old = this.watch;
    this.watch = undefined;
    await old?.close().catch(() => undefined);
    try {
      const list = await this.store.list();
      this.applyList(list.alive);
      const w = await this.store.watch(list.revision + 1, {
        onAlive: (r) => this.onAlive(r),
        onGone: (name) => this.onGone(name),
        onConnection: (up) => this.onConnection(up),
        onFailed: (err) => this.onFailed(err),
      });
      if (this.stopped) {
        await w.close();
        return;
      }
      this.watch = w;
      this.relistBackoff.reset();
    } catch (err) {
      this.onFailed(asError(err));
    }
  }

  private applyList(records: AliveRecord[]): void {
    this.connected = true;
    const seen = new Set<string>();
    for (const r of records) {
      seen.add(r.value.nodeName);
      if (this.alive.has(r.value.nodeName)) continue;
      // the first list: alive since its knitd started; a re-list: since now
      this.setAlive(r, this.everListed ? new Date(this.clock.wallNow()) : new Date(r.value.startedAt));
    }
    for (const name of [...this.alive.keys()]) if (!seen.has(name)) this.onGone(name);
    this.everListed = true;
  }

  private setAlive(r: AliveRecord, since: Date): void {
    this.alive.set(r.value.nodeName, { since, version: r.value.version });
    this.down.delete(r.value.nodeName);
    this.notify(r.value.nodeName);
  }

  private onAlive(r: AliveRecord): void {
    const cur = this.alive.get(r.value.nodeName);
    if (cur) {
      cur.version = r.value.version; // a rewrite of a live key (re-publish): still alive, same since
      return;
    }
    this.setAlive(r, new Date(this.clock.wallNow()));
  }

  private onGone(name: string): void {
    if (!this.alive.delete(name)) return;
    this.down.set(name, new Date(this.clock.wallNow()));
    this.notify(name);
  }

  private onConnection(up: boolean): void {
    if (up === this.connected) return;
    this.connected = up;
    this.log.log(up ? 'info' : 'warn', up ? 'liveness watch reconnected' : 'liveness watch lost etcd: peer liveness unknown until it is back');
  }

  private onFailed(err: Error): void {
    if (this.stopped) return;
    this.connected = false;
    const delay = this.relistBackoff.next();
    this.log.warn('liveness watch failed; listing again', { error: err.message, retryInMs: delay });
    this.relistTimer.arm(delay);
  }

  private notify(name: string): void {
    const l = this.of(name);
    for (const fn of this.listeners) {
      try {
        fn(name, l);
      } catch (err) {
        this.log.debug('liveness listener threw', { error: errorMessage(err) });
      }
    }
  }
}
