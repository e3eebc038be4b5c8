/**
 * The named networks on this node (cluster mode): watches
 * `<prefix>/networks/` and converges — a network that appears gets its
 * lease, backend device, reconciler, IPAM and bridge (every node serves every
 * network: eager leases, see docs/networks.md); a network that disappears is
 * torn down (routes, neighbours, FDB, device, bridge, lease, IPAM state).
 *
 * Level-triggered: every change of a network's config key or (re)connect
 * schedules one sync that compares the whole listed set with what runs;
 * syncs never overlap.
 * While this node has endpoints on a network it keeps a marker key in etcd
 * (`<network>/attached/<node>`) so `knitctl network rm` can refuse and say
 * where.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, realClock, SerialRunner, Timer, errorMessage, hasErrorCode } from '../base';
import type { Logger } from '../log/logger';
import {
  DEFAULT_NETWORK, listNetworks, networkBridgeName, networkFamilies, networkNameOfKey, networkPrefix, setAttached,
  type NamedNetwork, type NetworkConfig,
} from '../store';
import { Ipam } from '../ipam';
import { ensureBridge, type BridgeSpec } from '../dataplane/bridge';
import { underlayForFamilies, type Underlay } from '../dataplane/underlay';
import type { AttachableNetwork, NodeNetwork } from '../cni/handlers';
import type { EndpointStore } from '../cni/endpoints';
import { startNetworkInstance, type NetworkInstance, type NetworkInstanceOptions } from './network-instance';
import { checkNetworkBackend } from '../backend';
import { StartupUndo } from './startup-undo';

/** Backends a named network may use (one device per network, or none). */
const NAMED_BACKENDS = ['vxlan', 'host-gw'];

/** The instance options every named network shares (the rest is per network). */
type SharedInstanceOptions = Pick<NetworkInstanceOptions,
  'client' | 'prefix' | 'stateDir' | 'nodeName' | 'ttlSeconds' | 'reconcileIntervalSeconds' | 'nl' | 'logger' | 'underlay' | 'retry' | 'onReconcileRun'>;

export interface NamedNetworksOptions extends SharedInstanceOptions {
  /** `prefix`: the cluster's key prefix; `stateDir`: knitd's (each network gets `networks/<name>/` under it) */
  endpoints: EndpointStore;
  /** the MTU knitd's own config forces, if any */
  mtuOverride?: number;
  /**
   * Called before a network with IPv6 (dual-stack or IPv6-only) is brought
   * up: knitd turns on IPv6 forwarding, which it leaves off on a node whose
   * networks are all IPv4 (forwarding=1 stops accept_ra on SLAAC underlays).
   */
  enableIpv6?: () => void;
  /** Called after a network started or stopped on this node (nft, Docker). */
  onChange?: () => void;
  /** Called after every sync with the networks read from etcd (the API's Watch). */
  onNetworks?: (networks: readonly NamedNetwork[]) => void;
  /**
   * Deletes a link (default: on `nl`). knitd passes its worker-thread
   * deleter: the kernel's unregister wait then stalls no other work, the
   * devices of a removed network, deleted at once, go as one group delete
   * with one wait, and each counts as gone when it leaves the namespace
   * (dataplane/unlisted-links.ts).
   */
  deleteLink?: (index: number) => Promise<void>;
}

/** A named network running on this node. */
export interface RunningNetwork extends AttachableNetwork {
  config: NetworkConfig;
  instance: NetworkInstance;
  bridge: string;
  /** this node's subnet of it (IPv6 in an IPv6-only network) */
  subnet: string;
  /** dual-stack: this node's IPv6 subnet of it */
  subnet6?: string;
}

/** Config fields a running network takes without re-creating anything (see applyInPlace). */
const IN_PLACE_FIELDS = new Set(['mtu', 'masquerade', 'ipv6Masquerade', 'internal']);

