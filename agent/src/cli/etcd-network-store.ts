/**
 * The real `NetworkConfigStore` for knitctl, over the store module's etcd
 * functions. Loaded only by `knitctl network …` (etcd3 is heavy), and the
 * only place knitctl builds an etcd client.
 */
import {
  attachedNodes, createEtcdClient, createNamedNetwork, DEFAULT_NETWORK, EtcdRegistry, freeVni, listNetworks,
  networkBridgeName, networkPrefix, readNamedNetwork, readNetworkConfig, removeNamedNetwork, seedNetworkConfig,
  type NetworkConfig,
} from '../store';
import type { NetworkConfigStore } from './network';

export interface EtcdNetworkStoreOptions {
  endpoints: string[];
  prefix: string;
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  dialTimeoutMs: number;
}

export function etcdNetworkStore(o: EtcdNetworkStoreOptions): NetworkConfigStore {
  const client = createEtcdClient({ endpoints: o.endpoints, dialTimeoutMs: o.dialTimeoutMs, ...(o.tls ? { tls: o.tls } : {}) });
  return {
    get: () => readNetworkConfig(client, o.prefix),
    // The CLI validated the config with parseNetworkConfig before calling.
    init: async (cfg) => ((await seedNetworkConfig(client, cfg as NetworkConfig, o.prefix)).created ? 'created' : 'exists'),
    list: () => listNetworks(client, o.prefix),
    freeVni: async () => freeVni((await listNetworks(client, o.prefix)).networks),
    create: (name, cfg, opts) => createNamedNetwork(client, name, cfg, o.prefix, opts),
    remove: (name) => removeNamedNetwork(client, name, o.prefix),
    inspect: async (name) => {
      const config = await readNamedNetwork(client, name, o.prefix);
      if (config === undefined) return undefined;
      const registry = new EtcdRegistry(client, {
        prefix: networkPrefix(o.prefix, name),
        scope: { clusterCidr: config.clusterCidr, subnetLength: config.subnetLength },
      });
      const { leases } = await registry.listLeases();
      return {
        name, config,
        ...(name !== DEFAULT_NETWORK ? { bridge: networkBridgeName(name) } : {}),
        subnets: leases.map((r) => ({ subnet: r.lease.subnet, node: r.lease.nodeName, publicIp: r.lease.publicIp }))
          .sort((a, b) => a.node.localeCompare(b.node)),
        attached: name === DEFAULT_NETWORK ? [] : await attachedNodes(client, name, o.prefix),
      };
    },
    close: () => client.close(),
  };
}
