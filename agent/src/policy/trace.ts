/**
 * Pure: the verdict for one connection attempt, read from the same compiled
 * state the nft renderer programs, with the policy and rule that decide it.
 */
import { formatIp, parseIp } from '../net/ip';
import type { AllowEntry, CompiledPolicy } from './compile';
import type { Direction, PolicyProtocol } from './types';

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

function matches(e: AllowEntry, peer: { family: 4 | 6; value: bigint }, q: TraceQuery): boolean {
  if (e.peer.family !== peer.family || peer.value < e.peer.first || peer.value > e.peer.last) return false;
  if (e.protocol === 'any') return true;
  if (q.protocol === 'ICMP' || e.protocol !== q.protocol || q.port === undefined) return false;
  return q.port >= e.portFirst && q.port <= e.portLast;
}

function decide(state: CompiledPolicy, direction: Direction, local: string, peer: { family: 4 | 6; value: bigint }, q: TraceQuery): DirectionVerdict {
  const iso = state.isolated[direction].find((i) => i.address === local);
  if (iso === undefined) return { direction, allowed: true, reason: `${direction} of ${local} is not isolated (no policy with ${direction} selects it)` };
  const hit = state.allow.find((e) => e.direction === direction && e.local === local && matches(e, peer, q));
  if (hit !== undefined) {
    return { direction, allowed: true, reason: `allowed by policy ${hit.policy} ${direction}[${hit.rule}]`, policy: hit.policy, rule: hit.rule };
  }
  return { direction, allowed: false, reason: `default deny: ${direction} of ${local} is isolated by ${iso.policies.join(', ')} and no rule allows it` };
}

/**
 * Evaluates `q` against one network's compiled state. `nodeAddresses` are the
 * node's own addresses: traffic from them to an endpoint is always allowed
 * (health checks, DNAT of published ports), as Calico and Cilium do.
 */
export function trace(state: CompiledPolicy, q: TraceQuery, nodeAddresses: readonly string[] = []): TraceResult {
  const from = parseIp(q.from);
  const to = parseIp(q.to);
  if (from === undefined) throw new TraceError(`--from ${JSON.stringify(q.from)} is not an IP address`);
  if (to === undefined) throw new TraceError(`--to ${JSON.stringify(q.to)} is not an IP address`);
  if (from.family !== to.family) throw new TraceError(`--from ${q.from} and --to ${q.to} are of different address families`);
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
