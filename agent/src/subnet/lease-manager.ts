/**
 * This node's subnet lease: acquire, renew, release. The allocation rules
 * (flannel's LocalManager half) over a narrow LeaseStore.
 *
 * Acquire, in order:
 *   1. a lease under this node's name exists in etcd → keep that subnet
 *      (rewrite the value, bind a fresh etcd lease);
 *   2. else the previous subnet (argument, or the state file) is free → take it;
 *      held by another node → refuse (SubnetConflictError, flannel #1343);
 *   3. else a random free subnet in subnetMin…subnetMax, create-if-absent,
 *      retrying on races; none free → SubnetExhaustedError.
 *
 * Lifecycle (one log line per transition):
 *   idle -> acquiring -> held <-> degraded      (renewal failing: etcd away)
 *                          \-> conflict         (our subnet taken: health fails)
 *                                  \-> held     (the intruder's lease is gone: same subnet re-created)
 *   held|degraded -> released                   (release(): the key is deleted)
 *   held|degraded -> stopped                    (stop(): renewals end, the key
 *                                                lives on in etcd until its TTL)
 * In `conflict` the manager stops writing to etcd; the node keeps its
 * routes and containers (knitd must not renumber them) and reports unhealthy.
 */
import { EventEmitter } from 'node:events';
import { Backoff, DEFAULT_LEASE_TTL_SECONDS, describeError, jittered, realClock, SerialRunner, Timer, type Clock, errorMessage, asError } from '../base';
import { silentLogger, type Logger } from '../log/logger';
import { ConflictError, LeaseExpiredError, pairedIpv6Subnet, type Lease, type LeaseBackendData, type LeaseValue, type LeaseRecord, type NetworkConfig } from '../store';
import { cidrCoversAny, formatCidrAny, mustParseCidrAny } from '../net/ip';
import { SubnetConflictError, SubnetExhaustedError, SubnetOutOfNetworkError } from './errors';
import type { LeaseStore } from './ports';
import { readSubnetState, subnetStatePath, writeSubnetState } from './state-file';
import { countTaken, pickFreeSubnet, subnetRange } from './subnet-pool';

/** Lifecycle states; see the module comment. */
export type LeaseState = 'idle' | 'acquiring' | 'held' | 'degraded' | 'conflict' | 'released' | 'stopped';

/** What this node publishes in its lease. */
export interface AcquireRequest {
  nodeName: string;
  /** IPv4 underlay address, or IPv6 when the node has no IPv4 one. */
  publicIp: string;
  /** The IPv6 underlay address of a node whose publicIp is IPv4, when it has one. */
  publicIpv6?: string;
  /** Backend data for peers, e.g. `{ vtepMac }`. */
  backendData: LeaseBackendData;
  /** The subnet held before; default: read from `${stateDir}/subnet.json`. */
  previousSubnet?: string;
}

/** Options of a LeaseManager. */
export interface LeaseManagerOptions {
  store: LeaseStore;
  network: NetworkConfig;
  /** Directory of subnet.json. */
  stateDir: string;
  /** etcd lease TTL, default DEFAULT_LEASE_TTL_SECONDS (24 h). Renewed at about half of it. */
  ttlSeconds?: number;
  clock?: Clock;
  /** [0,1) source for subnet choice and jitter. */
  random?: () => number;
  logger?: Logger;
  /** Create attempts lost to races before giving up, default 32. */
  maxAttempts?: number;
  /** Renewal retry back-off bounds while etcd is unreachable (defaults 1 s … 30 s, capped at TTL/4 and checkIntervalMs). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * Also renew (keep-alive + ownership check) at least this often, default:
   * only at about half the TTL. With a TTL of hours, that is the only way to
   * notice within seconds that etcd is gone (state `degraded`) and that it is
   * back: nothing else talks to etcd on a quiet cluster.
   */
  checkIntervalMs?: number;
}

/** Health summary for /healthz and the API. */
export interface LeaseHealth {
  state: LeaseState;
  /** False in `conflict`, and before the first lease is held. */
  healthy: boolean;
  /** True while renewals fail (etcd unreachable): traffic keeps flowing, the lease ages. */
  degraded: boolean;
  subnet?: string;
  reason?: string;
}

