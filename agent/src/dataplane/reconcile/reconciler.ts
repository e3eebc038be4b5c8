/**
 * The route reconciler, one for both address families: level-triggered, like flannel's route_network.go
 * re-check but diff-based. Every run asks the backend for the desired objects
 * of the CURRENT peer set, dumps what the kernel has (routes with knit's
 * protocol and the nexthop objects they go through, neighbours/FDB on the
 * backend's devices) and applies only the
 * difference, IPv4 and IPv6 in the same run (like Calico's route tables but
 * one instance: a route's family is in its destination, so the keys of the
 * two families never collide). Restarting knitd therefore writes nothing when the kernel is
 * already right, and stale objects of peers that vanished meanwhile are
 * deleted on the first run (flannel #2554).
 *
 * A run triggered by a peer change or a repair diffs against the kernel view
 * (kernel-view.ts: the last dump kept current by netlink events and our own
 * acks) when it is trusted, instead of dumping again; the first run, the
 * periodic resync, retries, explicit runs (reconcileNow) and any run after
 * lost events or a device change dump. Both diff the same desired set
 * against the same objects, so they write the same (integration test
 * reconcile-delta).
 *
 * A view run may also be scoped (diff-changed.ts): when the last run left
 * the kernel exactly as desired (no failed write, no conflict, no duplicate
 * key) and no event from outside changed the view since that run's diff
 * read it (an echo of our own write is explained by its ack), only the peers
 * whose plan changed are diffed, so a join costs that peer's objects, not
 * every peer's (the desired set is still computed whole: the backend sees
 * the full peer set, and the plans are compared by identity, which the
 * backends' plan caches keep, or by content). The periodic resync always
 * dumps; when its dump says exactly what the view holds (dump-match.ts) and
 * the same conditions hold, the kernel is exactly what the view runs knew,
 * so it takes the same scoped diff; every FULL_DIFF_EVERY-th resync, the
 * first run and explicit runs diff every desired object (unit test: scoped
 * diffs equal full ones; integration test reconcile-resync: a change no
 * event told is found and repaired by the next resync).
 * What it costs at 10 000 peers is cut without checking less: the dump
 * lists the view's own objects where they are the same, a dump that says
 * exactly what the view holds keeps the view's index (dump-match.ts), and
 * the wanted sets of an unchanged plan set are reused by the full diff.
 *
 * Triggers, all coalesced into runs (one run at a time; a request during a
 * run causes exactly one more run after it):
 *   - setPeers (a burst in one tick → one run);
 *   - netlink events: one of our wanted routes or neighbours deleted, one of
 *     the backend's devices deleted or set down (→ setup() again);
 *   - a periodic resync (10 s by default), which also re-checks the devices;
 *   - a retry after failed writes (1 s, doubling up to the resync interval).
 */
import { realClock, type Clock, errorMessage } from '../../base';
import type { Logger } from '../../log/logger';
import { LogRateLimiter } from '../../log/rate-limiter';
import { nexthopsUnsupported, RTPROT_KNIT, type NetlinkEvent, type Nexthop, type Subscription } from '../../netlink';
import type { Lease } from '../../store';
import { auditDataplane, type DataplaneAudit } from './audit';
import { applyOps } from './apply';
import { diffIndexed, emptyWanted, indexCurrent, type CurrentObjects, type DataplaneDiff, type IndexedCurrent, type MutableWanted } from './diff';
import { diffChanged, planChange } from './diff-changed';
import { dumpMatches, reuseFrom, type HeldReuse } from './dump-match';
import { eventNeedsRun, type WantedObjects } from './event-filter';
import { KernelView } from './kernel-view';
import { LogOnChange } from './log-dedupe';
import { RunScheduler } from './scheduler';
import type { ReconcilerStats, ReconcileRunReport, ReconcileStats } from './stats';
import { describeObject, peerObjectsGood, peerStatuses, peersInSync, type DesiredObject, type ObjectOutcome, type Outcomes, type ReconcilerStatus } from './status';
import type { DataplaneSource, DesiredDataplane, PeerPlan, ReconcilerNetlink, SetupResult } from './types';