export class NamedNetworks {
  private readonly running = new Map<string, RunningNetwork>();
  /** the networks the last sync read from etcd */
  seen: readonly NamedNetwork[] = [];
  private readonly failed = new Map<string, string>();
  private readonly log: Logger;
  private watcher: { cancel(): Promise<void> } | undefined;
  private readonly runner: SerialRunner;
  private readonly retry: Timer;
  private closed = false;
  private stopping: Promise<void> | undefined;
  /** Until knitd is ready: the start-up undo of each network started meanwhile (see commitStartup). */
  private startup: Array<{ name: string; undo: StartupUndo }> | undefined = [];
  /** Networks whose stored config changes a field that cannot change in place: the text last refused. */
  private readonly refusedChange = new Map<string, string>();
  /** Networks whose marker is known written, with the count written. */
  private readonly markers = new Map<string, number>();

  constructor(private readonly o: NamedNetworksOptions) {
    this.log = o.logger.child({ module: 'networks' });
    this.runner = new SerialRunner(() => this.sync(), {
      onError: (err) => {
        this.log.warn('network sync failed; retrying in 1 s', { error: describeError(err) });
        this.retry.armIfIdle(1000);
      },
    });
    this.retry = new Timer(realClock, () => this.runner.request());
  }

  /** Lists, converges once, then watches. */
  async start(): Promise<void> {
    const head = `${this.o.prefix.replace(/\/+$/, '')}/networks/`;
    const w = await this.o.client.watch().prefix(head).create();
    // Only a network's config key changes what runs; the leases and endpoint markers under the same
    // prefix (each node's, at every create and remove) would only make every node list again.
    const isConfig = (kv: { key: Buffer }): boolean => networkNameOfKey(this.o.prefix, kv.key.toString('utf8')) !== undefined;
    w.on('put', (kv) => { if (isConfig(kv)) this.schedule(); });
    w.on('delete', (kv) => { if (isConfig(kv)) this.schedule(); });
    // A reconnect may have missed events: converge on a fresh list.
    w.on('connected', () => this.schedule());
    w.on('error', (err: Error) => this.log.warn('network watch error; etcd3 re-opens it', { error: err.message }));
    this.watcher = w;
    await this.runner.join();
  }

  /** Resolves when no sync is running. */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  get(name: string): RunningNetwork | undefined {
    return this.running.get(name);
  }