/** When the held lease was last renewed and when its etcd lease runs out unless renewed again. */
export interface LeaseTiming {
  /** The last successful acquire or keep-alive. */
  renewedAt: Date;
  /** renewedAt + the TTL etcd granted then. */
  expiresAt: Date;
  /** Seconds left now (0 when past). */
  remainingSeconds: number;
}

/** The LeaseManager's events and their arguments (typed: listeners need no casts). */
export interface LeaseManagerEvents {
  state: [from: LeaseState, to: LeaseState, reason: string];
  conflict: [err: SubnetConflictError];
}

/** Events: see LeaseManagerEvents. */
/** Consecutive failed renewals before the lease is reported degraded. */
const DEGRADED_AFTER_FAILURES = 2;

export class LeaseManager extends EventEmitter<LeaseManagerEvents> {
  /** renewals failed in a row (reset by a success) */
  private renewFailures = 0;
  /** epoch ms of the last successful acquire/keep-alive, and the TTL etcd granted then */
  private renewed: { at: number; ttlSeconds: number } | undefined;
  private state: LeaseState = 'idle';
  private reason: string | undefined;
  private held: LeaseRecord | undefined;
  private created = false;
  private req: AcquireRequest | undefined;
  private readonly timer: Timer;
  private readonly retry: Backoff;
  /** one renewal at a time; a request during one joins it */
  private readonly renewal = new SerialRunner(() => this.renewOnce(), {
    onError: (err) => this.log.error('subnet lease renewal threw', { error: describeError(err) }),
  });
  private readonly store: LeaseStore;
  private readonly net: NetworkConfig;
  private readonly ttl: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly maxAttempts: number;
  private readonly retryMinMs: number;
  private readonly checkIntervalMs: number;

  constructor(private readonly opts: LeaseManagerOptions) {
    super();
    this.store = opts.store;
    this.net = opts.network;
    this.ttl = opts.ttlSeconds ?? DEFAULT_LEASE_TTL_SECONDS;
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger ?? silentLogger();
    this.maxAttempts = opts.maxAttempts ?? 32;
    this.retryMinMs = opts.retryMinMs ?? 1000;
    this.checkIntervalMs = opts.checkIntervalMs ?? Infinity;
    // While degraded, retry at least as often as a healthy node checks, so recovery is noticed as soon.
    const retryMaxMs = Math.min(opts.retryMaxMs ?? 30000, Math.max(this.retryMinMs, (this.ttl * 1000) / 4), Math.max(this.retryMinMs, this.checkIntervalMs));
    this.retry = new Backoff({ minMs: this.retryMinMs, maxMs: retryMaxMs, jitter: 0.2, random: this.random });
    this.timer = new Timer(this.clock, () => void this.runRenew());
  }

  /** The lease held now (also while degraded), or undefined. */
  get lease(): Lease | undefined {
    return this.state === 'conflict' || this.state === 'released' || this.state === 'stopped' ? undefined : this.held?.lease;
  }

  /**
   * True when acquire() created the etcd key (no lease under this node's name
   * existed): a failed start-up then releases it; a kept lease it leaves alone.
   */
  get createdAtAcquire(): boolean {
    return this.created;
  }

  /** Renewal time and remaining TTL of the held lease; undefined when none is held. */
  timing(): LeaseTiming | undefined {
    if (this.lease === undefined || this.renewed === undefined) return undefined;
    const expires = this.renewed.at + this.renewed.ttlSeconds * 1000;
    return {
      renewedAt: new Date(this.renewed.at),
      expiresAt: new Date(expires),
      remainingSeconds: Math.max(0, Math.round((expires - this.clock.wallNow()) / 1000)),
    };
  }

  /** The etcd lease (TTL) the subnet key is bound to, so other per-node keys can share its lifetime. */
  get etcdLeaseId(): string | undefined {
    return this.lease === undefined ? undefined : this.held?.etcdLeaseId;
  }

  /** The current state and why. */
  health(): LeaseHealth {
    const h: LeaseHealth = {
      state: this.state,
      healthy: this.state === 'held' || this.state === 'degraded',
      degraded: this.state === 'degraded',
    };
    if (this.held) h.subnet = this.held.lease.subnet;
    if (this.reason !== undefined) h.reason = this.reason;
    return h;
  }

