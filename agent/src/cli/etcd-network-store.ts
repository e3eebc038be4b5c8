/**
 * The real `NetworkConfigStore` for knitctl, over the store module's etcd
 * functions. Loaded only by `knitctl network …` (etcd3 is heavy), and the
 * only place knitctl builds an etcd client.
 */
import {
  createEtcdClient, createNamedNetwork, freeVni, inspectNetwork, listNetworks, readNetworkConfig, removeNamedNetwork, seedNetworkConfig,
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
    inspect: (name) => inspectNetwork(client, name, o.prefix),
    close: () => client.close(),
  };
}
