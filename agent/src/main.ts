/**
 * knitd: wiring only. Loads the config, builds the real outside world
 * (netlink handle, files, nft, sockets) and hands it to the modules.
 *
 * Start-up order matters for "never disturb running containers": the IPAM
 * and endpoint state are read before anything is programmed, the nft table
 * is rebuilt from the recorded port mappings in one atomic replace, and
 * nothing already in the kernel is deleted at start. Shutdown closes the
 * sockets and leaves every kernel object in place.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION, describeError, KNIT_VERSION } from './base';
import { ConfigError, helpRequested, helpText, loadConfig } from './config';
import type { KnitdConfig } from './config';
import { createLogger, type Logger } from './log/logger';
import { openHandle, openLinkDeleteSocket } from './netlink';
import type { Handle, NetlinkObserver } from './netlink';
import { Ipam } from './ipam';
import * as ipv4 from './net/ipv4';
import { NftTable, nftLibraryUnavailable, setNftMode } from './dataplane/nft';
import type { NftDesiredState, PortMapping } from './dataplane/nft';
import { ensureBridge } from './dataplane/bridge';
import { PoolLinkDeleter } from './dataplane/link-delete-pool';
import { bridgedTrafficFiltered, ensureSysctl, procSysctl } from './dataplane/sysctl';
import { detectUnderlay } from './dataplane/underlay';
import { nodeOverlap, readNodePrefixes } from './dataplane/node-overlap';
import { ForwardGuard } from './dataplane/forward-policy';
import { EndpointStore } from './cni/endpoints';
import { DEFAULT_NETWORK_NAME, KnitCniHandlers, type AttachableNetwork, type NetworkDirectory, type NodeNetwork } from './cni/handlers';
import { NamedNetworks } from './wiring/named-networks';
import { PolicyEnforcer } from './wiring/policy-enforcer';
import { PolicyEndpointPublisher } from './wiring/policy-endpoints';
import { DockerDriver, DockerNetworkSync, NetworkIdMap, PluginServer } from './docker';
import { retrier } from './wiring/retry';
import { networkFamilies } from './store';
import { CniServer } from './cni/server';
import { renderConflist, writeFileAtomicIfChanged } from './cni/conflist';
import { auditAttachments } from './cni/audit';
import { recoverAllocations } from './cni/ipam-recovery';
import { startVanishedReaper } from './cni/vanished';
import { procNetnsInspector } from './netlink';
import { startCluster, type ClusterNode } from './wiring/cluster';
import { KnitdStateSource } from './wiring/state-source';
import { etcdNetworkSource } from './wiring/network-api';
import { etcdPolicySource, policyInfo } from './wiring/policy-api';
import { startOperatorSurface } from './wiring/operator';
import { StartingStateSource } from './wiring/starting-source';
import { StartupUndo } from './wiring/startup-undo';
import { createKnitMetrics, type KnitMetrics } from './metrics';

/** knitd's version (package.json's). */
const KNITD_VERSION = KNIT_VERSION;

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (helpRequested(argv)) {
    process.stdout.write(helpText());
    return 0;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`knitd ${KNITD_VERSION} (api ${API_VERSION}, node ${process.versions.node})\n`);
    return 0;
  }
  let cfg: KnitdConfig;
  try {
    cfg = loadConfig({ argv, env, readFile: (p) => readFileSync(p, 'utf8') });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`knitd: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(cfg.log.level, cfg.log.format);
  const undo = new StartupUndo(log.child({ module: 'startup' }));
  try {
    await run(cfg, log, undo);
    return 0;
  } catch (err) {
    log.error('knitd failed to start', { error: describeError(err) });
    await undo.run();
    return 1;
  }
}

async function run(cfg: KnitdConfig, log: Logger, undo: StartupUndo): Promise<void> {
  setNftMode(cfg.nft);
  const nftSpawned = nftLibraryUnavailable();
  log.info('nft commands', nftSpawned === undefined ? { via: 'libnftables' } : { via: 'nft binary', reason: nftSpawned });
  mkdirSync(cfg.stateDir, { recursive: true, mode: 0o700 });
  mkdirSync(cfg.runDir, { recursive: true, mode: 0o755 });
  const startedAt = new Date();
  const registry = createKnitMetrics({ version: KNITD_VERSION });
  const metrics = registry.metrics;
  const netlinkErrorCounts = new Map<string, number>();
  const nlObserver = netlinkMetrics(metrics, netlinkErrorCounts);
  const nl = openHandle(undefined, { observer: nlObserver });
  await recordStartupFootprint(nl, cfg, undo, log);

  // API and probes first: while knitd waits for etcd it is alive and says what it waits for.
  const clusterMode = cfg.etcd.endpoints.length > 0;
  const starting = new StartingStateSource({
    name: cfg.nodeName, bridge: cfg.bridge, mode: clusterMode ? 'cluster' : 'single-node', publicIp: cfg.publicIp ?? '',
    versions: { knitd: KNITD_VERSION, node: process.versions.node }, startedAt,
  }, 'starting');
  let cluster: ClusterNode | undefined;
  let ipam: Ipam | undefined;
  const operator = await startOperatorSurface(cfg, starting, registry, log, async () => {
    if (ipam) {
      const { used, free } = ipam.stats();
      metrics.ipamAddressesUsed.set(used);
      metrics.ipamAddressesFree.set(free);
    }
    metrics.leasesHeld.set(cluster?.manager.lease ? 1 : 0);
    if (cluster) {
      metrics.leasesKnown.set(cluster.tracker.peers().length + (cluster.manager.lease ? 1 : 0));
      metrics.peersProgrammed.set(cluster.reconciler.stats.peers);
      const liveness = cluster.liveness;
      metrics.peersAlive.set(cluster.tracker.peers().filter((p) => liveness.of(p.nodeName).state === 'alive').length);
      const timing = cluster.manager.timing();
      metrics.leaseRemainingSeconds.set(timing?.remainingSeconds ?? 0);
      if (timing) metrics.leaseLastRenewal.set(timing.renewedAt.getTime() / 1000);
    }
    if (starting.bgp) {
      const sessions = await starting.bgp.sessions();
      metrics.bgpSessions.reset();
      metrics.bgpPrefixes.reset();
      metrics.bgpPrefixesRejected.reset();
      metrics.bgpMaxPrefixHits.reset();
      for (const sess of sessions) {
        metrics.bgpSessions.inc({ state: sess.state });
        metrics.bgpPrefixes.set({ peer: sess.peerAddress, direction: 'sent' }, sess.prefixesSent);
        metrics.bgpPrefixes.set({ peer: sess.peerAddress, direction: 'received' }, sess.prefixesReceived);
        metrics.bgpPrefixes.set({ peer: sess.peerAddress, direction: 'accepted' }, sess.prefixesAccepted ?? 0);
        for (const [reason, n] of Object.entries(sess.prefixesRejected ?? {})) {
          if (typeof n === 'number') metrics.bgpPrefixesRejected.set({ peer: sess.peerAddress, reason }, n);
        }
        metrics.bgpMaxPrefixHits.set({ peer: sess.peerAddress }, sess.maxPrefixHits ?? 0);
      }
    }
  });
  undo.add('API and metrics listeners', () => operator.close());

  // The node's subnet and MTU: leased through etcd (cluster mode) or given (single-node mode).
  let subnet: string;
  /** Dual-stack: the node's IPv6 subnet. */
  let subnet6: string | undefined;
  let mtu: number;
  let natCidr: string;
  let masquerade = cfg.masquerade;
  if (clusterMode) {
    cluster = await startCluster({
      cfg, nl, logger: log, invalidLeaseCounter: metrics.invalidLeasesSkipped, undo, agent: { version: KNITD_VERSION, startedAt },
      onStep: (step) => starting.setStep(step),
      onReconcileRun: (backend, run) => {
        metrics.reconcileRuns.inc({ backend, result: run.result });
        metrics.reconcileDuration.observe({ backend }, run.durationMs / 1000);
      },
      registryObserver: {
        onError: (op) => metrics.etcdErrors.inc({ op }),
        onWatchRestart: () => metrics.etcdWatchRestarts.inc(),
      },
    });
    subnet = cluster.lease.subnet;
    subnet6 = cluster.lease.ipv6Subnet;
    mtu = cfg.mtu ?? cluster.mtu;
    natCidr = cluster.network.clusterCidr;
    // IPv6-only: the network's outbound NAT is ipv6Masquerade (off by default); its IPv4 masquerade has nothing to act on.
    masquerade = cluster.lease.subnet.includes(':') ? cluster.network.ipv6Masquerade === true : masquerade && cluster.network.masquerade;
  } else {
    subnet = cfg.subnet!;
    if (!ipv4.parseCidr(subnet)) throw new Error(`subnet ${subnet} is not a canonical IPv4 CIDR`);
    subnet6 = cfg.ipv6Subnet;
    const prefixes = await readNodePrefixes(nl, cfg.bridge);
    for (const [key, cidr] of [['subnet', subnet], ['ipv6Subnet', subnet6]] as const) {
      const overlap = cidr === undefined ? undefined : nodeOverlap(cidr, prefixes);
      if (overlap !== undefined) throw new Error(`config: ${key}: ${overlap}; the container subnet must be clear of every address and route the node already uses`);
    }
    mtu = cfg.mtu ?? await underlayMtu(nl, cfg, log);
    natCidr = subnet;
  }
  starting.setStep('starting: IPAM, bridge, nft table, CNI socket');
  // IPv6-only cluster: the one pool, the bridge gateway and every container address are IPv6 (ipam.json holds that pool).
  const ipv6Only = subnet.includes(':');
  ipam = await Ipam.open({ subnet, stateFile: join(cfg.stateDir, 'ipam.json'), logger: log.child({ module: 'ipam' }) });
  const endpoints = await EndpointStore.open(join(cfg.stateDir, 'endpoints.json'), log);
  // One pool per family: ipam.json stays the IPv4 file it always was; IPv6 gets its own.
  const ipam6 = subnet6 === undefined ? undefined
    : await Ipam.open({ subnet: subnet6, stateFile: join(cfg.stateDir, 'ipam6.json'), logger: log.child({ module: 'ipam6' }) });
  const node: NodeNetwork = {
    bridge: cfg.bridge, gateway: ipam.gateway, prefixLength: ipam.prefixLength, mtu, cidr: natCidr,
    ...(ipam6 ? { ipv6: { gateway: ipam6.gateway, prefixLength: ipam6.prefixLength, cidr: cluster?.network.ipv6ClusterCidr ?? ipam6.subnet } } : {}),
  };
  const defaultNetwork: AttachableNetwork = { name: DEFAULT_NETWORK_NAME, ipam, ...(ipam6 ? { ipam6 } : {}), node: () => node };

  const openNetns = (path: string): Handle => openHandle(path, { observer: nlObserver });
  ensureSysctl(procSysctl, 'net.ipv4.ip_forward', '1');
  // IPv6 forwarding for pod traffic. It also turns off accepting router
  // advertisements on interfaces with accept_ra=1 (docs/operations.md).
  if (ipam6 || ipv6Only) ensureSysctl(procSysctl, 'net.ipv6.conf.all.forwarding', '1');
  await undoNewBridgeAddresses(nl, cfg.bridge, undo);
  const bridge = await ensureBridge(nl, {
    name: node.bridge, gatewayCidr: `${node.gateway}/${node.prefixLength}`, mtu,
    ...(node.ipv6 ? { gatewayCidr6: `${node.ipv6.gateway}/${node.ipv6.prefixLength}` } : {}),
  }, log);
  await auditAttachments(nl, ipam, endpoints, log);

  // Veth teardown waits in the kernel; a pool job of the addon takes that wait off the event loop.
  // Its socket is made here, in knitd's own namespace (no setns window is open at this point).
  const linkDeleter = new PoolLinkDeleter(nl, openLinkDeleteSocket, log.child({ module: 'link-delete' }));
  // Named networks (cluster mode): each with its own lease, device, bridge and IPAM.
  let named: NamedNetworks | undefined;
  // The API's view of knitd (made further down); named networks tell it what etcd holds.
  let source: KnitdStateSource | undefined;
  let handlers: KnitCniHandlers | undefined;
  let dockerSync: DockerNetworkSync | undefined;
  if (cluster) {
    named = new NamedNetworks({
      client: cluster.client, prefix: cfg.etcd.prefix, stateDir: cfg.stateDir, nodeName: cfg.nodeName,
      ttlSeconds: cfg.etcd.leaseTtlSeconds, reconcileIntervalSeconds: cfg.reconcileIntervalSeconds,
      nl, logger: log, underlay: cluster.underlay, retry: retrier(log), endpoints, deleteLink: (index) => linkDeleter.del(index),
      enableIpv6: () => ensureSysctl(procSysctl, 'net.ipv6.conf.all.forwarding', '1'),
      ...(cfg.mtu !== undefined ? { mtuOverride: cfg.mtu } : {}),
      onReconcileRun: (backend, run) => {
        metrics.reconcileRuns.inc({ backend, result: run.result });
        metrics.reconcileDuration.observe({ backend }, run.durationMs / 1000);
      },
      // New or removed networks change the isolation and NAT rules (and Docker's networks).
      onChange: () => {
        handlers?.publishPortMappings().catch((err: unknown) => log.error('nft update after a network change failed', { error: describeError(err) }));
        dockerSync?.request();
      },
      onNetworks: (list) => source?.networksChanged(list),
    });
  }
  const nft = new NftTable({ logger: log });
  // Endpoints network policy isolates (the policy enforcer says which): their traffic stays tracked.
  let policyTracked: string[] = [];
  const defaultInternal = cluster?.network.internal === true;
  const ipv6Cidr = cluster === undefined ? undefined : networkFamilies(cluster.network).ipv6?.clusterCidr;
  const ipv6NodeSubnet = ipv6Only ? subnet : subnet6;
  const natBase = (): Omit<NftDesiredState, 'portMappings'> => {
    const others = named?.list() ?? [];
    return {
      ...(masquerade && !defaultInternal && !ipv6Only ? { masquerade: { clusterCidr: natCidr } } : {}),
      // IPv6 masquerade only when the network asks for it (ipv6Masquerade, off by default as in flannel).
      ...(cluster?.network.ipv6Masquerade === true && ipv6Cidr !== undefined && !defaultInternal
        ? { masquerade6: { clusterCidr: ipv6Cidr } } : {}),
      // Forwarded pod-to-pod traffic of the default network skips conntrack
      // (hostPort flows stay tracked). The node's own addresses in it: the
      // bridge gateway and the tunnel devices' <subnet .0>.
      // (IPv4 only: an IPv6-only network's pod traffic stays tracked.)
      ...(ipv6Only ? {} : { notrack: { clusterCidr: natCidr, nodeAddresses: [ipam.gateway, subnet.split('/')[0]!], trackedAddresses: policyTracked } }),
      // knit's own VXLAN packets between node addresses skip conntrack too: the UDP
      // ports of every network's backend (vxlan describes its port), to or from this node's underlay address.
      ...(cluster && !cluster.underlay.ip.includes(':') ? {
        tunnelNotrack: {
          localAddress: cluster.underlay.ip,
          udpPorts: [cluster.backend, ...others.map((n) => n.instance.backend)].flatMap((b) => {
            const port = b.describe().port;
            return port === undefined ? [] : [port];
          }),
        },
      } : {}),
      ...(ipv6Only ? {} : { nodeSubnet: subnet }),
      bridge: cfg.bridge,
      // Isolation per family: each network takes part with the CIDR of every family it has.
      networks: [
        {
          name: DEFAULT_NETWORK_NAME, bridge: cfg.bridge, internal: defaultInternal,
          ...(ipv6Only ? {} : { cidr: natCidr }), ...(ipv6Cidr !== undefined ? { cidr6: ipv6Cidr } : {}),
        },
        ...others.map((n) => {
          const f = networkFamilies(n.config);
          return {
            name: n.name, bridge: n.bridge, internal: n.config.internal === true,
            ...(f.ipv4 ? { cidr: f.ipv4.clusterCidr } : {}), ...(f.ipv6 ? { cidr6: f.ipv6.clusterCidr } : {}),
          };
        }),
      ],
      // Per family as the default network's: IPv4 masquerade follows `masquerade`, IPv6 `ipv6Masquerade`.
      extraNat: others.map((n) => {
        const f = networkFamilies(n.config);
        const outside = n.config.internal !== true;
        return {
          ...(f.ipv4 ? { nodeSubnet: n.subnet } : {}),
          ...(f.ipv4 && n.config.masquerade && outside ? { masqueradeCidr: f.ipv4.clusterCidr } : {}),
          ...(f.ipv6 ? { nodeSubnet6: n.subnet6 ?? n.subnet } : {}),
          ...(f.ipv6 && n.config.ipv6Masquerade === true && outside ? { masquerade6Cidr: f.ipv6.clusterCidr } : {}),
        };
      }),
    };
  };
  // Set once the publisher starts (below); attachment changes before that are in its first sync.
  let policyEndpoints: PolicyEndpointPublisher | undefined;
  const networks: NetworkDirectory = {
    get: (name) => (name === DEFAULT_NETWORK_NAME ? defaultNetwork : named?.get(name)),
    list: () => [defaultNetwork, ...(named?.list() ?? [])],
    willAttach: (name) => named?.willAttach(name) ?? Promise.resolve(),
    endpointsChanged: (name) => {
      named?.endpointsChanged(name);
      policyEndpoints?.changed();
    },
  };
  handlers = new KnitCniHandlers({
    nl,
    openNetns,
    deleteLink: (index) => linkDeleter.del(index),
    networks,
    endpoints,
    portMaps: {
      setPortMappings: (m: PortMapping[], m6: PortMapping[]) => nft.apply({
        ...natBase(), portMappings: m, portMappings6: m6, ...(ipv6NodeSubnet !== undefined ? { nodeSubnet6: ipv6NodeSubnet } : {}),
      }),
    },
    notReadyReason: () => {
      const h = cluster?.health();
      return h && !h.healthy ? `subnet lease ${h.state}${h.reason ? `: ${h.reason}` : ''}` : null;
    },
    logger: log,
  });
  if (named) {
    await named.start();
    const started = named;
    // A failed start also undoes what it made for named networks (their new leases, devices, bridges, state).
    undo.add('named networks started now', () => started.undoStartup());
  }
  // Network policy (docs/policy.md): programmed before containers get traffic; the table outlives knitd.
  const policy = cluster ? new PolicyEnforcer({
    client: cluster.client, prefix: cfg.etcd.prefix, logger: log,
    onIsolated: async (addresses) => {
      policyTracked = addresses;
      await handlers?.publishPortMappings();
    },
    ensureBridgedTraffic: () => bridgedTrafficFiltered(procSysctl, networks.list().some((n) => n.ipam6 !== undefined || n.ipam.subnet.includes(':'))),
    onPolicies: (ps) => source?.policiesChanged(ps.map(policyInfo)),
  }) : undefined;
  if (policy) {
    await policy.start();
    undo.add('network policy watch', () => policy.stop());
  }
  // Every pool of every network, now that the named ones are open.
  const pools = (): Ipam[] => networks.list().flatMap((n) => (n.ipam6 ? [n.ipam, n.ipam6] : [n.ipam]));
  // Before anything can allocate: IPAM adopts every address another source shows in use.
  await recoverAllocations({ nl, openNetns, pools: pools(), endpoints, netns: procNetnsInspector, log: log.child({ module: 'ipam-recovery' }) });
  // Attachments whose DEL never arrived: released now (before the nft table
  // is rendered, so their host ports are free again) and then periodically.
  const cniHandlers = handlers;
  const reaper = await startVanishedReaper({
    nl, pools, endpoints, netns: procNetnsInspector, locks: cniHandlers.locks, log: log.child({ module: 'cni' }),
    publishPortMappings: () => cniHandlers.publishPortMappings(),
  }, cfg.cniReapIntervalSeconds * 1000, (n) => {
    metrics.cniAttachmentsReaped.inc(n);
    policyEndpoints?.changed();
  });
  undo.add('vanished-attachment reaper', () => reaper.stop());
  // This node's endpoints, labels and addresses, for every node's policy selectors (after the reaper's first pass).
  if (cluster) {
    const publisher = new PolicyEndpointPublisher({
      client: cluster.client, prefix: cfg.etcd.prefix, nodeName: cfg.nodeName, endpoints: () => endpoints.list(), logger: log,
    });
    await publisher.start();
    policyEndpoints = publisher;
    undo.add('policy endpoint records', () => publisher.stop());
  }
  // One atomic replace of knit's nft table from the recorded mappings.
  await handlers.publishPortMappings();
  let dockerPlugin: PluginServer | undefined;
  if (cfg.docker.enabled) {
    if (!named) throw new Error('config: docker.enabled needs cluster mode (etcd.endpoints): Docker networks are knit networks');
    const cni = handlers;
    const driver = new DockerDriver({
      nl, networks, endpoints, networkIds: await NetworkIdMap.open(join(cfg.stateDir, 'docker-networks.json')),
      openNetns: (path) => openHandle(path, { observer: nlObserver }),
      publishPortMappings: () => cni.publishPortMappings(), logger: log,
    });
    dockerPlugin = new PluginServer(cfg.docker.pluginSocket, driver.handlers, log.child({ module: 'docker-plugin' }));
    await dockerPlugin.start();
    const plugin = dockerPlugin;
    undo.add('Docker plugin socket', () => plugin.close());
    const knitNetworks = named;
    dockerSync = new DockerNetworkSync({
      apiSocket: cfg.docker.apiSocket, logger: log,
      wanted: () => knitNetworks.list().map((n) => {
        const node = n.node();
        return {
          name: n.name, internal: n.config.internal === true, subnet: n.subnet, gateway: node.gateway,
          ...(n.subnet6 !== undefined && node.ipv6 ? { ipv6: { subnet: n.subnet6, gateway: node.ipv6.gateway } } : {}),
          // Docker 20.10 asks every network's IPAM for an IPv4 pool first (docs/docker.md).
          ...(n.subnet.includes(':') ? { unsupported: 'the knit network is IPv6-only, and a Docker 20.10 network always has an IPv4 pool' } : {}),
        };
      }),
    });
    // Not awaited: dockerd may start after knitd; the sync retries until it answers.
    dockerSync.request();
  }

  // A DROP forward policy (Docker's) would silently drop every forwarded container packet.
  const forwardCidrs = cluster
    ? [cluster.network.clusterCidr, ...(cluster.network.ipv6ClusterCidr ? [cluster.network.ipv6ClusterCidr] : [])]
    : [subnet, ...(subnet6 ? [subnet6] : [])];
  const forward = new ForwardGuard({ cidrs: forwardCidrs, logger: log.child({ module: 'forward-policy' }), intervalMs: cfg.reconcileIntervalSeconds * 1000 });
  await forward.start();
  undo.add('forward policy checks', () => forward.stop());

  source = new KnitdStateSource({
    nl, cluster, endpoints,
    ...(cluster ? { networks: etcdNetworkSource(cluster.client, cfg.etcd.prefix), policies: etcdPolicySource(cluster.client, cfg.etcd.prefix) } : {}),
    notReadyReason: () => [cluster?.networkDrift(), ...forward.problems()].filter((r) => r !== undefined).join('; ') || null,
    node: {
      name: cfg.nodeName, bridge: cfg.bridge, subnet, mtu, startedAt, masquerade, metricsAddress: cfg.metrics.address,
      publicIp: cluster?.underlay.ip ?? cfg.publicIp ?? '',
      versions: { knitd: KNITD_VERSION, node: process.versions.node },
      ...(subnet6 !== undefined ? { ipv6Subnet: subnet6 } : {}),
      ...(cluster?.underlay.ipv6 !== undefined ? { publicIpv6: cluster.underlay.ipv6 } : {}),
    },
    stats: () => {
      const { used, free } = ipam.stats();
      // The API's counters are 32-bit: an IPv6 /64 pool (IPv6-only) shows as 4294967295 addresses.
      return { ipam: { used, total: Math.min(used + free, 0xffffffff) }, netlinkErrors: Object.fromEntries(netlinkErrorCounts) };
    },
  });
  // What the start-up sync read is the baseline: Watch reports changes from here on.
  source.networksChanged(named?.seen ?? []);
  source.policiesChanged((policy?.enforcedPolicies() ?? []).map(policyInfo));
  const server = new CniServer({
    socketPath: cfg.cniSocket, handlers, logger: log.child({ module: 'cni-server' }),
    maxConnections: cfg.cniMaxConnections, readTimeoutMs: cfg.cniIdleTimeoutSeconds * 1000,
    onRefused: () => metrics.cniConnectionsRefused.inc(),
    onRequest: (summary, durationMs) => {
      metrics.cniRequests.inc({ command: summary.command, result: summary.code === 0 ? 'ok' : String(summary.code) });
      metrics.cniRequestDuration.observe({ command: summary.command }, durationMs / 1000);
      if (summary.code === 0 && summary.containerId && summary.ifname && (summary.command === 'ADD' || summary.command === 'DEL')) {
        source.endpointChanged(summary.containerId, summary.ifname, summary.command === 'ADD' ? 'added' : 'removed');
      }
    },
  });
  await server.start();
  undo.add('CNI socket', () => server.close());
  starting.ready(source);
  const conflist = join(cfg.cniConfDir, cfg.cniConfFile);
  if (await writeFileAtomicIfChanged(conflist, renderConflist({
    networkName: cfg.cniNetworkName, agentSocket: cfg.cniSocket, mtu, bridge: cfg.bridge, subnet,
  }))) log.info('wrote CNI network config', { file: conflist });

  undo.commit();
  named?.commitStartup();
  log.info('knitd ready', {
    mode: cluster ? `cluster (${cluster.network.backend.type})` : 'single-node', node: cfg.nodeName, subnet, ...(subnet6 ? { ipv6Subnet: subnet6 } : {}),
    bridge: bridge.link.name, mtu,
    cniSocket: cfg.cniSocket, endpoints: endpoints.list().length,
    netlinkWritesAtStart: bridge.writes + (cluster?.startupWrites ?? 0),
  });

  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info('knitd stopping; kernel state and containers are left as they are', { signal: sig });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await operator.close();
  await server.close();
  await dockerSync?.stop();
  await dockerPlugin?.close();
  forward.stop();
  await named?.close();
  await policy?.stop();
  await policyEndpoints?.stop();
  await reaper.stop();
  await cluster?.stop();
  linkDeleter.close();
  nl.close();
}

/**
 * Records, before start-up changes anything, what a failed start must take
 * away again: knit's links (bridge, tunnel devices), its state files and its
 * nft table, each only if it does not exist yet. Containers' host veths are
 * never in it: a start that fails leaves running containers alone.
 */
async function recordStartupFootprint(nl: Handle, cfg: KnitdConfig, undo: StartupUndo, log: Logger): Promise<void> {
  const before = new Set((await nl.linkList()).map((l) => l.name));
  undo.add('links made at start-up (bridge, tunnel devices)', async () => {
    for (const l of await nl.linkList()) {
      if (!before.has(l.name) && (l.name === cfg.bridge || l.name.startsWith('knit.'))) await nl.linkDel(l.index);
    }
  });
  for (const name of ['ipam.json', 'ipam6.json', 'endpoints.json']) {
    const file = join(cfg.stateDir, name);
    if (!existsSync(file)) undo.add(`state file ${file}`, () => rmSync(file, { force: true }));
  }
  const nft = new NftTable({ logger: log });
  if ((await nft.list()) === null) undo.add('nft table ip knit', () => nft.remove());
}

/**
 * A bridge an earlier knitd left is kept on a failed start (containers hang
 * off it), but a gateway address this start adds to it (e.g. of a subnet the
 * node never held) is taken off again. A bridge this start creates goes
 * with the links of recordStartupFootprint.
 */
async function undoNewBridgeAddresses(nl: Handle, name: string, undo: StartupUndo): Promise<void> {
  const link = await nl.linkByName(name);
  if (!link || link.kind !== 'bridge') return;
  const before = new Set((await nl.addrList({ index: link.index })).map((a) => a.cidr));
  undo.add(`addresses added to bridge ${name}`, async () => {
    for (const a of await nl.addrList({ index: link.index })) if (!before.has(a.cidr)) await nl.addrDel(link.index, a.cidr);
  });
}

/**
 * Counts netlink requests by operation ('route replace' → op="route_replace")
 * and failures by errno code, also into `errorsByCode` (for `knitctl status`).
 */
function netlinkMetrics(metrics: KnitMetrics, errorsByCode: Map<string, number>): NetlinkObserver {
  // one label per operation, made once: every netlink write passes here (30 000 at 10 000 vxlan peers)
  const labels = new Map<string, string>();
  return {
    onRequest: (op, error) => {
      let label = labels.get(op);
      if (label === undefined) {
        label = op.replace(/ /g, '_');
        labels.set(op, label);
      }
      metrics.netlinkOperations.inc({ op: label });
      if (error) {
        metrics.netlinkErrors.inc({ op: label, code: error.code });
        errorsByCode.set(error.code, (errorsByCode.get(error.code) ?? 0) + 1);
      }
    },
  };
}

async function underlayMtu(nl: Handle, cfg: KnitdConfig, log: Logger): Promise<number> {
  try {
    const u = await detectUnderlay(nl, {
      ...(cfg.publicInterface ? { interfaceName: cfg.publicInterface } : {}),
      ...(cfg.publicIp ? { publicIp: cfg.publicIp } : {}),
    });
    return u.link.mtu;
  } catch (err) {
    log.warn('no underlay found to derive the MTU from; using 1500', { error: describeError(err) });
    return 1500;
  }
}

// `node dist/agent/src/main.js` works like agent/bin/knitd (without its heap flags).
if (require.main === module) {
  main(process.argv.slice(2), process.env).then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`knitd: ${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
