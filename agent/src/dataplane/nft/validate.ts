/**
 * Validation and normalization of the nft desired state. Everything that ends
 * up in the nft script passes through here first, so the renderer can print
 * values verbatim: ports are integers in range, addresses are canonical
 * dotted quads, CIDRs are network addresses, names are safe tokens.
 */
import { formatCidrAny, formatIp, parseCidrAny, parseIp } from '../../net/ip';
import type { NftDesiredState, NftExtraNat, NftNetwork, NormalizedMapping, NormalizedState, PortMapping, PortProtocol } from './types';

/** Raised for a desired state that cannot be rendered; the message names the field. */
export class NftValidationError extends Error {
  override name = 'NftValidationError';
}

const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp'];
const IFNAME = /^[A-Za-z0-9_.:-]{1,15}$/;

/** Parse a canonical dotted-quad IPv4 address into a 32-bit number, or undefined. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i];
    // Leading zeros are refused: some tools read them as octal.
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** True for 127.0.0.0/8. */
export function isLoopbackIpv4(text: string): boolean {
  const v = parseIpv4(text);
  return v !== undefined && Math.floor(v / 2 ** 24) === 127;
}

/** Validate "a.b.c.d/len" and return it with host bits cleared, e.g. "10.244.1.7/24" → "10.244.1.0/24". */
export function normalizeCidr(text: string, field: string): string {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  const addr = m ? parseIpv4(m[1]) : undefined;
  const len = m ? Number(m[2]) : NaN;
  if (!m || addr === undefined || !(len >= 1 && len <= 32)) {
    throw new NftValidationError(`${field}: "${text}" is not an IPv4 CIDR like 10.244.0.0/16`);
  }
  const size = 2 ** (32 - len);
  return `${formatIpv4(Math.floor(addr / size) * size)}/${len}`;
}

function checkPort(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new NftValidationError(`${field}: ${JSON.stringify(value)} is not a port in 1..65535`);
  }
  return value;
}

function checkIpv4(value: unknown, field: string): string {
  if (typeof value !== 'string' || parseIpv4(value) === undefined) {
    throw new NftValidationError(`${field}: ${JSON.stringify(value)} is not an IPv4 address (knit's table is family ip)`);
  }
  return value;
}

/** A canonical IPv6 address, or throws naming the field. */
function checkIpv6(value: unknown, field: string): string {
  const a = typeof value === 'string' ? parseIp(value) : undefined;
  if (a === undefined || a.family !== 6) throw new NftValidationError(`${field}: ${JSON.stringify(value)} is not an IPv6 address`);
  return formatIp(a);
}

function normalizeMapping(pm: PortMapping, index: number, family: 4 | 6 = 4): NormalizedMapping {
  const list = family === 4 ? 'portMappings' : 'portMappings6';
  const where = `${list}[${index}]${typeof pm?.id === 'string' && pm.id !== '' ? ` (${pm.id})` : ''}`;
  if (typeof pm !== 'object' || pm === null) throw new NftValidationError(`${where}: not an object`);
  if (typeof pm.id !== 'string' || pm.id.length === 0) throw new NftValidationError(`${where}.id: must be a non-empty string`);
  if (!PROTOCOLS.includes(pm.protocol)) {
    throw new NftValidationError(`${where}.protocol: ${JSON.stringify(pm.protocol)} is not one of ${PROTOCOLS.join(', ')}`);
  }
  const out: NormalizedMapping = {
    id: pm.id,
    protocol: pm.protocol,
    hostPort: checkPort(pm.hostPort, `${where}.hostPort`),
    containerPort: checkPort(pm.containerPort, `${where}.containerPort`),
    containerIp: family === 4 ? checkIpv4(pm.containerIp, `${where}.containerIp`) : checkIpv6(pm.containerIp, `${where}.containerIp`),
  };
  if (family === 6) {
    if (pm.hostIp !== undefined && pm.hostIp !== '' && pm.hostIp !== '::') {
      const h = checkIpv6(pm.hostIp, `${where}.hostIp`);
      if (h === '::1') throw new NftValidationError(`${where}.hostIp: ::1 cannot be DNATed to a container (IPv6 has no route_localnet)`);
      out.hostIp = h;
    }
    return out;
  }
  // "" and 0.0.0.0 are how runtimes say "any address" (the reference portmap plugin reads them so too).
  if (pm.hostIp !== undefined && pm.hostIp !== '' && pm.hostIp !== '0.0.0.0') {
    out.hostIp = checkIpv4(pm.hostIp, `${where}.hostIp`);
  }
  return out;
}