const RT_TABLE_MAIN = 254;
const PROGRAMMED: ObjectOutcome = Object.freeze({ state: 'programmed' as const });
/**
 * Every how many periodic resyncs one diffs every desired object even when
 * its dump matched the view (once a minute at the default 10 s): the check
 * of the reconciler's own bookkeeping, which the scoped diff trusts.
 */
const FULL_DIFF_EVERY = 6;

export interface ReconcilerOptions {
  /** Netlink bound to the node's namespace (a Handle; a test's in-memory kernel). */
  nl: ReconcilerNetlink;
  logger: Logger;
  backend: DataplaneSource;
  /** Periodic resync interval (config reconcileIntervalSeconds × 1000); default 10 000. */
  resyncIntervalMs?: number;
  /** First retry delay after failed writes; default 1000. */
  retryDelayMs?: number;
  /** Route protocol marking knit's routes; default RTPROT_KNIT (89). */
  protocol?: number;
  /** Timers and time (now() for durations, wallNow() for lastRunAt); default realClock. */
  clock?: Clock;
  /**
   * Which of the routes carrying `protocol` this reconciler owns, by
   * destination; default all. With several networks on a node each network's
   * reconciler owns the routes inside its own CIDR (the CIDRs never overlap),
   * so one never deletes another's routes as stale.
   */
  routeScope?: (dst: string) => boolean;
  /**
   * Which nexthop objects carrying `protocol` this reconciler owns, by id;
   * default all. The same job as routeScope for nexthops (the backend's ids
   * say which network a nexthop serves).
   */
  nexthopScope?: (id: number) => boolean;
  /** Called after every run, good or failed (metrics); must not throw. */
  onRun?: (run: ReconcileRunReport) => void;
  /**
   * Keep the kernel view (kernel-view.ts) so that peer changes and repairs
   * need no dump; default true. Off for a source whose changes come through
   * reconcileNow (always a dump) and whose table may be huge: BGP's learned
   * routes, where a copy of 100 000 routes would only cost memory.
   */
  kernelView?: boolean;
}

interface Waiter {
  resolve: (s: ReconcileStats) => void;
  reject: (e: Error) => void;
}

export class Reconciler {
  private readonly nl: ReconcilerNetlink;
  private readonly log: Logger;
  private readonly limiter: LogRateLimiter;
  private readonly backend: DataplaneSource;
  private readonly protocol: number;
  private readonly clock: Clock;
  private readonly routeScope: (dst: string) => boolean;
  private readonly nexthopScope: (id: number) => boolean;
  private readonly onRun: (run: ReconcileRunReport) => void;

  private peers: readonly Lease[] = [];
  /** No run before the first setPeers: an empty peer set would delete every knit route at restart. */
  private peersKnown = false;
  private needSetup = true;
  /** requests, resync and retries (see scheduler.ts) */
  private readonly scheduler: RunScheduler;
  private waiters: Waiter[] = [];
  private started = false;
  private stopped = false;
  private sub: Subscription | undefined;
  /** the devices the event socket was last narrowed to (key), and whether narrowing is out of reach */
  private narrowedTo: string | undefined;
  private narrowFailed = false;

