/**
 * The vxlan backend's section of the network config: its fields, their
 * defaults and their checks. The store carries the section as written
 * (store/network-config.ts BackendSection); this is the one place that
 * knows what it means.
 */
import { configFields, type BackendSection, type NetworkConfig } from '../../store';

/** VXLAN options (defaults: VNI 1, UDP port 8472, no direct routing, offload untouched). */
export type VxlanBackendConfig = {
  type: 'vxlan';
  /** VXLAN network identifier, 1 … 16777215. The device is named `knit.<vni>`. */
  vni: number;
  /** UDP destination port, 1 … 65535 (8472: the Linux kernel's historical default, as flannel). */
  port: number;
  /** Use plain routes (no encapsulation) for peers on the same L2 segment. */
  directRouting: boolean;
  /**
   * Turn tx checksum offload off on the VXLAN device: the workaround for an
   * old kernel bug. Off by default because on fixed kernels it costs ~5× throughput.
   */
  disableTxChecksumOffload: boolean;
};

const { refuseUnknown, intIn, bool } = configFields;

/** Validates a vxlan section and fills its defaults; throws NetworkConfigError naming the field. */
export function parseVxlanConfig(section: BackendSection): VxlanBackendConfig {
  refuseUnknown(section, ['type', 'vni', 'port', 'directRouting', 'disableTxChecksumOffload'], 'backend');
  return {
    type: 'vxlan',
    vni: intIn(section, 'vni', 'backend.vni', 1, 16777215, 1) ?? 1,
    port: intIn(section, 'port', 'backend.port', 1, 65535, 8472) ?? 8472,
    directRouting: bool(section, 'directRouting', 'backend.directRouting', false),
    disableTxChecksumOffload: bool(section, 'disableTxChecksumOffload', 'backend.disableTxChecksumOffload', false),
  };
}

/** The vxlan settings of a network config (defaults filled in). */
export function vxlanConfig(network: Pick<NetworkConfig, 'backend'>): VxlanBackendConfig {
  if (network.backend.type !== 'vxlan') throw new Error(`vxlan backend built for a ${network.backend.type} network`);
  return parseVxlanConfig(network.backend);
}
