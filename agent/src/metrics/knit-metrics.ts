/**
 * knitd's Prometheus metrics: one registry, every metric defined here with a
 * `knit_` prefix, handed to the modules as `KnitMetrics`.
 *
 * This is the only module that imports prom-client. Modules see the narrow
 * `CounterVec`/`GaugeVec`/`HistogramVec` shapes below (which prom-client's
 * objects satisfy), so their tests pass plain fakes or `createKnitMetrics()`
 * and nothing else learns the library.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A counter with labels `L` (none: `never`). */
export interface CounterVec<L extends string = never> {
  inc(labels: Partial<Record<L, string>>, value?: number): void;
  inc(value?: number): void;
}

/** A gauge with labels `L`. */
export interface GaugeVec<L extends string = never> {
  set(labels: Partial<Record<L, string>>, value: number): void;
  set(value: number): void;
  inc(labels: Partial<Record<L, string>>, value?: number): void;
  inc(value?: number): void;
  dec(labels: Partial<Record<L, string>>, value?: number): void;
  dec(value?: number): void;
  /** Drops every labelled series (before re-setting a full picture). */
  reset(): void;
}

/** A histogram of seconds with labels `L`. */
export interface HistogramVec<L extends string = never> {
  observe(labels: Partial<Record<L, string>>, seconds: number): void;
  observe(seconds: number): void;
  /** Starts a timer; calling the result observes the elapsed seconds. */
  startTimer(labels?: Partial<Record<L, string>>): (labels?: Partial<Record<L, string>>) => number;
}

/** Every metric knitd exports, typed by its labels. */
export interface KnitMetrics {
  /** Subnet leases this node holds (0 or 1). */
  leasesHeld: GaugeVec;
  /** Valid subnet leases known from etcd, this node's included. */
  leasesKnown: GaugeVec;
  /** Peers whose kernel objects are programmed. */
  peersProgrammed: GaugeVec;
  /** Peers whose agent's liveness key exists. */
  peersAlive: GaugeVec;
  /** Seconds left on this node's subnet lease (etcd TTL at the last renewal, minus the time since). */
  leaseRemainingSeconds: GaugeVec;
  /** Unix time of the last successful renewal of this node's subnet lease. */
  leaseLastRenewal: GaugeVec;
  /** Reconcile passes by backend and result ("ok", "error"). */
  reconcileRuns: CounterVec<'backend' | 'result'>;
  reconcileDuration: HistogramVec<'backend'>;
  /** Netlink requests by operation ("route_replace", "neigh_replace", …). */
  netlinkOperations: CounterVec<'op'>;
  /** Failed netlink requests by operation and errno code ("EEXIST"). */
  netlinkErrors: CounterVec<'op' | 'code'>;
  /** CNI requests by command ("ADD", …) and result ("ok" or the CNI error code). */
  cniRequests: CounterVec<'command' | 'result'>;
  cniRequestDuration: HistogramVec<'command'>;
  /** Attachments released because their container vanished without a CNI DEL. */
  cniAttachmentsReaped: CounterVec;
  /** CNI socket connections refused at the cniMaxConnections cap. */
  cniConnectionsRefused: CounterVec;
  ipamAddressesUsed: GaugeVec;
  ipamAddressesFree: GaugeVec;
  /** etcd calls that failed, by operation ("acquire", "renew", "list", "watch"). */
  etcdErrors: CounterVec<'op'>;
  etcdWatchRestarts: CounterVec;
  /** Lease entries in etcd that did not parse and were skipped. */
  invalidLeasesSkipped: CounterVec;
  /** BGP sessions per FSM state ("Established", "Idle", …). */
  bgpSessions: GaugeVec<'state'>;
  /** Prefixes per BGP peer and direction ("sent", "received", "accepted"). */
  bgpPrefixes: GaugeVec<'peer' | 'direction'>;
  /** Received prefixes refused by the import policy, per BGP peer and reason. */
  bgpPrefixesRejected: GaugeVec<'peer' | 'reason'>;
  /** Max-prefix Ceases per BGP peer since knitd started. */
  bgpMaxPrefixHits: GaugeVec<'peer'>;
  /** gRPC API calls by method and status code name ("OK", "NOT_FOUND"). */
  apiRequests: CounterVec<'method' | 'code'>;
  /** Connected Watch clients. */
  apiWatchers: GaugeVec;
  /** Watch clients dropped for falling behind. */
  apiWatchDrops: CounterVec;
}

/** The registry and the typed metrics in it. */
export interface KnitMetricsRegistry {
  metrics: KnitMetrics;
  /** Prometheus text exposition of everything registered. */
  render(): Promise<string>;
  /** The Content-Type of `render()`'s output. */
  contentType: string;
}

