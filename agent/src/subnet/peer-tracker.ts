/**
 * The other nodes' leases, kept from list + watch, handed to the backends as
 * the full desired set on every change (level-triggered: a backend
 * reconciles against the whole set and never has to replay deltas).
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
}

/** A problem with leases naming this node. */
export interface OwnLeaseConflict {
  kind: 'own-name-other-subnet' | 'own-subnet-other-node';
  lease: Lease;
}

/** The PeerTracker's events and their arguments (typed: listeners need no casts). */
export interface PeerTrackerEvents {
  /** the whole peer set, sorted by subnet */
  'peers-changed': [peers: Lease[]];
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
  private current: Lease[] = [];
  private emitted = false;
  /** whether the last recompute found a lease (anyone's) on our own subnet */
  private ownClaimed = true;
  private readonly log: Logger;
  /** Totals since start (also fed to the counters). */
  readonly stats = { invalid: 0, duplicatePublicIp: 0, batches: 0, resets: 0 };

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
    for (const ev of batch) {
      if (ev.type === 'put') {
        // a newer revision (the newest so far: watch events come in revision order) goes to the end
        const had = this.all.get(ev.record.lease.subnet);
        if (had && had.modRevision < ev.record.modRevision) this.all.delete(ev.record.lease.subnet);
        this.all.set(ev.record.lease.subnet, ev.record);
      } else if (ev.type === 'delete') this.all.delete(ev.subnet);
      else {
        // A bad value replacing a good one: the old one is no longer true either.
        if (ev.entry.subnet !== undefined) this.all.delete(ev.entry.subnet);
        this.noteInvalid(ev.entry);
      }
    }
    this.recompute();
  }

  private recompute(): void {
    const own = this.opts.ownSubnet?.();
    const claimed = own === undefined || this.all.has(own);
    if (this.ownClaimed && !claimed) this.emit('own-subnet-free', own);
    this.ownClaimed = claimed;
    const byIp = new Map<string, LeaseRecord>();
    const out: Lease[] = [];
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
        continue;
      }
      const other = (a: string | undefined): LeaseRecord | undefined => {
        const f = a === undefined ? undefined : byIp.get(a);
        return f !== undefined && f.lease.nodeName !== l.nodeName ? f : undefined;
      };
      const first = other(v4) ?? other(v6);
      if (first) {
        this.duplicate(l, first.lease.nodeName);
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
    // The first set is always emitted, even empty: it tells the reconciler the peers are known.
    if (this.emitted && samePeers(out, this.current)) return;
    this.emitted = true;
    this.current = out;
    this.emit('peers-changed', out);
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

/** subnetSortKey per Lease object: every change re-sorts the whole set, but only new leases are parsed. */
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
 * it: a renewal changes nothing). Memoised per Lease object: an unchanged
 * lease keeps its object from batch to batch, so each batch only computes
 * keys for the leases it brought, instead of one JSON string of the whole
 * set (5000 peers: ~0.5 MB per watch batch, all garbage).
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

/** Same peers in the same order (both sorted by subnet)? */
function samePeers(a: readonly Lease[], b: readonly Lease[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && peerKey(a[i]!) !== peerKey(b[i]!)) return false;
  }
  return true;
}
