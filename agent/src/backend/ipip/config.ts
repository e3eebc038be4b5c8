/** The ipip backend's section of the network config: `{"type": "ipip"}`, no options, IPv4 only. */
import { configFields, NetworkConfigError, networkFamilies, type BackendSection, type NetworkConfig } from '../../store';

/** IPIP tunnel, routes onlink via the peer's public IP. */
export type IpipBackendConfig = { type: 'ipip' };

/** Validates an ipip section; a network that carries IPv6 is refused (an IPv4-in-IPv4 tunnel cannot carry it). */
export function parseIpipConfig(section: BackendSection, network: NetworkConfig): IpipBackendConfig {
  configFields.refuseUnknown(section, ['type'], 'backend');
  if (networkFamilies(network).ipv6 !== undefined) {
    throw new NetworkConfigError('backend.type', 'ipip carries IPv4 only (an IPv4-in-IPv4 tunnel); use vxlan, host-gw or bgp for IPv6 or dual-stack');
  }
  return { type: 'ipip' };
}
