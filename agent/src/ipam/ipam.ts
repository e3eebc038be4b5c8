/**
 * Container IP allocation within this node's subnet.
 *
 * knitd owns IPAM in memory (one process, single-threaded, so no locks) and
 * persists it to one JSON state file through a CoalescingWriter: a call
 * resolves only once the state that contains its change is durable, and
 * concurrent changes share writes.
 *
 * Addresses are handed out round-robin after the last one allocated (as the
 * CNI host-local plugin does), so an address released a moment ago is not
 * given to the next container while stale ARP entries or conntrack flows may
 * still point at the old one. The network address, the gateway (first usable
 * address, the bridge's) and the broadcast address are never handed out.
 *
 * One Ipam per address family: a dual-stack node opens one for its IPv4
 * subnet (ipam.json, as before dual-stack) and one for its IPv6 subnet
 * (ipam6.json). Addresses are bigints so both families share this code.
 */
import type { Logger } from '../log/logger';
import { CoalescingWriter } from '../persist/coalescing-writer';
import { cidrBlockSize, formatIp, parseCidrAny, parseIp, type Cidr, type IpFamily } from '../net/ip';
import { Allocation, allocationKey, decodeState, encodeState, IpamState } from './state-codec';
import { nodeStateFs, readIfExists, removeLeftoverTempFiles, StateFs, writeFileAtomic } from '../persist/atomic-file';

export type { Allocation } from './state-codec';
export { IpamStateError } from './state-codec';

/** Every address of the subnet that may be handed out is held. */
export class PoolExhaustedError extends Error {
  /** The exhausted subnet, e.g. "10.244.1.0/29". */
  readonly subnet: string;
  constructor(subnet: string, message?: string) {
    super(message ?? `no free IP address left in ${subnet}`);
    this.name = 'PoolExhaustedError';
    this.subnet = subnet;
  }
}

/** Options of Ipam.open. */
export interface IpamOpenOptions {
  /** The node's subnet in canonical form, e.g. "10.244.1.0/24" (prefix length 8..30) or "fd00:10:244:1::/64" (64..126). */
  subnet: string;
  /** Path of the JSON state file; its directory must exist. */
  stateFile: string;
  logger: Logger;
  /** Clock for createdAt; defaults to the real one. */
  now?: () => Date;
  /** File system; defaults to the real one (tests inject a spy). */
  fs?: StateFs;
}

const PREFIX_RANGE: Record<IpFamily, [number, number]> = { 4: [8, 30], 6: [64, 126] };

export class Ipam {
  /** The subnet, e.g. "10.244.1.0/24". */
  readonly subnet: string;
  /** First usable address, e.g. "10.244.1.1": the bridge's, never handed out. */
  readonly gateway: string;
  /** Prefix length of the subnet, e.g. 24. */
  readonly prefixLength: number;
  /** 4 or 6. */
  readonly family: IpFamily;

  /** First and last address a container may get. */
  private readonly firstHost: bigint;
  private readonly lastHost: bigint;
  private readonly byKey = new Map<string, Allocation>();
  private readonly keyByIp = new Map<bigint, string>();
  private lastAllocated: bigint | undefined;
  private readonly writer: CoalescingWriter;

  private constructor(cidr: Cidr, private readonly opts: Required<IpamOpenOptions>) {
    this.subnet = opts.subnet;
    this.family = cidr.family;
    this.prefixLength = cidr.prefixLength;
    this.gateway = this.format(cidr.network + 1n);
    this.firstHost = cidr.network + 2n;
    // IPv4 keeps the broadcast address free; IPv6 has none.
    this.lastHost = cidr.network + cidrBlockSize(cidr.family, cidr.prefixLength) - (cidr.family === 4 ? 2n : 1n);
    this.writer = new CoalescingWriter(
      () => encodeState(this.snapshot()),
      (data) => writeFileAtomic(opts.fs, opts.stateFile, data),
    );
  }