export interface KnitMetricsOptions {
  /** knitd's version, exported as knit_build_info{version}. */
  version?: string;
  /** Also export Node's process_* and nodejs_* metrics (default true). */
  processMetrics?: boolean;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Builds a fresh registry (one per knitd; tests make their own). */
export function createKnitMetrics(opts: KnitMetricsOptions = {}): KnitMetricsRegistry {
  const registry = new Registry();
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []): Gauge<L> =>
    new Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: L[]): Histogram<L> =>
    new Histogram<L>({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers });

  const build = gauge('knit_build_info', 'knitd version and Node.js runtime; always 1.', ['version', 'node']);
  build.set({ version: opts.version ?? 'unknown', node: process.versions.node }, 1);
  // The event-loop lag monitor samples every 100 ms, not prom-client's 10: at 10 ms it was all of an idle
  // knitd's 100 wake-ups a second and ~40 % of its idle CPU. Each sample still measures the delay to the ns.
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });

  const metrics: KnitMetrics = {
    leasesHeld: gauge('knit_leases_held', 'Subnet leases this node holds (0 or 1).'),
    leasesKnown: gauge('knit_leases_known', 'Valid subnet leases known from etcd, including this node\'s.'),
    peersProgrammed: gauge('knit_peers_programmed', 'Peers whose routes, neighbours and FDB entries are programmed.'),
    peersAlive: gauge('knit_peers_alive', 'Peers whose agent (knitd) is alive: its liveness key exists in etcd.'),
    leaseRemainingSeconds: gauge('knit_lease_remaining_seconds', 'Seconds left on this node\'s subnet lease unless it is renewed.'),
    leaseLastRenewal: gauge('knit_lease_last_renewal_timestamp_seconds', 'Unix time of the last successful renewal of this node\'s subnet lease.'),
    reconcileRuns: counter('knit_reconcile_runs_total', 'Reconcile passes by backend and result.', ['backend', 'result']),
    reconcileDuration: histogram('knit_reconcile_duration_seconds', 'Duration of reconcile passes.', ['backend']),
    netlinkOperations: counter('knit_netlink_operations_total', 'Netlink requests sent, by operation.', ['op']),
    netlinkErrors: counter('knit_netlink_errors_total', 'Netlink requests that failed, by operation and errno code.', ['op', 'code']),
    cniRequests: counter('knit_cni_requests_total', 'CNI requests by command and result.', ['command', 'result']),
    cniRequestDuration: histogram('knit_cni_request_duration_seconds', 'Time knitd spent on a CNI request.', ['command']),
    cniAttachmentsReaped: counter('knit_cni_attachments_reaped_total', 'Attachments released because their container vanished (host veth and netns gone) without a CNI DEL.'),
    cniConnectionsRefused: counter('knit_cni_connections_refused_total', 'CNI socket connections refused at the cniMaxConnections cap (answered with code 11).'),
    ipamAddressesUsed: gauge('knit_ipam_addresses_used', 'Container addresses allocated in this node\'s subnet.'),
    ipamAddressesFree: gauge('knit_ipam_addresses_free', 'Container addresses still free in this node\'s subnet.'),
    etcdErrors: counter('knit_etcd_errors_total', 'etcd calls that failed, by operation.', ['op']),
    etcdWatchRestarts: counter('knit_etcd_watch_restarts_total', 'Times the etcd lease watch was re-opened.'),
    invalidLeasesSkipped: counter('knit_invalid_leases_skipped_total', 'Lease entries in etcd that did not parse and were skipped.'),
    bgpSessions: gauge('knit_bgp_sessions', 'BGP sessions by FSM state.', ['state']),
    bgpPrefixes: gauge('knit_bgp_prefixes', 'Prefixes per BGP peer and direction (sent, received, accepted).', ['peer', 'direction']),
    bgpPrefixesRejected: gauge('knit_bgp_prefixes_rejected', 'Received BGP prefixes refused by the import policy, per peer and reason.', ['peer', 'reason']),
    bgpMaxPrefixHits: gauge('knit_bgp_max_prefix_hits', 'Sessions ended with Cease 6/1 for exceeding max-prefix, per peer, since knitd started.', ['peer']),
    apiRequests: counter('knit_api_requests_total', 'gRPC API calls by method and status code.', ['method', 'code']),
    apiWatchers: gauge('knit_api_watchers', 'Connected Watch clients.'),
    apiWatchDrops: counter('knit_api_watch_drops_total', 'Watch clients dropped because they fell behind.'),
  };
  return { metrics, render: () => registry.metrics(), contentType: registry.contentType };
}
