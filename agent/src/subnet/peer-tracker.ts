/**
 * The other nodes' leases, kept from list + watch, handed to the backends as
 * the full desired set on every change (level-triggered: a backend
 * reconciles against the whole set and never has to replay deltas). Each
 * emission also says which subnets differ from the previous one (a
 * PeerSetDelta), so that consumers may do work per change instead of per
 * peer; the set itself stays the truth.
 *
 * Per watch batch the set is updated in place when that is provably what a
 * full recompute gives (no lease skipped as a duplicate public IP anywhere,
 * the changed leases collide with nobody, our own subnet unchanged): a join
 * or leave then costs O(log peers) plus one array copy per emission instead
 * of a pass, a sort and a comparison over every peer. Anything else (a
 * duplicate, a reset, our subnet moving) takes the full recompute, which
 * stays the reference (unit test: the two agree on random batches).
 *
 * Lease values are untrusted; what gets into the peer set:
 *   - only values that parse (the rest: one warning and one count per bad write);
 *   - not our own node name (ours on another subnet than we hold is a
 *     conflict: reported, never programmed);
 *   - not a public IP already used by another node (the older lease wins,
 *     the newer is skipped with a warning and counted), nor our own public IP.
 */
import { EventEmitter } from 'node:events';
import { silentLogger, type Logger } from '../log/logger';
import { parseCidrAny } from '../net/ip';
import { parseCidr } from '../net/ipv4';
import type { Lease, InvalidLeaseEntry, LeaseEvent, LeaseList, LeaseRecord, LeaseWatch } from '../store';
import type { CounterLike, LeaseFeed } from './ports';

/** Options of a PeerTracker. */
export interface PeerTrackerOptions {
  feed: LeaseFeed;
  /** This node's name. */
  nodeName: string;
  /** This node's public IP: a peer claiming it is skipped. */
  publicIp?: string;
  /** This node's IPv6 underlay address (dual-stack underlay): a peer claiming it is skipped too. */
  publicIpv6?: string;
  /** The subnet this node holds (asked on every change, it may change after a restart). */
  ownSubnet?: () => string | undefined;
  logger?: Logger;
  /** Counts lease values skipped because they do not parse. */
  invalidCounter?: CounterLike;
  /** Counts leases skipped because another node already uses their public IP. */
  duplicateCounter?: CounterLike;
  /**
   * Update the set in place per batch when that equals a full recompute
   * (default true); false: recompute everything per batch (the reference the
   * tests compare against).
   */
  incremental?: boolean;
}

/** Accepted leases per public IP (IPv4 or IPv6): whose, and how many of that node's leases use it. */
interface IpUse {
  nodeName: string;
  count: number;
}

/** A problem with leases naming this node. */
export interface OwnLeaseConflict {
  kind: 'own-name-other-subnet' | 'own-subnet-other-node';
  lease: Lease;
}

/** What changed from one emitted peer set to the next (by subnet; each list in no particular order). */
export interface PeerSetDelta {
  /** leases new in this set, or whose Lease object differs from the previous set's (a renewal counts) */
  upserted: Lease[];
  /** the previous set's leases whose subnet is not in this set */
  removed: Lease[];
}

/** The PeerTracker's events and their arguments (typed: listeners need no casts). */
export interface PeerTrackerEvents {
  /** the whole peer set, sorted by subnet, and what differs from the previous one (the first: everything upserted) */
  'peers-changed': [peers: Lease[], delta: PeerSetDelta];
  conflict: [conflict: OwnLeaseConflict];
  /** no lease in etcd names our subnet any more: the intruder's lease was deleted, or ours expired */
  'own-subnet-free': [subnet: string];
}

