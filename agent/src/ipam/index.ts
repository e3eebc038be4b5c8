/**
 * Per-node container IP allocation: the public surface of agent/src/ipam.
 * Callers (the CNI service, main.ts) import from here, not from the files.
 */
export { Ipam, PoolExhaustedError, IpamStateError } from './ipam';
export type { Allocation, IpamOpenOptions } from './ipam';
export type { StateFs, StateFileHandle } from '../persist/atomic-file';
export { nodeStateFs } from '../persist/atomic-file';