  private to(next: LeaseState, reason: string): void {
    if (this.state === next && this.reason === reason) return;
    const prev = this.state;
    this.state = next;
    this.reason = reason;
    const level = next === 'conflict' ? 'error' : next === 'degraded' ? 'warn' : 'info';
    this.log.log(level, `subnet lease ${prev} -> ${next}`, { subnet: this.held?.lease.subnet, reason });
    this.emit('state', prev, next, reason);
  }

  /** The value written for `subnet`: dual-stack adds the paired IPv6 subnet (docs/subnet-leases.md). */
  private value(subnet: string): LeaseValue {
    const r = this.req as AcquireRequest;
    const v: LeaseValue = {
      nodeName: r.nodeName,
      publicIp: r.publicIp,
      backend: { type: this.net.backend.type, data: r.backendData },
      renewedAt: new Date(this.clock.wallNow()).toISOString(),
    };
    if (r.publicIpv6 !== undefined) v.publicIpv6 = r.publicIpv6;
    const v6 = pairedIpv6Subnet(this.net, subnet);
    if (v6 !== undefined) v.ipv6Subnet = v6;
    return v;
  }

  /**
   * Acquires (or re-acquires) this node's subnet; see the module comment.
   * Throws SubnetConflictError, SubnetExhaustedError, SubnetOutOfNetworkError,
   * or EtcdUnavailableError (retry later).
   */
  async acquire(req: AcquireRequest): Promise<Lease> {
    if (this.state !== 'idle') throw new Error(`acquire: lease manager is ${this.state}, not idle`);
    this.req = req;
    this.to('acquiring', 'start');
    try {
      const previous = req.previousSubnet ?? (await readSubnetState(this.opts.stateDir))?.subnet;
      const rec = await this.acquireLoop(previous);
      this.held = rec;
      this.renewed = { at: this.clock.wallNow(), ttlSeconds: this.ttl };
      await writeSubnetState(this.opts.stateDir, { subnet: rec.lease.subnet, nodeName: req.nodeName, writtenAt: new Date(this.clock.wallNow()).toISOString() });
      this.to('held', previous === rec.lease.subnet ? 'acquired the previous subnet' : previous ? `acquired (previous ${previous})` : 'acquired');
      this.scheduleRenew(this.renewDelay(this.ttl));
      return rec.lease;
    } catch (err) {
      if (err instanceof SubnetConflictError) {
        this.to('conflict', err.message);
        this.emit('conflict', err);
      } else {
        this.to('idle', `acquire failed: ${errorMessage(err)}`);
      }
      throw err;
    }
  }

