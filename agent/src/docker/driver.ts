/**
 * knit as a Docker network driver and IPAM driver (libnetwork's remote
 * protocol; docs/docker.md). A Docker network of driver `knit` IS a knit
 * network on this node:
 *
 *   IpamDriver.RequestPool     the knit network named by --ipam-opt network=NAME
 *                              (or whose CIDR is --subnet) → this node's subnet of it;
 *                              with --ipv6 also its IPv6 subnet (dual-stack networks)
 *   IpamDriver.RequestAddress  an address from knit's IPAM of that network; the
 *                              gateway is the network's bridge address
 *   NetworkDriver.CreateNetwork remembers NetworkID → knit network (state file,
 *                              so a knitd restart keeps serving running containers)
 *   NetworkDriver.Join         a veth pair: host end on the network's bridge,
 *                              the other end handed to dockerd to move and name;
 *                              gateway = bridge, plus a route to the network's CIDR
 *   ProgramExternalConnectivity `-p` ports → knit's nft port mappings
 *
 * Docker endpoints are recorded as knit endpoints (ifname "@docker"), so they
 * count for `knitctl network rm`, get port mappings, and are never collected
 * by CNI GC.
 */
import { randomBytes, createHash } from 'node:crypto';
import type { Logger } from '../log/logger';
import type { Handle } from '../netlink';
import type { Endpoint } from '../records';
import type { Ipam } from '../ipam';
import { PoolExhaustedError } from '../ipam';
import { hostVethName } from '../dataplane/veth-name';
import { errorMessage, hasErrorCode } from '../base';
import {
  parseCreateEndpoint, parseCreateNetwork, parseEndpointRef, parseExternalConnectivity, parseJoin, parseReleaseAddress,
  parseRequestAddress, parseRequestPool, PluginRequestError, reqString,
} from './protocol';
import type { NetworkIdMap } from './network-map';

/** The ifname under which Docker's addresses and endpoints are recorded (no CNI ifname starts with "@"). */
export const DOCKER_IFNAME = '@docker';

/** The address space knit reports (one: knit's networks never overlap). */
const ADDRESS_SPACE = 'knit';

/** One knit network as the driver sees it. */
export interface DockerNetworkView {
  name: string;
  ipam: Ipam;
  /** dual-stack: the pool of this node's IPv6 subnet (a Docker network with --ipv6 takes addresses from it) */
  ipam6?: Ipam;
  node(): {
    bridge: string; gateway: string; prefixLength: number; mtu: number; cidr: string;
    ipv6?: { gateway: string; prefixLength: number; cidr?: string };
  };
}

/**
 * The PoolID of a knit network's IPv6 pool: its name and a suffix no name
 * can contain ("/"), so RequestAddress and ReleaseAddress, which carry only
 * the PoolID, know the family. The IPv4 pool's ID stays the bare name (as
 * Docker networks made before IPv6 support have it).
 */
const IPV6_POOL_SUFFIX = '/ipv6';

/** Which network and family a PoolID names. */
function parsePoolId(poolId: string): { name: string; v6: boolean } {
  return poolId.endsWith(IPV6_POOL_SUFFIX) ? { name: poolId.slice(0, -IPV6_POOL_SUFFIX.length), v6: true } : { name: poolId, v6: false };
}


export interface DockerDriverDeps {
  nl: Handle;
  networks: {
    get(name: string): DockerNetworkView | undefined;
    list(): DockerNetworkView[];
    willAttach?(name: string): Promise<void>;
    endpointsChanged?(name: string): void;
  };
  endpoints: {
    get(containerId: string, ifname: string): Endpoint | undefined;
    put(e: Endpoint): Promise<void>;
    remove(containerId: string, ifname: string): Promise<unknown>;
  };
  /** Opens a netlink handle inside a namespace (the sandbox); the caller closes it. */
  openNetns(path: string): Handle;
  /** Re-renders every endpoint's port mappings into nft. */
  publishPortMappings(): Promise<void>;
  networkIds: NetworkIdMap;
  logger: Logger;
  now?: () => Date;
}

/** A failure dockerd should show the user (becomes {"Err": message}). */
export class DriverError extends Error {
  override name = 'DriverError';
}

type Obj = Record<string, unknown>;
type Handler = (body: Obj) => Promise<Obj>;

/** The name dockerd gives the container end before it moves it (unique per endpoint, ≤ 15 characters). */
export function containerVethName(endpointId: string): string {
  return `kd${createHash('sha256').update(endpointId).digest('hex').slice(0, 12)}`;
}

