/**
 * One network on this node in cluster mode: its subnet lease, its backend
 * device, and the reconciler fed by its peer leases. The default network and
 * every named network run the same machinery, each under its own etcd prefix
 * (store/named-networks.ts) and state directory, so nothing in subnet/,
 * backend/ or dataplane/ knows there is more than one.
 */
import type { Logger } from '../log/logger';
import type { Handle } from '../netlink';
import { EtcdRegistry, type EtcdClient, type Lease, type NetworkConfig, type RegistryObserver } from '../store';
import { LeaseManager, PeerTracker, type CounterLike } from '../subnet';
import { backendLeaseData, createBackend, type Backend } from '../backend';
import { Reconciler, type ReconcileRunReport } from '../dataplane/reconcile';
import type { Underlay } from '../dataplane/underlay';
import { cidrCoversAny, mustParseCidrAny, parseCidrAny } from '../net/ip';
import { cidrContains, ipv4PrefixInside, parseCidr as parseIpv4Cidr } from '../net/ipv4';
import { RTPROT_KNIT_BGP } from '../netlink';
import type { retrier } from './retry';
import type { StartupUndo } from './startup-undo';
import { existsSync } from 'node:fs';
import { removeSubnetState, subnetStatePath } from '../subnet';
import { errorMessage } from '../base';

/** How often the lease is kept alive and checked, whatever its TTL: the bound on noticing an etcd outage. */
const LEASE_CHECK_INTERVAL_MS = 10_000;

export interface NetworkInstanceOptions {
  name: string;
  network: NetworkConfig;
  client: EtcdClient;
  /** this network's key prefix ("/knit/v1" for the default network) */
  prefix: string;
  /** this network's state directory (subnet.json lives there) */
  stateDir: string;
  nodeName: string;
  /** The operator's BGP Identifier for this node (knitd's bgp.routerId), for a bgp backend. */
  routerId?: string;
  ttlSeconds: number;
  reconcileIntervalSeconds: number;
  nl: Handle;
  logger: Logger;
  underlay: Underlay;
  retry: ReturnType<typeof retrier>;
  invalidLeaseCounter?: CounterLike;
  onReconcileRun?: (backend: string, run: ReconcileRunReport) => void;
  registryObserver?: RegistryObserver;
  /** where start-up records what it made (lease, state file, watches), undone if start-up fails */
  undo: StartupUndo;
}

export interface NetworkInstance {
  name: string;
  network: NetworkConfig;
  lease: Lease;
  backend: Backend;
  /** container MTU from the backend (underlay − encapsulation, or the network's override) */
  mtu: number;
  manager: LeaseManager;
  tracker: PeerTracker;
  registry: EtcdRegistry;
  reconciler: Reconciler;
  /** netlink writes of start-up (device + first reconcile) */
  startupWrites: number;
  /**
   * The network is being removed: its routes, neighbours and FDB entries
   * go (an empty peer set, the last one: a lease event after this cannot
   * bring a route back), then the reconciler stops, before the devices are
   * deleted (a running reconciler would re-create a deleted device).
   */
  clearDataplane(): Promise<void>;
  /** Stops watching and renewing; kernel objects stay. `release` deletes the lease too. */
  stop(release: boolean): Promise<void>;
}

