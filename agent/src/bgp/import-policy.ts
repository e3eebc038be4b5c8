/**
 * Import policy: which learned paths may reach the Loc-RIB (and so the
 * kernel). A peer is untrusted input: by default it can only give the node
 * routes inside the cluster's own address space, never a route that would
 * shadow the node's own pod subnet, its underlay, a special-purpose range
 * or (unless allowed per peer) the default route, and in the full mesh or
 * behind a route reflector never a route for another node's pod subnet that
 * the node's etcd lease does not back. Next hops must be usable: on a
 * subnet the node is connected to, not the node itself, not special.
 *
 * Pure and family-generic (IPv4 and IPv6 alike): the speaker runs it at its
 * RIB import step; the backend supplies the context (the node's subnets,
 * addresses and the leases) and re-runs it when that context changes.
 */
import type { Prefix } from './codec';
import { addrToBytes } from './codec/ip';
import type { Path } from './path';

/** Why a learned path was not accepted (a metric label and a log field). */
export type RejectReason =
  | 'own-subnet' | 'underlay' | 'special-purpose' | 'default-route' | 'filter' | 'no-lease' | 'next-hop' | 'as-loop' | 'first-as' | 'rr-loop';

/** Every reason, in the order the operator surface lists them. */
export const REJECT_REASONS: readonly RejectReason[] = ['own-subnet', 'underlay', 'special-purpose', 'default-route', 'filter', 'no-lease', 'next-hop', 'as-loop', 'first-as', 'rr-loop'];

/** One prefix-list entry (BIRD's `prefix{ge,le}` / FRR's `ip prefix-list … ge … le`). */
export interface PrefixRule {
  prefix: Prefix;
  /** Match lengths ≥ ge (default: the rule's own length). */
  ge?: number;
  /** Match lengths ≤ le (default: the family's maximum when ge is set, else the rule's own length: an exact match). */
  le?: number;
  action: 'accept' | 'reject';
}

/**
 * A peer's import filter: "all" (accept everything the safety rules allow;
 * must be chosen explicitly), "cluster" (the default: only prefixes inside
 * the cluster's own address space), or a prefix list (first match decides,
 * no match rejects).
 */
export type ImportFilter = 'all' | 'cluster' | readonly PrefixRule[];

/** How one peer's paths are checked. */
export interface PeerImportRules {
  filter: ImportFilter;
  /** Accept 0.0.0.0/0 and ::/0 from this peer. */
  allowDefault: boolean;
  /** Full mesh or route reflector: a route inside the cluster space needs the lease of the node that owns it. */
  requireLease: boolean;
}

/** What the node knows about itself and the cluster (the backend keeps it current). */
export interface ImportContext {
  /** The node's own pod subnets (both families). */
  ownSubnets: readonly Prefix[];
  /**
   * The node's addresses with their connected prefixes (every link but
   * loopback); `onLink` marks the underlay link's, the only ones a next hop
   * may sit on (routes are installed `via <next hop> dev <underlay>`).
   */
  interfaces: readonly { address: string; prefix: Prefix; onLink: boolean }[];
  /** The cluster's address space: cluster CIDR(s) and the prefixes nodes are configured to advertise. */
  clusterPrefixes: readonly Prefix[];
  /** Leased subnets of other nodes → that node's public IP. */
  leases: ReadonlyMap<string, string>;
}

/**
 * A prefix as bits, for containment tests: IPv4 as an unsigned 32-bit
 * number (the hot path: 100 000 routes are judged in well under a second),
 * IPv6 as a bigint.
 */
interface Bits {
  afi: 4 | 6;
  /** IPv4 address as an unsigned number (0 for IPv6). */
  n: number;
  /** IPv6 address (0n for IPv4). */
  value: bigint;
  len: number;
}

function ipv4Number(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    const o = Number(p);
    if (!Number.isInteger(o) || o < 0 || o > 255 || p === '') return undefined;
    v = v * 256 + o;
  }
  return v;
}

function addrBits(afi: 4 | 6, text: string): bigint | undefined {
  const b = addrToBytes(afi, text);
  if (!b) return undefined;
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return v;
}

function width(afi: 4 | 6): number {
  return afi === 4 ? 32 : 128;
}

function bitsOf(afi: 4 | 6, addr: string, len: number): Bits | undefined {
  if (afi === 4) {
    const n = ipv4Number(addr);
    return n === undefined ? undefined : { afi, n, value: 0n, len };
  }
  const value = addrBits(6, addr);
  return value === undefined ? undefined : { afi, n: 0, value, len };
}

function toBits(p: Prefix): Bits {
  return bitsOf(p.afi, p.addr, p.len) ?? { afi: p.afi, n: 0, value: 0n, len: p.len };
}

/** `outer` covers `inner` (inner is equal to or more specific than outer). */
function covers(outer: Bits, inner: Bits): boolean {
  if (outer.afi !== inner.afi || inner.len < outer.len) return false;
  if (outer.len === 0) return true;
  if (outer.afi === 4) {
    const div = 2 ** (32 - outer.len);
    return Math.floor(outer.n / div) === Math.floor(inner.n / div);
  }
  const shift = BigInt(128 - outer.len);
  return (outer.value >> shift) === (inner.value >> shift);
}

function parse(text: string): Bits {
  const [a, l] = text.split('/');
  const afi: 4 | 6 = a.includes(':') ? 6 : 4;
  return toBits({ afi, addr: a, len: Number(l) });
}

