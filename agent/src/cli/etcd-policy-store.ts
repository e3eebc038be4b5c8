/**
 * The real `PolicyStore` for knitctl: policies under
 * `<prefix>/policies/<network>/<name>` (JSON, the file form), endpoint
 * records under `<prefix>/policy-endpoints/<network>/<id>`. A file's policies
 * are written in one etcd transaction, so a file applies whole or not at all.
 */
import { createEtcdClient } from '../store';
import type { PolicyStore } from './policy';
import { policyDocument } from '../policy';
import type { EtcdNetworkStoreOptions } from './etcd-network-store';

export function etcdPolicyStore(o: EtcdNetworkStoreOptions): PolicyStore {
  const client = createEtcdClient({ endpoints: o.endpoints, dialTimeoutMs: o.dialTimeoutMs, ...(o.tls ? { tls: o.tls } : {}) });
  const key = (network: string, name: string) => `${o.prefix}/policies/${network}/${name}`;
  const list = async (prefix: string) => {
    const all = await client.getAll().prefix(prefix).strings();
    return Object.entries(all).map(([k, value]) => ({ key: k.slice(prefix.length), value }));
  };
  return {
    put: async (policies) => {
      const ops = policies.map((p) => client.put(key(p.network, p.name)).value(JSON.stringify(policyDocument(p))));
      // An always-true comparison makes this one multi-key transaction.
      await client.if(key(policies[0]!.network, policies[0]!.name), 'Version', '>', -1).then(...ops).commit();
    },
    list: () => list(`${o.prefix}/policies/`),
    remove: async (network, name) => (await client.delete().key(key(network, name)).exec()).deleted !== '0',
    endpoints: () => list(`${o.prefix}/policy-endpoints/`),
    close: () => client.close(),
  };
}
