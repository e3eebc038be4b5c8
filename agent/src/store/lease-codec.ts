/**
 * Wire format of a subnet lease: the key `/knit/v1/subnets/<addr-len>`
 * ("10.244.3.0-24"; "fd00:10:244:3::-64" when the cluster is IPv6-only) and a
 * JSON value (docs/subnet-leases.md). A dual-stack node's IPv6 subnet and
 * IPv6 underlay address ride in the same value (`ipv6Subnet`,
 * `publicIpv6`), one record per node as flannel does; values written
 * before dual-stack existed simply lack them. Pure encode/decode, separate from etcd I/O, because lease
 * values are untrusted input (any node, or an operator with etcdctl, can write
 * anything there): `parseLease` refuses what does not parse, keys that do not
 * name a subnet, and subnets outside the cluster CIDR or of the wrong length.
 * The caller logs, counts and skips; it never programs anything from them.
 */
import { isObject, errorMessage } from '../base';
import { BACKEND_NAME, pairedIpv6Subnet, type NetworkConfig } from './network-config';
import { cidrContainsAddress, cidrCoversAny, formatCidrAny, formatIp, mustParseCidrAny, parseIp, type Cidr } from '../net/ip';
import { notUnicastReasonOf } from '../net/special-ranges';

/** Backend-specific data a node publishes for its peers (e.g. its VTEP MAC). */
export type LeaseBackendData = Record<string, string | number | boolean>;

/** The JSON a node writes under its subnet key. */
export interface LeaseValue {
  /** The node holding the subnet (unique per cluster). */
  nodeName: string;
  /** The node's underlay address peers send to: IPv4, or IPv6 when the node has no IPv4 underlay address. */
  publicIp: string;
  /** The node's IPv6 underlay address when `publicIp` is IPv4 and the node also has one (host-gw's IPv6 next hop). */
  publicIpv6?: string;
  /** Dual-stack: the node's IPv6 pod subnet (the one paired with the key's IPv4 subnet). */
  ipv6Subnet?: string;
  backend: {
    /** The backend's name (BACKEND_NAME); a peer on another backend than ours is refused by backend/peer-checks. */
    type: string;
    /** E.g. `{ vtepMac: "0a:58:..." }` for VXLAN; empty for host-gw. */
    data: LeaseBackendData;
  };
  /** ISO-8601 time the holder last wrote this value. */
  renewedAt: string;
}

/** A parsed lease: the subnet from the key plus the value. */
export interface Lease extends LeaseValue {
  /** The subnet of the key, "a.b.c.d/len" (IPv6 when the cluster is IPv6-only). */
  subnet: string;
}

/** What a lease must fit: the network config's CIDRs and subnet lengths. */
export type LeaseScope = Pick<NetworkConfig, 'clusterCidr' | 'subnetLength' | 'ipv6ClusterCidr' | 'ipv6SubnetLength'>;

/** A lease's pod subnets by family (a lease has at least one). */
export interface LeaseSubnets {
  ipv4?: string;
  ipv6?: string;
}

/** The lease's IPv4 and IPv6 pod subnets, whichever it has. */
export function leaseSubnets(l: Pick<Lease, 'subnet' | 'ipv6Subnet'>): LeaseSubnets {
  if (l.subnet.includes(':')) return { ipv6: l.subnet };
  return l.ipv6Subnet === undefined ? { ipv4: l.subnet } : { ipv4: l.subnet, ipv6: l.ipv6Subnet };
}

/** The lease's underlay addresses by family, whichever it has. */
export function leaseUnderlay(l: Pick<Lease, 'publicIp' | 'publicIpv6'>): { ipv4?: string; ipv6?: string } {
  if (l.publicIp.includes(':')) return { ipv6: l.publicIp };
  return l.publicIpv6 === undefined ? { ipv4: l.publicIp } : { ipv4: l.publicIp, ipv6: l.publicIpv6 };
}

/** A lease key or value that was refused. */
export class InvalidLeaseError extends Error {
  constructor(readonly key: string, detail: string) {
    super(`invalid lease ${JSON.stringify(key)}: ${detail}`);
    this.name = 'InvalidLeaseError';
  }
}

const LINK_LOCAL_V6 = mustParseCidrAny('fe80::/10');

