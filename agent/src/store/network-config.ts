/**
 * The cluster-wide network config stored at `/knit/v1/network`: what every
 * knitd and `knitctl network init` agree on. `parseNetworkConfig` is pure and
 * validates everything up front (the CNI reference plugins' `loadNetConf`
 * lesson): a bad config is refused with an error naming the field, before any
 * lease is taken or any kernel object is made. Unknown fields are refused too,
 * so a typo such as `"VNI"` does not silently fall back to the default.
 */
import { isObject, errorMessage } from '../base';
import { containerCidrProblem } from '../net/special-ranges';
import {
  cidrCoversAny, formatCidrAny, mustParseCidrAny, nthSubnet, parseIp, subnetCount, subnetIndex, type Cidr,
} from '../net/ip';

/** A backend's name as `backend.type` and leases carry it: lowercase letters, digits and dashes. */
export const BACKEND_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * The backend section as the store keeps it: which backend, plus that
 * backend's own fields. Only the backend knows those (as flannel's backends
 * decode their own config): backend/<type>/config.ts validates them and fills
 * their defaults, and backend/'s `parseNetwork` / `checkNetworkBackend` are
 * what knitd and knitctl accept. The store checks the shape and carries the
 * fields verbatim.
 */
export interface BackendSection {
  readonly type: string;
  readonly [field: string]: unknown;
}

/**
 * A validated network config with every default filled in.
 *
 * Address families (docs/subnet-leases.md): `clusterCidr` is the family the
 * subnet leases are keyed by. IPv4-only: an IPv4 `clusterCidr`. Dual-stack:
 * an IPv4 `clusterCidr` plus `ipv6ClusterCidr`; each node's IPv6 subnet is
 * the one at the same index as its IPv4 subnet, so leasing the IPv4 subnet
 * (a create-if-absent transaction) also makes the IPv6 one unique, and
 * turning IPv6 on in a running IPv4 cluster renumbers nothing. IPv6-only: an
 * IPv6 `clusterCidr` (the leases are then keyed by IPv6 subnets). Use
 * `networkFamilies()` instead of reading the fields to find out which.
 */
export interface NetworkConfig {
  /** The cluster CIDR of the lease family, normalised ("10.244.0.0/16", or "fd00:10:244::/56" when IPv6-only). */
  clusterCidr: string;
  /** Prefix length of each node's subnet (e.g. 24; default 24 for IPv4, 64 for IPv6). */
  subnetLength: number;
  /** Lowest subnet that may be leased, "addr/len" (default: the first one). */
  subnetMin: string;
  /** Highest subnet that may be leased, "addr/len" (default: the last one). */
  subnetMax: string;
  /** Dual-stack: the IPv6 cluster CIDR next to an IPv4 `clusterCidr` (absent when IPv4-only or IPv6-only). */
  ipv6ClusterCidr?: string;
  /** Dual-stack: prefix length of each node's IPv6 subnet (default 64). */
  ipv6SubnetLength?: number;
  /** Checked by its backend (see BackendSection). */
  backend: BackendSection;
  /** Container MTU override; absent = derived from the underlay MTU by the backend. */
  mtu?: number;
  /** Masquerade IPv4 traffic leaving the cluster CIDR (default true). */
  masquerade: boolean;
  /** Masquerade IPv6 traffic leaving the IPv6 cluster CIDR (default false, as flannel: IPv6 pods usually have routable addresses). Present only when IPv6 is on. */
  ipv6Masquerade?: boolean;
  /**
   * No traffic in or out of the network's CIDR other than among its own
   * containers, and no masquerade (Docker's --internal). Absent = false, so
   * documents written before it existed stay byte-identical.
   */
  internal?: true;
}

/** One address family of a network: its cluster CIDR and per-node subnet length. */
export interface FamilyNetwork {
  clusterCidr: string;
  subnetLength: number;
}

/** The families a network config turns on; at least one is present. */
export interface NetworkFamilies {
  ipv4?: FamilyNetwork;
  ipv6?: FamilyNetwork;
  /** 'ipv4' (IPv4-only), 'dual-stack', or 'ipv6' (IPv6-only). */
  stack: 'ipv4' | 'dual-stack' | 'ipv6';
}

/** Which families a (validated) network config turns on, and their CIDRs. */
export function networkFamilies(cfg: Pick<NetworkConfig, 'clusterCidr' | 'subnetLength' | 'ipv6ClusterCidr' | 'ipv6SubnetLength'>): NetworkFamilies {
  const primary = { clusterCidr: cfg.clusterCidr, subnetLength: cfg.subnetLength };
  if (cfg.clusterCidr.includes(':')) return { ipv6: primary, stack: 'ipv6' };
  if (cfg.ipv6ClusterCidr !== undefined) {
    return { ipv4: primary, ipv6: { clusterCidr: cfg.ipv6ClusterCidr, subnetLength: cfg.ipv6SubnetLength ?? 64 }, stack: 'dual-stack' };
  }
  return { ipv4: primary, stack: 'ipv4' };
}