  private lastDesired: DesiredDataplane = { peers: [], refused: [] };
  /** the last run's outcomes other than 'ok' (status.ts), and how many of them are failures or conflicts */
  private outcomes: Outcomes = new Map();
  private badOutcomes = 0;
  /** what the last run wanted: netlink events are judged against it */
  private wanted: WantedObjects;
  private readonly refusedLog = new LogOnChange<string>();
  private readonly conflictsLog = new LogOnChange<true>();
  private lastSetupResult: SetupResult | undefined;
  private readonly runListeners = new Set<(run: ReconcileRunReport) => void>();
  /** the kernel as the last dump, events and our acks left it (kernel-view.ts); none when off */
  private readonly view: KernelView | undefined;
  /** the next run must dump (resync, retry, explicit run, lost events) */
  private dumpNext = true;
  /** the last run's plans by subnet, and its wanted keys (a scoped diff starts from both) */
  private lastPlans = new Map<string, PeerPlan>();
  private lastRefused = new Set<string>();
  /** the subnets a scoped last run changed (lastRunScope) */
  private scope: readonly string[] | undefined;
  private wantedSets: MutableWanted = emptyWanted();
  /** the plans (and owned devices) wantedSets were made for, when that diff found no duplicate key; a resync over the same plans reuses the sets */
  private wantedFor: { plans: ReadonlyMap<string, PeerPlan>; owned: readonly number[] } | undefined;
  /** the last run left the kernel exactly as desired, so the next view run may be scoped */
  private scopedOk = false;
  /** the owned devices at the last run */
  private lastOwned: readonly number[] = [];
  /**
   * The next dumping run diffs every desired object even when the dump
   * matches the view (the first run, explicit runs, and every
   * FULL_DIFF_EVERY-th periodic resync); otherwise a resync whose dump
   * matches the view may take the scoped diff.
   */
  private fullDiffNext = true;
  private resyncs = 0;

  /** Totals since construction. */
  readonly stats: ReconcilerStats = {
    runs: 0, viewRuns: 0, scopedRuns: 0, writes: 0, failedWrites: 0, setups: 0, lastDurationMs: 0, lastWrites: 0, peers: 0, refusedPeers: 0, conflicts: 0,
  };

  constructor(opts: ReconcilerOptions) {
    this.nl = opts.nl;
    this.log = opts.logger;
    this.backend = opts.backend;
    this.protocol = opts.protocol ?? RTPROT_KNIT;
    this.clock = opts.clock ?? realClock;
    this.limiter = new LogRateLimiter(opts.logger, { clock: this.clock });
    this.wanted = { protocol: this.protocol, owned: [], ...emptyWanted() };
    this.scheduler = new RunScheduler({
      clock: this.clock,
      resyncMs: opts.resyncIntervalMs ?? 10_000,
      retryMs: opts.retryDelayMs ?? 1000,
      run: () => this.runAndSettle(),
      ready: () => this.peersKnown,
      onResync: () => {
        this.needSetup = true; // also re-check the devices (MTU, address, up)
        this.dumpNext = true;
        if (++this.resyncs % FULL_DIFF_EVERY === 0) this.fullDiffNext = true;
      },
    });
    this.routeScope = opts.routeScope ?? (() => true);
    this.nexthopScope = opts.nexthopScope ?? (() => true);
    this.view = opts.kernelView === false ? undefined : new KernelView(
      (r) => r.protocol !== this.protocol || this.routeScope(r.dst), this.protocol, (nh) => nh.protocol !== this.protocol || this.nexthopScope(nh.id),
    );
    this.onRun = opts.onRun ?? (() => undefined);
  }

  /** Replace the whole peer set (level-triggered: always the full set of OTHER nodes' leases). */
  setPeers(peers: readonly Lease[]): void {
    this.peers = [...peers];
    this.peersKnown = true;
    this.request();
  }

  /** The result of the backend's last successful setup() (leaseData, MTU), if any. */
  get lastSetup(): SetupResult | undefined {
    return this.lastSetupResult;
  }

  /**
   * Subscribe to netlink events and start the periodic resync. The first run
   * (with setup) happens once setPeers has given the first peer set, never
   * before: reconciling an unknown peer set as empty would delete every
   * knit route of a running node.
   */
  start(): void {
    if (this.started) throw new Error('reconciler already started');
    this.started = true;
    this.sub = this.nl.subscribe(
      (ev) => this.onEvent(ev),
      (err) => {
        // ENOBUFS means events were lost: a full run covers whatever they said.
        this.log.warn('netlink event stream error; reconciling', { error: err.message });
        this.view?.invalidate();
        this.request();
      },
    );
    this.scheduler.start();
    this.request();
  }