/** Events: see PeerTrackerEvents. */
export class PeerTracker extends EventEmitter<PeerTrackerEvents> {
  /**
   * Every valid lease in etcd, by subnet, in modRevision order: a put moves
   * its subnet to the end (watch events come in revision order), so the
   * "older lease wins" pass needs no sort of the whole set per batch.
   */
  private readonly all = new Map<string, LeaseRecord>();
  private readonly seenInvalid = new Set<string>();
  private readonly warnedDup = new Set<string>();
  private readonly reportedConflicts = new Set<string>();
  private watch: LeaseWatch | undefined;
  /** the last emitted set, and the same by subnet */
  private current: Lease[] = [];
  private currentBySubnet = new Map<string, Lease>();
  private emitted = false;
  /** whether the last recompute found a lease (anyone's) on our own subnet */
  private ownClaimed = true;
  /**
   * What a full recompute gives now (sorted by subnet), kept between batches:
   * it differs from `current` only in the subnets of `touched` (and there,
   * after a batch that emitted nothing, only in ways that do not matter to
   * the dataplane: a renewal).
   */
  private candidate: Lease[] = [];
  private accepted = new Map<string, Lease>();
  private ipUse = new Map<string, IpUse>();
  /** leases the last full recompute skipped as duplicate public IPs: while any, every batch is a full recompute */
  private duplicates = 0;
  /** the own subnet the candidate was computed for */
  private candidateOwn: string | undefined;
  /** subnets whose candidate entry may differ from `current`'s */
  private readonly touched = new Set<string>();
  private readonly log: Logger;
  /** Totals since start (also fed to the counters). */
  readonly stats = { invalid: 0, duplicatePublicIp: 0, batches: 0, resets: 0, fullRecomputes: 0 };

  constructor(private readonly opts: PeerTrackerOptions) {
    super();
    this.log = opts.logger ?? silentLogger();
  }

  /** Lists, emits the first 'peers-changed', and starts watching. Throws EtcdUnavailableError if the list fails. */
  async start(): Promise<void> {
    if (this.watch) throw new Error('peer tracker already started');
    const list = await this.opts.feed.listLeases();
    this.applyReset(list);
    this.watch = this.opts.feed.watchLeases(list.revision + 1, {
      onEvents: (batch) => this.applyEvents(batch),
      onReset: (l) => this.applyReset(l),
      onError: (err) => this.log.warn('lease watch error', { error: err.message }),
    });
  }

  /** Stops watching. */
  async stop(): Promise<void> {
    const w = this.watch;
    this.watch = undefined;
    await w?.close();
  }

  /** The current desired peer set, sorted by subnet. */
  peers(): readonly Lease[] {
    return this.current;
  }

  private noteInvalid(e: InvalidLeaseEntry): void {
    const id = `${e.keyName}@${e.modRevision}`;
    if (this.seenInvalid.has(id)) return;
    this.seenInvalid.add(id);
    this.stats.invalid++;
    this.opts.invalidCounter?.inc();
    this.log.warn('skipping invalid subnet lease', { key: e.keyName, reason: e.reason });
  }

  /** Applies a full snapshot (start, or re-list after a compaction). */
  applyReset(list: LeaseList): void {
    this.stats.resets++;
    this.all.clear();
    for (const r of [...list.leases].sort((a, b) => a.modRevision - b.modRevision)) this.all.set(r.lease.subnet, r);
    for (const e of list.invalid) this.noteInvalid(e);
    this.recompute();
  }

