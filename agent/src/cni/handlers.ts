/**
 * knitd's CNI handlers: the real work behind ADD, DEL, CHECK, STATUS and GC.
 *
 * ADD is a sequence of undoable steps (allocate → veth → addresses/routes →
 * record → port mappings); if any step fails, the steps done so far are
 * undone in reverse, so a failed ADD leaves no veth, no allocation and no nft
 * rule. DEL tolerates every "already gone" and releases the address even when
 * the namespace no longer exists. Everything runs on knitd's warm netlink
 * socket; only the container's namespace gets a short-lived one.
 */
import { existsSync } from 'node:fs';
import { procNetnsInspector, sameNetns, type Handle, type NetnsInspector, type Route } from '../netlink';
import type { Logger } from '../log/logger';
import { PoolExhaustedError, type Ipam, type Allocation } from '../ipam';
import { ensureBridge } from '../dataplane/bridge';
import {
  AlreadyOnNetworkError, HostVethExistsError, IfnameTakenError, attachContainer, checkContainer, detachContainer, type ContainerIpv6, type OpenNetns,
} from '../dataplane/container-link';
import { KeyedLocks, attachmentLockKey } from './attachment-locks';
import { NftValidationError } from '../dataplane/nft/validate';
import { recoveredContainerId, recoveredVethName } from './ipam-recovery';
import { hostVethName, isHostVethName } from '../dataplane/veth-name';
import { containerMac } from '../dataplane/container-mac';
import type { EndpointStore, Endpoint } from './endpoints';
import { portTargets, type PortTarget } from './port-targets';
import type { PortMapping } from '../records';
import type { AddRequest, CheckRequest, CniHandlers, DelRequest, GcRequest, StatusRequest } from './types';
import type { InternalResult } from './result';
import { CniError, CniErrorCode } from './errors';
import { endpointLabels } from './labels';
import { hasErrorCode } from '../base';
import { DurableWrites } from '../persist/durable-writes';
import { mustParseCidrAny, parseIp } from '../net/ip';

/** knit's own error codes (the spec leaves 100+ to plugins). */
export const KnitCniCode = {
  Internal: CniErrorCode.Internal,
  PoolExhausted: 101,
  AlreadyAttached: 102,
  PortConflict: 103,
} as const;

/** Where the node's port mappings go (knitd renders them into nftables with its NAT rules). */
export interface PortMapSink {
  /** Replaces the node's whole set of port mappings; resolves once programmed. */
  /** Every IPv4 mapping (to containers' IPv4 addresses) and every IPv6 one (to their IPv6 addresses). */
  setPortMappings(mappings: PortTarget[], mappings6: PortTarget[]): Promise<void>;
}

export interface NodeNetwork {
  bridge: string;
  /** e.g. "10.244.1.1" */
  gateway: string;
  prefixLength: number;
  mtu: number;
  /**
   * Dual-stack: the bridge's IPv6 gateway ("fd00:10:244:1::1"), the IPv6
   * subnet's prefix length, and the network's IPv6 CIDR across the cluster
   * (the route a second interface gets when ::/0 is taken, as `cidr`).
   */
  ipv6?: { gateway: string; prefixLength: number; cidr?: string };
  /**
   * The network's IPv4 CIDR across the cluster: a container whose default
   * route goes out through another interface (it is on two networks) reaches
   * this network's other nodes through a route to it.
   */
  cidr: string;
}

/** The name of the network a CNI config without a "network" key attaches to. */
export const DEFAULT_NETWORK_NAME = 'default';

/** One network containers can attach to on this node. */
export interface AttachableNetwork {
  name: string;
  ipam: Ipam;
  /** Dual-stack: the IPv6 pool (the node's IPv6 subnet); every container gets an address from both. */
  ipam6?: Ipam;
  /** a function because it may change (lease re-acquired, MTU learned) */
  node: () => NodeNetwork;
}

/** The networks this node serves; `get` takes the CNI config's `network` (absent = default). */
export interface NetworkDirectory {
  get(name: string): AttachableNetwork | undefined;
  list(): AttachableNetwork[];
  /**
   * Called before a container is attached to a network (awaited: a named
   * network records in etcd that this node has endpoints on it, so a
   * concurrent remove refuses) and after its endpoints changed.
   */
  willAttach?(name: string): Promise<void>;
  endpointsChanged?(name: string): void;
}