/**
 * Dual-stack: the IPv6 subnet paired with a node's IPv4 subnet, the one at
 * the same index in the IPv6 cluster CIDR (parseNetworkConfig checks that
 * there are enough). Undefined when the config is not dual-stack.
 * pairedIpv6Subnet(10.244.3.0/24 in 10.244.0.0/16, fd00:10:244::/56 cut into /64) = fd00:10:244:3::/64.
 */
export function pairedIpv6Subnet(cfg: Pick<NetworkConfig, 'clusterCidr' | 'ipv6ClusterCidr' | 'ipv6SubnetLength'>, ipv4Subnet: string): string | undefined {
  if (cfg.ipv6ClusterCidr === undefined || cfg.clusterCidr.includes(':')) return undefined;
  const index = subnetIndex(mustParseCidrAny(cfg.clusterCidr), mustParseCidrAny(ipv4Subnet));
  return formatCidrAny(nthSubnet(mustParseCidrAny(cfg.ipv6ClusterCidr), cfg.ipv6SubnetLength ?? 64, index));
}

/** A config that does not validate; `field` is the dotted path of the offending field. */
export class NetworkConfigError extends Error {
  constructor(
    /** Dotted path of the field, e.g. "backend.vni" ("" for the whole document). */
    readonly field: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`network config: ${field === '' ? '' : `field "${field}": `}${detail}`, options);
    this.name = 'NetworkConfigError';
  }
}

type Obj = Record<string, unknown>;

