/**
 * Pure: the verdict for one connection attempt, read from the same compiled
 * state the nft renderer programs, with the policy and rule that decide it.
 */
import { formatIp, parseIp } from '../net/ip';
import { classOf, compileNetwork, type CompiledPolicy, type CompiledRule } from './compile';
import type { Direction, Policy, PolicyEndpoint, PolicyProtocol } from './types';

export interface TraceQuery {
  readonly from: string;
  readonly to: string;
  readonly protocol: PolicyProtocol | 'ICMP';
  readonly port?: number;
}

export interface DirectionVerdict {
  readonly direction: Direction;
  readonly allowed: boolean;
  /** why: "not isolated", "allowed by policy P ingress[2]", "default deny (selected by P, Q)", "from the node" */
  readonly reason: string;
  readonly policy?: string;
  readonly rule?: number;
}

export interface TraceResult {
  readonly allowed: boolean;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
}

export class TraceError extends Error {}

function matches(r: CompiledRule, peer: { family: 4 | 6; value: bigint }, q: TraceQuery): boolean {
  if (!r.peers.some((p) => p.family === peer.family && peer.value >= p.first && peer.value <= p.last)) return false;
  return r.ports.some((p) => {
    if (p.protocol === 'any') return true;
    if (q.protocol === 'ICMP' || p.protocol !== q.protocol || q.port === undefined) return false;
    return q.port >= p.portFirst && q.port <= p.portLast;
  });
}

function decide(state: CompiledPolicy, direction: Direction, local: string, peer: { family: 4 | 6; value: bigint }, q: TraceQuery): DirectionVerdict {
  const cls = classOf(state, direction, local);
  if (cls === undefined) return { direction, allowed: true, reason: `${direction} of ${local} is not isolated (no policy with ${direction} selects it)` };
  const hit = cls.rules.find((r) => matches(r, peer, q));
  if (hit !== undefined) {
    return { direction, allowed: true, reason: `allowed by policy ${hit.policy} ${direction}[${hit.rule}]`, policy: hit.policy, rule: hit.rule };
  }
  return { direction, allowed: false, reason: `default deny: ${direction} of ${local} is isolated by ${cls.policies.join(', ')} and no rule allows it` };
}

/**
 * Evaluates `q` against one network's compiled state. `nodeAddresses` are the
 * node's own addresses: traffic from them to an endpoint is always allowed
 * (health checks, DNAT of published ports), as Calico and Cilium do.
 */
export function trace(state: CompiledPolicy, q: TraceQuery, nodeAddresses: readonly string[] = []): TraceResult {
  const from = parseIp(q.from);
  const to = parseIp(q.to);
  if (from === undefined) throw new TraceError(`from ${JSON.stringify(q.from)} is not an IP address`);
  if (to === undefined) throw new TraceError(`to ${JSON.stringify(q.to)} is not an IP address`);
  if (from.family !== to.family) throw new TraceError(`from ${q.from} and to ${q.to} are of different address families`);
  if (q.protocol !== 'ICMP' && (q.port === undefined || !Number.isInteger(q.port) || q.port < 1 || q.port > 65535)) {
    throw new TraceError(`${q.protocol} needs a port 1..65535`);
  }
  const src = formatIp(from);
  const dst = formatIp(to);
  const egress = decide(state, 'egress', src, to, q);
  const fromNode = nodeAddresses.some((n) => parseIp(n)?.value === from.value && parseIp(n)?.family === from.family);
  const ingress = fromNode
    ? { direction: 'ingress' as const, allowed: true, reason: `from the node itself (${src}): always allowed` }
    : decide(state, 'ingress', dst, from, q);
  return { allowed: egress.allowed && ingress.allowed, egress, ingress };
}

/** "tcp/8080", "udp/53", "sctp/9", "icmp": the port argument of a trace (knitctl --port, the API's port). */
export function parsePortRef(text: string): { protocol: PolicyProtocol | 'ICMP'; port?: number } {
  if (text.toLowerCase() === 'icmp') return { protocol: 'ICMP' };
  const m = /^(tcp|udp|sctp)\/([0-9]{1,5})$/i.exec(text);
  if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new TraceError(`port ${JSON.stringify(text)}: expected tcp/N, udp/N, sctp/N (N 1..65535) or icmp`);
  return { protocol: m[1]!.toUpperCase() as PolicyProtocol, port: Number(m[2]) };
}

/** A trace between two endpoints or addresses, resolved and decided. */
export interface ConnectionTrace extends TraceResult {
  /** the source address used (an endpoint's first address when `from` named an endpoint) */
  readonly from: string;
  readonly to: string;
  /** the endpoints the addresses belong to, when known */
  readonly fromEndpoint?: PolicyEndpoint;
  readonly toEndpoint?: PolicyEndpoint;
}

/**
 * The verdict for `from` → `to` on `port` over the stored policies and
 * endpoint records: each of `from` and `to` is an endpoint id or an address.
 * Egress is decided in the source endpoint's network, ingress in the
 * destination's, each from the state compileNetwork builds for the node's
 * nft table. Throws TraceError for a query it cannot answer.
 */
export function traceConnection(policies: readonly Policy[], endpoints: readonly PolicyEndpoint[], q: { from: string; to: string; port: string }): ConnectionTrace {
  const port = parsePortRef(q.port);
  const resolve = (ref: string, what: string): { address: string; endpoint?: PolicyEndpoint } => {
    const byId = endpoints.find((e) => e.id === ref);
    if (byId !== undefined) {
      if (byId.addresses.length === 0) throw new TraceError(`${what} ${ref}: endpoint has no address`);
      return { address: byId.addresses[0]!, endpoint: byId };
    }
    const byAddress = endpoints.find((e) => e.addresses.includes(ref));
    return { address: ref, ...(byAddress !== undefined ? { endpoint: byAddress } : {}) };
  };
  const from = resolve(q.from, 'from');
  const to = resolve(q.to, 'to');
  const stateOf = (ep?: PolicyEndpoint): CompiledPolicy => compileNetwork(ep?.network ?? '', policies, endpoints);
  const query = { from: from.address, to: to.address, ...port };
  const egress = trace(stateOf(from.endpoint), query).egress;
  const ingress = trace(stateOf(to.endpoint), query).ingress;
  return {
    allowed: egress.allowed && ingress.allowed, egress, ingress, from: from.address, to: to.address,
    ...(from.endpoint !== undefined ? { fromEndpoint: from.endpoint } : {}),
    ...(to.endpoint !== undefined ? { toEndpoint: to.endpoint } : {}),
  };
}
