/**
 * Address plan of a lab's underlay network, as a pure function so it is unit
 * tested without root. In a /24 such as the default 192.168.77.0/24:
 *
 *   .1        the underlay namespace's own address on the bridge: the
 *             "outside" / top-of-rack router, and the single etcd member
 *   .2 .3 .4  the members of a 3-member etcd cluster
 *   .11 …     node 1, node 2, … (their default route points at .1)
 *
 * Every lab lives in its own namespaces, so concurrent labs may use the same
 * range without conflict; the range only has to avoid whatever knit's tests
 * use for pods (10.x) and never touches the root namespace.
 */

/** Default underlay range of a lab. */
export const DEFAULT_UNDERLAY_CIDR = '192.168.77.0/24';

/** First node's host offset in the range (.11). */
export const FIRST_NODE_OFFSET = 11;

/** Addresses of one lab's underlay. */
export interface UnderlayPlan {
  /** The range, normalised, e.g. "192.168.77.0/24". */
  cidr: string;
  prefixLen: number;
  /** The underlay namespace's address (router / outside). */
  routerIp: string;
  /** One address per node. */
  nodeIps: string[];
  /** One address per etcd member: [routerIp] for one member, three extra addresses for three. */
  etcdIps: string[];
}

/** Parse dotted-quad IPv4 into an unsigned 32-bit number; throws on anything else. */
export function ipv4ToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${ip}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`not an IPv4 address: ${ip}`);
    n = n * 256 + Number(p);
  }
  return n;
}

/** Unsigned 32-bit number to dotted-quad IPv4. */
export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Plan the underlay of a lab with `nodes` nodes and `etcdMembers` (0, 1 or 3) etcd members. */
export function planUnderlay(cidr: string, nodes: number, etcdMembers: 0 | 1 | 3): UnderlayPlan {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`underlay CIDR ${cidr}: expected a.b.c.d/len`);
  const prefixLen = Number(m[2]);
  if (prefixLen < 8 || prefixLen > 30) throw new Error(`underlay CIDR ${cidr}: prefix length must be 8..30`);
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`lab needs at least one node, got ${nodes}`);
  const size = 2 ** (32 - prefixLen);
  const base = ipv4ToInt(m[1]) - (ipv4ToInt(m[1]) % size);
  const lastHost = size - 2;
  const lastNode = FIRST_NODE_OFFSET + nodes - 1;
  if (lastNode > lastHost) {
    throw new Error(`underlay CIDR ${cidr} has room for ${Math.max(0, lastHost - FIRST_NODE_OFFSET + 1)} nodes, asked for ${nodes}`);
  }
  const at = (offset: number): string => intToIpv4(base + offset);
  return {
    cidr: `${intToIpv4(base)}/${prefixLen}`,
    prefixLen,
    routerIp: at(1),
    nodeIps: Array.from({ length: nodes }, (_, i) => at(FIRST_NODE_OFFSET + i)),
    etcdIps: etcdMembers === 0 ? [] : etcdMembers === 1 ? [at(1)] : [at(2), at(3), at(4)],
  };
}
