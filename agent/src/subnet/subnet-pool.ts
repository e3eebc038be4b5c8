/**
 * Pure allocation arithmetic: which subnets a node may take, and a random
 * free one among them. Random (not first-free) so that concurrent joiners
 * rarely race for the same key; the create-if-absent transaction settles the
 * races that remain.
 */
import { cidrBlockSize, formatCidrAny, parseCidrAny, type IpFamily } from '../net/ip';
import type { NetworkConfig } from '../store';

/** The range of subnets that may be allocated (of the lease family: IPv4, or IPv6 when IPv6-only). */
export interface SubnetRange {
  family: IpFamily;
  /** First subnet base address. */
  first: bigint;
  /** Number of subnets in the range (parseNetworkConfig keeps it at most 2^32). */
  count: number;
  /** Subnet prefix length. */
  prefix: number;
}

/** The allocatable range of a network config (subnetMin … subnetMax). */
export function subnetRange(cfg: Pick<NetworkConfig, 'subnetMin' | 'subnetMax' | 'subnetLength'>): SubnetRange {
  const min = parseCidrAny(cfg.subnetMin);
  const max = parseCidrAny(cfg.subnetMax);
  if (min === undefined || max === undefined) throw new Error(`subnet range ${cfg.subnetMin} … ${cfg.subnetMax} does not parse`);
  const size = cidrBlockSize(min.family, cfg.subnetLength);
  return { family: min.family, first: min.network, count: Number((max.network - min.network) / size) + 1, prefix: cfg.subnetLength };
}

/** The i-th subnet of the range, "addr/len". */
export function subnetAt(r: SubnetRange, i: number): string {
  return formatCidrAny({ family: r.family, network: r.first + BigInt(i) * cidrBlockSize(r.family, r.prefix), prefixLength: r.prefix });
}

/** True when the subnet ("addr/len") is one of the range's. */
export function inRange(r: SubnetRange, subnet: string): boolean {
  const c = parseCidrAny(subnet);
  if (c === undefined || c.family !== r.family || c.prefixLength !== r.prefix || c.network < r.first) return false;
  const size = cidrBlockSize(r.family, r.prefix);
  const off = c.network - r.first;
  return off % size === 0n && off / size < BigInt(r.count);
}

/** How many subnets of `taken` fall in the range. */
export function countTaken(r: SubnetRange, taken: ReadonlySet<string>): number {
  let n = 0;
  for (const s of taken) if (inRange(r, s)) n++;
  return n;
}

/**
 * A uniformly random start, then the first free subnet from there (wrapping).
 * Returns undefined when every subnet of the range is taken.
 */
export function pickFreeSubnet(r: SubnetRange, taken: ReadonlySet<string>, random: () => number): string | undefined {
  if (countTaken(r, taken) >= r.count) return undefined;
  const start = Math.min(r.count - 1, Math.floor(random() * r.count));
  for (let k = 0; k < r.count; k++) {
    const s = subnetAt(r, (start + k) % r.count);
    if (!taken.has(s)) return s;
  }
  return undefined;
}