  /**
   * Opens (or creates) the allocation state for `subnet` persisted at
   * `stateFile`. Rejects with IpamStateError when the file is corrupt or holds
   * another subnet (the file is left untouched: the caller decides); drops
   * bad single entries with a warning.
   */
  static async open(options: IpamOpenOptions): Promise<Ipam> {
    const cidr = parseCidrAny(options.subnet);
    if (cidr === undefined) {
      throw new RangeError(`IPAM subnet ${JSON.stringify(options.subnet)} is not a canonical CIDR (a.b.c.d/len or x::/len, host bits zero)`);
    }
    const [minPrefix, maxPrefix] = PREFIX_RANGE[cidr.family];
    if (cidr.prefixLength < minPrefix || cidr.prefixLength > maxPrefix) {
      throw new RangeError(`IPAM subnet ${options.subnet}: prefix length must be ${minPrefix}..${maxPrefix}`);
    }
    const opts: Required<IpamOpenOptions> = {
      ...options,
      now: options.now ?? (() => new Date()),
      fs: options.fs ?? nodeStateFs,
    };
    const ipam = new Ipam(cidr, opts);
    for (const t of await removeLeftoverTempFiles(opts.stateFile)) opts.logger.warn('removed a temporary IPAM file left by a crash', { file: t });
    const text = await readIfExists(opts.fs, opts.stateFile);
    if (text === undefined) {
      opts.logger.info('creating IPAM state file', { stateFile: opts.stateFile, subnet: opts.subnet });
      await ipam.writer.changed();
      return ipam;
    }
    const { state, warnings } = decodeState(text, opts.stateFile, opts.subnet);
    for (const warning of warnings) opts.logger.warn(warning, { stateFile: opts.stateFile });
    for (const allocation of state.allocations) ipam.insert(allocation);
    ipam.lastAllocated = state.lastAllocated === undefined ? undefined : ipam.parse(state.lastAllocated);
    opts.logger.info('loaded IPAM state', { stateFile: opts.stateFile, subnet: opts.subnet, allocations: ipam.byKey.size, dropped: warnings.length });
    return ipam;
  }

  /**
   * Gives (containerId, ifname) an address. Idempotent: a repeated call
   * returns the existing allocation. Resolves once the state containing it is
   * durable. Rejects with PoolExhaustedError when no address is free.
   */
  async allocate(containerId: string, ifname: string): Promise<Allocation> {
    const { allocation, durable } = this.reserve(containerId, ifname);
    await durable;
    return allocation;
  }

  /**
   * allocate() in two halves: the address is taken in memory at once (no
   * other call can get it from then on), and `durable` settles when the
   * state file holds it. A caller may do other work before awaiting
   * `durable`, as the CNI ADD does with the veth (see handlers.ts), but must
   * not report the address as allocated before it resolves. Throws
   * PoolExhaustedError at once when nothing is free.
   */
  reserve(containerId: string, ifname: string): { allocation: Allocation; durable: Promise<void> } {
    checkKey(containerId, ifname);
    const existing = this.byKey.get(allocationKey(containerId, ifname));
    if (existing !== undefined) {
      // It may have been made a moment ago by a call whose write is still in flight.
      return { allocation: { ...existing }, durable: this.writer.whenDurable() };
    }
    const address = this.nextFree();
    if (address === undefined) {
      throw new PoolExhaustedError(this.subnet, `no free IP address left in ${this.subnet} for container ${containerId} interface ${ifname}`);
    }
    const allocation: Allocation = { containerId, ifname, ip: this.format(address), createdAt: this.opts.now().toISOString() };
    this.insert(allocation);
    this.lastAllocated = address;
    this.opts.logger.debug('allocated IP', { ...allocation });
    return { allocation: { ...allocation }, durable: this.writer.changed() };
  }

  /**
   * Releases the address of (containerId, ifname). Idempotent: undefined when
   * nothing was held. With `onlyIp`, releases only when the key still holds
   * that address (an undo releases what its own request allocated, nothing
   * else). Durable on resolve.
   */
  async release(containerId: string, ifname: string, onlyIp?: string): Promise<Allocation | undefined> {
    const allocation = this.byKey.get(allocationKey(containerId, ifname));
    if (allocation === undefined || (onlyIp !== undefined && allocation.ip !== onlyIp)) {
      await this.writer.whenDurable();
      return undefined;
    }
    this.remove(allocation);
    this.opts.logger.debug('released IP', { ...allocation });
    await this.writer.changed();
    return { ...allocation };
  }

  /**
   * Records allocations that other sources prove in use (endpoint records,
   * addresses found in container namespaces) at start-up, with one durable
   * write. An entry whose key already holds its address changes nothing; an
   * entry is refused, with the reason, when its address is held by another
   * key, its key holds another address, or the address is outside the
   * subnet or reserved. Never releases anything.
   */
  async adopt(found: Array<Omit<Allocation, 'createdAt'> & { createdAt?: string }>): Promise<{ adopted: Allocation[]; refused: Array<{ allocation: Omit<Allocation, 'createdAt'>; reason: string }> }> {
    const adopted: Allocation[] = [];
    const refused: Array<{ allocation: Omit<Allocation, 'createdAt'>; reason: string }> = [];
    for (const f of found) {
      const address = this.parse(f.ip);
      const key = allocationKey(f.containerId, f.ifname);
      const holder = address === undefined ? undefined : this.keyByIp.get(address);
      const mine = this.byKey.get(key);
      let reason: string | undefined;
      if (address === undefined || address < this.firstHost || address > this.lastHost) reason = `${f.ip} is not an address of ${this.subnet} a container may hold`;
      else if (holder === key) continue;
      else if (holder !== undefined) reason = `${f.ip} is held by ${describeKey(holder)}`;
      else if (mine !== undefined) reason = `${describeKey(key)} already holds ${mine.ip}`;
      if (reason !== undefined) {
        refused.push({ allocation: { containerId: f.containerId, ifname: f.ifname, ip: f.ip }, reason });
        continue;
      }
      const allocation: Allocation = { containerId: f.containerId, ifname: f.ifname, ip: f.ip, createdAt: f.createdAt ?? this.opts.now().toISOString() };
      this.insert(allocation);
      adopted.push({ ...allocation });
    }
    if (adopted.length > 0) {
      // Round-robin continues after the highest address in use, away from ones released before the loss.
      const highest = adopted.map((a) => this.parse(a.ip) as bigint).reduce((m, v) => (v > m ? v : m));
      if (this.lastAllocated === undefined || highest > this.lastAllocated) this.lastAllocated = highest;
      await this.writer.changed();
    }
    return { adopted, refused };
  }