  private async acquireLoop(previous: string | undefined): Promise<LeaseRecord> {
    const req = this.req as AcquireRequest;
    const range = subnetRange(this.net);
    const lostRaces = new Set<string>();
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const list = await this.store.listLeases();
      const mine = list.leases.filter((r) => r.lease.nodeName === req.nodeName).sort((a, b) => a.modRevision - b.modRevision);
      if (mine.length > 0) {
        const chosen = mine.find((r) => r.lease.subnet === previous) ?? mine[0];
        if (previous !== undefined && chosen.lease.subnet !== previous) {
          this.log.warn('etcd holds a lease under this node name for another subnet than the state file; keeping the one in etcd', {
            etcd: chosen.lease.subnet,
            stateFile: previous,
          });
        }
        for (const extra of mine) if (extra !== chosen) await this.dropExtra(extra);
        try {
          this.created = false;
          return await this.store.updateLease(chosen, this.value(chosen.lease.subnet), this.ttl);
        } catch (err) {
          if (err instanceof ConflictError) continue; // changed under us: look again
          throw err;
        }
      }
      if (previous !== undefined) {
        this.checkInNetwork(previous);
        const holder = list.leases.find((r) => r.lease.subnet === previous);
        const garbage = list.invalid.find((e) => e.subnet === previous);
        if (holder || garbage) throw new SubnetConflictError(previous, req.nodeName, holder?.lease.nodeName);
        try {
          this.created = true;
          return await this.store.createLease(previous, this.value(previous), this.ttl);
        } catch (err) {
          if (err instanceof ConflictError) continue; // someone just took it: the next look decides
          throw err;
        }
      }
      const taken = new Set<string>([...list.leases.map((r) => r.lease.subnet), ...lostRaces]);
      for (const e of list.invalid) if (e.subnet !== undefined) taken.add(e.subnet);
      const pick = pickFreeSubnet(range, taken, this.random);
      if (pick === undefined) {
        const ranged = range.count !== 2 ** (this.net.subnetLength - mustParseCidrAny(this.net.clusterCidr).prefixLength);
        throw new SubnetExhaustedError(this.net.subnetLength, this.net.clusterCidr, countTaken(range, taken), range.count, ranged);
      }
      try {
        this.created = true;
        return await this.store.createLease(pick, this.value(pick), this.ttl);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        this.log.debug('lost a race for a subnet; trying another', { subnet: pick, attempt });
        lostRaces.add(pick);
      }
    }
    throw new Error(`acquire subnet for ${req.nodeName}: gave up after ${this.maxAttempts} attempts lost to concurrent writers`);
  }

  private checkInNetwork(subnet: string): void {
    let ok = false;
    try {
      const c = mustParseCidrAny(subnet);
      ok = c.prefixLength === this.net.subnetLength && cidrCoversAny(mustParseCidrAny(this.net.clusterCidr), c) && formatCidrAny(c) === subnet;
    } catch {
      ok = false;
    }
    if (!ok) throw new SubnetOutOfNetworkError(subnet, this.net.clusterCidr, this.net.subnetLength, subnetStatePath(this.opts.stateDir));
  }

  /** A second lease under our own name (an earlier crash mid-acquire): it is ours, free it. */
  private async dropExtra(extra: LeaseRecord): Promise<void> {
    this.log.warn('this node holds more than one subnet; releasing the extra one', { subnet: extra.lease.subnet });
    try {
      await this.store.deleteLease(extra);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }

  /**
   * Renewal at about half the TTL (or the check interval, if shorter), ±10 %,
   * so a fleet started together does not renew in lockstep.
   */
  private renewDelay(ttlSeconds: number): number {
    return jittered(Math.min((ttlSeconds * 1000) / 2, this.checkIntervalMs), 0.1, this.random());
  }

  private scheduleRenew(ms: number): void {
    this.timer.arm(ms);
  }

  private cancelTimer(): void {
    this.timer.cancel();
  }

  /**
   * Renews (or verifies) now instead of waiting for the timer: e.g. when the
   * watch shows our key changed. In `conflict`: looks whether our subnet is
   * free again and takes it back.
   */
  verifyNow(): Promise<void> {
    if (this.state !== 'held' && this.state !== 'degraded' && this.state !== 'conflict') return Promise.resolve();
    this.cancelTimer();
    return this.runRenew();
  }

  private runRenew(): Promise<void> {
    return this.renewal.join();
  }

  private async renewOnce(): Promise<void> {
    const held = this.held;
    if (held && this.state === 'conflict') return this.recoverFromConflict(held);
    if (!held || (this.state !== 'held' && this.state !== 'degraded')) return;
    try {
      const { ttlSeconds } = await this.store.renewLease(held);
      this.succeeded('renewed', ttlSeconds);
    } catch (err) {
      if (this.state !== 'held' && this.state !== 'degraded') return; // released meanwhile
      if (err instanceof LeaseExpiredError) {
        await this.recreate(held, err.message);
      } else if (err instanceof ConflictError) {
        await this.onTaken(held, err);
      } else {
        this.failed(asError(err));
      }
    }
  }

  /** The etcd lease expired while we could not renew: take the same subnet back if it is still free. */
  private async recreate(held: LeaseRecord, why: string): Promise<void> {
    this.log.warn('subnet lease expired in etcd; re-creating it for the same subnet', { subnet: held.lease.subnet, why });
    try {
      this.held = await this.store.createLease(held.lease.subnet, this.value(held.lease.subnet), this.ttl);
      this.succeeded('re-created after expiry', this.ttl);
    } catch (err) {
      if (err instanceof ConflictError) await this.onTaken(held, err);
      else this.failed(asError(err));
    }
  }

  /** The key holds a write that is not ours (per mod revision). Ours after all → adopt; another node's → conflict. */
  private async onTaken(held: LeaseRecord, err: ConflictError): Promise<void> {
    const req = this.req as AcquireRequest;
    const holder = holderOf(err.currentValue);
    if (holder === req.nodeName) {
      try {
        const list = await this.store.listLeases();
        const cur = list.leases.find((r) => r.lease.subnet === held.lease.subnet && r.lease.nodeName === req.nodeName);
        if (cur) {
          this.held = await this.store.updateLease(cur, this.value(cur.lease.subnet), this.ttl);
          this.succeeded('adopted a newer write under our own name', this.ttl);
          return;
        }
      } catch (e) {
        if (!(e instanceof ConflictError)) {
          this.failed(asError(e));
          return;
        }
      }
      this.failed(new Error(`lease ${held.lease.subnet} changed under us twice; retrying`));
      return;
    }
    const conflict = new SubnetConflictError(held.lease.subnet, req.nodeName, holder);
    this.to('conflict', conflict.message);
    this.emit('conflict', conflict);
    this.scheduleConflictCheck();
  }

  /**
   * In conflict nothing is written while another node's (or an unreadable)
   * lease holds our subnet. Once the key is gone, the same subnet is
   * re-created under our name (create-if-absent, so a race with another
   * node taking it is lost cleanly) and the node is healthy again without
   * a restart. Our containers kept their addresses throughout.
   */
  private async recoverFromConflict(held: LeaseRecord): Promise<void> {
    const req = this.req as AcquireRequest;
    const subnet = held.lease.subnet;
    try {
      const list = await this.store.listLeases();
      if (this.state !== 'conflict') return;
      const holder = list.leases.find((r) => r.lease.subnet === subnet);
      if (holder?.lease.nodeName === req.nodeName) {
        this.held = await this.store.updateLease(holder, this.value(subnet), this.ttl);
        this.succeeded('recovered from conflict: the subnet is under our name again', this.ttl);
        return;
      }
      if (holder || list.invalid.some((e) => e.subnet === subnet)) {
        this.scheduleConflictCheck();
        return;
      }
      this.held = await this.store.createLease(subnet, this.value(subnet), this.ttl);
      this.succeeded('recovered from conflict: the conflicting lease is gone; re-acquired the same subnet', this.ttl);
    } catch (err) {
      if (this.state !== 'conflict') return;
      if (!(err instanceof ConflictError)) this.log.warn('subnet lease conflict: could not look whether the subnet is free again', { subnet, error: errorMessage(err) });
      this.scheduleConflictCheck();
    }
  }

  /** While in conflict, look again at the check interval (the watch usually tells sooner: verifyNow). */
  private scheduleConflictCheck(): void {
    this.scheduleRenew(Number.isFinite(this.checkIntervalMs) ? this.checkIntervalMs : 30_000);
  }

  private succeeded(what: string, ttlSeconds: number): void {
    this.renewed = { at: this.clock.wallNow(), ttlSeconds };
    this.renewFailures = 0;
    this.retry.reset();
    this.to('held', what);
    this.scheduleRenew(this.renewDelay(ttlSeconds));
  }

  private failed(err: Error): void {
    // One failed round trip (a stream that landed on a dead etcd member, a
    // leader election) is retried within a second and says nothing about
    // health; two in a row mean etcd is really out of reach.
    this.renewFailures++;
    if (this.renewFailures >= DEGRADED_AFTER_FAILURES) this.to('degraded', `renewal failing: ${err.message}`);
    else this.log.warn('subnet lease renewal failed; retrying', { subnet: this.held?.lease.subnet, error: err.message });
    this.scheduleRenew(this.retry.next());
  }

  /**
   * Clean shutdown with release: deletes our lease if it is still ours (a
   * lease taken over meanwhile is left alone). The state file is kept so a
   * restart prefers the same subnet if it is still free.
   */
  async release(): Promise<void> {
    this.cancelTimer();
    await this.renewal.idle();
    const held = this.held;
    const wasHolding = this.state === 'held' || this.state === 'degraded';
    this.to('released', 'release');
    if (!held || !wasHolding) return;
    try {
      await this.store.deleteLease(held);
    } catch (err) {
      if (err instanceof ConflictError) {
        this.log.warn('release: the lease is no longer ours; left alone', { subnet: held.lease.subnet });
        return;
      }
      throw err;
    }
  }

  /** Shutdown without release: stop renewing; the lease lives on in etcd until its TTL (so a restart keeps the subnet). */
  stop(): void {
    this.cancelTimer();
    if (this.state === 'held' || this.state === 'degraded') this.to('stopped', 'stop without release: the lease stays in etcd until its TTL');
  }
}

/** The nodeName in a raw lease value, if it parses that far. */
function holderOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const v = JSON.parse(value) as { nodeName?: unknown };
    return typeof v.nodeName === 'string' ? v.nodeName : undefined;
  } catch {
    return undefined;
  }
}