export class DockerDriver {
  private readonly log: Logger;
  private readonly now: () => Date;
  /** CreateEndpoint's address and labels until Join records the endpoint (Join does not carry them). */
  private readonly pending = new Map<string, { address: string; address6?: string; labels: Record<string, string> }>();
  /** The protocol's methods by URL path ("NetworkDriver.Join"). */
  readonly handlers: Record<string, Handler>;

  constructor(private readonly deps: DockerDriverDeps) {
    this.log = deps.logger.child({ module: 'docker' });
    this.now = deps.now ?? (() => new Date());
    this.handlers = {
      'Plugin.Activate': async () => ({ Implements: ['NetworkDriver', 'IpamDriver'] }),
      'NetworkDriver.GetCapabilities': async () => ({ Scope: 'local', ConnectivityScope: 'global' }),
      'IpamDriver.GetCapabilities': async () => ({ RequiresMACAddress: false, RequiresRequestReplay: false }),
      'IpamDriver.GetDefaultAddressSpaces': async () => ({ LocalDefaultAddressSpace: ADDRESS_SPACE, GlobalDefaultAddressSpace: ADDRESS_SPACE }),
      'IpamDriver.RequestPool': (b) => this.requestPool(b),
      'IpamDriver.ReleasePool': async () => ({}),
      'IpamDriver.RequestAddress': (b) => this.requestAddress(b),
      'IpamDriver.ReleaseAddress': (b) => this.releaseAddress(b),
      'NetworkDriver.CreateNetwork': (b) => this.createNetwork(b),
      'NetworkDriver.DeleteNetwork': async (b) => {
        await this.deps.networkIds.delete(reqString(b, 'NetworkID', 'NetworkDriver.DeleteNetwork'));
        return {};
      },
      'NetworkDriver.CreateEndpoint': (b) => this.createEndpoint(b),
      'NetworkDriver.EndpointOperInfo': async () => ({ Value: {} }),
      // Also after a Leave that never came (dockerd lost the sandbox across a restart): the same clean-up.
      'NetworkDriver.DeleteEndpoint': (b) => this.leave(b, 'NetworkDriver.DeleteEndpoint'),
      'NetworkDriver.Join': (b) => this.join(b),
      'NetworkDriver.Leave': (b) => this.leave(b),
      'NetworkDriver.ProgramExternalConnectivity': (b) => this.programPorts(b),
      'NetworkDriver.RevokeExternalConnectivity': (b) => this.revokePorts(b),
      'NetworkDriver.DiscoverNew': async () => ({}),
      'NetworkDriver.DiscoverDelete': async () => ({}),
    };
  }

  private network(name: string): DockerNetworkView {
    const net = this.deps.networks.get(name);
    if (!net) {
      throw new DriverError(`knit network ${JSON.stringify(name)} does not exist on this node (known: ${this.deps.networks.list().map((n) => n.name).join(', ')}); create it with "knitctl network create ${name} --cidr CIDR"`);
    }
    return net;
  }

  private networkOfId(networkId: string): DockerNetworkView {
    const name = this.deps.networkIds.get(networkId);
    if (name === undefined) throw new DriverError(`Docker network ${networkId.slice(0, 12)} is not a knit network this knitd knows (was it created while knitd was down? remove and re-create it)`);
    return this.network(name);
  }

  /**
   * PoolID = the knit network's name; the pool is this node's subnet of it.
   * dockerd asks for the IPv4 pool of every network, then (--ipv6) for an
   * IPv6 one: that is this node's IPv6 subnet of a dual-stack knit network.
   */
  private async requestPool(b: Obj): Promise<Obj> {
    const req = parseRequestPool(b);
    // What dockerd asks for (with --ipv6 a second call, V6 true), at debug level.
    this.log.debug('IPAM pool requested', { pool: req.pool, v6: req.v6, options: req.options });
    const named = req.options.network !== undefined ? this.deps.networks.get(req.options.network) : undefined;
    // Docker 20.10 gives every network an IPv4 pool first; an IPv6-only knit network has none to give.
    if (named !== undefined && named.ipam.subnet.includes(':')) {
      throw new DriverError(`knit network ${named.name} is IPv6-only, and Docker 20.10 networks always have an IPv4 pool; use a dual-stack knit network (knitctl network create NAME --cidr IPV4 --ipv6-cidr IPV6) for Docker`);
    }
    if (req.v6) return this.requestPool6(req.pool, named);
    // Without an explicit pool dockerd checks the answer against the host's
    // routes and asks again while it overlaps one; this node's subnet always
    // has its bridge route, so an answer would only make it ask forever.
    const net = req.pool === undefined ? undefined : this.deps.networks.list().find((n) => n.ipam.subnet === req.pool && !req.pool.includes(':'));
    if (!net || (req.options.network !== undefined && req.options.network !== net.name)) {
      const hint = req.options.network !== undefined ? this.deps.networks.get(req.options.network) : undefined;
      throw new DriverError(
        `a knit Docker network's subnet is this node's subnet of the knit network (${hint ? `--subnet ${hint.ipam.subnet}` : '--subnet <see knitctl network inspect>'}); ` +
        'knitd creates the Docker network of every knit network on this host by itself ("docker network ls")');
    }
    const node = net.node();
    return { PoolID: net.name, Pool: `${net.ipam.subnet}`, Data: { 'knit.network': net.name, 'knit.cidr': node.cidr } };
  }

