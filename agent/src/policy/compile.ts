/**
 * Pure: policies + endpoints → the compiled allow state every node programs
 * and `knitctl policy trace` reads.
 *
 * The state is kept in classes, not as a cross product: the addresses that
 * the same set of policies isolate in one direction allow exactly the same
 * peers (a policy's rules do not depend on which endpoint it selected), so
 * they share one list of compiled rules. The nft renderer maps each local
 * address to its class's chain (a verdict map) and loads the class's peers
 * and ports into sets, so both the ruleset's size and the
 * per-packet cost are independent of (selected endpoints × allowed peers).
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

/** Ports of a rule; `protocol` 'any' (no ports in the rule) also covers ICMP. */
export interface PortRange {
  readonly protocol: PolicyProtocol | 'any';
  readonly portFirst: number;
  readonly portLast: number;
}

/** One rule of one policy, compiled: the peers it allows (both families) on which ports. */
export interface CompiledRule {
  readonly policy: string;
  /** index of the rule in the policy's ingress/egress list */
  readonly rule: number;
  readonly peers: readonly AddressRange[];
  readonly ports: readonly PortRange[];
}

/**
 * The local addresses one set of policies isolates in one direction: the
 * destination for ingress, the source for egress. They all allow what the
 * union of `rules` allows.
 */
export interface PolicyClass {
  readonly direction: Direction;
  /** the selecting policies (the class's identity), sorted */
  readonly policies: readonly string[];
  /** their rules of this direction, by policy name, then rule index: the first match decides a trace */
  readonly rules: readonly CompiledRule[];
  /** sorted */
  readonly addresses: readonly string[];
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
  /** sorted by their policies' names */
  readonly classes: Readonly<Record<Direction, readonly PolicyClass[]>>;
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

/** An endpoint's valid addresses, canonical and as one-address ranges. */
interface ParsedEndpoint {
  readonly canonical: string[];
  readonly hosts: AddressRange[];
}

/** A network's endpoints, each address parsed once, found by label. */
class Members {
  private readonly byLabel = new Map<string, PolicyEndpoint[]>();
  private readonly parsed: WeakMap<PolicyEndpoint, ParsedEndpoint>;
  /** select()'s answers: the index lives while the endpoints do not change, and so do they (the same list each time) */
  private readonly selected = new Map<string, readonly PolicyEndpoint[]>();

  /** `parsed`: endpoints' parsed addresses kept from earlier indexes (an endpoint object is immutable). */
  constructor(readonly all: readonly PolicyEndpoint[], parsed = new WeakMap<PolicyEndpoint, ParsedEndpoint>()) {
    this.parsed = parsed;
    for (const e of all) {
      for (const [k, v] of Object.entries(e.labels)) {
        const key = `${k}\n${v}`;
        const list = this.byLabel.get(key);
        if (list === undefined) this.byLabel.set(key, [e]);
        else list.push(e);
      }
      if (parsed.has(e)) continue;
      const canonical: string[] = [];
      const hosts: AddressRange[] = [];
      for (const raw of e.addresses) {
        const a = parseIp(raw);
        if (a === undefined) continue;
        canonical.push(canonicalIp(raw)!);
        hosts.push({ family: a.family, first: a.value, last: a.value });
      }
      this.parsed.set(e, { canonical, hosts });
    }
  }

  /** The endpoints `selector` selects, in record order: the shortest list of one of its labels, filtered by the rest. */
  select(selector: Selector): readonly PolicyEndpoint[] {
    const entries = Object.entries(selector);
    if (entries.length === 0) return this.all;
    const key = entries.map(([k, v]) => `${k}\n${v}`).sort().join('\n\n');
    let found = this.selected.get(key);
    if (found === undefined) {
      let shortest: readonly PolicyEndpoint[] | undefined;
      for (const [k, v] of entries) {
        const list = this.byLabel.get(`${k}\n${v}`) ?? [];
        if (shortest === undefined || list.length < shortest.length) shortest = list;
      }
      found = shortest!.filter((e) => selectorMatches(selector, e.labels));
      this.selected.set(key, found);
    }
    return found;
  }

  /** The endpoint's valid addresses, canonical. */
  addresses(e: PolicyEndpoint): readonly string[] {
    return this.parsed.get(e)!.canonical;
  }

