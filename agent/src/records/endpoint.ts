/** Transport protocols a port mapping may use (those with ports that nft's `th dport` reads). */
export type PortProtocol = 'tcp' | 'udp' | 'sctp';

/**
 * One published port: hostPort on the node to containerPort in the
 * container (the CNI `portMappings` capability, `docker run -p`).
 */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
  /** Only packets to this node address; absent means any address of any family, 0.0.0.0 any IPv4 and :: any IPv6 address only (cni/port-targets.ts). */
  hostIp?: string;
}

/** One container attachment: an interface of a container on a knit network. */
export interface Endpoint {
  containerId: string;
  ifname: string;
  netns: string;
  /** "10.244.1.5/24" */
  address: string;
  /** Dual-stack: "fd00:10:244:1::5/64" */
  ipv6Address?: string;
  mac: string;
  hostVeth: string;
  portMappings: PortMapping[];
  /** RFC 3339 time the attachment was made. */
  createdAt: string;
  /** The knit network it is attached to; absent = the default network. */
  network?: string;
  /** Labels for network policy selectors (cni/labels.ts); absent = none. */
  labels?: Record<string, string>;
}