  /** The IPv6 pool (--ipv6): this node's IPv6 subnet of a dual-stack knit network, given explicitly as for IPv4. */
  private requestPool6(pool: string | undefined, named: DockerNetworkView | undefined): Obj {
    const net = pool === undefined ? undefined : this.deps.networks.list().find((n) => n.ipam6?.subnet === pool);
    if (!net || (named !== undefined && named.name !== net.name)) {
      const hint = named === undefined ? '--subnet <its IPv6 subnet, see knitctl network inspect>'
        : named.ipam6 !== undefined ? `--subnet ${named.ipam6.subnet}` : `none: knit network ${named.name} has no IPv6 CIDR (create a dual-stack one with --ipv6-cidr)`;
      throw new DriverError(
        `the IPv6 pool of a knit Docker network (--ipv6) is this node's IPv6 subnet of a dual-stack knit network (${hint}); ` +
        'knitd creates the Docker network of every knit network on this host by itself, with --ipv6 when the knit network is dual-stack ("docker network ls")');
    }
    return { PoolID: `${net.name}${IPV6_POOL_SUFFIX}`, Pool: net.ipam6!.subnet, Data: {} };
  }

  /** The pool a PoolID names, with the bridge's gateway and prefix length of that family. */
  private poolOf(poolId: string): { net: DockerNetworkView; ipam: Ipam; gateway: string; prefixLength: number } {
    const { name, v6 } = parsePoolId(poolId);
    const net = this.network(name);
    const node = net.node();
    if (!v6) return { net, ipam: net.ipam, gateway: node.gateway, prefixLength: node.prefixLength };
    if (net.ipam6 === undefined || node.ipv6 === undefined) throw new DriverError(`knit network ${name} has no IPv6 pool on this node (pool ${poolId})`);
    return { net, ipam: net.ipam6, gateway: node.ipv6.gateway, prefixLength: node.ipv6.prefixLength };
  }

  private async requestAddress(b: Obj): Promise<Obj> {
    const req = parseRequestAddress(b);
    this.log.debug('IPAM address requested', { poolId: req.poolId, address: req.address, gateway: req.gateway });
    const { ipam, gateway, prefixLength } = this.poolOf(req.poolId);
    if (req.gateway || (req.address !== undefined && req.address === gateway)) {
      return { Address: `${gateway}/${prefixLength}`, Data: {} };
    }
    if (req.address !== undefined) throw new DriverError(`knit hands out container addresses itself; drop --ip/--ip6 ${req.address}`);
    const key = `docker-${randomBytes(8).toString('hex')}`;
    try {
      const alloc = await ipam.allocate(key, DOCKER_IFNAME);
      return { Address: `${alloc.ip}/${prefixLength}`, Data: {} };
    } catch (err) {
      if (err instanceof PoolExhaustedError) throw new DriverError(`no free address left in ${err.subnet} on this node`);
      throw err;
    }
  }

  private async releaseAddress(b: Obj): Promise<Obj> {
    const req = parseReleaseAddress(b);
    const { name, v6 } = parsePoolId(req.poolId);
    const net = this.deps.networks.get(name);
    const ipam = v6 ? net?.ipam6 : net?.ipam;
    if (!ipam) return {}; // the network (or its IPv6 side) is gone, and its addresses with it
    const ip = req.address.split('/')[0];
    const alloc = ipam.list().find((a) => a.ip === ip && a.ifname === DOCKER_IFNAME);
    if (alloc) await ipam.release(alloc.containerId, DOCKER_IFNAME, alloc.ip);
    return {};
  }

