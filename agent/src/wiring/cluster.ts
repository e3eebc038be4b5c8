/**
 * Cluster mode wiring: etcd → network config → this node's subnet lease →
 * backend device → reconciler fed by the peer leases. Part of main's wiring
 * (it builds real objects and connects them); the rules live in the modules.
 *
 * Start-up waits (with back-off) for what it cannot do without — etcd and the
 * network config — and says what it is waiting for; it never picks a new
 * subnet for a node whose old one was taken (flannel #1343: it fails instead).
 */
import { readFileSync } from 'node:fs';
import type { KnitdConfig } from '../config';
import type { Logger } from '../log/logger';
import type { Handle } from '../netlink';
import {
  createEtcdClient, DEFAULT_NETWORK, EtcdLivenessRegistry, EtcdRegistry, networkFamilies, NetworkConfigError, networkConfigDrift, networkKey,
  readNetworkConfig, seedNetworkConfig, watchNetworkConfig,
  type EtcdClient, type Lease, type NetworkConfig, type RegistryObserver,
} from '../store';
import { PeerLiveness, type CounterLike, type LeaseHealth, type LeaseManager, type PeerTracker } from '../subnet';
import { nodeOverlap, readNodePrefixes } from '../dataplane/node-overlap';
import type { StartupUndo } from './startup-undo';
import { checkNetworkBackend, parseNetwork, type Backend } from '../backend';
import type { Reconciler, ReconcileRunReport } from '../dataplane/reconcile';
import { detectUnderlay, underlayIpv6, type Underlay } from '../dataplane/underlay';
import { startNetworkInstance } from './network-instance';
import { retrier, Waiting } from './retry';

export interface ClusterNode {
  network: NetworkConfig;
  lease: Lease;
  underlay: Underlay;
  backend: Backend;
  /** container MTU from the backend (underlay − encapsulation, or the network's override) */
  mtu: number;
  manager: LeaseManager;
  tracker: PeerTracker;
  /** etcd access to the leases (the API lists them from etcd, not from memory) */
  registry: EtcdRegistry;
  /** the etcd client (named networks share it); closed by stop() */
  client: EtcdClient;
  reconciler: Reconciler;
  /** which nodes' agents are alive (this node's own liveness key included) */
  liveness: PeerLiveness;
  health(): LeaseHealth;
  /**
   * Set while `<prefix>/network` in etcd is not the config this knitd runs
   * with (deleted, replaced, invalid): knitd keeps serving with the config in
   * use, and readiness shows this.
   */
  networkDrift(): string | undefined;
  /** netlink writes start-up needed (backend device + first reconcile): 0 on a restart over a programmed node */
  startupWrites: number;
  /**
   * Stops watching and renewing; leaves every kernel object in place. The
   * lease stays too (a restart keeps the subnet), unless etcd.releaseOnShutdown
   * is set: then it is deleted, so peers drop this node's routes at once.
   */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  cfg: KnitdConfig;
  nl: Handle;
  logger: Logger;
  /** counts lease values in etcd that were skipped as invalid */
  invalidLeaseCounter?: CounterLike;
  /** hears every reconcile run, with the backend type (metrics) */
  onReconcileRun?: (backend: string, run: ReconcileRunReport) => void;
  /** hears failed etcd calls and lease-watch re-opens (metrics) */
  registryObserver?: RegistryObserver;
  /** how long to keep retrying etcd / a missing network config at start (default: forever) */
  startTimeoutMs?: number;
  /** where start-up records what it made (lease, state file, watches), undone by main if start-up fails */
  undo: StartupUndo;
  /** hears what start-up waits for ("waiting for etcd: <reason>"), for readiness while starting */
  onStep?: (step: string) => void;
  /** this knitd, as its liveness key tells peers */
  agent: { version: string; startedAt: Date };
}

