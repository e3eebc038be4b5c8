/**
 * The netlink layer's public surface: the Handle contract (types.ts), its
 * implementation (openHandle), typed errors and the netns helper.
 */
export * from './types';
export { openHandle } from './handle';
export { nexthopsUnsupported } from './nexthops';
export { LinkDeleteSocket, openLinkDeleteSocket, type NativeRtnlSocket } from './link-delete-socket';
export type { NetlinkObserver } from './conn';
export { NetlinkError, NetlinkInputError, isNetlinkError, type NetlinkErrorCode } from './errors';
export {
  withNetns, currentNetnsInode, setSocketTtl, socketTtl, setSocketMinTtl, socketMinTtl, setTcpMd5, preparedTcpSocket, rawSocketOptions,
  keepListenerSyns, acceptedSynTtl,
} from './netns';
export { procNetnsInspector, sameNetns, type NetnsIdentity, type NetnsInspector, type NetnsLookup } from './netns-identity';