  /** Stop reacting; waits for a run in progress. Pending reconcileNow() calls reject. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sub?.close();
    this.limiter.stop();
    this.sub = undefined;
    await this.scheduler.stop();
    for (const w of this.waiters.splice(0)) w.reject(new Error('reconciler stopped'));
  }

  /**
   * Run now (after a run in progress, if any) and resolve with that run's
   * stats; rejects if setup or the dumps fail. Before the first setPeers it
   * waits for it.
   */
  reconcileNow(): Promise<ReconcileStats> {
    if (this.stopped) return Promise.reject(new Error('reconciler stopped'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.dumpNext = true; // an explicit run looks at the kernel itself
      this.fullDiffNext = true; // and compares every desired object with it
      this.request();
    });
  }

  /**
   * Per peer, what the kernel holds now against what is wanted (one fresh
   * dump, no writes): the operator's "is it programmed?" answer.
   */
  async audit(): Promise<DataplaneAudit> {
    const owned = this.backend.ownedDevices();
    const current = await this.dumpCurrent(owned);
    return auditDataplane(this.backend.desired(this.peers), current, { protocol: this.protocol, ownedDevices: owned });
  }

  /**
   * One dump of both families: IPv4 and IPv6 routes and neighbours are
   * diffed in one run, with every nexthop object. With `reuse` (the view's
   * objects, dump-match.ts) an object the view holds the same is listed as
   * the view's.
   */
  private async dumpCurrent(owned: readonly number[], reuse?: HeldReuse): Promise<CurrentObjects> {
    try {
      const [routes4, routes6, neighbours, fdb, nexthops] = await Promise.all([
        this.nl.routeList({ family: 4, table: RT_TABLE_MAIN, ...(reuse ? { reuse: reuse.route } : {}) }),
        this.nl.routeList({ family: 6, table: RT_TABLE_MAIN, ...(reuse ? { reuse: reuse.route } : {}) }),
        owned.length > 0 ? this.nl.neighList(reuse ? { reuse: reuse.neighbour } : {}) : Promise.resolve([]),
        owned.length > 0 ? this.nl.fdbList(reuse ? { reuse: reuse.fdb } : {}) : Promise.resolve([]),
        this.dumpNexthops(reuse),
      ]);
      // Another network's routes are invisible here: neither ours to delete nor foreign conflicts.
      return { routes: routes4.concat(routes6).filter((r) => r.protocol !== this.protocol || this.routeScope(r.dst)), neighbours, fdb, nexthops };
    } catch (err) {
      throw new Error('dump routes, nexthops, neighbours and FDB', { cause: err });
    }
  }

  /**
   * Every nexthop object; none on a kernel without them (the backends then
   * plan no nexthop either, so there is nothing to compare).
   */
  private async dumpNexthops(reuse?: HeldReuse): Promise<Nexthop[]> {
    try {
      const all = await this.nl.nexthopList(reuse ? { reuse: reuse.nexthop } : {});
      // another network's nexthops are invisible here, as its routes are
      return all.filter((nh) => nh.protocol !== this.protocol || this.nexthopScope(nh.id));
    } catch (err) {
      if (nexthopsUnsupported(err)) return [];
      throw err;
    }
  }

  /** Per peer subnet, whether all its objects matched at the last run (status() without the per-object detail). */
  inSync(): Map<string, boolean> {
    return peersInSync(this.lastDesired, this.outcomes, this.badOutcomes > 0);
  }

  /** inSync() of one subnet (false when the last run had no plan for it); O(its objects). */
  inSyncOf(subnet: string): boolean {
    const p = this.lastPlans.get(subnet);
    if (p === undefined || this.lastRefused.has(subnet)) return false;
    return this.badOutcomes === 0 || peerObjectsGood(p, this.outcomes);
  }

  /**
   * The subnets whose inSync() verdict the last run may have changed, or
   * undefined for "any": a scoped run (only these peers' plans changed, and
   * the run before left every peer in sync) names them; any other run,
   * finished or failed, does not. Lets Watch follow a join in O(1).
   */
  lastRunScope(): readonly string[] | undefined {
    return this.scope;
  }

  /** Per-peer objects and whether they matched at the last run (no netlink call). */
  status(): ReconcilerStatus {
    return {
      lastRunAt: this.stats.lastRunAt,
      pending: this.scheduler.pending,
      peers: peerStatuses(this.lastDesired, this.outcomes),
    };
  }

  private request(): void {
    if (this.stopped) return;
    this.scheduler.request();
  }