  private async createNetwork(b: Obj): Promise<Obj> {
    const req = parseCreateNetwork(b);
    // The pool came from knit's IPAM: it is this node's subnet of exactly one knit network.
    const net = req.pool === undefined ? undefined : this.deps.networks.list().find((n) => n.ipam.subnet === req.pool);
    if (!net) {
      throw new DriverError(`the knit driver needs knit's IPAM: docker network create -d knit --ipam-driver knit --ipam-opt network=NAME NAME (pool ${req.pool ?? 'none'} is no knit subnet of this node)`);
    }
    await this.deps.networkIds.set(req.networkId, net.name);
    this.log.info('Docker network created', { networkId: req.networkId.slice(0, 12), network: net.name, pool: req.pool });
    return {};
  }

  private async createEndpoint(b: Obj): Promise<Obj> {
    const req = parseCreateEndpoint(b);
    const net = this.networkOfId(req.networkId);
    if (req.address === undefined) throw new DriverError('dockerd gave the endpoint no IPv4 address; the network must use --ipam-driver knit');
    // Recorded in etcd before anything is attached, so a concurrent `knitctl network rm` refuses.
    await this.deps.networks.willAttach?.(net.name);
    this.pending.set(req.endpointId, { address: req.address, ...(req.address6 !== undefined ? { address6: req.address6 } : {}), labels: req.labels });
    this.log.debug('Docker endpoint created', { endpoint: req.endpointId.slice(0, 12), network: net.name, options: req.optionKeys, labels: req.labels });
    return {};
  }

  private async join(b: Obj): Promise<Obj> {
    const req = parseJoin(b);
    const net = this.networkOfId(req.networkId);
    const node = net.node();
    const before = this.deps.endpoints.get(req.endpointId, DOCKER_IFNAME);
    const pending = this.pending.get(req.endpointId);
    const address = pending?.address ?? before?.address ?? '';
    const address6 = pending?.address6 ?? before?.ipv6Address;
    const labels = pending?.labels ?? before?.labels ?? {};
    const hostName = hostVethName(req.endpointId, DOCKER_IFNAME);
    const peerName = containerVethName(req.endpointId);
    // A re-join after a failed Leave: start from nothing.
    for (const stale of [hostName, peerName]) {
      const link = await this.deps.nl.linkByName(stale);
      if (link) await this.deps.nl.linkDel(link.index).catch(() => undefined);
    }
    const bridge = await this.deps.nl.linkByName(node.bridge);
    if (!bridge) throw new DriverError(`bridge ${node.bridge} of knit network ${net.name} is missing on this node`);
    const host = await this.deps.nl.vethAdd({ name: hostName, peerName, mtu: node.mtu });
    try {
      await this.deps.nl.linkSetMaster(host.index, bridge.index);
      await this.deps.nl.linkSetHairpin(host.index, true);
      await this.deps.nl.linkSetUp(host.index);
      const peer = await this.deps.nl.linkByName(peerName);
      await this.deps.endpoints.put({
        containerId: req.endpointId, ifname: DOCKER_IFNAME, netns: req.sandboxKey,
        address, ...(address6 !== undefined ? { ipv6Address: address6 } : {}), mac: peer?.mac ?? '', hostVeth: hostName, portMappings: before?.portMappings ?? [],
        createdAt: this.now().toISOString(), network: net.name, ...(Object.keys(labels).length > 0 ? { labels } : {}),
      });
      this.pending.delete(req.endpointId);
      this.deps.networks.endpointsChanged?.(net.name);
    } catch (err) {
      await this.deps.nl.linkDel(host.index).catch(() => undefined);
      throw err;
    }
    this.log.debug('Docker endpoint joined', { endpoint: req.endpointId.slice(0, 12), network: net.name, hostVeth: hostName });
    // --ipv6: dockerd adds the IPv6 address CreateEndpoint carried; the gateway and the route are knit's, per family.
    const v6 = address6 !== undefined ? node.ipv6 : undefined;
    return {
      InterfaceName: { SrcName: peerName, DstPrefix: 'eth' },
      Gateway: node.gateway,
      ...(v6 ? { GatewayIPv6: v6.gateway } : {}),
      // Reaches the network's other nodes also when another network holds the default route (of either family).
      StaticRoutes: [
        { Destination: node.cidr, RouteType: 0, NextHop: node.gateway },
        ...(v6?.cidr !== undefined ? [{ Destination: v6.cidr, RouteType: 0, NextHop: v6.gateway }] : []),
      ],
    };
  }