  /** The endpoint's valid addresses as one-address ranges. */
  hosts(e: PolicyEndpoint): readonly AddressRange[] {
    return this.parsed.get(e)!.hosts;
  }
}

/** A policy's rules of one direction as compiled, with the endpoints their selectors selected then. */
interface CompiledRules {
  readonly rules: CompiledRule[];
  /** per rule, per selector peer: the endpoints it selected */
  readonly selected: ReadonlyArray<ReadonlyArray<readonly PolicyEndpoint[]>>;
}

function selections(policy: Policy, direction: Direction, members: Members): Array<Array<readonly PolicyEndpoint[]>> {
  return (policy[direction] ?? []).map((rule) => rule.peers.flatMap((p) => ('selector' in p ? [members.select(p.selector)] : [])));
}

function compileRules(policy: Policy, direction: Direction, members: Members, selected = selections(policy, direction, members)): CompiledRules {
  const rules = (policy[direction] ?? []).map((rule, index) => {
    let s = 0;
    const peers = rule.peers.length === 0
      ? everything()
      : rule.peers.flatMap((p) => ('selector' in p ? selected[index]![s++]!.flatMap((e) => members.hosts(e)) : subtractRanges(cidrRange(p.cidr), p.except.map(cidrRange))));
    return {
      policy: policy.name,
      rule: index,
      peers,
      ports: rule.ports.length === 0
        ? [{ protocol: 'any' as const, portFirst: 0, portLast: 65535 }]
        : rule.ports.map((p) => ({ protocol: p.protocol, portFirst: p.port ?? 0, portLast: p.endPort ?? p.port ?? 65535 })),
    };
  });
  return { rules, selected };
}

/** The rules compiled last time when their selectors still select the same endpoints, else compiled anew. */
function rulesFor(policy: Policy, direction: Direction, members: Members, last: CompiledRules | undefined): CompiledRules {
  if (last === undefined) return compileRules(policy, direction, members);
  const now = selections(policy, direction, members);
  const same = now.every((perRule, i) => perRule.every((list, j) => sameItems(list, last.selected[i]![j]!)));
  return same ? last : compileRules(policy, direction, members, now);
}

/**
 * What one compile can hand to the next: the member index while a network's
 * endpoints are the same objects (and endpoints' parsed addresses while they
 * live), each policy's compiled rules while its object is the same and its
 * selectors select the same endpoints, and each class while its rules and
 * addresses are. knitd's policy loop keeps one across runs (its parsed
 * records keep their identity while their etcd values do), so a change to
 * one policy among 100, or a new endpoint, recompiles only the rules it
 * touches, and the nft renderer, which keeps its work per class object,
 * renders only the classes that changed. The result is the same as without.
 */
export class CompileMemo {
  /** per network: its endpoints as last seen and their index */
  readonly members = new Map<string, { endpoints: readonly PolicyEndpoint[]; index: Members }>();
  readonly parsed = new WeakMap<PolicyEndpoint, ParsedEndpoint>();
  /** each policy's rules by direction, with what their selectors selected */
  readonly rules = new WeakMap<Policy, Partial<Record<Direction, CompiledRules>>>();
  /** per network, direction and selecting policies: the class made last time */
  readonly classes = new Map<string, PolicyClass>();
  /** per network and direction: who isolates which address, while the same policies select the same endpoints */
  readonly groupings = new Map<string, Grouping>();
}

/**
 * Which policies isolate which addresses in one direction, by policy name,
 * and what it was computed from: each selecting policy's name and the list
 * its selector selected (select() hands back the same list while the
 * endpoints are the same). A change of ports or peers in a policy keeps it.
 */
interface Grouping {
  readonly from: ReadonlyArray<readonly [string, readonly PolicyEndpoint[]]>;
  readonly isolated: IsolatedAddress[];
  /** sorted by signature (the policies' names) */
  readonly classes: ReadonlyArray<{ readonly policies: readonly string[]; readonly addresses: readonly string[] }>;
}

/** The policies of `mine` (sorted by name) that isolate in `direction`, grouped by the addresses they select. */
function groupIsolated(mine: readonly Policy[], direction: Direction, members: Members, last: Grouping | undefined): Grouping {
  const from = mine.filter((p) => p[direction] !== undefined).map((p) => [p.name, members.select(p.selector)] as const);
  if (last !== undefined && last.from.length === from.length && last.from.every(([n, s], i) => n === from[i]![0] && s === from[i]![1])) return last;
  const byAddress = new Map<string, { endpoint: string; policies: string[] }>();
  for (const [name, selected] of from) {
    for (const e of selected) {
      for (const a of members.addresses(e)) {
        const cur = byAddress.get(a);
        if (cur === undefined) byAddress.set(a, { endpoint: e.id, policies: [name] });
        // An address listed twice by one endpoint (or claimed by two) is isolated once per policy.
        else if (cur.policies[cur.policies.length - 1] !== name) cur.policies.push(name);
      }
    }
  }
  const isolated: IsolatedAddress[] = [];
  const bySignature = new Map<string, { policies: string[]; addresses: string[] }>();
  for (const [address, { endpoint, policies }] of byAddress) {
    isolated.push({ address, endpoint, policies });
    const signature = policies.join('\n');
    const cls = bySignature.get(signature);
    if (cls === undefined) bySignature.set(signature, { policies, addresses: [address] });
    else cls.addresses.push(address);
  }
  isolated.sort((x, y) => (x.address < y.address ? -1 : 1));
  const classes = [...bySignature].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map(([, c]) => ({ policies: c.policies, addresses: c.addresses.sort() }));
  return { from, isolated, classes };
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function membersOf(network: string, endpoints: readonly PolicyEndpoint[], memo?: CompileMemo): Members {
  const mine = endpoints.filter((e) => e.network === network);
  const last = memo?.members.get(network);
  if (last !== undefined && sameItems(last.endpoints, mine)) return last.index;
  const index = new Members(mine, memo?.parsed);
  memo?.members.set(network, { endpoints: mine, index });
  return index;
}

/** Compiles the policies of one network against that network's endpoints (`memo`: see CompileMemo). */
export function compileNetwork(network: string, policies: readonly Policy[], endpoints: readonly PolicyEndpoint[], memo?: CompileMemo): CompiledPolicy {
  const members = membersOf(network, endpoints, memo);
  const rulesByPolicy = memo?.rules ?? new WeakMap<Policy, Partial<Record<Direction, CompiledRules>>>();
  const mine = policies.filter((p) => p.network === network).slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const isolated: Record<Direction, IsolatedAddress[]> = { ingress: [], egress: [] };
  const classes: Record<Direction, PolicyClass[]> = { ingress: [], egress: [] };
  const seenClasses = new Set<string>();
  const byName = new Map(mine.map((p) => [p.name, p]));
  for (const direction of ['egress', 'ingress'] as const) {
    const groupingKey = `${network}\n${direction}`;
    const grouping = groupIsolated(mine, direction, members, memo?.groupings.get(groupingKey));
    memo?.groupings.set(groupingKey, grouping);
    const done = new Map<Policy, CompiledRule[]>();
    const rulesOf = (p: Policy): CompiledRule[] => {
      let rules = done.get(p);
      if (rules === undefined) {
        let byDirection = rulesByPolicy.get(p);
        if (byDirection === undefined) rulesByPolicy.set(p, (byDirection = {}));
        const compiled = rulesFor(p, direction, members, byDirection[direction]);
        byDirection[direction] = compiled;
        done.set(p, (rules = compiled.rules));
      }
      return rules;
    };
    isolated[direction] = grouping.isolated;
    for (const { policies: names, addresses } of grouping.classes) {
      const rules = names.flatMap((n) => rulesOf(byName.get(n)!));
      const key = `${network}\n${direction}\n${names.join('\n')}`;
      seenClasses.add(key);
      const last = memo?.classes.get(key);
      if (last !== undefined && sameItems(last.rules, rules) && sameItems(last.addresses, addresses)) {
        classes[direction].push(last);
        continue;
      }
      const cls: PolicyClass = { direction, policies: names, rules, addresses: [...addresses] };
      memo?.classes.set(key, cls);
      classes[direction].push(cls);
    }
  }
  if (memo !== undefined) {
    for (const key of memo.classes.keys()) if (key.startsWith(`${network}\n`) && !seenClasses.has(key)) memo.classes.delete(key);
    // (its groupings are replaced on every compile of the network)
  }
  return { network, isolated, classes };
}

/** The class of an isolated local address, or undefined when `address` is not isolated in `direction`. */
export function classOf(state: CompiledPolicy, direction: Direction, address: string): PolicyClass | undefined {
  return state.classes[direction].find((c) => c.addresses.includes(address));
}
