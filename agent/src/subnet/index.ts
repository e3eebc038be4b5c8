/** The subnet module's public surface (lease manager, peers, state file). */
export { LeaseManager, type AcquireRequest, type LeaseHealth, type LeaseManagerEvents, type LeaseManagerOptions, type LeaseState, type LeaseTiming } from './lease-manager';
export { PeerLiveness, type AgentLiveness, type AgentState, type LivenessListener, type LivenessStore, type PeerLivenessOptions } from './peer-liveness';
export { PeerTracker, type OwnLeaseConflict, type PeerSetDelta, type PeerTrackerEvents, type PeerTrackerOptions } from './peer-tracker';
export { SubnetConflictError, SubnetExhaustedError, SubnetOutOfNetworkError } from './errors';
export { type CounterLike, type LeaseFeed, type LeaseStore } from './ports';
export { readSubnetState, writeSubnetState, removeSubnetState, subnetStatePath, type SubnetState } from './state-file';
export { pickFreeSubnet, subnetRange, type SubnetRange } from './subnet-pool';
