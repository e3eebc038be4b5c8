/**
 * The IPAM state file format (version 1, one file per address family) and its validation, as pure
 * functions: the allocator persists exactly what `encodeState` returns and
 * trusts only what `decodeState` returns.
 *
 *   { "version": 1, "subnet": "10.244.1.0/24", "lastAllocated": "10.244.1.7",
 *     "allocations": [ { "containerId", "ifname", "ip", "createdAt" } ] }
 *
 * `lastAllocated` keeps the round-robin position across restarts so that an
 * address released just before a restart is not handed out right after it.
 *
 * What is fatal and what is skipped: the file as a whole (JSON syntax, shape,
 * version, subnet) must be right, otherwise the caller gets an error and
 * decides, because guessing could hand one IP to two containers. A single bad
 * entry (outside the subnet, a reserved address, a duplicate) is dropped with
 * a warning: that loses one record, never creates a conflict.
 */
import { isObject } from '../base';
import { cidrBlockSize, cidrContainsAddress, formatCidrAny, formatIp, parseCidrAny, parseIp, type Cidr } from '../net/ip';

/** One container interface's address. */
export interface Allocation {
  containerId: string;
  ifname: string;
  ip: string;
  /** ISO 8601 time of the allocation. */
  createdAt: string;
}

/** What the state file holds, validated. */
export interface IpamState {
  subnet: string;
  /** Last address handed out, where round-robin continues; undefined when none yet. */
  lastAllocated?: string;
  allocations: Allocation[];
}

/** The whole state file is unusable (syntax, shape, version or subnet). */
export class IpamStateError extends Error {
  /** The state file's path. */
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IpamStateError';
    this.file = file;
  }
}

export const STATE_VERSION = 1;

/** Serializes the state, allocations in address order so diffs stay readable. */
export function encodeState(state: IpamState): string {
  const value = (ip: string): bigint => parseIp(ip)?.value ?? 0n;
  const allocations = [...state.allocations].sort((a, b) => {
    const d = value(a.ip) - value(b.ip);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });
  const doc: Record<string, unknown> = { version: STATE_VERSION, subnet: state.subnet };
  if (state.lastAllocated !== undefined) doc.lastAllocated = state.lastAllocated;
  doc.allocations = allocations.map((a) => ({ containerId: a.containerId, ifname: a.ifname, ip: a.ip, createdAt: a.createdAt }));
  return JSON.stringify(doc, null, 2) + '\n';
}

/**
 * Addresses of `cidr` that are never handed to a container: network and
 * gateway; for IPv4 also broadcast (IPv6 has none; its network address is
 * the subnet-router anycast address, kept free too).
 */
export function isReserved(cidr: Cidr, address: bigint): boolean {
  if (address === cidr.network || address === cidr.network + 1n) return true;
  return cidr.family === 4 && address === cidr.network + cidrBlockSize(4, cidr.prefixLength) - 1n;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Parses and validates a state file's text for `subnet`. Throws
 * IpamStateError when the file as a whole cannot be trusted; returns the
 * entries it kept and one warning per entry it dropped.
 */
export function decodeState(text: string, file: string, subnet: string): { state: IpamState; warnings: string[] } {
  const cidr = parseCidrAny(subnet);
  if (cidr === undefined) throw new RangeError(`not a canonical CIDR: ${subnet}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new IpamStateError(file, `IPAM state file ${file} is not valid JSON (left untouched)`, { cause });
  }
  if (!isObject(doc)) throw new IpamStateError(file, `IPAM state file ${file}: expected a JSON object`);
  if (doc.version !== STATE_VERSION) {
    throw new IpamStateError(file, `IPAM state file ${file}: unsupported version ${JSON.stringify(doc.version)} (expected ${STATE_VERSION})`);
  }
  const fileCidr = typeof doc.subnet === 'string' ? parseCidrAny(doc.subnet) : undefined;
  if (fileCidr === undefined || fileCidr.family !== cidr.family) {
    throw new IpamStateError(file, `IPAM state file ${file}: subnet ${JSON.stringify(doc.subnet)} is not an IPv${cidr.family} CIDR`);
  }
  if (fileCidr.network !== cidr.network || fileCidr.prefixLength !== cidr.prefixLength) {
    throw new IpamStateError(
      file,
      `IPAM state file ${file} holds subnet ${formatCidrAny(fileCidr)} but this node's subnet is ${subnet}; ` +
        'refusing to renumber running containers (move the file away if the old subnet is really gone)',
    );
  }
  if (!Array.isArray(doc.allocations)) {
    throw new IpamStateError(file, `IPAM state file ${file}: "allocations" must be an array`);
  }

  const warnings: string[] = [];
  const allocations: Allocation[] = [];
  const seenIps = new Set<bigint>();
  const seenKeys = new Set<string>();
  doc.allocations.forEach((entry: unknown, index: number) => {
    const where = `IPAM state file ${file}: allocations[${index}]`;
    if (!isObject(entry) || !nonEmptyString(entry.containerId) || !nonEmptyString(entry.ifname) ||
        typeof entry.ip !== 'string' || typeof entry.createdAt !== 'string') {
      warnings.push(`${where} is malformed; dropped: ${JSON.stringify(entry)}`);
      return;
    }
    const parsed = parseIp(entry.ip);
    const address = parsed?.family === cidr.family ? parsed.value : undefined;
    const key = allocationKey(entry.containerId, entry.ifname);
    let problem: string | undefined;
    if (parsed === undefined || address === undefined) problem = `ip ${JSON.stringify(entry.ip)} is not an IPv${cidr.family} address`;
    else if (!cidrContainsAddress(cidr, parsed)) problem = `ip ${entry.ip} is outside ${subnet}`;
    else if (isReserved(cidr, address)) problem = `ip ${entry.ip} is reserved (network, gateway or broadcast)`;
    else if (seenIps.has(address)) problem = `ip ${entry.ip} is already held by an earlier entry`;
    else if (seenKeys.has(key)) problem = `container ${entry.containerId} interface ${entry.ifname} already has an earlier entry`;
    if (problem !== undefined) {
      warnings.push(`${where}: ${problem}; dropped`);
      return;
    }
    seenIps.add(address as bigint);
    seenKeys.add(key);
    // Canonical text (IPv6 spellings differ), so lookups by address text match.
    allocations.push({ containerId: entry.containerId, ifname: entry.ifname, ip: formatIp(parsed!), createdAt: entry.createdAt });
  });

  let lastAllocated: string | undefined;
  if (doc.lastAllocated !== undefined) {
    const last = typeof doc.lastAllocated === 'string' ? parseIp(doc.lastAllocated) : undefined;
    if (last !== undefined && cidrContainsAddress(cidr, last)) lastAllocated = formatIp(last);
    else warnings.push(`IPAM state file ${file}: lastAllocated ${JSON.stringify(doc.lastAllocated)} ignored`);
  }
  return { state: { subnet, lastAllocated, allocations }, warnings };
}

/** The map key of a (containerId, ifname) pair; NUL cannot occur in either. */
export function allocationKey(containerId: string, ifname: string): string {
  return `${containerId}\u0000${ifname}`;
}