  /** One run for the runner: settles the waiters that were queued before it started. */
  private async runAndSettle(): Promise<void> {
    const waiters = this.waiters.splice(0);
    const t0 = this.clock.now();
    try {
      const s = await this.runOnce();
      this.report({ result: 'ok', durationMs: s.durationMs, stats: s });
      for (const w of waiters) w.resolve(s);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.report({ result: 'error', durationMs: this.clock.now() - t0 });
      this.stats.lastError = e.message;
      this.log.error('reconcile failed', { error: e.message, cause: (e.cause as Error | undefined)?.message });
      this.dumpNext = true;
      this.scheduler.retry();
      for (const w of waiters) w.reject(e);
    }
  }

  /**
   * Hears every finished run (after `onRun`), e.g. to tell Watch clients when
   * a peer became programmed. Returns the unsubscribe function.
   */
  subscribeRuns(listener: (run: ReconcileRunReport) => void): () => void {
    this.runListeners.add(listener);
    return () => { this.runListeners.delete(listener); };
  }

  private report(run: ReconcileRunReport): void {
    for (const hook of [this.onRun, ...this.runListeners]) {
      try {
        hook(run);
      } catch (err) {
        this.log.debug('reconcile run listener threw', { error: errorMessage(err) });
      }
    }
  }

  /**
   * Events of other devices than the backend's own (containers' veths, the
   * bridge, its FDB and neighbour entries) and of other tables than main are
   * nothing to this reconciler: the kernel stops sending them, after every
   * setup (which may have made a device anew). Before the first setup
   * nothing is narrowed, and the run after it dumps anyway.
   */
  private narrowEvents(owned: readonly number[]): void {
    const key = owned.join(',');
    if (this.narrowFailed || key === this.narrowedTo || !this.sub?.narrow) return;
    try {
      this.sub.narrow(owned);
      this.narrowedTo = key;
    } catch (err) {
      this.narrowFailed = true;
      this.log.warn('netlink events cannot be narrowed to the backend devices; every event keeps coming', { error: errorMessage(err) });
    }
  }

  private onEvent(ev: NetlinkEvent): void {
    this.view?.onEvent(ev);
    const verdict = eventNeedsRun(ev, this.wanted);
    if (verdict === undefined) return;
    if (verdict.setup) {
      this.log[verdict.level](verdict.message, verdict.fields);
      this.needSetup = true;
    } else {
      // a flapping route or neighbour sets the pace of these lines: rate-limited
      this.limiter.event('repair', 'repairs of objects deleted from outside', verdict.level, verdict.message, verdict.fields);
    }
    this.request();
  }

