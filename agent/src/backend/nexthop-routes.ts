/**
 * IPv4 peer routes through nexthop objects, for the backends whose peer
 * routes each name their own gateway (vxlan, host-gw).
 *
 * Why: a route's gateway lives in the kernel's fib_info, and IPv4's
 * fib_info hash (fib_info_hashfn) leaves the gateway out, so 10 000 peer
 * routes via 10 000 gateways on one device share a hash chain and every
 * insert walks all the others: quadratic (cluster-scale bench: 2.1–2.3 s of
 * kernel time for 10 000 such routes, 0.42–0.49 s for the same routes through
 * one nexthop object each, whose fib_info hashes by nexthop id;
 * docs/benchmarks.md). So an IPv4 peer route
 *   route <subnet> via <gw> dev <dev> [onlink] proto 89
 * is planned as
 *   nexthop id <N> via <gw> dev <dev> [onlink] proto 89
 *   route <subnet> nhid <N> proto 89
 * IPv6 routes keep their gateways: the IPv6 FIB keeps each route's nexthop
 * in the route itself (fib6_info), there is no shared-info hash to walk
 * (measured: docs/benchmarks.md).
 *
 * The id N is the peer subnet's network address as an unsigned 32-bit
 * number (10.244.3.0/24 → 0x0af40300). knit's IPv4 subnets never overlap
 * (leases are exclusive, and networks' CIDRs are disjoint), so two peers
 * never share a network address and ids never collide; the id is derived,
 * not allocated, so it needs no state, survives restarts and is the same
 * on every node, and nothing is renumbered when peers come and go. It is
 * never 0 (the kernel's "no id"): a cluster CIDR is never 0.0.0.0/n. A
 * nexthop with that id that knit does not own (another protocol) is a
 * conflict the reconciler reports, like a foreign route in a wanted slot.
 *
 * Upgrade: a node that had gateway routes gets `route replace` to the nhid
 * form (the reconciler diffs by destination: same slot, other content), the
 * nexthop written before it in the same run; the route is never absent.
 */
import { nexthopsUnsupported, RTPROT_KNIT, type Handle, type Nexthop, type Route } from '../netlink';
import type { Logger } from '../log/logger';
import { parseIpv4 } from '../net/ipv4';

/** A peer route as the backends plan it: through a gateway on a device. */
export interface GatewayRoute {
  dst: string;
  gateway: string;
  index: number;
  onlink?: boolean;
  protocol: number;
}

/** The nexthop id of an IPv4 subnet: its network address as a u32 (module note); undefined for IPv6. */
export function nexthopIdOf(subnet: string): number | undefined {
  const slash = subnet.indexOf('/');
  const id = parseIpv4(slash < 0 ? subnet : subnet.slice(0, slash));
  return id === 0 ? undefined : id;
}

/**
 * A peer's routes as the kernel gets them: with `useNexthops`, each IPv4
 * route through a nexthop object of its own (module note); IPv6 routes, and
 * every route without `useNexthops`, as planned.
 */
export function peerRoutes(planned: readonly GatewayRoute[], useNexthops: boolean): { routes: Route[]; nexthops: Nexthop[] } {
  const ids = planned.map((r) => (useNexthops && !r.dst.includes(':') ? nexthopIdOf(r.dst) : undefined));
  // Built by map and filter, not push (or flatMap): both arrays live as long
  // as the plan (one per lease), and an array grown from [] keeps room for 17.
  const routes = planned.map((r, i): Route => {
    const id = ids[i];
    return id === undefined ? { ...r } : { dst: r.dst, nhid: id, protocol: r.protocol };
  });
  const nexthops = planned
    .map((r, i) => ({ r, id: ids[i] }))
    .filter((x): x is { r: GatewayRoute; id: number } => x.id !== undefined)
    .map(({ r, id }): Nexthop => {
      const nh: Nexthop = { id, gateway: r.gateway, index: r.index, protocol: RTPROT_KNIT };
      if (r.onlink) nh.onlink = true;
      return nh;
    });
  return { routes, nexthops };
}

/**
 * Whether the kernel has nexthop objects (5.3 and later, built with them):
 * one nexthop dump, asked once per backend. Without them the peer routes
 * name their gateways, as before nexthops; that is logged once.
 */
export class NexthopSupport {
  private known: boolean | undefined;

  constructor(private readonly nl: Pick<Handle, 'nexthopList'>, private readonly log: Logger) {}

  /** Probed at the first call (a backend's setup()); later calls answer from memory. */
  async check(): Promise<boolean> {
    if (this.known !== undefined) return this.known;
    try {
      await this.nl.nexthopList();
      this.known = true;
    } catch (err) {
      if (!nexthopsUnsupported(err)) throw new Error('probe the kernel for nexthop objects (ip nexthop show)', { cause: err });
      this.known = false;
      this.log.info('kernel has no nexthop objects: IPv4 peer routes name their gateways (slower to program at thousands of peers)', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return this.known;
  }

  /** The answer of the last check (false before any). */
  get supported(): boolean {
    return this.known === true;
  }
}
