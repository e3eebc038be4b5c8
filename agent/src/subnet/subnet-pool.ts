/**
 * Pure allocation arithmetic: which subnets a node may take, and a random
 * free one among them. Random (not first-free) so that concurrent joiners
 * rarely race for the same key; the create-if-absent transaction settles the
 * races that remain.
 */
import { blockSize, formatCidr, mustParseCidr } from '../net/ipv4';
import type { NetworkConfig } from '../store/network-config';

/** The range of subnets that may be allocated. */
export interface SubnetRange {
  /** First subnet base address. */
  first: number;
  /** Number of subnets in the range. */
  count: number;
  /** Subnet prefix length. */
  prefix: number;
}

/** The allocatable range of a network config (subnetMin … subnetMax). */
export function subnetRange(cfg: Pick<NetworkConfig, 'subnetMin' | 'subnetMax' | 'subnetLength'>): SubnetRange {
  const min = mustParseCidr(cfg.subnetMin).network;
  const max = mustParseCidr(cfg.subnetMax).network;
  const size = blockSize(cfg.subnetLength);
  return { first: min, count: (max - min) / size + 1, prefix: cfg.subnetLength };
}

/** The i-th subnet of the range, "a.b.c.d/len". */
export function subnetAt(r: SubnetRange, i: number): string {
  return formatCidr({ network: r.first + i * blockSize(r.prefix), prefixLength: r.prefix });
}

/** True when the subnet ("a.b.c.d/len") is one of the range's. */
export function inRange(r: SubnetRange, subnet: string): boolean {
  const c = mustParseCidr(subnet);
  if (c.prefixLength !== r.prefix) return false;
  const i = (c.network - r.first) / blockSize(r.prefix);
  return Number.isInteger(i) && i >= 0 && i < r.count;
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
