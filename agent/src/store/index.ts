/**
 * The store's public surface: other modules import from here, never from the
 * files behind it. This module is the only one that imports etcd3.
 */
export { createEtcdClient, type EtcdClient, type EtcdClientOptions } from './etcd-client';
export { StoreError, EtcdUnavailableError, ConflictError, LeaseExpiredError, isUnavailable } from './errors';
export * from './network-config';
export { networkKey, readNetworkConfig, seedNetworkConfig, watchNetworkConfig, type NetworkConfigWatch } from './network-store';
export * from './lease-codec';
export type { LeaseRecord, InvalidLeaseEntry, LeaseList, LeaseEvent, LeaseWatch, LeaseWatchHandlers } from './lease-record';
export { EtcdRegistry, type RegistryOptions, type RegistryObserver } from './registry';
export { EtcdLivenessRegistry, parseAliveValue, type AliveList, type AliveRecord, type AliveValue, type AliveWatch, type AliveWatchHandlers } from './liveness-registry';
export { networkConfigDrift } from './network-drift';
export * from './named-networks';
export { listPolicyDocuments, listPolicyEndpointRecords, policyKey, putPolicyDocuments, removePolicyDocument, type PolicyRecordText } from './policy-records';