  list(): RunningNetwork[] {
    return [...this.running.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Networks listed in etcd that this node could not start, and why. */
  failures(): Array<{ name: string; error: string }> {
    return [...this.failed.entries()].map(([name, error]) => ({ name, error }));
  }

  /** Before the first attachment on a named network: record that this node has endpoints on it. */
  async willAttach(name: string): Promise<void> {
    if (name === DEFAULT_NETWORK || (this.markers.get(name) ?? 0) > 0) return;
    const count = this.countEndpoints(name) + 1;
    await setAttached(this.o.client, name, this.o.nodeName, count, this.running.get(name)?.instance.manager.etcdLeaseId, this.o.prefix);
    this.markers.set(name, count);
  }

  /** After endpoints changed: bring the marker in line (best effort; logged). */
  endpointsChanged(name: string): void {
    if (name === DEFAULT_NETWORK) return;
    const count = this.countEndpoints(name);
    if ((this.markers.get(name) ?? 0) === count) return;
    this.markers.set(name, count);
    setAttached(this.o.client, name, this.o.nodeName, count, this.running.get(name)?.instance.manager.etcdLeaseId, this.o.prefix)
      .catch((err: unknown) => {
        this.markers.delete(name);
        this.log.warn('could not record endpoint count in etcd', { network: name, count, error: errorMessage(err) });
      });
  }

  /** Stops watching and every network's renewals; kernel objects and leases stay (a restart keeps them). */
  /** knitd is ready: the networks it started keep everything they made. */
  commitStartup(): void {
    for (const s of this.startup ?? []) s.undo.commit();
    this.startup = undefined;
  }

  /**
   * knitd's start failed: stop syncing, undo what each network started by
   * this start made (leases taken now, devices, bridges, state files; never
   * what an earlier knitd left, which running containers use), then close.
   */
  async undoStartup(): Promise<void> {
    await this.stopSyncing();
    for (const s of (this.startup ?? []).reverse()) {
      this.running.delete(s.name);
      await s.undo.run();
    }
    this.startup = undefined;
    await this.close();
  }

  async close(): Promise<void> {
    await this.stopSyncing();
    for (const n of this.running.values()) await n.instance.stop(false);
    this.running.clear();
  }

  /** Stops the watch and the sync loop, once (close() after undoStartup() must not wait on them again). */
  private stopSyncing(): Promise<void> {
    this.closed = true;
    this.retry.cancel();
    this.stopping ??= (async () => {
      await this.watcher?.cancel();
      await this.runner.stop();
    })();
    return this.stopping;
  }

  private countEndpoints(name: string): number {
    return this.o.endpoints.list().filter((e) => (e.network ?? DEFAULT_NETWORK) === name).length;
  }

  private schedule(): void {
    this.runner.request();
  }

  private async sync(): Promise<void> {
    const { networks, invalid } = await listNetworks(this.o.client, this.o.prefix);
    this.seen = networks;
    this.o.onNetworks?.(networks);
    for (const bad of invalid) this.log.warn('skipping a network config that does not validate', { ...bad });
    const wanted = new Map(networks.filter((n) => n.name !== DEFAULT_NETWORK).map((n) => [n.name, n]));
    // A running network whose stored config stopped validating keeps serving with the one in use: garbage
    // in etcd must not tear down its containers' network. (Only a deleted key removes a network.)
    for (const bad of invalid) {
      const run = this.running.get(bad.name);
      if (run !== undefined) wanted.set(bad.name, { name: bad.name, config: run.config });
    }
    let changed = false;
    for (const [name, run] of this.running) {
      const want = wanted.get(name);
      if (want && JSON.stringify(want.config) === JSON.stringify(run.config)) {
        this.refusedChange.delete(name);
        continue;
      }
      if (want) {
        // Never re-create a running network: that would renumber and cut off its containers.
        const fixed = Object.keys({ ...run.config, ...want.config })
          .filter((k) => !IN_PLACE_FIELDS.has(k) && JSON.stringify(run.config[k as keyof NetworkConfig]) !== JSON.stringify(want.config[k as keyof NetworkConfig]));
        if (fixed.length > 0) {
          const text = JSON.stringify(want.config);
          if (this.refusedChange.get(name) !== text) {
            this.log.error('network config change not applied: these fields cannot change on a running network; serving with the config in use (remove and create the network to change them)', { network: name, fields: fixed });
            this.refusedChange.set(name, text);
          }
          continue;
        }
        this.refusedChange.delete(name);
        await this.applyInPlace(run, want.config);
        changed = true;
        continue;
      }
      await this.teardown(run);
      changed = true;
    }
    for (const name of this.failed.keys()) if (!wanted.has(name)) this.failed.delete(name);
    for (const [name, net] of wanted) {
      if (this.running.has(name) || this.closed) continue;
      try {
        this.running.set(name, await this.startOne(net));
        this.failed.delete(name);
        changed = true;
      } catch (err) {
        const msg = describeError(err);
        if (this.failed.get(name) !== msg) this.log.error('could not start network on this node', { network: name, error: msg });
        this.failed.set(name, msg);
      }
    }
    if (changed) this.o.onChange?.();
    // A network that could not start (etcd hiccup, address space full) is tried again.
    if (this.failed.size > 0) this.retry.armIfIdle(5000);
  }

  private async startOne(stored: NamedNetwork): Promise<RunningNetwork> {
    const started = performance.now();
    // The backend checks its own section (and fills its defaults) before anything is made.
    const n: NamedNetwork = { ...stored, config: checkNetworkBackend(stored.config) };
    const { name, config } = n;
    if (!NAMED_BACKENDS.includes(config.backend.type)) {
      throw new Error(`backend ${config.backend.type} is not supported for named networks yet (use ${NAMED_BACKENDS.join(' or ')})`);
    }
    const stateDir = join(this.o.stateDir, 'networks', name);
    // A start that fails part-way removes what it made (lease, state files, bridge, watches), as knitd's own start does.
    const undo = new StartupUndo(this.log);
    if (!existsSync(stateDir)) undo.add(`state directory of network ${name}`, () => rm(stateDir, { recursive: true, force: true }));
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    try {
      // The config kept as stored: sync() compares it with the stored documents.
      return { ...(await this.startWith(n, stateDir, undo, started)), config: stored.config };
    } catch (err) {
      await undo.run();
      throw err;
    }
  }

  private async startWith(n: NamedNetwork, stateDir: string, undo: StartupUndo, started: number): Promise<RunningNetwork> {
    const { name, config } = n;
    const instance = await startNetworkInstance({
      name, network: config, client: this.o.client, prefix: networkPrefix(this.o.prefix, name), stateDir,
      nodeName: this.o.nodeName, ttlSeconds: this.o.ttlSeconds, reconcileIntervalSeconds: this.o.reconcileIntervalSeconds,
      nl: this.o.nl, logger: this.o.logger, underlay: await this.underlayOf(config), retry: this.o.retry, undo,
      ...(this.o.onReconcileRun ? { onReconcileRun: this.o.onReconcileRun } : {}),
    });
    // The default network's layout per family: ipam.json holds the lease's subnet (IPv6 in an IPv6-only
    // network), ipam6.json the paired IPv6 subnet of a dual-stack one.
    const { subnet, ipv6Subnet } = instance.lease;
    if (subnet.includes(':') || ipv6Subnet !== undefined) this.o.enableIpv6?.();
    const ipam = await Ipam.open({ subnet, stateFile: join(stateDir, 'ipam.json'), logger: this.o.logger.child({ module: 'ipam', network: name }) });
    const ipam6 = ipv6Subnet === undefined ? undefined
      : await Ipam.open({ subnet: ipv6Subnet, stateFile: join(stateDir, 'ipam6.json'), logger: this.o.logger.child({ module: 'ipam6', network: name }) });
    const bridge = networkBridgeName(name);
    const mtu = this.o.mtuOverride ?? config.mtu ?? instance.mtu;
    const node: NodeNetwork = {
      bridge, gateway: ipam.gateway, prefixLength: ipam.prefixLength, mtu, cidr: config.clusterCidr,
      ...(ipam6 && config.ipv6ClusterCidr !== undefined
        ? { ipv6: { gateway: ipam6.gateway, prefixLength: ipam6.prefixLength, cidr: config.ipv6ClusterCidr } } : {}),
    };
    if ((await this.o.nl.linkByName(bridge)) === undefined) {
      undo.add(`bridge ${bridge}`, async () => {
        const l = await this.o.nl.linkByName(bridge);
        if (l) await this.o.nl.linkDel(l.index);
      });
    }
    await ensureBridge(this.o.nl, bridgeSpec(node), this.log);
    // While knitd itself is starting, a network's undo waits for knitd's verdict (commitStartup / undoStartup).
    if (this.startup) this.startup.push({ name, undo });
    else undo.commit();
    this.log.info('network up on this node', {
      network: name, subnet, ...(ipv6Subnet !== undefined ? { ipv6Subnet } : {}), bridge, backend: config.backend.type, mtu,
      durationMs: Math.round(performance.now() - started),
    });
    return {
      name, ipam, ...(ipam6 ? { ipam6 } : {}), node: () => node, config, instance, bridge, subnet,
      ...(ipv6Subnet !== undefined ? { subnet6: ipv6Subnet } : {}),
    };
  }

  /**
   * The node's underlay as this network uses it: the default network's link,
   * with the address of each family the network has (an IPv6-only network
   * on a node whose default network is IPv4 leases with the link's IPv6
   * address; see underlayForFamilies).
   */
  private async underlayOf(config: NetworkConfig): Promise<Underlay> {
    const f = networkFamilies(config);
    const base = this.o.underlay;
    const other = base.ip.includes(':') ? 4 : 6;
    const found = (f.ipv4 && other === 4) || (f.ipv6 && other === 6 && base.ipv6 === undefined)
      ? (await this.o.nl.addrList({ index: base.link.index, family: other })).map((a) => a.cidr.split('/')[0]!).find((ip) => !ip.startsWith('fe80:'))
      : undefined;
    return underlayForFamilies(base, { ipv4: f.ipv4 !== undefined, ipv6: f.ipv6 !== undefined }, other === 4 ? { ipv4: found } : { ipv6: found });
  }

  /**
   * Applies a config change that leaves addresses alone: masquerade,
   * ipv6Masquerade and internal (the NAT and isolation rules, re-rendered by onChange) and the
   * MTU (the bridge's, and the veths of containers attached from now on;
   * running containers keep theirs, as with Docker).
   */
  private async applyInPlace(run: RunningNetwork, config: NetworkConfig): Promise<void> {
    const fields = Object.keys({ ...run.config, ...config })
      .filter((k) => JSON.stringify(run.config[k as keyof NetworkConfig]) !== JSON.stringify(config[k as keyof NetworkConfig]));
    run.config = config;
    const node = run.node();
    const mtu = this.o.mtuOverride ?? config.mtu ?? run.instance.mtu;
    if (node.mtu !== mtu) {
      const next: NodeNetwork = { ...node, mtu };
      try {
        await ensureBridge(this.o.nl, bridgeSpec(next), this.log);
        run.node = () => next;
      } catch (err) {
        // E.g. a bridge MTU above a running container's veth: the rest of the change still applies.
        this.log.error('network config change: could not set the bridge MTU; keeping the old one', { network: run.name, mtu, error: describeError(err) });
      }
    }
    this.log.info('network config changed; applied in place', { network: run.name, fields });
  }

  /** Removes everything the network had on this node. */
  private async teardown(run: RunningNetwork): Promise<void> {
    const { name, instance } = run;
    this.running.delete(name);
    const devices = instance.backend.ownedDevices();
    const t0 = performance.now();
    await instance.clearDataplane().catch((err: unknown) =>
      this.log.warn('could not remove the network\'s routes', { network: name, error: errorMessage(err) }));
    const t1 = performance.now();
    const bridge = await this.o.nl.linkByName(run.bridge);
    const links = [...devices, ...(bridge ? [bridge.index] : [])];
    // The lease is released, the state removed and the devices deleted side
    // by side (each waits: etcd, the disk, the kernel's 30-50 ms unregistering
    // of a bridge). The devices go at once: one group delete, each counted
    // gone when it leaves the namespace (see deleteLink). After the routes,
    // not beside them: the bridge driver holds the kernel's netlink lock for
    // its whole wait, so route requests sent meanwhile only queue behind it
    // (tried: the routes then took 30-50 ms, and the whole teardown longer).
    const at = { lease: t1, devices: t1, state: t1 };
    const mark = (step: keyof typeof at) => (): void => { at[step] = performance.now(); };
    await Promise.all([
      instance.stop(true).then(mark('lease')),
      Promise.all(links.map((index) => this.delLink(index, name))).then(mark('devices')),
      rm(join(this.o.stateDir, 'networks', name), { recursive: true, force: true }).then(mark('state')),
    ]);
    this.markers.delete(name);
    const ms = (a: number, b: number): number => Math.round((b - a) * 10) / 10;
    this.log.info('network removed from this node', {
      network: name, bridge: run.bridge, routesMs: ms(t0, t1),
      leaseMs: ms(t1, at.lease), devicesMs: ms(t1, at.devices), stateMs: ms(t1, at.state), totalMs: ms(t0, performance.now()),
    });
  }

  private async delLink(index: number, network: string): Promise<void> {
    await (this.o.deleteLink ?? ((i: number) => this.o.nl.linkDel(i)))(index).catch((err: unknown) => {
      if (!hasErrorCode(err, 'ENODEV', 'ENOENT')) this.log.warn('could not delete a device of a removed network', { network, index, error: errorMessage(err) });
    });
  }
}

/** The bridge of a network on this node: its gateway of each family (as the default network's knit0). */
function bridgeSpec(node: NodeNetwork): BridgeSpec {
  return {
    name: node.bridge, gatewayCidr: `${node.gateway}/${node.prefixLength}`, mtu: node.mtu,
    ...(node.ipv6 ? { gatewayCidr6: `${node.ipv6.gateway}/${node.ipv6.prefixLength}` } : {}),
  };
}