export interface CniServiceDeps {
  nl: Handle;
  openNetns: OpenNetns;
  networks: NetworkDirectory;
  endpoints: EndpointStore;
  portMaps: PortMapSink;
  /**
   * Deletes a host veth by index for DEL (default `nl.linkDel`); knitd
   * passes its PoolLinkDeleter's, so that concurrent DELs are batched and
   * the kernel's teardown wait happens off the event loop.
   */
  deleteLink?: (index: number) => Promise<void>;
  /** null when ready, else why ADD cannot be served now (STATUS → 50). */
  notReadyReason: () => string | null;
  logger: Logger;
  now?: () => Date;
  /** Namespace identities (default: stat on /proc); unit tests inject a fake. */
  netns?: NetnsInspector;
}

export class KnitCniHandlers implements CniHandlers {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly netns: NetnsInspector;
  /** One request at a time per attachment and per container namespace. */
  readonly locks = new KeyedLocks();

  constructor(private readonly deps: CniServiceDeps) {
    this.log = deps.logger.child({ module: 'cni' });
    this.now = deps.now ?? (() => new Date());
    this.netns = deps.netns ?? procNetnsInspector;
  }

  async add(req: AddRequest): Promise<InternalResult> {
    const { containerId, ifname, netns } = req;
    const ns = this.netns.lookup(netns);
    if (ns.kind === 'missing') throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_NETNS ${netns} does not exist`);
    if (ns.kind === 'not-a-namespace') throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_NETNS ${netns} is not a network namespace`);
    if (sameNetns(ns.id, this.netns.own())) {
      throw new CniError(CniErrorCode.InvalidEnvironment,
        `CNI_NETNS ${netns} is the network namespace knitd itself runs in (the node's); refusing to attach a container interface there`);
    }
    const notReady = this.deps.notReadyReason();
    if (notReady) throw new CniError(CniErrorCode.TryAgainLater, `knitd is not ready: ${notReady}`);
    return this.locks.run(
      [attachmentLockKey(containerId, ifname), `netns:${ns.id.dev}:${ns.id.ino}`],
      () => this.addLocked(req),
    );
  }

  private async addLocked(req: AddRequest): Promise<InternalResult> {
    const { containerId, ifname, netns } = req;
    const existing = this.deps.endpoints.get(containerId, ifname);
    if (existing) {
      throw new CniError(KnitCniCode.AlreadyAttached,
        `container ${containerId} already has interface ${ifname} on network ${req.conf.name} (${existing.address} in ${existing.netns}, ` +
        `since ${existing.createdAt}); ADD leaves an existing attachment alone: DEL it first`);
    }
    const net = this.networkOf(req.conf.network);
    const node = net.node();
    const ipam = net.ipam;
    // Checked before anything is made: a bad label fails the ADD with nothing to undo.
    const labels = endpointLabels(req.conf, req.args);
    const held = ipam.get(containerId, ifname) ?? net.ipam6?.get(containerId, ifname);
    if (held) {
      throw new CniError(KnitCniCode.AlreadyAttached,
        `container ${containerId} interface ${ifname} still holds ${held.ip} from an ADD that did not finish; DEL it first`);
    }
    // The container's families: the pool's (IPv6 in an IPv6-only cluster), plus IPv6 when dual-stack.
    const hasV6 = ipam.subnet.includes(':') || (net.ipam6 !== undefined && node.ipv6 !== undefined);
    const hasV4 = !ipam.subnet.includes(':');
    for (const m of req.conf.runtimeConfig?.portMappings ?? []) {
      const host = m.hostIP === undefined ? undefined : parseIp(m.hostIP);
      if (host?.family === 6 && host.value === 1n) {
        throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network config: portMappings hostIP ${m.hostIP}: IPv6 loopback cannot be forwarded to a container (the kernel has no route_localnet for IPv6); publish on [::] or a node address`);
      }
    }
    const mappings = (req.conf.runtimeConfig?.portMappings ?? [])
      // A host IP of a family the container has no address in has nothing to map to: skipped (no host IP: every family it has).
      .filter((m) => m.hostIP === undefined || (m.hostIP.includes(':') ? hasV6 : hasV4))
      .map((m): PortMapping => ({
        hostPort: m.hostPort, containerPort: m.containerPort, protocol: m.protocol,
        ...(m.hostIP && m.hostIP !== '0.0.0.0' ? { hostIp: m.hostIP } : {}),
      }));
    for (const m of mappings) {
      const holder = portHolder(this.deps.endpoints.list(), m);
      if (holder) {
        throw new CniError(KnitCniCode.PortConflict,
          `host port ${m.hostIp ?? '0.0.0.0'}:${m.hostPort}/${m.protocol} is held by container ${holder.containerId} interface ${holder.ifname} ` +
          `(${holder.address}, attached ${holder.createdAt}); DEL that attachment or pick another host port`);
      }
    }

    // Each step pushes the undo of exactly what it made, nothing made before this request.
    const undo: Array<() => Promise<unknown>> = [];
    // The state files' writes (address, endpoint) go on while the veth is made, and the ADD succeeds only once
    // every one is durable. A crash in between is safe: an address in a container but in no file is adopted
    // from the kernel at the next start (ipam-recovery.ts, step 3), so it is never handed out twice.
    const durable = new DurableWrites();
    try {
      await this.deps.networks.willAttach?.(net.name);
      let alloc: Allocation;
      try {
        const reserved = ipam.reserve(containerId, ifname);
        alloc = reserved.allocation;
        durable.add(reserved.durable);
      } catch (err) {
        if (err instanceof PoolExhaustedError) {
          throw new CniError(KnitCniCode.PoolExhausted, `no free address left in ${err.subnet} for container ${containerId}`);
        }
        throw err;
      }
      undo.push(() => ipam.release(containerId, ifname, alloc.ip));
      const addressCidr = `${alloc.ip}/${node.prefixLength}`;
      let ipv6: ContainerIpv6 | undefined;
      if (net.ipam6 && node.ipv6) {
        const pool6 = net.ipam6;
        let alloc6: Allocation;
        try {
          const reserved = pool6.reserve(containerId, ifname);
          alloc6 = reserved.allocation;
          durable.add(reserved.durable);
        } catch (err) {
          if (err instanceof PoolExhaustedError) {
            throw new CniError(KnitCniCode.PoolExhausted, `no free address left in ${err.subnet} for container ${containerId}`);
          }
          throw err;
        }
        undo.push(() => pool6.release(containerId, ifname, alloc6.ip));
        ipv6 = {
          addressCidr: `${alloc6.ip}/${node.ipv6.prefixLength}`, gateway: node.ipv6.gateway,
          ...(node.ipv6.cidr !== undefined ? { networkCidr: node.ipv6.cidr } : {}),
        };
      }

      // Everything the record holds is known before the veth exists (its names, and a MAC derived from
      // the address): it is written while the veth is made, as the address is.
      const endpoint: Endpoint = {
        containerId, ifname, netns, address: addressCidr, mac: containerMac(alloc.ip),
        hostVeth: hostVethName(containerId, ifname), portMappings: mappings, createdAt: this.now().toISOString(),
        ...(ipv6 ? { ipv6Address: ipv6.addressCidr } : {}),
        ...(net.name !== DEFAULT_NETWORK_NAME ? { network: net.name } : {}),
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
      };
      durable.add(this.deps.endpoints.put(endpoint));
      undo.push(() => this.deps.endpoints.remove(containerId, ifname));

      // The bridge is checked while attachContainer reads the container's namespace; the veth waits for it.
      const bridgeIndex = ensureBridge(this.deps.nl, {
        name: node.bridge, gatewayCidr: `${node.gateway}/${node.prefixLength}`, mtu: node.mtu,
        ...(node.ipv6 ? { gatewayCidr6: `${node.ipv6.gateway}/${node.ipv6.prefixLength}` } : {}),
      }, this.log).then((b) => b.link.index);
      const mtu = req.conf.mtu ?? node.mtu;
      let att;
      try {
        att = await attachContainer(this.deps.nl, this.deps.openNetns, {
          containerId, ifname, netns, bridgeIndex, addressCidr, mac: endpoint.mac,
          gateway: node.gateway, mtu, routes: req.conf.routes ?? [], subnet: mustParseCidrAny(ipam.subnet),
          networkCidr: node.cidr, ...(ipv6 ? { ipv6 } : {}),
        }, this.log);
      } catch (err) {
        throw attachError(err, containerId, ifname, req.conf.name);
      }
      undo.push(() => detachContainer(this.deps.nl, containerId, ifname));
      await durable.all();
      if (mappings.length > 0) await this.publishPortMappings();

      this.log.debug('container attached', { containerId, ifname, network: net.name, address: addressCidr, hostVeth: att.hostVeth.name });
      this.deps.networks.endpointsChanged?.(net.name);
      return this.resultFor(endpoint, node, att.routes, att.hostVeth.mac, mtu, req);
    } catch (err) {
      await durable.settled();
      for (const step of undo.reverse()) {
        await step().catch((undoErr: unknown) =>
          this.log.error('undo after failed ADD', { containerId, ifname, error: String(undoErr) }));
      }
      if (mappings.length > 0) await this.publishPortMappings().catch(() => undefined);
      this.deps.networks.endpointsChanged?.(net.name);
      if (err instanceof NftValidationError) {
        throw new CniError(KnitCniCode.PortConflict, err.message, { cause: err });
      }
      throw err;
    }
  }

  async del(req: DelRequest): Promise<void> {
    const { containerId, ifname } = req;
    await this.locks.run([attachmentLockKey(containerId, ifname)], async () => {
      const endpoint = this.deps.endpoints.get(containerId, ifname);
      // The record's removal is written while the veth goes: a veth left by a crash in between has its address
      // adopted from the kernel at the next start (ipam-recovery.ts), so the record is not what keeps it safe.
      const durable = new DurableWrites();
      if (endpoint) durable.add(this.deps.endpoints.remove(containerId, ifname));
      try {
        // The host end is found by name, so DEL works without any record.
        await detachContainer(this.deps.nl, containerId, ifname, this.deps.deleteLink);
      } catch (err) {
        // The veth stays: so does its record, as before this DEL (a retried DEL finds it again).
        await durable.settled();
        if (endpoint) await this.deps.endpoints.put(endpoint);
        throw err;
      }
      // The record says where it was attached; a network removed since has nothing left to release.
      const name = endpoint ? endpoint.network ?? DEFAULT_NETWORK_NAME : req.conf.network ?? DEFAULT_NETWORK_NAME;
      const net = this.deps.networks.get(name);
      // Addresses only once the veth is gone (never two holders), each pool's write alongside the others'.
      durable.add(net?.ipam.release(containerId, ifname) ?? Promise.resolve());
      durable.add(net?.ipam6?.release(containerId, ifname) ?? Promise.resolve());
      // An address start-up recovered from this attachment's veth (no record named it), whichever pool holds it.
      const recovered = recoveredContainerId(hostVethName(containerId, ifname));
      for (const n of this.deps.networks.list()) for (const pool of n.ipam6 ? [n.ipam, n.ipam6] : [n.ipam]) durable.add(pool.release(recovered, ifname));
      await durable.all();
      if (endpoint) {
        if (endpoint.portMappings.length > 0) await this.publishPortMappings();
        this.deps.networks.endpointsChanged?.(name);
      }
    });
  }

  async check(req: CheckRequest): Promise<void> {
    await this.locks.run([attachmentLockKey(req.containerId, req.ifname)], () => this.checkLocked(req));
  }

  private async checkLocked(req: CheckRequest): Promise<void> {
    const { containerId, ifname, netns } = req;
    const endpoint = this.deps.endpoints.get(containerId, ifname);
    const net = this.networkOf(req.conf.network);
    const alloc = net.ipam.get(containerId, ifname);
    if (!endpoint || !alloc) {
      throw new CniError(CniErrorCode.UnknownContainer, `container ${containerId} has no interface ${ifname} on network ${req.conf.name}`);
    }
    const node = net.node();
    const prevIp = req.prevResult.ips.find((ip) => ip.address.split('/')[0] === alloc.ip);
    if (!prevIp) {
      throw new CniError(CniErrorCode.Internal, `prevResult does not list ${alloc.ip}, the address knit holds for ${containerId}/${ifname}`);
    }
    const alloc6 = net.ipam6?.get(containerId, ifname);
    const prevIp6 = alloc6 === undefined ? undefined : req.prevResult.ips.find((ip) => ip.address.split('/')[0] === alloc6.ip);
    if (alloc6 !== undefined && !prevIp6) {
      throw new CniError(CniErrorCode.Internal, `prevResult does not list ${alloc6.ip}, the IPv6 address knit holds for ${containerId}/${ifname}`);
    }
    const prevIf = req.prevResult.interfaces.find((i) => i.name === ifname && i.sandbox !== undefined);
    const bridge = await this.deps.nl.linkByName(node.bridge);
    const problems: string[] = [];
    if (!bridge) problems.push(`bridge ${node.bridge} is missing`);
    if (!existsSync(netns)) problems.push(`namespace ${netns} does not exist`);
    else {
      problems.push(...await checkContainer(this.deps.nl, this.deps.openNetns, {
        containerId, ifname, netns, bridgeIndex: bridge?.index ?? -1, addressCidr: prevIp.address,
        gateway: node.gateway, networkCidr: node.cidr, mtu: req.conf.mtu ?? node.mtu, ...(prevIf?.mac ? { mac: prevIf.mac } : {}),
        ...(prevIp6 && node.ipv6 ? {
          ipv6: { addressCidr: prevIp6.address, gateway: node.ipv6.gateway, ...(node.ipv6.cidr !== undefined ? { networkCidr: node.ipv6.cidr } : {}) },
        } : {}),
      }));
    }
    if (problems.length > 0) {
      throw new CniError(CniErrorCode.Internal, `CHECK ${containerId}/${ifname}: ${problems.join('; ')}`);
    }
  }

  async status(req: StatusRequest): Promise<void> {
    const notReady = this.deps.notReadyReason();
    if (notReady) throw new CniError(CniErrorCode.NotAvailable, `knitd cannot serve ADD: ${notReady}`);
    const ipam = this.networkOf(req.conf.network).ipam;
    const { free, used } = ipam.stats();
    if (free === 0) {
      throw new CniError(CniErrorCode.NotAvailable, `address pool ${ipam.subnet} is exhausted (${used} in use)`);
    }
  }

  async gc(req: GcRequest): Promise<void> {
    const valid = new Set(req.validAttachments.map((a) => attachmentLockKey(a.containerId, a.ifname)));
    // An attachment with a request in flight is never collected: its ADD may
    // be half-way, and the runtime's list was made before it started. The
    // keep sets are rebuilt right before each step (no await in between).
    // Attachments of other front ends (the Docker driver records ifname "@docker") are not the runtime's to collect.
    const validVeths = new Set(req.validAttachments.map((a) => hostVethName(a.containerId, a.ifname)));
    const keep = (a: { containerId: string; ifname: string }): boolean => {
      const k = attachmentLockKey(a.containerId, a.ifname);
      const recovered = recoveredVethName(a.containerId);
      return valid.has(k) || this.locks.busy(k) || a.ifname.startsWith('@') || (recovered !== undefined && validVeths.has(recovered));
    };
    const pools = this.deps.networks.list().flatMap((n) => (n.ipam6 ? [n.ipam, n.ipam6] : [n.ipam]));
    const released = [];
    for (const pool of pools) released.push(...await pool.releaseAllExcept(pool.list().filter(keep)));
    let removedEndpoints = 0;
    for (const e of this.deps.endpoints.list()) {
      if (!keep(e)) {
        await this.deps.endpoints.remove(e.containerId, e.ifname);
        removedEndpoints++;
      }
    }
    let removedVeths = 0;
    for (const link of await this.deps.nl.linkList()) {
      if (!isHostVethName(link.name)) continue;
      const keptNames = new Set([
        ...req.validAttachments, ...pools.flatMap((pool) => pool.list().filter(keep)),
        ...this.deps.endpoints.list().filter(keep),
      ].map((a) => recoveredVethName(a.containerId) ?? hostVethName(a.containerId, a.ifname)));
      if (keptNames.has(link.name)) continue;
      await this.deps.nl.linkDel(link.index).catch((err: unknown) => {
        if (!hasErrorCode(err, 'ENODEV')) throw err;
      });
      removedVeths++;
    }
    await this.publishPortMappings();
    for (const net of this.deps.networks.list()) this.deps.networks.endpointsChanged?.(net.name);
    this.log.info('CNI GC', { released: released.length, removedEndpoints, removedVeths, kept: valid.size });
  }

  /** Re-publishes every endpoint's port mappings (also used at start-up). */
  async publishPortMappings(): Promise<void> {
    const { v4, v6 } = portTargets(this.deps.endpoints.list());
    await this.deps.portMaps.setPortMappings(v4, v6);
  }

  /** The network a request names (absent = default); an unknown name is a config error naming the known ones. */
  private networkOf(name: string | undefined): AttachableNetwork {
    const want = name ?? DEFAULT_NETWORK_NAME;
    const net = this.deps.networks.get(want);
    if (!net) {
      const known = this.deps.networks.list().map((n) => n.name).join(', ');
      throw new CniError(CniErrorCode.InvalidNetworkConfig, `knit network ${JSON.stringify(want)} does not exist on this node (known: ${known || 'none'}); create it with "knitctl network create"`);
    }
    return net;
  }

  /** The result: the routes are those attachContainer installed (a second interface has its network's CIDR, not 0.0.0.0/0). */
  private resultFor(e: Endpoint, node: NodeNetwork, installed: Route[], hostMac: string | undefined, mtu: number, req: AddRequest): InternalResult {
    const prev = req.prevResult;
    const base = prev?.interfaces.length ?? 0;
    return {
      interfaces: [
        ...(prev?.interfaces ?? []),
        { name: e.hostVeth, ...(hostMac ? { mac: hostMac } : {}), mtu },
        { name: e.ifname, mac: e.mac, sandbox: e.netns, mtu },
      ],
      ips: [
        ...(prev?.ips ?? []),
        { address: e.address, gateway: node.gateway, interface: base + 1 },
        ...(e.ipv6Address && node.ipv6 ? [{ address: e.ipv6Address, gateway: node.ipv6.gateway, interface: base + 1 }] : []),
      ],
      routes: [
        ...(prev?.routes ?? []),
        ...installed.map((r) => ({ dst: r.dst, gw: r.gateway ?? (r.dst.includes(':') && node.ipv6 ? node.ipv6.gateway : node.gateway) })),
      ],
      dns: req.conf.dns ?? prev?.dns ?? {},
    };
  }
}

/** The endpoint whose port mapping takes the same host port and protocol on an overlapping host IP, if any. */
function portHolder(endpoints: Endpoint[], m: PortMapping): Endpoint | undefined {
  return endpoints.find((e) => e.portMappings.some((p) =>
    p.hostPort === m.hostPort && p.protocol === m.protocol
    && (p.hostIp === undefined || m.hostIp === undefined || p.hostIp === m.hostIp)));
}

/** A refusal from attachContainer as the CNI error the runtime should see. */
function attachError(err: unknown, containerId: string, ifname: string, network: string): unknown {
  if (err instanceof AlreadyOnNetworkError) {
    return new CniError(CniErrorCode.InvalidNetworkConfig,
      `container ${containerId}: ${err.message}; one namespace gets one interface per knit network (attach it to another network instead)`, { cause: err });
  }
  if (err instanceof IfnameTakenError) {
    return new CniError(CniErrorCode.InvalidEnvironment, `container ${containerId}: ${err.message}; CNI_IFNAME must name a new interface`, { cause: err });
  }
  if (err instanceof HostVethExistsError) {
    return new CniError(KnitCniCode.AlreadyAttached,
      `container ${containerId} interface ${ifname} on network ${network}: ${err.message} (an earlier ADD of this attachment); DEL it first`, { cause: err });
  }
  return err;
}
