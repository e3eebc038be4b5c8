/**
 * The real `PolicyStore` for knitctl: the store's policy records in etcd
 * (store/policy-records.ts), the same functions the API's policy calls use.
 */
import { createEtcdClient, listPolicyDocuments, listPolicyEndpointRecords, putPolicyDocuments, removePolicyDocument } from '../store';
import type { PolicyStore } from './policy';
import { policyDocument } from '../policy';
import type { EtcdNetworkStoreOptions } from './etcd-network-store';

export function etcdPolicyStore(o: EtcdNetworkStoreOptions): PolicyStore {
  const client = createEtcdClient({ endpoints: o.endpoints, dialTimeoutMs: o.dialTimeoutMs, ...(o.tls ? { tls: o.tls } : {}) });
  return {
    put: (policies) => putPolicyDocuments(client, o.prefix, policies.map((p) => ({ network: p.network, name: p.name, json: JSON.stringify(policyDocument(p)) }))),
    list: () => listPolicyDocuments(client, o.prefix),
    remove: (network, name) => removePolicyDocument(client, o.prefix, network, name),
    endpoints: () => listPolicyEndpointRecords(client, o.prefix),
    close: () => client.close(),
  };
}