  /** Applies a batch of watch events. */
  applyEvents(batch: readonly LeaseEvent[]): void {
    this.stats.batches++;
    // each subnet the batch names, in the order of its last event (the order the full recompute meets them)
    const named = new Set<string>();
    for (const ev of batch) {
      let subnet: string | undefined;
      if (ev.type === 'put') {
        subnet = ev.record.lease.subnet;
        // a newer revision (the newest so far: watch events come in revision order) goes to the end
        const had = this.all.get(subnet);
        if (had && had.modRevision < ev.record.modRevision) this.all.delete(subnet);
        this.all.set(subnet, ev.record);
      } else if (ev.type === 'delete') {
        subnet = ev.subnet;
        this.all.delete(subnet);
      } else {
        // A bad value replacing a good one: the old one is no longer true either.
        subnet = ev.entry.subnet;
        if (subnet !== undefined) this.all.delete(subnet);
        this.noteInvalid(ev.entry);
      }
      if (subnet !== undefined) {
        named.delete(subnet);
        named.add(subnet);
      }
    }
    const own = this.opts.ownSubnet?.();
    // In place while that is exactly what a full recompute gives (see the module note);
    // only each subnet's final state counts, as in the full recompute.
    let inPlace = this.emitted && this.opts.incremental !== false && this.duplicates === 0 && own === this.candidateOwn;
    // reported after the own-subnet check, in the order a full recompute reports them
    const conflicts: OwnLeaseConflict[] = [];
    for (const subnet of named) {
      if (!inPlace) break;
      inPlace = this.updateInPlace(subnet, own, conflicts);
    }
    if (!inPlace) {
      this.recompute();
      return;
    }
    this.noteOwnClaim(own);
    for (const c of conflicts) this.conflict(c);
    this.emitIfChanged();
  }

  /**
   * Bring the candidate up to date for `subnet` after its entry in `all`
   * changed; false when that takes a full recompute (the lease would be
   * skipped as a duplicate public IP: which one loses depends on the others).
   */
  private updateInPlace(subnet: string, own: string | undefined, conflicts: OwnLeaseConflict[]): boolean {
    const before = this.accepted.get(subnet);
    if (before) this.unaccept(before);
    const r = this.all.get(subnet);
    this.touched.add(subnet);
    if (!r) return true;
    const l = r.lease;
    if (l.nodeName === this.opts.nodeName) {
      if (own !== undefined && l.subnet !== own) conflicts.push({ kind: 'own-name-other-subnet', lease: l });
      return true;
    }
    if (own !== undefined && l.subnet === own) {
      conflicts.push({ kind: 'own-subnet-other-node', lease: l });
      return true;
    }
    if (this.isOwnIp(l.publicIp) || this.isOwnIp(l.publicIpv6) || this.usedByOther(l.publicIp, l.nodeName) || this.usedByOther(l.publicIpv6, l.nodeName)) return false;
    return this.accept(l);
  }

  private isOwnIp(a: string | undefined): boolean {
    return a !== undefined && (a === this.opts.publicIp || a === this.opts.publicIpv6);
  }

  private usedByOther(a: string | undefined, nodeName: string): boolean {
    if (a === undefined) return false;
    const u = this.ipUse.get(a);
    return u !== undefined && u.nodeName !== nodeName;
  }

  /** Adds `l` to the candidate at its place by subnet; false (nothing changed) if its sort key ties another's. */
  private accept(l: Lease): boolean {
    const k = sortKeyOf(l);
    const at = this.firstAtOrAfter(k);
    // the full sort keeps revision order among ties: let it
    if (at < this.candidate.length && sortKeyOf(this.candidate[at]!) === k) return false;
    this.candidate.splice(at, 0, l);
    this.accepted.set(l.subnet, l);
    this.useIp(l.publicIp, l.nodeName);
    if (l.publicIpv6 !== undefined) this.useIp(l.publicIpv6, l.nodeName);
    return true;
  }

  private unaccept(l: Lease): void {
    // the accepted lease is in the candidate; the scan only guards against a tie of keys
    let i = this.firstAtOrAfter(sortKeyOf(l));
    while (i < this.candidate.length && this.candidate[i] !== l) i++;
    if (i < this.candidate.length) this.candidate.splice(i, 1);
    this.accepted.delete(l.subnet);
    this.releaseIp(l.publicIp);
    if (l.publicIpv6 !== undefined) this.releaseIp(l.publicIpv6);
  }

