/**
 * Pure: policies + endpoints → the compiled allow state every node programs
 * and `knitctl policy trace` reads. One entry per (local endpoint address,
 * peer address range, protocol, port range) so the nft renderer can load
 * them into interval sets keyed by address and port; the per-packet cost is
 * then a set lookup whatever the number of rules.
 *
 * Semantics (Kubernetes NetworkPolicy): an endpoint selected by a policy with
 * an ingress (egress) section is isolated for that direction; what any such
 * policy allows passes; nothing else does. Policies only add.
 */
import { canonicalIp, cidrBlockSize, familyBits, mustParseCidrAny, parseIp } from '../net/ip';
import type { IpFamily } from '../net/ip';
import type { Direction, Peer, Policy, PolicyEndpoint, PolicyProtocol, Selector } from './types';

/** An inclusive address range of one family. */
export interface AddressRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

/** One allowance as programmed. `protocol` 'any' (no ports in the rule) also covers ICMP. */
export interface AllowEntry {
  readonly direction: Direction;
  /** the selected endpoint's address: destination for ingress, source for egress */
  readonly local: string;
  readonly peer: AddressRange;
  readonly protocol: PolicyProtocol | 'any';
  readonly portFirst: number;
  readonly portLast: number;
  readonly policy: string;
  /** index of the rule in the policy's ingress/egress list */
  readonly rule: number;
}

export interface IsolatedAddress {
  readonly address: string;
  readonly endpoint: string;
  /** the policies that select it with this direction's section, sorted */
  readonly policies: readonly string[];
}

export interface CompiledPolicy {
  readonly network: string;
  readonly isolated: Readonly<Record<Direction, readonly IsolatedAddress[]>>;
  /** sorted by policy name, then direction, rule index, local address */
  readonly allow: readonly AllowEntry[];
}

export function selectorMatches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) {
    if (labels[k] !== v) return false;
  }
  return true;
}

function cidrRange(text: string): AddressRange {
  const c = mustParseCidrAny(text, false);
  return { family: c.family, first: c.network, last: c.network + cidrBlockSize(c.family, c.prefixLength) - 1n };
}

/** `outer` minus every range in `holes`, as sorted disjoint ranges. */
export function subtractRanges(outer: AddressRange, holes: readonly AddressRange[]): AddressRange[] {
  const sorted = holes.filter((h) => h.family === outer.family).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: AddressRange[] = [];
  let next = outer.first;
  for (const h of sorted) {
    if (h.last < next) continue;
    if (h.first > outer.last) break;
    if (h.first > next) out.push({ family: outer.family, first: next, last: h.first - 1n });
    next = h.last + 1n;
    if (next > outer.last) return out;
  }
  if (next <= outer.last) out.push({ family: outer.family, first: next, last: outer.last });
  return out;
}

function everything(): AddressRange[] {
  return ([4, 6] as const).map((family) => ({ family, first: 0n, last: (1n << BigInt(familyBits(family))) - 1n }));
}

function hostRange(address: string): AddressRange | undefined {
  const a = parseIp(address);
  return a === undefined ? undefined : { family: a.family, first: a.value, last: a.value };
}

function peerRanges(peer: Peer, members: readonly PolicyEndpoint[]): AddressRange[] {
  if ('selector' in peer) {
    const out: AddressRange[] = [];
    for (const ep of members) {
      if (!selectorMatches(peer.selector, ep.labels)) continue;
      for (const a of ep.addresses) {
        const r = hostRange(a);
        if (r !== undefined) out.push(r);
      }
    }
    return out;
  }
  return subtractRanges(cidrRange(peer.cidr), peer.except.map(cidrRange));
}

/** Compiles the policies of one network against that network's endpoints. */
export function compileNetwork(network: string, policies: readonly Policy[], endpoints: readonly PolicyEndpoint[]): CompiledPolicy {
  const members = endpoints.filter((e) => e.network === network);
  const mine = policies.filter((p) => p.network === network).slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const isolated: Record<Direction, Map<string, IsolatedAddress & { policies: string[] }>> = { ingress: new Map(), egress: new Map() };
  const allow: AllowEntry[] = [];
  for (const policy of mine) {
    const selected = members.filter((e) => selectorMatches(policy.selector, e.labels));
    for (const direction of ['egress', 'ingress'] as const) {
      const rules = policy[direction];
      if (rules === undefined) continue;
      const locals = selected.flatMap((e) => e.addresses.flatMap((raw) => {
        const a = canonicalIp(raw);
        return a === undefined ? [] : [{ a, e }];
      }));
      for (const { a, e } of locals) {
        const cur = isolated[direction].get(a) ?? { address: a, endpoint: e.id, policies: [] };
        cur.policies.push(policy.name);
        isolated[direction].set(a, cur);
      }
      rules.forEach((rule, index) => {
        const peers = rule.peers.length === 0 ? everything() : rule.peers.flatMap((p) => peerRanges(p, members));
        const ports = rule.ports.length === 0
          ? [{ protocol: 'any' as const, portFirst: 0, portLast: 65535 }]
          : rule.ports.map((p) => ({ protocol: p.protocol, portFirst: p.port ?? 0, portLast: p.endPort ?? p.port ?? 65535 }));
        for (const { a } of locals) {
          const family = parseIp(a)!.family;
          for (const peer of peers) {
            if (peer.family !== family) continue;
            for (const port of ports) allow.push({ direction, local: a, peer, ...port, policy: policy.name, rule: index });
          }
        }
      });
    }
  }
  const sortIso = (m: Map<string, IsolatedAddress>): IsolatedAddress[] => [...m.values()].sort((x, y) => (x.address < y.address ? -1 : 1));
  return { network, isolated: { ingress: sortIso(isolated.ingress), egress: sortIso(isolated.egress) }, allow };
}