  private async leave(b: Obj, what = 'NetworkDriver.Leave'): Promise<Obj> {
    const req = parseEndpointRef(b, what);
    this.pending.delete(req.endpointId);
    const link = await this.deps.nl.linkByName(hostVethName(req.endpointId, DOCKER_IFNAME));
    if (link) {
      await this.deps.nl.linkDel(link.index).catch((err: unknown) => {
        if (!hasErrorCode(err, 'ENODEV') && !hasErrorCode(err, 'ENOENT')) throw err;
      });
    }
    const rec = this.deps.endpoints.get(req.endpointId, DOCKER_IFNAME);
    if (rec) {
      await this.deps.endpoints.remove(req.endpointId, DOCKER_IFNAME);
      if (rec.portMappings.length > 0) await this.deps.publishPortMappings();
      if (rec.network !== undefined) this.deps.networks.endpointsChanged?.(rec.network);
    }
    return {};
  }

  private async programPorts(b: Obj): Promise<Obj> {
    const req = parseExternalConnectivity(b);
    // What dockerd passes for `-p` (e.g. whether it sends one binding per family), at debug level.
    const raw = (b.Options as Obj | undefined)?.['com.docker.network.portmap'];
    this.log.debug('Docker ports published', { endpoint: req.endpointId.slice(0, 12), ports: JSON.stringify(raw ?? null).slice(0, 2000) });
    const rec = this.deps.endpoints.get(req.endpointId, DOCKER_IFNAME);
    if (!rec) throw new DriverError(`endpoint ${req.endpointId.slice(0, 12)} has not joined a container on this node`);
    if (req.ports.length === 0) return {};
    const found = await this.containerAddresses(rec, req.networkId);
    await this.deps.endpoints.put({
      ...rec, ...found,
      portMappings: req.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIp ? { hostIp: p.hostIp } : {}) })),
    });
    try {
      await this.deps.publishPortMappings();
    } catch (err) {
      await this.deps.endpoints.put({ ...rec, portMappings: [] });
      await this.deps.publishPortMappings().catch(() => undefined);
      throw new DriverError(`publish ports of endpoint ${req.endpointId.slice(0, 12)}: ${errorMessage(err)}`);
    }
    return {};
  }

  /**
   * The container's addresses: recorded at Join from CreateEndpoint; after a
   * knitd restart between the two (CreateEndpoint's answer lived only in
   * memory), read from inside the sandbox, both families (dockerd has
   * configured them by the time it publishes ports), so the ports of a
   * dual-stack container are published on IPv6 too.
   */
  private async containerAddresses(rec: Endpoint, networkId: string): Promise<{ address: string; ipv6Address?: string }> {
    if (rec.address !== '') return { address: rec.address, ...(rec.ipv6Address !== undefined ? { ipv6Address: rec.ipv6Address } : {}) };
    const net = this.networkOfId(networkId);
    const ours = (pool: Ipam | undefined): Set<string> => new Set(pool?.list().filter((x) => x.ifname === DOCKER_IFNAME).map((x) => x.ip) ?? []);
    const [ours4, ours6] = [ours(net.ipam), ours(net.ipam6)];
    let address: string | undefined;
    let ipv6Address: string | undefined;
    const inside = this.deps.openNetns(rec.netns);
    try {
      for (const a of await inside.addrList()) {
        const ip = a.cidr.split('/')[0] ?? '';
        if (a.family === 4 && address === undefined && ours4.has(ip)) address = a.cidr;
        if (a.family === 6 && ipv6Address === undefined && ours6.has(ip)) ipv6Address = a.cidr;
      }
    } finally {
      inside.close();
    }
    if (address === undefined) throw new DriverError(`cannot find the address of endpoint ${rec.containerId.slice(0, 12)} in ${rec.netns}`);
    return { address, ...(ipv6Address !== undefined ? { ipv6Address } : {}) };
  }

  private async revokePorts(b: Obj): Promise<Obj> {
    const req = parseEndpointRef(b, 'NetworkDriver.RevokeExternalConnectivity');
    const rec = this.deps.endpoints.get(req.endpointId, DOCKER_IFNAME);
    if (rec && rec.portMappings.length > 0) {
      await this.deps.endpoints.put({ ...rec, portMappings: [] });
      await this.deps.publishPortMappings();
    }
    return {};
  }
}

export { PluginRequestError };