  private async runOnce(): Promise<ReconcileStats> {
    const t0 = this.clock.now();
    const run: ReconcileStats = {
      writes: 0, added: 0, replaced: 0, deleted: 0, failed: 0, unchanged: 0, conflicts: 0, setupRan: false, fromView: false, scoped: false, durationMs: 0,
    };
    // whatever happens in this run, the next one is scoped only if this one ends with the kernel as desired
    const mayScope = this.scopedOk;
    this.scopedOk = false;
    this.scope = undefined;
    const fullDiff = this.fullDiffNext;
    this.fullDiffNext = false;
    let setupMs: number | undefined;
    let setupWrites = 0;
    if (this.needSetup) {
      this.needSetup = false;
      try {
        const r = await this.backend.setup();
        setupMs = this.clock.now() - t0;
        this.lastSetupResult = r;
        run.writes += r.writes;
        setupWrites = r.writes;
        run.setupRan = true;
        this.stats.setups++;
      } catch (err) {
        this.needSetup = true;
        this.fullDiffNext ||= fullDiff;
        throw new Error('backend setup', { cause: err });
      }
    }
    const desired = this.backend.desired(this.peers);
    this.noteRefused(desired);
    const owned = this.backend.ownedDevices();
    if (run.setupRan) this.narrowEvents(owned);
    // The view stands in for a dump only for a peer change or a repair, with no setup in this run.
    const fromView = !this.dumpNext && !run.setupRan ? this.view?.current() : undefined;
    this.dumpNext = false;
    let current: IndexedCurrent;
    // how long this run's dump took (logged: the rest of a resync is the diff's own work)
    let dumpMs: number | undefined;
    let dumpKept = false;
    if (fromView) {
      current = fromView;
      run.fromView = true;
      this.stats.viewRuns++;
    } else {
      this.view?.beginDump();
      const dumpStart = this.clock.now();
      const opts = { protocol: this.protocol, ownedDevices: owned };
      const held = this.view?.held();
      let dumped: CurrentObjects;
      const reuse = held && reuseFrom(held, opts, (r) => this.routeScope(r.dst), (nh) => this.nexthopScope(nh.id));
      try {
        dumped = await this.dumpCurrent(owned, reuse);
      } catch (err) {
        this.view?.abortDump();
        this.fullDiffNext ||= fullDiff;
        throw err;
      }
      dumpMs = this.clock.now() - dumpStart;
      // Indexed once: the diff reads it and the view keeps it; a dump that
      // says what the view holds (every resync of a quiet node) keeps the
      // view's index, and its own objects die young (dump-match.ts).
      dumpKept = held !== undefined && dumpMatches(held, dumped, opts, reuse?.tally);
      const index = dumpKept ? held! : indexCurrent(dumped, opts);
      this.view?.reset(index, owned);
      current = index;
    }
    const plans = new Map<string, PeerPlan>();
    for (const p of desired.peers) plans.set(p.subnet, p);
    let diff: DataplaneDiff | undefined;
    let scope: string[] | undefined;
    // A resync's dump that matched the view, with nothing from outside
    // since the last diff and no device rewritten by setup, proves the
    // kernel is exactly what the view runs knew: the same scoped diff holds.
    const viewExact = fromView !== undefined || (dumpKept && !fullDiff && setupWrites === 0 && this.view?.fresh === true);
    if (viewExact && mayScope && plans.size === desired.peers.length && this.view!.unexplainedChanges === 0 && sameDevices(owned, this.lastOwned)) {
      const change = planChange(this.lastPlans, plans);
      diff = diffChanged(change, current, this.wantedSets);
      if (diff) {
        run.scoped = true;
        this.stats.scopedRuns++;
        scope = [...change.before, ...change.after].map((p) => p.subnet);
      }
    }
    // The peer plans go to the diff as they are (no flat copy of 30 000 objects per run).
    diff ??= diffIndexed(desired.peers, current, { protocol: this.protocol, ownedDevices: owned }, this.knownWanted(plans, desired.peers.length, owned));
    this.wantedSets = diff.wanted;
    this.wantedFor = diff.duplicates === 0 && plans.size === desired.peers.length ? { plans, owned } : undefined;
    // The diff has read the kernel as the view holds it now (no await since):
    // changes from outside from here on make the next run a full one.
    this.view?.settle();
    // The new wanted sets take effect BEFORE this run's writes: the netlink
    // events of our own deletes (a peer that left) arrive while or after we
    // write, and must not read as "deleted from outside" (they are not wanted
    // any more). A wanted object deleted by someone else meanwhile still is.
    this.wanted = { protocol: this.protocol, owned, ...diff.wanted };

    // Outcomes other than 'ok', by desired object: ops and conflicts record them.
    const outcomes = new Map<DesiredObject, ObjectOutcome>();
    let bad = 0;
    for (const c of diff.conflicts) {
      const what = 'dst' in c.foreign ? 'route' : 'nexthop';
      outcomes.set(c.want, { state: 'conflict', error: `foreign ${what} proto ${c.foreign.protocol ?? 0} holds ${c.slot}` });
      bad++;
    }
    this.noteConflicts(diff.conflicts.map((c) => ({ dst: c.slot, foreignProtocol: c.foreign.protocol ?? 0 })));

    // Phases: deletes, then neighbours/FDB/nexthops, then routes, then nexthop deletes (apply.ts), each phase concurrent.
    await applyOps(this.nl, diff.ops, (op, { error, deviceGone }) => {
      run.writes++;
      // the device went away under us: recreate it before the retry
      if (deviceGone) this.needSetup = true;
      if (error === undefined) {
        this.view?.applied(op);
        if (op.action === 'add') run.added++;
        else if (op.action === 'replace') run.replaced++;
        else run.deleted++;
        if (op.action !== 'delete') outcomes.set(op.object.value, PROGRAMMED);
      } else {
        run.failed++;
        this.dumpNext = true; // the retry looks at the kernel itself
        if (op.action !== 'delete') {
          outcomes.set(op.object.value, { state: 'failed', error });
          bad++;
        }
        this.log.warn('reconcile write failed', { action: op.action, object: describeObject(op.object), error });
      }
    });
    run.unchanged = diff.unchanged;
    run.conflicts = diff.conflicts.length;
    run.durationMs = this.clock.now() - t0;

    this.lastDesired = desired;
    this.lastPlans = plans;
    this.lastRefused = new Set(desired.refused.map((r) => r.subnet));
    this.outcomes = outcomes;
    this.badOutcomes = bad;
    this.scope = scope;
    // After this run the kernel holds exactly the desired objects when every
    // write went through, nothing was in conflict and no two plans shared a
    // key (plans sharing a subnet count as that too): then the next view run
    // may diff only what changes, unless something from outside changed the
    // kernel meanwhile (the view counts that: unexplainedChanges).
    this.scopedOk = run.failed === 0 && diff.conflicts.length === 0 && diff.duplicates === 0 && plans.size === desired.peers.length
      && this.view?.fresh === true;
    this.lastOwned = owned;

    const s = this.stats;
    s.runs++;
    s.writes += run.writes;
    s.failedWrites += run.failed;
    s.lastWrites = run.writes;
    s.lastDurationMs = run.durationMs;
    s.lastRunAt = this.clock.wallNow();
    s.lastError = undefined;
    s.peers = desired.peers.length;
    s.refusedPeers = desired.refused.length;
    s.conflicts = run.conflicts;
    if (run.failed > 0) {
      this.scheduler.retry();
    } else {
      this.scheduler.succeeded();
    }
    const fields = {
      ...run, durationMs: Math.round(run.durationMs * 10) / 10, peers: desired.peers.length,
      ...(setupMs !== undefined ? { setupMs: Math.round(setupMs * 10) / 10 } : {}),
      ...(dumpMs !== undefined ? { dumpMs: Math.round(dumpMs * 10) / 10, dumpMatchedView: dumpKept } : {}),
    };
    // Route churn from outside (a flapping BGP peer) sets the pace of runs: rate-limited.
    if (run.writes > 0) this.limiter.event('reconciled', 'reconcile runs with writes', 'info', 'reconciled', fields);
    else this.log.debug('reconciled (no change)', fields);
    return run;
  }