/**
 * The network config's CIDRs, parsed once: every lease is checked against
 * them (10 000 leases parsed the same two strings 20 000 times). Only the
 * scope's strings (validated config) come here, never a lease's; the bound
 * only guards against a config that changes without end.
 */
const configCidrs = new Map<string, Cidr>();

function configCidr(text: string): Cidr {
  let c = configCidrs.get(text);
  if (c === undefined) {
    c = mustParseCidrAny(text);
    if (configCidrs.size >= 64) configCidrs.clear();
    configCidrs.set(text, c);
  }
  return c;
}
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** The key's last segment for a subnet: "10.244.3.0/24" → "10.244.3.0-24", "fd00:10:244:3::/64" → "fd00:10:244:3::-64". */
export function subnetKeyName(subnet: string): string {
  const c = mustParseCidrAny(subnet);
  return formatCidrAny(c).replace('/', '-');
}

/** Parses a key's last segment ("10.244.3.0-24", "fd00:10:244:3::-64") to a network; throws InvalidLeaseError. */
export function parseSubnetKeyName(name: string): Cidr {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]{2,39})-(\d{1,3})$/.exec(name);
  if (!m) throw new InvalidLeaseError(name, 'key is not of the form a.b.c.d-len or ipv6-len');
  let c: Cidr;
  try {
    c = mustParseCidrAny(`${m[1]}/${m[2]}`);
  } catch (err) {
    throw new InvalidLeaseError(name, `key: ${errorMessage(err)}`);
  }
  // One spelling per subnet, so one subnet has one key.
  if (formatCidrAny(c).replace('/', '-') !== name) throw new InvalidLeaseError(name, `key is not in canonical form (${formatCidrAny(c)})`);
  return c;
}

/** Serialises a lease value (field order fixed so equal values compare equal as text; absent IPv6 fields are left out). */
export function encodeLeaseValue(v: LeaseValue): string {
  return JSON.stringify({
    nodeName: v.nodeName,
    publicIp: v.publicIp,
    ...(v.publicIpv6 !== undefined ? { publicIpv6: v.publicIpv6 } : {}),
    ...(v.ipv6Subnet !== undefined ? { ipv6Subnet: v.ipv6Subnet } : {}),
    backend: { type: v.backend.type, data: v.backend.data },
    renewedAt: v.renewedAt,
  });
}

/**
 * A unicast underlay address of either family in canonical form; throws
 * InvalidLeaseError. Peers send container traffic to this address:
 * 255.255.255.255 would broadcast it on the underlay, 127.0.0.1 loop it
 * back, an address inside a cluster CIDR route it into the overlay it is
 * supposed to carry.
 */
function underlayAddress(key: string, field: string, v: unknown, scope: LeaseScope, family?: 4 | 6): string {
  const a = typeof v === 'string' ? parseIp(v) : undefined;
  if (a === undefined || (family !== undefined && a.family !== family)) {
    throw new InvalidLeaseError(key, `${field} ${JSON.stringify(v)} is not an ${family === 6 ? 'IPv6' : family === 4 ? 'IPv4' : 'IPv4 or IPv6'} address`);
  }
  const text = formatIp(a);
  const notUnicast = notUnicastReasonOf(a.family, a.value, text);
  if (notUnicast !== undefined) throw new InvalidLeaseError(key, `${field} ${notUnicast}`);
  // An IPv6 link-local address means nothing without an interface, and a lease names none.
  if (a.family === 6 && cidrContainsAddress(LINK_LOCAL_V6, a)) throw new InvalidLeaseError(key, `${field} ${text} is link-local (fe80::/10); use a global or unique-local address`);
  for (const cluster of [scope.clusterCidr, scope.ipv6ClusterCidr]) {
    if (cluster !== undefined && cidrContainsAddress(configCidr(cluster), a)) {
      throw new InvalidLeaseError(key, `${field} ${text} is inside the cluster CIDR ${cluster}`);
    }
  }
  return text;
}

function parseBackendData(key: string, d: unknown): LeaseBackendData {
  if (d === undefined) return {};
  if (!isObject(d)) throw new InvalidLeaseError(key, 'backend.data is not an object');
  const out: LeaseBackendData = {};
  for (const [k, v] of Object.entries(d)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new InvalidLeaseError(key, `backend.data.${k} is not a string, number or boolean`);
    }
    out[k] = v;
  }
  if (out.vtepMac !== undefined) {
    const mac = out.vtepMac;
    // A multicast or broadcast VTEP MAC would flood: refuse it like garbage.
    if (typeof mac !== 'string' || !MAC_RE.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) {
      throw new InvalidLeaseError(key, `backend.data.vtepMac ${JSON.stringify(mac)} is not a unicast MAC (lowercase aa:bb:cc:dd:ee:ff)`);
    }
  }
  return out;
}

