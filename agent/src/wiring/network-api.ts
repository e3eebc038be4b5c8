/**
 * The API's network calls (ListNetworks, GetNetwork, CreateNetwork,
 * DeleteNetwork) over the store's etcd functions: the same steps as
 * `knitctl network …` (cli/network.ts), so both paths validate and create
 * alike. Networks live in etcd, so any knitd answers for the whole cluster;
 * every knitd brings a created network up through its NamedNetworks watch.
 */
import type { Etcd3 } from 'etcd3';
import { RequestError, StateUnavailableError, type NetworkInfo, type NetworkRequest, type NetworkSource } from '../api';
import { parseNetwork } from '../backend';
import {
  ConflictError, createNamedNetwork, DEFAULT_NETWORK, EtcdUnavailableError, freeVni, inspectNetwork, listNetworks,
  networkBridgeName, NetworkConfigError, networkDocument, removeNamedNetwork,
} from '../store';

/** Store errors as the API reports them. */
async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof NetworkConfigError) throw new RequestError('invalid', err.message, { cause: err });
    if (err instanceof ConflictError) throw new RequestError('conflict', err.message, { cause: err });
    if (err instanceof EtcdUnavailableError) throw new StateUnavailableError(err.message, { cause: err });
    throw err;
  }
}

export function etcdNetworkSource(client: Etcd3, prefix: string): NetworkSource {
  return {
    list: () => mapped(async () => {
      const { networks, invalid } = await listNetworks(client, prefix);
      return { networks: networks.map((n): NetworkInfo => ({ name: n.name, config: n.config, subnets: [], attached: [] })), invalid };
    }),
    get: (name) => mapped(() => inspectNetwork(client, name, prefix)),
    create: (name, req: NetworkRequest) => mapped(async () => {
      if (name === DEFAULT_NETWORK) throw new NetworkConfigError('name', `${DEFAULT_NETWORK} is the cluster's own network (knitctl network init)`);
      // A VNI left to knit is chosen in the store's atomic step (pickVni); until then any valid one fills the document.
      const cfg = parseNetwork(networkDocument(req, freeVni([])));
      const stored = await createNamedNetwork(client, name, cfg, prefix, { pickVni: req.vni === undefined });
      // Just created: no node holds a lease of it or has endpoints on it yet.
      return { name, config: stored, bridge: networkBridgeName(name), subnets: [], attached: [] };
    }),
    remove: (name) => mapped(() => removeNamedNetwork(client, name, prefix)),
  };
}
