/**
 * Wire format of a subnet lease: the key `/knit/v1/subnets/<a.b.c.d-len>`
 * and a JSON value. Pure encode/decode, separate from etcd I/O, because lease
 * values are untrusted input (any node, or an operator with etcdctl, can write
 * anything there): `parseLease` refuses what does not parse, keys that do not
 * name a subnet, and subnets outside the cluster CIDR or of the wrong length.
 * The caller logs, counts and skips; it never programs anything from them.
 */
import { isObject } from '../base';
import { BACKEND_TYPES, type BackendType } from './network-config';
import { cidrContains, cidrCovers, formatCidr, mustParseCidr, mustParseIpv4, type Ipv4Cidr } from '../net/ipv4';
import { notUnicastReason } from '../net/special-ranges';

/** Backend-specific data a node publishes for its peers (e.g. its VTEP MAC). */
export type LeaseBackendData = Record<string, string | number | boolean>;

/** The JSON a node writes under its subnet key. */
export interface LeaseValue {
  /** The node holding the subnet (unique per cluster). */
  nodeName: string;
  /** The node's underlay address peers send to. */
  publicIp: string;
  backend: {
    type: BackendType;
    /** E.g. `{ vtepMac: "0a:58:..." }` for VXLAN; empty for host-gw. */
    data: LeaseBackendData;
  };
  /** ISO-8601 time the holder last wrote this value. */
  renewedAt: string;
}

/** A parsed lease: the subnet from the key plus the value. */
export interface Lease extends LeaseValue {
  /** The subnet, "a.b.c.d/len". */
  subnet: string;
}

/** What a lease must fit: the cluster CIDR and the per-node subnet length. */
export interface LeaseScope {
  clusterCidr: string;
  subnetLength: number;
}

/** A lease key or value that was refused. */
export class InvalidLeaseError extends Error {
  constructor(readonly key: string, detail: string) {
    super(`invalid lease ${JSON.stringify(key)}: ${detail}`);
    this.name = 'InvalidLeaseError';
  }
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** The key's last segment for a subnet: "10.244.3.0/24" → "10.244.3.0-24". */
export function subnetKeyName(subnet: string): string {
  const c = mustParseCidr(subnet);
  return formatCidr(c).replace('/', '-');
}

/** Parses a key's last segment ("10.244.3.0-24") to a network; throws InvalidLeaseError. */
export function parseSubnetKeyName(name: string): Ipv4Cidr {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,2})$/.exec(name);
  if (!m) throw new InvalidLeaseError(name, 'key is not of the form a.b.c.d-len');
  try {
    return mustParseCidr(`${m[1]}/${m[2]}`);
  } catch (err) {
    throw new InvalidLeaseError(name, `key: ${(err as Error).message}`);
  }
}

/** Serialises a lease value (field order fixed so equal values compare equal as text). */
export function encodeLeaseValue(v: LeaseValue): string {
  return JSON.stringify({
    nodeName: v.nodeName,
    publicIp: v.publicIp,
    backend: { type: v.backend.type, data: v.backend.data },
    renewedAt: v.renewedAt,
  });
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
  const subnet = formatCidr(net);
  if (net.prefixLength !== scope.subnetLength) {
    throw new InvalidLeaseError(keyName, `subnet ${subnet} is not a /${scope.subnetLength}`);
  }
  const cluster = mustParseCidr(scope.clusterCidr);
  if (!cidrCovers(cluster, net)) {
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
  const { nodeName, publicIp, backend, renewedAt } = json;
  // eslint-disable-next-line no-control-regex
  if (typeof nodeName !== 'string' || nodeName.length === 0 || nodeName.length > 253 || /[\x00-\x20\x7f]/.test(nodeName)) {
    throw new InvalidLeaseError(keyName, `nodeName ${JSON.stringify(nodeName)} is not a non-empty name without spaces`);
  }
  if (typeof publicIp !== 'string') throw new InvalidLeaseError(keyName, 'publicIp is missing');
  let ip: number;
  try {
    ip = mustParseIpv4(publicIp);
  } catch {
    throw new InvalidLeaseError(keyName, `publicIp ${JSON.stringify(publicIp)} is not an IPv4 address`);
  }
  // Peers send container traffic to this address: 255.255.255.255 would
  // broadcast it on the underlay, 127.0.0.1 loop it back, an address inside
  // the cluster CIDR route it into the overlay it is supposed to carry.
  const notUnicast = notUnicastReason(publicIp);
  if (notUnicast !== undefined) throw new InvalidLeaseError(keyName, `publicIp ${notUnicast}`);
  if (cidrContains(cluster, ip)) throw new InvalidLeaseError(keyName, `publicIp ${publicIp} is inside the cluster CIDR ${scope.clusterCidr}`);
  if (!isObject(backend)) throw new InvalidLeaseError(keyName, 'backend is not an object');
  if (typeof backend.type !== 'string' || !(BACKEND_TYPES as readonly string[]).includes(backend.type)) {
    throw new InvalidLeaseError(keyName, `backend.type ${JSON.stringify(backend.type)} is unknown`);
  }
  const data = parseBackendData(keyName, backend.data);
  if (typeof renewedAt !== 'string' || Number.isNaN(Date.parse(renewedAt))) {
    throw new InvalidLeaseError(keyName, `renewedAt ${JSON.stringify(renewedAt)} is not a timestamp`);
  }
  return { subnet, nodeName, publicIp, backend: { type: backend.type as BackendType, data }, renewedAt };
}