/**
 * Parses and validates one lease. `keyName` is the key's last segment
 * ("10.244.3.0-24"); `value` is the raw etcd value. Throws InvalidLeaseError.
 */
export function parseLease(keyName: string, value: string | Buffer, scope: LeaseScope): Lease {
  const net = parseSubnetKeyName(keyName);
  const subnet = formatCidrAny(net);
  if (net.prefixLength !== scope.subnetLength) {
    throw new InvalidLeaseError(keyName, `subnet ${subnet} is not a /${scope.subnetLength}`);
  }
  const cluster = configCidr(scope.clusterCidr);
  if (!cidrCoversAny(cluster, net)) {
    throw new InvalidLeaseError(keyName, `subnet ${subnet} is outside the cluster CIDR ${scope.clusterCidr}`);
  }
  const text = typeof value === 'string' ? value : value.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidLeaseError(keyName, `value is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (!isObject(json)) throw new InvalidLeaseError(keyName, 'value is not a JSON object');
  const { nodeName, backend, renewedAt } = json;
  // eslint-disable-next-line no-control-regex
  if (typeof nodeName !== 'string' || nodeName.length === 0 || nodeName.length > 253 || /[\x00-\x20\x7f]/.test(nodeName)) {
    throw new InvalidLeaseError(keyName, `nodeName ${JSON.stringify(nodeName)} is not a non-empty name without spaces`);
  }
  if (typeof json.publicIp !== 'string') throw new InvalidLeaseError(keyName, 'publicIp is missing');
  const publicIp = underlayAddress(keyName, 'publicIp', json.publicIp, scope);
  let publicIpv6: string | undefined;
  if (json.publicIpv6 !== undefined) {
    if (publicIp.includes(':')) throw new InvalidLeaseError(keyName, 'publicIpv6 is only for a node whose publicIp is IPv4');
    publicIpv6 = underlayAddress(keyName, 'publicIpv6', json.publicIpv6, scope, 6);
  }
  // The IPv6 subnet must be the one paired with the key's IPv4 subnet: that
  // pairing is what makes it unique, so a value claiming another node's is refused.
  let ipv6Subnet: string | undefined;
  const paired = pairedIpv6Subnet(scope, subnet);
  // In a network that is not dual-stack (yet) the IPv6 fields are ignored,
  // as older knitd versions ignore them: during a rolling upgrade to
  // dual-stack the nodes not yet restarted must keep their upgraded peers.
  if (json.ipv6Subnet !== undefined && paired !== undefined) {
    let c: Cidr | undefined;
    try {
      c = typeof json.ipv6Subnet === 'string' ? mustParseCidrAny(json.ipv6Subnet) : undefined;
    } catch {
      c = undefined;
    }
    if (c === undefined || formatCidrAny(c) !== paired) {
      throw new InvalidLeaseError(keyName, `ipv6Subnet ${JSON.stringify(json.ipv6Subnet)} is not ${paired}, the IPv6 subnet paired with ${subnet}`);
    }
    ipv6Subnet = paired;
  }
  if (!isObject(backend)) throw new InvalidLeaseError(keyName, 'backend is not an object');
  if (typeof backend.type !== 'string' || !BACKEND_NAME.test(backend.type)) {
    throw new InvalidLeaseError(keyName, `backend.type ${JSON.stringify(backend.type)} is not a backend name`);
  }
  const data = parseBackendData(keyName, backend.data);
  if (typeof renewedAt !== 'string' || Number.isNaN(Date.parse(renewedAt))) {
    throw new InvalidLeaseError(keyName, `renewedAt ${JSON.stringify(renewedAt)} is not a timestamp`);
  }
  const lease: Lease = { subnet, nodeName, publicIp, backend: { type: backend.type, data }, renewedAt };
  if (publicIpv6 !== undefined) lease.publicIpv6 = publicIpv6;
  if (ipv6Subnet !== undefined) lease.ipv6Subnet = ipv6Subnet;
  return lease;
}