/** RFC 6890 special-purpose ranges a route may never be learned for (and a next hop never be in). */
const SPECIAL = [
  '0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32',
  '::/128', '::1/128', 'fe80::/10', 'ff00::/8',
].map(parse);

const LINK_LOCAL = parse('fe80::/10');

const isDefault = (b: Bits): boolean => b.len === 0;

/** The prefix is (inside) a special-purpose range; a default route is judged separately. */
function special(b: Bits): boolean {
  return !isDefault(b) && SPECIAL.some((s) => covers(s, b));
}

/** Precomputed context: bit forms of the node's prefixes, rebuilt only when the context object changes. */
export class ImportPolicy {
  private own: Bits[] = [];
  private underlay: Bits[] = [];
  /** Connected prefixes with their own addresses, for the next-hop check. */
  private connected: { prefix: Bits; self: Bits }[] = [];
  private cluster: Bits[] = [];
  private leases: ReadonlyMap<string, string> = new Map();
  private signature = '';

  constructor(ctx?: ImportContext) {
    if (ctx) this.setContext(ctx);
  }

  /** Replace the context; returns false when nothing that matters changed (no re-import needed). */
  setContext(ctx: ImportContext): boolean {
    const sig = JSON.stringify([ctx.ownSubnets, ctx.interfaces, ctx.clusterPrefixes, [...ctx.leases].sort()]);
    if (sig === this.signature) return false;
    this.signature = sig;
    this.own = ctx.ownSubnets.map(toBits);
    this.connected = [];
    this.underlay = [];
    for (const i of ctx.interfaces) {
      const prefix = toBits(i.prefix);
      const self = bitsOf(i.prefix.afi, i.address, width(i.prefix.afi));
      if (self === undefined) continue;
      this.underlay.push(prefix, self);
      if (i.onLink) this.connected.push({ prefix, self });
    }
    this.cluster = ctx.clusterPrefixes.map(toBits);
    this.leases = ctx.leases;
    return true;
  }

  /**
   * Why `path` from a peer with these rules must not be used, or undefined
   * when it may. `singleHopEbgp`: the next hop must be on a connected subnet
   * (RFC 4271 §5.1.3); knit installs every route `via <next hop> dev
   * <underlay>`, so it applies to every peer in practice, and is checked for all.
   */
  verdict(path: Path, rules: PeerImportRules): RejectReason | undefined {
    const b = toBits(path.prefix);
    if (isDefault(b)) {
      if (!rules.allowDefault) return 'default-route';
    } else if (special(b)) {
      return 'special-purpose';
    }
    if (this.own.some((o) => covers(o, b))) return 'own-subnet';
    if (!isDefault(b) && this.underlay.some((u) => covers(u, b))) return 'underlay';
    const f = rules.filter;
    if (f === 'cluster') {
      if (!isDefault(b) && !this.cluster.some((c) => covers(c, b))) return 'filter';
    } else if (f !== 'all' && !prefixListAccepts(f, b)) {
      return 'filter';
    }
    if (rules.requireLease && this.cluster.some((c) => covers(c, b))) {
      // Another node's pod subnet: exactly a leased subnet, announced with that node's address as next hop.
      const owner = this.leases.get(`${path.prefix.addr}/${path.prefix.len}`);
      if (owner === undefined || owner !== path.nextHop) {
        // A more-specific of a leased subnet is a hijack; a prefix nobody leased is not backed either.
        return 'no-lease';
      }
    }
    if (!this.nextHopUsable(path)) return 'next-hop';
    return undefined;
  }

  /** The address the kernel route would use is on a connected subnet, and neither ours nor special, nor the subnet's network/broadcast address. */
  private nextHopUsable(path: Path): boolean {
    const afi = path.prefix.afi;
    const gw = afi === 6 ? (path.nextHopLinkLocal ?? path.nextHop) : path.nextHop;
    if (!gw) return false;
    const nhAfi: 4 | 6 = gw.includes(':') ? 6 : 4;
    const host = bitsOf(nhAfi, gw, width(nhAfi));
    if (host === undefined) return false;
    const same = (a: Bits, b: Bits): boolean => a.afi === b.afi && a.n === b.n && a.value === b.value;
    if (nhAfi === 6 && covers(LINK_LOCAL, host)) {
      // A link-local next hop is on-link by definition; it must not be ours.
      return !this.connected.some((c) => same(c.self, host));
    }
    if (special(host)) return false;
    for (const c of this.connected) {
      if (!covers(c.prefix, host)) continue;
      if (same(c.self, host)) return false;
      const hostBits = width(nhAfi) - c.prefix.len;
      if (nhAfi === 4 && hostBits >= 2) {
        const size = 2 ** hostBits;
        const offset = host.n % size;
        // The subnet's network and broadcast addresses are nobody's next hop.
        if (offset === 0 || offset === size - 1) return false;
      }
      if (this.own.some((o) => covers(o, host))) return false;
      return true;
    }
    return false;
  }
}

function prefixListAccepts(rules: readonly PrefixRule[], b: Bits): boolean {
  for (const r of rules) {
    const rb = toBits(r.prefix);
    if (!covers(rb, b)) continue;
    const ge = r.ge ?? rb.len;
    const le = r.le ?? (r.ge !== undefined ? width(rb.afi) : rb.len);
    if (b.len < ge || b.len > le) continue;
    return r.action === 'accept';
  }
  return false;
}
