/**
 * The backend module's public surface, and the registration of the built-in
 * backends: a new backend is a new folder plus one registerBackend line here.
 */
import { registerBackend } from './registry';
import { hostGwFactory } from './hostgw';
import { ipipFactory } from './ipip';
import { vxlanFactory } from './vxlan';
import { bgpFactory } from './bgp';

registerBackend(vxlanFactory);
registerBackend(hostGwFactory);
registerBackend(ipipFactory);
registerBackend(bgpFactory);

export { registerBackend, registeredBackendTypes, backendLeaseData, createBackend, checkNetworkBackend, parseNetwork } from './registry';
export type { VxlanBackendConfig } from './vxlan/config';
export type { HostGwBackendConfig } from './hostgw/config';
export type { IpipBackendConfig } from './ipip/config';
export type { BgpBackendConfig, BgpPeerConfig } from './bgp/config';
export type { BgpPeerProtection, BgpPrefixRuleConfig } from './bgp/peer-options';
export type { Backend, BackendBgpView, BackendContext, BackendDescription, BackendFactory, DataplaneSource, DesiredDataplane, PeerMode, PeerPlan, RefusedPeer, SetupResult } from './types';
export { VxlanBackend, vxlanDeviceName, vtepMac, planVxlan, VxlanPlanCache, VXLAN_OVERHEAD, type VxlanPlanEnv } from './vxlan';
export { HostGwBackend, HostGwPlanCache, planHostGw, type HostGwPlanEnv } from './hostgw';
export { IpipBackend, planIpip, IPIP_DEVICE, IPIP_OVERHEAD } from './ipip';
export { nexthopIdOf } from './nexthop-routes';
export { BgpBackend, type BgpBackendNetlink, type BgpRouteView, type BgpSessionView } from './bgp';