export async function startNetworkInstance(o: NetworkInstanceOptions): Promise<NetworkInstance> {
  const { network, nl, underlay, retry, undo } = o;
  const logger = o.name === 'default' ? o.logger : o.logger.child({ network: o.name });
  const log = logger.child({ module: 'cluster' });
  const registry = new EtcdRegistry(o.client, {
    prefix: o.prefix,
    scope: network,
    logger: logger.child({ module: 'registry' }),
    ...(o.registryObserver ? { observer: o.registryObserver } : {}),
  });
  const manager = new LeaseManager({
    store: registry, network, stateDir: o.stateDir, ttlSeconds: o.ttlSeconds,
    // A renewal every few seconds is how knitd learns that etcd went away (health: degraded) and came back.
    checkIntervalMs: LEASE_CHECK_INTERVAL_MS,
    logger: logger.child({ module: 'lease' }),
  });
  const hadStateFile = existsSync(subnetStatePath(o.stateDir));
  const lease = await retry('acquire a subnet lease', () => manager.acquire({
    nodeName: o.nodeName, publicIp: underlay.ip, backendData: backendLeaseData(network, o.nodeName),
    ...(underlay.ipv6 !== undefined ? { publicIpv6: underlay.ipv6 } : {}),
  }));
  if (!hadStateFile) undo.add(`subnet state file ${subnetStatePath(o.stateDir)}`, () => removeSubnetState(o.stateDir));
  if (manager.createdAtAcquire) undo.add(`subnet lease ${lease.subnet}`, () => manager.release());
  else undo.add(`renewal of subnet lease ${lease.subnet}`, () => manager.stop());
  log.info('subnet lease held', {
    subnet: lease.subnet, publicIp: underlay.ip, backend: network.backend.type,
    ...(lease.ipv6Subnet !== undefined ? { ipv6Subnet: lease.ipv6Subnet, publicIpv6: underlay.ipv6 ?? '(none)' } : {}),
  });

  const backend = createBackend({
    nl, logger: logger.child({ module: 'backend' }), network,
    node: {
      name: o.nodeName, publicIp: underlay.ip, underlay: underlay.link, subnet: lease.subnet,
      ...(lease.ipv6Subnet !== undefined ? { subnet6: lease.ipv6Subnet } : {}),
      ...(underlay.ipv6 !== undefined ? { publicIpv6: underlay.ipv6 } : {}),
      ...(o.routerId !== undefined ? { routerId: o.routerId } : {}),
    },
  });
  if (backend.close) undo.add(`${network.backend.type} backend`, () => backend.close!());
  const setup = await backend.setup();
  const cidrs = [network.clusterCidr, ...(network.ipv6ClusterCidr !== undefined ? [network.ipv6ClusterCidr] : [])].map((c) => mustParseCidrAny(c));
  const v4Cidr = parseIpv4Cidr(network.clusterCidr); // undefined for an IPv6-only network
  const routeScope = (dst: string): boolean => {
    // IPv4 destinations read in place (every route of a dump and every route event asks)
    if (v4Cidr !== undefined) {
      const inside = ipv4PrefixInside(dst, v4Cidr);
      if (inside !== undefined) return inside;
    }
    const c = parseCidrAny(dst);
    return c !== undefined && cidrs.some((k) => cidrCoversAny(k, c));
  };
  const reconciler = new Reconciler({
    nl, logger: logger.child({ module: 'reconciler' }), backend,
    resyncIntervalMs: o.reconcileIntervalSeconds * 1000,
    // Several networks share the route protocol: each owns the routes inside its CIDRs (both families),
    // and the nexthops whose id (a peer subnet's address, backend/nexthop-routes.ts) lies inside them.
    // BGP's routes (protocol 90, also learned prefixes outside the cluster) all belong to the bgp backend.
    // BGP's runs come through reconcileNow (a dump each): no kernel view, which would copy a full table.
    // A knit nexthop's id is its peer subnet's IPv4 address (backend/nexthop-routes.ts): this network owns those inside its IPv4 CIDR.
    ...(backend.routeProtocol === RTPROT_KNIT_BGP ? { kernelView: false } : { routeScope, nexthopScope: (id: number) => v4Cidr !== undefined && cidrContains(v4Cidr, id) }),
    ...(o.onReconcileRun ? { onRun: (run: ReconcileRunReport) => o.onReconcileRun!(network.backend.type, run) } : {}),
    ...(backend.routeProtocol !== undefined ? { protocol: backend.routeProtocol } : {}),
  });
  // BGP: learned routes change without a lease change; a failed run is logged by the reconciler.
  backend.watch?.(() => { reconciler.reconcileNow().catch(() => undefined); });
  const tracker = new PeerTracker({
    feed: registry, nodeName: o.nodeName, publicIp: underlay.ip, ...(underlay.ipv6 !== undefined ? { publicIpv6: underlay.ipv6 } : {}),
    // The held subnet also while in conflict: the intruder's lease on it must never become a peer route.
    ownSubnet: () => manager.health().subnet, logger: logger.child({ module: 'peers' }),
    ...(o.invalidLeaseCounter ? { invalidCounter: o.invalidLeaseCounter } : {}),
  });
  let cleared = false;
  tracker.on('peers-changed', (peers) => {
    if (cleared) return;
    // Side effects of a new peer set (BGP sessions) first, then the reconcile that reads desired().
    backend.peersChanged?.(peers);
    reconciler.setPeers(peers);
  });
  tracker.on('conflict', () => void manager.verifyNow());
  // The intruder's lease was deleted (or ours expired): look now, recover from conflict / re-create.
  tracker.on('own-subnet-free', () => void manager.verifyNow());
  reconciler.start();
  undo.add('reconciler', () => reconciler.stop());
  await retry('list and watch the peer leases', () => tracker.start());
  undo.add('lease watch', () => tracker.stop());
  // Ready means programmed: wait for the first run over the peers just listed.
  const first = await reconciler.reconcileNow();
  log.info('peers programmed', { peers: tracker.peers().length, writes: first.writes, durationMs: first.durationMs });

  return {
    name: o.name, network, lease, backend, mtu: setup.mtu, manager, tracker, registry, reconciler,
    startupWrites: setup.writes + first.writes,
    clearDataplane: async () => {
      cleared = true;
      reconciler.setPeers([]);
      try {
        await reconciler.reconcileNow();
      } finally {
        await reconciler.stop();
      }
    },
    stop: async (release) => {
      await backend.close?.();
      await tracker.stop();
      await reconciler.stop();
      if (release) await releaseLease(manager, log);
      else manager.stop();
    },
  };
}

/** Best effort: a release that cannot reach etcd leaves the lease to expire by its TTL. */
async function releaseLease(manager: LeaseManager, log: Logger): Promise<void> {
  const subnet = manager.lease?.subnet;
  try {
    await manager.release();
    log.info('released the subnet lease on shutdown', { subnet });
  } catch (err) {
    log.warn('could not release the subnet lease; it expires by its TTL', { subnet, error: errorMessage(err) });
  }
}