export async function startCluster(opts: ClusterOptions): Promise<ClusterNode> {
  const { cfg, nl, undo } = opts;
  const log = opts.logger.child({ module: 'cluster' });
  // The seed is validated before etcd is even asked: a bad one is a config error, not something to wait for.
  const seed = cfg.network ? parseNetwork(cfg.network) : undefined;
  const client = createEtcdClient({ endpoints: cfg.etcd.endpoints, ...etcdTls(cfg) });
  undo.add('etcd client', () => client.close());
  const retry = retrier(log, opts.startTimeoutMs, opts.onStep);
  opts.onStep?.(`waiting for etcd: connecting to ${cfg.etcd.endpoints.join(', ')}`);
  {
    const stored = await retry('read the network config', async () => {
      const found = await readNetworkConfig(client, cfg.etcd.prefix);
      if (found) return found;
      if (!seed) {
        throw new Waiting(`no network config at ${cfg.etcd.prefix}/network; write one with \`knitctl network init\` or give knitd a "network" section to seed it`);
      }
      const seeded = await seedNetworkConfig(client, seed, cfg.etcd.prefix);
      if (seeded.created) log.info('seeded the network config', { key: `${cfg.etcd.prefix}/network` });
      return seeded.config;
    });
    // The backend checks its own section (and fills its defaults) before anything uses the network.
    const network = checkNetworkBackend(stored);
    // Before any side effect: a cluster CIDR over the node's own underlay or routes would cut the node off.
    const nodePrefixes = await readNodePrefixes(nl, cfg.bridge);
    for (const field of ['clusterCidr', 'ipv6ClusterCidr'] as const) {
      const cidr = network[field];
      const overlap = cidr === undefined ? undefined : nodeOverlap(cidr, nodePrefixes);
      if (overlap !== undefined) {
        throw new NetworkConfigError(field, `${overlap}; the cluster CIDR must be clear of every address and route the node already uses`);
      }
    }
    const stack = networkFamilies(network).stack;
    // IPv6-only: the lease's publicIp, the VXLAN source and host-gw's next hops
    // are IPv6 underlay addresses. Dual-stack: IPv4, unless publicIp pins an
    // IPv6 one (VXLAN over an IPv6 underlay carrying both families).
    const underlayFamily = stack === 'ipv6' || (stack === 'dual-stack' && cfg.publicIp?.includes(':') === true) ? 6 : 4;
    const detected = await detectUnderlay(nl, {
      ...(cfg.publicInterface ? { interfaceName: cfg.publicInterface } : {}),
      ...(cfg.publicIp ? { publicIp: cfg.publicIp } : {}),
    }, underlayFamily);
    // Dual-stack on IPv4: the IPv6 underlay address peers route our IPv6 subnet to (host-gw) is published in the lease.
    const ipv6 = stack === 'dual-stack' && underlayFamily === 4 ? await underlayIpv6(nl, detected.link.index) : undefined;
    const underlay: Underlay = ipv6 === undefined ? detected : { ...detected, ipv6 };
    const inst = await startNetworkInstance({
      name: DEFAULT_NETWORK, network, client, prefix: cfg.etcd.prefix, stateDir: cfg.stateDir,
      nodeName: cfg.nodeName, ttlSeconds: cfg.etcd.leaseTtlSeconds, reconcileIntervalSeconds: cfg.reconcileIntervalSeconds,
      nl, logger: opts.logger, underlay, retry, undo,
      ...(cfg.bgp.routerId !== undefined ? { routerId: cfg.bgp.routerId } : {}),
      ...(opts.invalidLeaseCounter ? { invalidLeaseCounter: opts.invalidLeaseCounter } : {}),
      ...(opts.onReconcileRun ? { onReconcileRun: opts.onReconcileRun } : {}),
      ...(opts.registryObserver ? { registryObserver: opts.registryObserver } : {}),
    });
    const { lease, backend, manager, tracker, reconciler, registry } = inst;
    const liveness = new PeerLiveness({
      store: new EtcdLivenessRegistry(client, { prefix: cfg.etcd.prefix, logger: opts.logger.child({ module: 'liveness' }) }),
      self: { nodeName: cfg.nodeName, publicIp: underlay.ip, startedAt: opts.agent.startedAt.toISOString(), version: opts.agent.version },
      ttlSeconds: cfg.etcd.livenessTtlSeconds,
      logger: opts.logger.child({ module: 'liveness' }),
    });
    const key = networkKey(cfg.etcd.prefix);
    let drift: string | undefined;
    const networkWatch = await retry('watch the network config', () => watchNetworkConfig(client, cfg.etcd.prefix, (text) => {
      const now = networkConfigDrift(network, text, checkNetworkBackend);
      if (now === drift) return;
      drift = now;
      if (now !== undefined) log.error('the network config in etcd no longer matches the one in use; serving on with the one in use', { key, problem: now });
      else log.info('the network config in etcd matches the one in use again', { key });
    }, (err) => log.warn('network config watch error', { key, error: err.message })));
    undo.add('network config watch', () => networkWatch.close());
    // Published once programmed: "alive" tells peers this agent serves. Never throws (etcd trouble is retried).
    await liveness.start();
    undo.add('liveness key', () => liveness.stop());

    return {
      network, lease, underlay, backend, mtu: inst.mtu, manager, tracker, reconciler, registry, client, liveness,
      startupWrites: inst.startupWrites,
      health: () => manager.health(),
      networkDrift: () => (drift === undefined ? undefined : `network config ${key} ${drift}; serving with the config in use (restart knitd to apply a new one)`),
      stop: async () => {
        await liveness.stop(); // first: peers see this agent down at once
        await inst.stop(cfg.etcd.releaseOnShutdown);
        await networkWatch.close(); // after the lease: a release must never wait on this watch
        client.close();
      },
    };
  }
}

function etcdTls(cfg: KnitdConfig): { tls?: { ca: Buffer; cert?: Buffer; key?: Buffer } } {
  const { caFile, certFile, keyFile } = cfg.etcd;
  if (!caFile && !certFile) return {};
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (cause) {
      throw new Error(`read etcd ${what} ${file}`, { cause });
    }
  };
  return {
    tls: {
      ca: caFile ? read('CA file', caFile) : Buffer.alloc(0),
      ...(certFile ? { cert: read('certificate', certFile) } : {}),
      ...(keyFile ? { key: read('key', keyFile) } : {}),
    },
  };
}