/** Sort key that orders mappings by protocol, hostIp, hostPort (numerically). */
function mappingKey(m: NormalizedMapping): string {
  return `${m.protocol}|${m.hostIp ?? ''}|${String(m.hostPort).padStart(5, '0')}`;
}

/**
 * Validate the whole desired state and return its normalized form.
 * Throws NftValidationError naming the offending field; a (protocol, hostIp,
 * hostPort) claimed twice names both claimants.
 */
export function normalizeDesired(desired: NftDesiredState): NormalizedState {
  if (typeof desired !== 'object' || desired === null) throw new NftValidationError('desired state: not an object');
  if (!Array.isArray(desired.portMappings)) throw new NftValidationError('portMappings: must be an array');
  const out: NormalizedState = { portMappings: [], portMappings6: [], networks: [], extraNat: [] };
  if (desired.masquerade !== undefined) {
    out.masqueradeCidr = normalizeCidr(desired.masquerade.clusterCidr, 'masquerade.clusterCidr');
  }
  if (desired.masquerade6 !== undefined) {
    const c = typeof desired.masquerade6.clusterCidr === 'string' ? parseCidrAny(desired.masquerade6.clusterCidr) : undefined;
    if (c === undefined || c.family !== 6 || c.prefixLength === 0) {
      throw new NftValidationError(`masquerade6.clusterCidr: ${JSON.stringify(desired.masquerade6.clusterCidr)} is not an IPv6 CIDR like fd00:10:244::/56`);
    }
    out.masquerade6Cidr = formatCidrAny(c);
  }
  if (desired.notrack !== undefined) {
    out.notrackCidr = normalizeCidr(desired.notrack.clusterCidr, 'notrack.clusterCidr');
    if (!Array.isArray(desired.notrack.nodeAddresses)) throw new NftValidationError('notrack.nodeAddresses: must be an array');
    const addrs = new Map<number, string>();
    desired.notrack.nodeAddresses.forEach((a, i) => {
      const v = typeof a === 'string' ? parseIpv4(a) : undefined;
      if (v === undefined) throw new NftValidationError(`notrack.nodeAddresses[${i}]: ${JSON.stringify(a)} is not an IPv4 address`);
      addrs.set(v, formatIpv4(v));
    });
    out.notrackNodeAddresses = [...addrs.entries()].sort(([a], [b]) => a - b).map(([, t]) => t);
    const tracked = desired.notrack.trackedAddresses ?? [];
    if (!Array.isArray(tracked)) throw new NftValidationError('notrack.trackedAddresses: must be an array');
    const kept = new Map<number, string>();
    tracked.forEach((a, i) => {
      const v = typeof a === 'string' ? parseIpv4(a) : undefined;
      if (v === undefined) throw new NftValidationError(`notrack.trackedAddresses[${i}]: ${JSON.stringify(a)} is not an IPv4 address`);
      kept.set(v, formatIpv4(v));
    });
    if (kept.size > 0) out.notrackTracked = [...kept.entries()].sort(([a], [b]) => a - b).map(([, t]) => t);
  }
  if (desired.tunnelNotrack !== undefined) {
    const t = desired.tunnelNotrack;
    const local = typeof t.localAddress === 'string' ? parseIpv4(t.localAddress) : undefined;
    if (local === undefined) throw new NftValidationError(`tunnelNotrack.localAddress: ${JSON.stringify(t.localAddress)} is not an IPv4 address`);
    if (!Array.isArray(t.udpPorts)) throw new NftValidationError('tunnelNotrack.udpPorts: must be an array');
    t.udpPorts.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new NftValidationError(`tunnelNotrack.udpPorts[${i}]: ${JSON.stringify(p)} is not a port (1..65535)`);
    });
    const ports = [...new Set(t.udpPorts)].sort((a, b) => a - b);
    if (ports.length > 0) out.tunnelNotrack = { localAddress: formatIpv4(local), udpPorts: ports };
  }
  if (desired.nodeSubnet !== undefined) out.nodeSubnet = normalizeCidr(desired.nodeSubnet, 'nodeSubnet');
  if (desired.bridge !== undefined) {
    if (!IFNAME.test(desired.bridge) || desired.bridge === '.' || desired.bridge === '..') {
      throw new NftValidationError(`bridge: ${JSON.stringify(desired.bridge)} is not an interface name`);
    }
    out.bridge = desired.bridge;
  }
  out.networks = (desired.networks ?? []).map((n, i) => normalizeNetwork(n, i)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  out.extraNat = (desired.extraNat ?? []).map((n, i): NftExtraNat => ({
    ...(n.nodeSubnet !== undefined ? { nodeSubnet: normalizeCidr(n.nodeSubnet, `extraNat[${i}].nodeSubnet`) } : {}),
    ...(n.masqueradeCidr !== undefined ? { masqueradeCidr: normalizeCidr(n.masqueradeCidr, `extraNat[${i}].masqueradeCidr`) } : {}),
    ...(n.nodeSubnet6 !== undefined ? { nodeSubnet6: normalizeCidr6(n.nodeSubnet6, `extraNat[${i}].nodeSubnet6`) } : {}),
    ...(n.masquerade6Cidr !== undefined ? { masquerade6Cidr: normalizeCidr6(n.masquerade6Cidr, `extraNat[${i}].masquerade6Cidr`) } : {}),
  }));
  const claimed = new Map<string, NormalizedMapping>();
  desired.portMappings.forEach((pm, i) => {
    const m = normalizeMapping(pm, i);
    if (m.hostIp !== undefined && isLoopbackIpv4(m.hostIp) && out.bridge === undefined) {
      throw new NftValidationError(`portMappings[${i}] (${m.id}).hostIp: ${m.hostIp} is a loopback address, which needs "bridge" (route_localnet)`);
    }
    const key = mappingKey(m);
    const other = claimed.get(key);
    if (other) {
      throw new NftValidationError(
        `port ${m.protocol}/${m.hostIp ?? '*'}:${m.hostPort} is claimed by both ${other.id} and ${m.id}`,
      );
    }
    claimed.set(key, m);
  });
  out.portMappings = [...claimed.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, m]) => m);
  if (desired.portMappings6 !== undefined && !Array.isArray(desired.portMappings6)) throw new NftValidationError('portMappings6: must be an array');
  const claimed6 = new Map<string, NormalizedMapping>();
  (desired.portMappings6 ?? []).forEach((pm, i) => {
    const m = normalizeMapping(pm, i, 6);
    const other = claimed6.get(mappingKey(m));
    if (other) throw new NftValidationError(`port ${m.protocol}/[${m.hostIp ?? '::'}]:${m.hostPort} is claimed by both ${other.id} and ${m.id}`);
    claimed6.set(mappingKey(m), m);
  });
  out.portMappings6 = [...claimed6.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, m]) => m);
  if (desired.nodeSubnet6 !== undefined) {
    const c = typeof desired.nodeSubnet6 === 'string' ? parseCidrAny(desired.nodeSubnet6) : undefined;
    if (c === undefined || c.family !== 6) throw new NftValidationError(`nodeSubnet6: ${JSON.stringify(desired.nodeSubnet6)} is not an IPv6 CIDR`);
    out.nodeSubnet6 = formatCidrAny(c);
  }
  return out;
}

