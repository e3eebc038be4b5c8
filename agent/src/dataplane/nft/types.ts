/**
 * The desired state of knit's nftables table on one node (one network
 * namespace): port mappings (CNI `portMappings`, like `docker run -p`) and
 * outbound NAT for the cluster CIDR. Callers state this whole picture; the
 * renderer turns it into one atomic nft transaction.
 */

import type { PortMapping as PublishedPort, PortProtocol } from '../../records';

export type { PortProtocol };

/**
 * One published port as the NAT table renders it: the record's mapping plus
 * who owns it and where it is DNATed to. `hostIp` absent, "" or "0.0.0.0"
 * means any local address of the node (including 127.0.0.1 when `bridge`
 * is given, see NftDesiredState.bridge).
 */
export interface PortMapping extends PublishedPort {
  /** Who owns the mapping, e.g. "<containerId>/<ifname>": shown in element comments and error messages. */
  id: string;
  /** The container's IPv4 address (DNAT target). */
  containerIp: string;
}

/** Everything knit wants in its table. An empty object renders an empty (but present) table. */
export interface NftDesiredState {
  /**
   * Outbound NAT: masquerade traffic from the cluster CIDR to destinations
   * outside it (with fully random source ports). Absent = no outbound NAT.
   */
  masquerade?: { clusterCidr: string };
  /**
   * Connection tracking off for forwarded cluster-internal traffic: a packet
   * whose source and destination are both in the cluster CIDR, that is not
   * for this node and not to or from a published container port (a port
   * mapping's target), skips conntrack (`notrack` before conntrack's lookup).
   * Such traffic needs no NAT, and conntrack costs it latency and throughput.
   * Absent = everything is tracked.
   */
  /**
   * IPv6 outbound NAT (the network's `ipv6Masquerade`, off by default as in
   * flannel): masquerade traffic from the IPv6 cluster CIDR to destinations
   * outside it, in a `table ip6 <name>` next to the IPv4 table, applied in the
   * same transaction.
   */
  masquerade6?: { clusterCidr: string };
  /**
   * IPv6 port mappings (dual-stack containers), rendered in `table ip6`:
   * `containerIp` is the container's IPv6 address and `hostIp`, when given,
   * an IPv6 address of the node ("::" or absent = any). IPv6 has no
   * route_localnet, so ::1 cannot be a host address.
   */
  portMappings6?: PortMapping[];
  /** Dual-stack: this node's IPv6 container subnet, for hairpin (as `nodeSubnet`). */
  nodeSubnet6?: string;
  notrack?: {
    clusterCidr: string;
    /**
     * This node's own addresses inside the cluster CIDR (the bridge gateway,
     * the tunnel device's <subnet .0>): packets for them stay tracked. Listed
     * rather than found by a per-packet FIB lookup, which costs every
     * pod-to-pod packet more than two compares.
     */
    nodeAddresses: string[];
    /**
     * Addresses whose traffic stays tracked: endpoints that network policy
     * isolates (docs/policy.md). Their policy lets replies through by
     * `ct state established`, which an untracked packet never is.
     */
    trackedAddresses?: string[];
  };
  /**
   * knit's own encapsulated packets on the underlay skip conntrack too: UDP
   * to one of `udpPorts` (the VXLAN ports of this node's networks) arriving
   * for, or leaving from, this node's underlay address. Once any nat chain
   * exists in the namespace every packet is looked up in conntrack, and the
   * outer VXLAN packet of every pod-to-pod packet paid that lookup on both
   * nodes. Those packets are never NATed; their port is the kernel's VXLAN
   * socket, so everything that matches is knit's. Absent or no ports = tracked.
   */
  tunnelNotrack?: { localAddress: string; udpPorts: number[] };
  /**
   * This node's container subnet (e.g. "10.244.1.0/24"). Needed for hairpin:
   * a container reaching a mapping on its own node is masqueraded so the reply
   * returns through the host. Kept apart from `masquerade` because hairpin is
   * needed even when outbound NAT is off.
   */
  nodeSubnet?: string;
  /** Port mappings of every container on this node. */
  portMappings: PortMapping[];
  /**
   * The node bridge (e.g. "knit0"). When given, mappings are also reachable
   * through 127.0.0.1: that needs `route_localnet=1` on the bridge (the DNATed
   * packet keeps source 127.0.0.1 until it is masqueraded), which the applier
   * sets only while some mapping has no hostIp or a loopback hostIp.
   */
  bridge?: string;
  /**
   * Every network on this node (the default one included) when there is more
   * than one or one is internal: containers of different networks are kept
   * apart (forwarded and to the node's addresses on the other bridges), an
   * internal network talks only to itself. Traffic a port mapping DNATed is
   * let through, as Docker lets any client reach a published port.
   */
  networks?: NftNetwork[];
  /** Hairpin and outbound NAT of the named networks (the default one's are the fields above). */
  extraNat?: NftExtraNat[];
}

/** One network as the isolation rules see it (each family in its own table: `ip knit`, `ip6 knit`). */
export interface NftNetwork {
  /** the network's name (rule comments) */
  name: string;
  /** the network's IPv4 CIDR across the cluster; absent for an IPv6-only network */
  cidr?: string;
  /** the network's IPv6 CIDR across the cluster (dual-stack or IPv6-only); absent for an IPv4-only network */
  cidr6?: string;
  /** the network's bridge on this node */
  bridge: string;
  /** no traffic to or from outside its CIDR */
  internal: boolean;
}

/** NAT of one named network on this node, per family (IPv4 in `ip knit`, IPv6 in `ip6 knit`). */
export interface NftExtraNat {
  /** this node's IPv4 subnet of the network (hairpin); absent for an IPv6-only network */
  nodeSubnet?: string;
  /** the network's IPv4 CIDR, when its outbound traffic is masqueraded */
  masqueradeCidr?: string;
  /** this node's IPv6 subnet of the network (hairpin of IPv6 port mappings) */
  nodeSubnet6?: string;
  /** the network's IPv6 CIDR, when its outbound IPv6 traffic is masqueraded (its ipv6Masquerade) */
  masquerade6Cidr?: string;
}

/** A mapping after validation: hostIp normalized (absent = any local address). */
export interface NormalizedMapping {
  id: string;
  containerIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
  hostIp?: string;
}

/** The desired state after validation and normalization; what the renderer reads. */
export interface NormalizedState {
  masqueradeCidr?: string;
  /** masquerade6's CIDR, canonical IPv6. */
  masquerade6Cidr?: string;
  /** portMappings6, normalized and sorted like portMappings. */
  portMappings6: NormalizedMapping[];
  nodeSubnet6?: string;
  notrackCidr?: string;
  /** notrack's node addresses, deduplicated and sorted numerically. */
  notrackNodeAddresses?: string[];
  /** notrack's tracked (policy-isolated) addresses, deduplicated and sorted numerically. */
  notrackTracked?: string[];
  /** tunnelNotrack, the ports deduplicated and sorted. */
  tunnelNotrack?: { localAddress: string; udpPorts: number[] };
  nodeSubnet?: string;
  bridge?: string;
  networks: NftNetwork[];
  extraNat: NftExtraNat[];
  /** Sorted by protocol, hostIp, hostPort so the rendered text is deterministic. */
  portMappings: NormalizedMapping[];
}
