/**
 * The validated configuration knitd runs with. Every field has been checked
 * by loadConfig; optional fields are absent when nobody set them (the
 * component that uses them decides, e.g. publicIp is auto-detected, mtu is
 * derived from the underlay).
 */
import type { LogLevel } from '../log/logger';

/** Where a configuration value came from, highest precedence first. */
export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

export interface EtcdConfig {
  /** http(s)://host:port URLs; empty means single-node mode (no etcd). */
  endpoints: string[];
  /** Key prefix, e.g. "/knit/v1" (no trailing slash). */
  prefix: string;
  caFile?: string;
  /** Client certificate; set together with keyFile or not at all. */
  certFile?: string;
  keyFile?: string;
  /** TTL of the etcd lease that binds this node's subnet lease. */
  leaseTtlSeconds: number;
  /** TTL of the etcd lease behind this node's liveness key (peers see it down at most this long after it died). */
  livenessTtlSeconds: number;
  /** Delete the subnet lease on a clean shutdown (peers forget the node at once). */
  releaseOnShutdown: boolean;
}

export interface GrpcConfig {
  /** Unix socket of the operator API (knitctl). */
  socket: string;
  /** Optional TCP listen address host:port; needs TLS (all three files) or insecure. */
  address?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsClientCaFile?: string;
  /** Allow TCP without TLS (lab use only). */
  insecure: boolean;
}

export interface KnitdConfig {
  /** DNS-1123 subdomain name of this node, used in etcd keys and leases. */
  nodeName: string;
  /** Underlay IPv4 other nodes reach this one at; auto-detected when absent. */
  publicIp?: string;
  /** Underlay interface; auto-detected (default route) when absent. */
  publicInterface?: string;
  stateDir: string;
  runDir: string;
  /** Unix socket the `knit` CNI plugin talks to. */
  cniSocket: string;
  cniConfDir: string;
  cniConfFile: string;
  cniNetworkName: string;
  /** Most CNI socket connections served at once; more get CNI error 11. */
  cniMaxConnections: number;
  /** A CNI connection that has not sent its request after this long is closed. */
  cniIdleTimeoutSeconds: number;
  /** Period of the vanished-attachment reaper; 0 = start-up only. */
  cniReapIntervalSeconds: number;
  /** Bridge interface name (≤ 15 characters). */
  bridge: string;
  /** Container MTU; derived from the underlay and backend when absent. */
  mtu?: number;
  /** Single-node mode only: this node's subnet, e.g. "10.244.1.0/24". */
  subnet?: string;
  /** Single-node mode only: this node's IPv6 subnet, e.g. "fd00:10:244:1::/64" (dual-stack). */
  ipv6Subnet?: string;
  etcd: EtcdConfig;
  /** Network config to seed /knit/v1/network with when absent; validated by the store. */
  network?: Record<string, unknown>;
  /** BGP settings of this node (the bgp backend's cluster-wide ones are in the network config). */
  bgp: { routerId?: string };
  grpc: GrpcConfig;
  /** Prometheus /metrics and /healthz listen address; "" disables. */
  metrics: { address: string };
  /** The Docker (CNM) network + IPAM plugin (docs/docker.md). */
  docker: { enabled: boolean; pluginSocket: string; apiSocket: string };
  log: { level: LogLevel; format: 'json' | 'text' };
  /** library: nft commands through libnftables in knitd; exec: an nft process each (docs/operations.md). */
  nft: 'library' | 'exec';
  /** Masquerade container traffic that leaves the cluster CIDR. */
  masquerade: boolean;
  /** How often backends re-check the kernel against the desired state. */
  reconcileIntervalSeconds: number;
  /** The config file that was read, if any (for logs). */
  configFile?: string;
}