  /** Releases every allocation whose key is not in `keep` (CNI GC). Returns the released ones. */
  async releaseAllExcept(keep: Array<{ containerId: string; ifname: string }>): Promise<Allocation[]> {
    const kept = new Set(keep.map((k) => allocationKey(k.containerId, k.ifname)));
    const released: Allocation[] = [];
    for (const [key, allocation] of this.byKey) {
      if (!kept.has(key)) released.push(allocation);
    }
    if (released.length === 0) {
      await this.writer.whenDurable();
      return [];
    }
    for (const allocation of released) this.remove(allocation);
    this.opts.logger.info('released stale IPs', { count: released.length, ips: released.map((a) => a.ip) });
    await this.writer.changed();
    return released.map((a) => ({ ...a }));
  }

  /** The allocation of (containerId, ifname), if any. */
  get(containerId: string, ifname: string): Allocation | undefined {
    const allocation = this.byKey.get(allocationKey(containerId, ifname));
    return allocation === undefined ? undefined : { ...allocation };
  }

  /** The allocation holding `ip`, if any. */
  byIp(ip: string): Allocation | undefined {
    const address = this.parse(ip);
    const key = address === undefined ? undefined : this.keyByIp.get(address);
    const allocation = key === undefined ? undefined : this.byKey.get(key);
    return allocation === undefined ? undefined : { ...allocation };
  }

  /** All allocations, in address order. */
  list(): Allocation[] {
    return [...this.keyByIp.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, key]) => ({ ...(this.byKey.get(key) as Allocation) }));
  }

  /** size: addresses containers may get (network, gateway and broadcast excluded; an IPv6 /64 rounds to 2^64); used; free. */
  stats(): { size: number; used: number; free: number } {
    const size = Number(this.lastHost - this.firstHost + 1n);
    const used = this.byKey.size;
    return { size, used, free: size - used };
  }

  /** An address of this pool's family as a number; undefined for anything else. */
  private parse(ip: string): bigint | undefined {
    const a = parseIp(ip);
    return a?.family === this.family ? a.value : undefined;
  }

  private format(value: bigint): string {
    return formatIp({ family: this.family, value });
  }

  private insert(allocation: Allocation): void {
    const address = this.parse(allocation.ip) as bigint;
    const key = allocationKey(allocation.containerId, allocation.ifname);
    this.byKey.set(key, allocation);
    this.keyByIp.set(address, key);
  }

  private remove(allocation: Allocation): void {
    this.byKey.delete(allocationKey(allocation.containerId, allocation.ifname));
    this.keyByIp.delete(this.parse(allocation.ip) as bigint);
  }

  /** The first free address after the last allocated one, wrapping around; undefined when full. */
  private nextFree(): bigint | undefined {
    const size = this.lastHost - this.firstHost + 1n;
    if (BigInt(this.byKey.size) >= size) return undefined;
    const last = this.lastAllocated;
    let candidate = last === undefined || last < this.firstHost || last >= this.lastHost ? this.firstHost : last + 1n;
    // At most byKey.size addresses are taken, so this ends within byKey.size + 1 steps.
    for (let i = 0n; i < size; i++) {
      if (!this.keyByIp.has(candidate)) return candidate;
      candidate = candidate >= this.lastHost ? this.firstHost : candidate + 1n;
    }
    return undefined;
  }

  private snapshot(): IpamState {
    return {
      subnet: this.subnet,
      lastAllocated: this.lastAllocated === undefined ? undefined : this.format(this.lastAllocated),
      allocations: [...this.byKey.values()],
    };
  }
}

function describeKey(key: string): string {
  const [containerId, ifname] = key.split('\u0000');
  return `container ${containerId ?? '?'} interface ${ifname ?? '?'}`;
}

function checkKey(containerId: string, ifname: string): void {
  if (typeof containerId !== 'string' || containerId.length === 0 || containerId.includes('\u0000')) {
    throw new TypeError(`IPAM: invalid container ID ${JSON.stringify(containerId)}`);
  }
  if (typeof ifname !== 'string' || ifname.length === 0 || ifname.includes('\u0000')) {
    throw new TypeError(`IPAM: invalid interface name ${JSON.stringify(ifname)} for container ${containerId}`);
  }
}