/** Refuses fields not in `allowed` (a typo must not fall back to a default silently). */
function refuseUnknown(o: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new NetworkConfigError(path === '' ? k : `${path}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }
}

/** An optional integer field within [min, max], or `dflt`. */
function intIn(o: Obj, key: string, path: string, min: number, max: number, dflt?: number): number | undefined {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new NetworkConfigError(path, `must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** An optional boolean field, or `dflt`. */
function bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new NetworkConfigError(path, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * The field checks above, for the backends' own sections
 * (backend/<type>/config.ts): the same messages and dotted paths everywhere.
 */
export const configFields = { refuseUnknown, intIn, bool } as const;

/** The backend section's shape: an object naming a backend; its fields stay as written for the backend to check. */
function parseBackendShape(v: unknown): BackendSection {
  if (v === undefined) throw new NetworkConfigError('backend', 'is required (e.g. {"type": "vxlan"})');
  if (!isObject(v)) throw new NetworkConfigError('backend', `must be an object, got ${JSON.stringify(v)}`);
  if (typeof v.type !== 'string' || !BACKEND_NAME.test(v.type)) {
    throw new NetworkConfigError('backend.type', `must name a backend such as "vxlan", got ${JSON.stringify(v.type)}`);
  }
  // A deep copy: the caller's document is not shared with the config.
  return JSON.parse(JSON.stringify(v)) as BackendSection;
}

/** Parses subnetMin/subnetMax given as "addr" or "addr/len" (the cluster's family) and checks alignment and range. */
function parseBound(v: unknown, field: string, cluster: Cidr, subnetLength: number, dflt: bigint): bigint {
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new NetworkConfigError(field, `must be a subnet address string, got ${JSON.stringify(v)}`);
  let addr: bigint;
  try {
    if (v.includes('/')) {
      const c = mustParseCidrAny(v, false);
      if (c.prefixLength !== subnetLength) throw new Error(`prefix length /${c.prefixLength} differs from subnetLength ${subnetLength}`);
      addr = mustParseCidrAny(`${v.slice(0, v.indexOf('/'))}/${c.family === 4 ? 32 : 128}`).network;
      if (c.family !== cluster.family) throw new Error(`is IPv${c.family}, clusterCidr is IPv${cluster.family}`);
    } else {
      const a = parseIp(v);
      if (a === undefined) throw new Error(`not an IP address: ${JSON.stringify(v)}`);
      if (a.family !== cluster.family) throw new Error(`is IPv${a.family}, clusterCidr is IPv${cluster.family}`);
      addr = a.value;
    }
  } catch (err) {
    throw new NetworkConfigError(field, `${errorMessage(err)}`, { cause: err });
  }
  const sub: Cidr = { family: cluster.family, network: addr, prefixLength: subnetLength };
  if (mustParseCidrAny(formatCidrAny(sub), false).network !== addr) {
    throw new NetworkConfigError(field, `${v} is not aligned to a /${subnetLength} boundary`);
  }
  if (!cidrCoversAny(cluster, sub)) {
    throw new NetworkConfigError(field, `${v} is outside clusterCidr ${formatCidrAny(cluster)}`);
  }
  return addr;
}

/** Parses a cluster CIDR field of either family (IPv6: no special-use space). */
function clusterCidrField(v: unknown, field: string, example: string): Cidr {
  if (typeof v !== 'string') {
    throw new NetworkConfigError(field, `is required, a string like "${example}", got ${JSON.stringify(v)}`);
  }
  let c: Cidr;
  try {
    c = mustParseCidrAny(v);
  } catch (err) {
    throw new NetworkConfigError(field, errorMessage(err), { cause: err });
  }
  // 0.0.0.0/0 would lease public subnets and masquerade nothing; 127/8, 224/4,
  // 169.254/16, fe80::/10, ff00::/8 … would put containers on addresses the kernel treats specially.
  const special = containerCidrProblem(formatCidrAny(c));
  if (special !== undefined) throw new NetworkConfigError(field, `${special}; use a private range such as ${example}`);
  return c;
}

/**
 * The per-node subnet length of a family: default 24 (IPv4, when the cluster
 * is shorter than /24) or 64 (IPv6); longer than the cluster prefix; at most
 * /30 for IPv4 (a gateway and a container) and /126 for IPv6.
 */
function subnetLengthField(v: unknown, field: string, cluster: Cidr, clusterField: string): number {
  const longest = cluster.family === 4 ? 30 : 126;
  const dflt = cluster.family === 4 ? 24 : 64;
  const subnetLength = v === undefined ? (cluster.prefixLength < dflt ? dflt : undefined) : v;
  if (subnetLength === undefined) {
    throw new NetworkConfigError(field, `is required when ${clusterField} is /${cluster.prefixLength} (no room for the default /${dflt})`);
  }
  if (typeof subnetLength !== 'number' || !Number.isInteger(subnetLength)) {
    throw new NetworkConfigError(field, `must be an integer, got ${JSON.stringify(subnetLength)}`);
  }
  if (subnetLength <= cluster.prefixLength) {
    throw new NetworkConfigError(field, `must be longer than the ${clusterField} prefix /${cluster.prefixLength}, got ${subnetLength}`);
  }
  if (subnetLength > longest) {
    throw new NetworkConfigError(field, `must be at most ${longest} (a subnet needs a gateway and a container), got ${subnetLength}`);
  }
  // The node's IPAM hands out IPv6 addresses from a /64 or longer (SLAAC-sized and smaller).
  if (cluster.family === 6 && subnetLength < 64) {
    throw new NetworkConfigError(field, `must be 64..126 for IPv6, got ${subnetLength}`);
  }
  return subnetLength;
}

const TOP_FIELDS = [
  'clusterCidr', 'subnetLength', 'subnetMin', 'subnetMax', 'ipv6ClusterCidr', 'ipv6SubnetLength', 'backend', 'mtu', 'masquerade', 'ipv6Masquerade',
] as const;

/**
 * Validates a network config document (already JSON-parsed) and fills the
 * defaults, except inside the backend section, which only has its shape
 * checked here (BackendSection). Throws NetworkConfigError naming the first
 * bad field.
 */
export function parseNetworkConfig(json: unknown): NetworkConfig {
  if (!isObject(json)) throw new NetworkConfigError('', `must be a JSON object, got ${JSON.stringify(json)}`);
  refuseUnknown(json, [...TOP_FIELDS, 'internal'], '');

  const cluster = clusterCidrField(json.clusterCidr, 'clusterCidr', '10.244.0.0/16');
  // The longest IPv4 subnet is a /30 (two usable addresses: gateway + one container),
  // so a cluster must be at most a /29 to hold two of them.
  if (cluster.family === 4 && cluster.prefixLength > 29) {
    throw new NetworkConfigError('clusterCidr', `${formatCidrAny(cluster)} is too small for two subnets (the longest subnet is a /30)`);
  }
  if (cluster.family === 6 && cluster.prefixLength > 125) {
    throw new NetworkConfigError('clusterCidr', `${formatCidrAny(cluster)} is too small for two subnets (the longest subnet is a /126)`);
  }
  const subnetLength = subnetLengthField(json.subnetLength, 'subnetLength', cluster, 'clusterCidr');
  // The allocator counts subnets in a double: keep the count exact.
  if (subnetLength - cluster.prefixLength > 32) {
    throw new NetworkConfigError('subnetLength', `/${subnetLength} cuts ${formatCidrAny(cluster)} into more than 2^32 subnets; use a longer clusterCidr prefix`);
  }

  const size = 1n << BigInt((cluster.family === 4 ? 32 : 128) - subnetLength);
  const first = cluster.network;
  const last = cluster.network + subnetCount(cluster, subnetLength) * size - size;
  const min = parseBound(json.subnetMin, 'subnetMin', cluster, subnetLength, first);
  const max = parseBound(json.subnetMax, 'subnetMax', cluster, subnetLength, last);
  if (min > max) {
    throw new NetworkConfigError('subnetMax', `${formatCidrAny({ family: cluster.family, network: max, prefixLength: subnetLength })} is below subnetMin ${formatCidrAny({ family: cluster.family, network: min, prefixLength: subnetLength })}`);
  }

  let ipv6: { cidr: Cidr; subnetLength: number } | undefined;
  if (json.ipv6ClusterCidr !== undefined) {
    if (cluster.family === 6) {
      throw new NetworkConfigError('ipv6ClusterCidr', 'is only for dual-stack (an IPv4 clusterCidr); clusterCidr is already IPv6 (IPv6-only)');
    }
    const c6 = clusterCidrField(json.ipv6ClusterCidr, 'ipv6ClusterCidr', 'fd00:10:244::/56');
    if (c6.family !== 6) throw new NetworkConfigError('ipv6ClusterCidr', `must be an IPv6 CIDR, got ${JSON.stringify(json.ipv6ClusterCidr)}`);
    const len6 = subnetLengthField(json.ipv6SubnetLength, 'ipv6SubnetLength', c6, 'ipv6ClusterCidr');
    // Each node's IPv6 subnet sits at its IPv4 subnet's index: there must be one for every IPv4 subnet.
    if (len6 - c6.prefixLength < subnetLength - cluster.prefixLength) {
      const need = c6.prefixLength - (subnetLength - cluster.prefixLength - (len6 - c6.prefixLength));
      throw new NetworkConfigError('ipv6ClusterCidr', `${formatCidrAny(c6)} holds ${subnetCount(c6, len6)} /${len6} subnets, fewer than the ${subnetCount(cluster, subnetLength)} /${subnetLength} subnets of ${formatCidrAny(cluster)} (every node gets the IPv6 subnet at its IPv4 subnet's index): use a /${need} or shorter`);
    }
    ipv6 = { cidr: c6, subnetLength: len6 };
  } else if (json.ipv6SubnetLength !== undefined && cluster.family === 4) {
    throw new NetworkConfigError('ipv6SubnetLength', 'needs ipv6ClusterCidr');
  }

  const backend = parseBackendShape(json.backend);
  const mtu = intIn(json, 'mtu', 'mtu', 68, 65535);
  const internal = bool(json, 'internal', 'internal', false);
  const masquerade = bool(json, 'masquerade', 'masquerade', !internal);
  if (internal && masquerade) throw new NetworkConfigError('masquerade', 'an internal network has no outside access to masquerade to; drop "masquerade" or "internal"');
  const ipv6On = cluster.family === 6 || ipv6 !== undefined;
  if (!ipv6On && json.ipv6Masquerade !== undefined) throw new NetworkConfigError('ipv6Masquerade', 'needs IPv6 (ipv6ClusterCidr, or an IPv6 clusterCidr)');
  const ipv6Masquerade = bool(json, 'ipv6Masquerade', 'ipv6Masquerade', false);
  if (internal && ipv6Masquerade) throw new NetworkConfigError('ipv6Masquerade', 'an internal network has no outside access to masquerade to; drop "ipv6Masquerade" or "internal"');

  const cfg: NetworkConfig = {
    clusterCidr: formatCidrAny(cluster),
    subnetLength,
    subnetMin: formatCidrAny({ family: cluster.family, network: min, prefixLength: subnetLength }),
    subnetMax: formatCidrAny({ family: cluster.family, network: max, prefixLength: subnetLength }),
    backend,
    masquerade,
  };
  // IPv6 fields only when IPv6 is on: a stored IPv4-only config stays what
  // older knitd versions read (they refuse unknown fields).
  if (ipv6 !== undefined) {
    cfg.ipv6ClusterCidr = formatCidrAny(ipv6.cidr);
    cfg.ipv6SubnetLength = ipv6.subnetLength;
  }
  if (ipv6On) cfg.ipv6Masquerade = ipv6Masquerade;
  if (mtu !== undefined) cfg.mtu = mtu;
  if (internal) cfg.internal = true;
  return cfg;
}

/** Parses the JSON text stored in etcd (or a seed file), then validates it. */
export function parseNetworkConfigText(text: string): NetworkConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new NetworkConfigError('', `not valid JSON: ${errorMessage(err)}`, { cause: err });
  }
  return parseNetworkConfig(json);
}

/** Serialises a config for storage (stable field order, defaults explicit). */
export function formatNetworkConfig(cfg: NetworkConfig): string {
  return JSON.stringify(cfg);
}