  /** Binary search: the index of the first candidate whose sort key is not below `k`. */
  private firstAtOrAfter(k: number | bigint): number {
    let lo = 0;
    let hi = this.candidate.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sortKeyOf(this.candidate[mid]!) < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private useIp(a: string, nodeName: string): void {
    const u = this.ipUse.get(a);
    if (u) u.count++;
    else this.ipUse.set(a, { nodeName, count: 1 });
  }

  private releaseIp(a: string): void {
    const u = this.ipUse.get(a);
    if (u && --u.count === 0) this.ipUse.delete(a);
  }

  private noteOwnClaim(own: string | undefined): void {
    const claimed = own === undefined || this.all.has(own);
    if (this.ownClaimed && !claimed) this.emit('own-subnet-free', own);
    this.ownClaimed = claimed;
  }

  /** The full recompute: every lease, in revision order (the reference the in-place path must equal). */
  private recompute(): void {
    this.stats.fullRecomputes++;
    const own = this.opts.ownSubnet?.();
    this.noteOwnClaim(own);
    const byIp = new Map<string, LeaseRecord>();
    const out: Lease[] = [];
    let duplicates = 0;
    // Older first (the map's order), so the lease that claimed a public IP first keeps it.
    for (const r of this.all.values()) {
      const l = r.lease;
      if (l.nodeName === this.opts.nodeName) {
        if (own !== undefined && l.subnet !== own) this.conflict({ kind: 'own-name-other-subnet', lease: l });
        continue;
      }
      if (own !== undefined && l.subnet === own) {
        this.conflict({ kind: 'own-subnet-other-node', lease: l });
        continue;
      }
      // Both underlay addresses (IPv4 and IPv6) must be unique: a packet to either reaches one node.
      // (Written out for one or two addresses: this loop runs over every lease on every batch.)
      const v4 = l.publicIp;
      const v6 = l.publicIpv6;
      const mine = (a: string | undefined): boolean => a !== undefined && (a === this.opts.publicIp || a === this.opts.publicIpv6);
      if (mine(v4) || mine(v6)) {
        this.duplicate(l, this.opts.nodeName);
        duplicates++;
        continue;
      }
      const other = (a: string | undefined): LeaseRecord | undefined => {
        const f = a === undefined ? undefined : byIp.get(a);
        return f !== undefined && f.lease.nodeName !== l.nodeName ? f : undefined;
      };
      const first = other(v4) ?? other(v6);
      if (first) {
        this.duplicate(l, first.lease.nodeName);
        duplicates++;
        continue;
      }
      if (!byIp.has(v4)) byIp.set(v4, r);
      if (v6 !== undefined && !byIp.has(v6)) byIp.set(v6, r);
      out.push(l);
    }
    // Decorate-sort-undecorate on a numeric key: see subnetSortKey.
    const keyed = out.map((l) => ({ l, k: sortKeyOf(l) }));
    keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    for (let i = 0; i < keyed.length; i++) out[i] = keyed[i]!.l;
    // The in-place path's state, rebuilt from this result.
    this.candidate = out;
    this.candidateOwn = own;
    this.duplicates = duplicates;
    this.accepted = new Map();
    this.ipUse = new Map();
    for (const l of out) {
      this.accepted.set(l.subnet, l);
      this.useIp(l.publicIp, l.nodeName);
      if (l.publicIpv6 !== undefined) this.useIp(l.publicIpv6, l.nodeName);
      if (this.currentBySubnet.get(l.subnet) !== l) this.touched.add(l.subnet);
    }
    for (const subnet of this.currentBySubnet.keys()) if (!this.accepted.has(subnet)) this.touched.add(subnet);
    this.emitIfChanged();
  }

  /**
   * Emits the candidate when it differs from the last emitted set in what
   * the dataplane sees (peerKey: not renewedAt). Only touched subnets can
   * differ. The first set is always emitted, even empty: it tells the
   * reconciler the peers are known.
   */
  private emitIfChanged(): void {
    let changed = !this.emitted;
    if (!changed) {
      for (const subnet of this.touched) {
        const a = this.accepted.get(subnet);
        const b = this.currentBySubnet.get(subnet);
        if (a === b) continue;
        if (a === undefined || b === undefined || peerKey(a) !== peerKey(b)) {
          changed = true;
          break;
        }
      }
    }
    if (!changed) return;
    const delta: PeerSetDelta = { upserted: [], removed: [] };
    for (const subnet of this.touched) {
      const a = this.accepted.get(subnet);
      const b = this.currentBySubnet.get(subnet);
      if (a === b) continue;
      if (a) {
        delta.upserted.push(a);
        this.currentBySubnet.set(subnet, a);
      } else if (b) {
        delta.removed.push(b);
        this.currentBySubnet.delete(subnet);
      }
    }
    this.touched.clear();
    this.emitted = true;
    // a copy: listeners keep the emitted array, the candidate changes in place
    this.current = this.candidate.slice();
    this.emit('peers-changed', this.current, delta);
  }

  private duplicate(l: Lease, owner: string): void {
    const id = `${l.subnet}|${l.nodeName}|${l.publicIp}`;
    if (this.warnedDup.has(id)) return;
    this.warnedDup.add(id);
    this.stats.duplicatePublicIp++;
    this.opts.duplicateCounter?.inc();
    this.log.warn('skipping lease with a public IP already used by another node', {
      subnet: l.subnet,
      node: l.nodeName,
      publicIp: l.publicIp,
      usedBy: owner,
    });
  }

  private conflict(c: OwnLeaseConflict): void {
    const id = `${c.kind}|${c.lease.subnet}|${c.lease.nodeName}|${c.lease.renewedAt}`;
    if (this.reportedConflicts.has(id)) return;
    this.reportedConflicts.add(id);
    this.log.error('lease conflict involving this node', { kind: c.kind, subnet: c.lease.subnet, node: c.lease.nodeName });
    this.emit('conflict', c);
  }
}

/**
 * Sort key for a subnet: network address then prefix length, the order
 * `localeCompare(…, 'en', { numeric: true })` gave ("10.244.9.0/24" before
 * "10.244.10.0/24"). localeCompare with a locale builds a collator on every
 * call: sorting 5000 peers on every watch batch that way was the largest
 * single CPU cost of a 5000-peer join (cluster-scale bench, docs/benchmarks.md).
 * Subnets here were validated by parseLease; anything else sorts last. IPv4
 * keys are numbers (the common case stays cheap); IPv6 keys (an IPv6-only
 * cluster) are bigints, which compare with numbers correctly.
 */
function subnetSortKey(subnet: string): number | bigint {
  const v4 = parseCidr(subnet);
  if (v4 !== undefined) return v4.network * 64 + v4.prefixLength;
  const c = parseCidrAny(subnet);
  return c === undefined ? Number.MAX_SAFE_INTEGER : c.network * 256n + BigInt(c.prefixLength);
}

/** subnetSortKey per Lease object: a full recompute sorts the whole set, the in-place path searches it; only new leases are parsed. */
const sortKeys = new WeakMap<Lease, number | bigint>();

function sortKeyOf(l: Lease): number | bigint {
  let k = sortKeys.get(l);
  if (k === undefined) {
    k = subnetSortKey(l.subnet);
    sortKeys.set(l, k);
  }
  return k;
}

/**
 * What makes a peer different for the dataplane (renewedAt is not part of
 * it: a renewal changes nothing). Memoised per Lease object: only the
 * leases a batch touched are compared, each key computed once.
 */
const peerKeys = new WeakMap<Lease, string>();

function peerKey(l: Lease): string {
  let k = peerKeys.get(l);
  if (k === undefined) {
    k = JSON.stringify([l.subnet, l.nodeName, l.publicIp, l.backend, l.publicIpv6 ?? '', l.ipv6Subnet ?? '']);
    peerKeys.set(l, k);
  }
  return k;
}