const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function normalizeNetwork(n: NftNetwork, i: number): NftNetwork {
  if (typeof n.name !== 'string' || !NETWORK_NAME.test(n.name)) throw new NftValidationError(`networks[${i}].name: ${JSON.stringify(n.name)} is not a network name`);
  if (typeof n.bridge !== 'string' || !IFNAME.test(n.bridge)) throw new NftValidationError(`networks[${i}].bridge: ${JSON.stringify(n.bridge)} is not an interface name`);
  if (n.cidr === undefined && n.cidr6 === undefined) throw new NftValidationError(`networks[${i}] (${n.name}): has neither cidr nor cidr6`);
  return {
    name: n.name, bridge: n.bridge, internal: n.internal === true,
    ...(n.cidr !== undefined ? { cidr: normalizeCidr(n.cidr, `networks[${i}].cidr`) } : {}),
    ...(n.cidr6 !== undefined ? { cidr6: normalizeCidr6(n.cidr6, `networks[${i}].cidr6`) } : {}),
  };
}

/** A canonical IPv6 CIDR (network address, compressed), or NftValidationError naming `field`. */
function normalizeCidr6(text: string, field: string): string {
  const c = typeof text === 'string' ? parseCidrAny(text) : undefined;
  if (c === undefined || c.family !== 6 || c.prefixLength === 0) throw new NftValidationError(`${field}: ${JSON.stringify(text)} is not an IPv6 CIDR like fd00:10:244::/56`);
  return formatCidrAny(c);
}

/**
 * Whether the node must accept 127.0.0.1-sourced packets on the bridge
 * (`route_localnet`): only when a bridge is given and some mapping is reachable
 * through a loopback address (no hostIp, or a 127/8 hostIp).
 */
export function needsRouteLocalnet(state: NormalizedState): boolean {
  return state.bridge !== undefined && state.portMappings.some((m) => m.hostIp === undefined || isLoopbackIpv4(m.hostIp));
}