  /**
   * The wanted sets of the last diff when they hold for `plans` as they are
   * (no plan changed since, same devices, no duplicate key then or now): a
   * full diff (the periodic resync) then only compares, instead of building
   * 30 000 keys into new sets (diff.ts).
   */
  private knownWanted(plans: ReadonlyMap<string, PeerPlan>, peers: number, owned: readonly number[]): MutableWanted | undefined {
    const w = this.wantedFor;
    if (w === undefined || plans.size !== peers || !sameDevices(owned, w.owned)) return undefined;
    const change = planChange(w.plans, plans);
    return change.before.length === 0 && change.after.length === 0 ? this.wantedSets : undefined;
  }

  private noteRefused(desired: DesiredDataplane): void {
    this.refusedLog.update(desired.refused, (r) => r.subnet, (r) => r.reason, (r) => {
      this.log.warn('peer refused by backend', { subnet: r.subnet, node: r.nodeName, publicIp: r.publicIp, reason: r.reason });
    });
  }

  private noteConflicts(conflicts: Array<{ dst: string; foreignProtocol: number }>): void {
    this.conflictsLog.update(conflicts, (c) => c.dst, () => true, (c) => {
      this.log.warn('not programmed: a route or nexthop knit does not own holds the same slot', c);
    });
  }
}

/** The same ifindexes in the same order (backends list their devices in a fixed order). */
function sameDevices(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
