/**
 * Pure: compiled network policy (agent/src/policy) → the nft script of
 * knit's policy table `inet knit_policy`, one transaction (add, delete,
 * define: the kernel swaps it atomically, so no packet sees a mix of the old
 * and new allowances). Both families in one table.
 *
 *   map {egress,ingress}_class{4,6}   local address → jump to its class's chain
 *   chain {egress,ingress}{4,6}_H      one per policy class (the addresses the
 *                                      same policies isolate; H is a hash of
 *                                      the network and those policies, so a
 *                                      class keeps its name while others come
 *                                      and go): peer address → verdict through
 *                                      its map …_H_hosts, then (a class with
 *                                      ranges) peer address . protocol through
 *                                      …_H_nets, else counted and dropped
 *   map …_H_hosts    single peer address → accept|return (a rule allows it
 *                    on any port) or goto the group of the rules that name it
 *   map …_H_nets     peer range . 0-255 → the same (see ClassPeers for why)
 *   chain {egress,ingress}_rules_G     one per group of rules (G: hash of the
 *                                      network and the rules' ids): protocol .
 *                                      port in set …_G_ports → accept|return
 *                                      (goto: return goes back to the forward
 *                                      chain); else counted and dropped
 *   chain forward   ct established/related accept; the source's egress
 *                   class (return when allowed), then the destination's
 *                   ingress class (accept when allowed)
 *
 * The per-packet cost is at most four lookups per direction (local map,
 * hosts map, nets map, ports set), whatever the number of policies, rules and
 * endpoints. The number of elements grows with isolated addresses plus peers
 * per class, never with their product (issue 18: 100 × 100 endpoints was
 * 10 000 elements as a cross product, now about 200), and ports are kept
 * apart from peers: a port change in a rule that names 500 peers rewrites
 * the rule group's port elements, not 500 peer elements. A class's peers are
 * first cut into disjoint ranges, each with the rules that allow it.
 *
 * The first table goes in whole; after that a change is the difference
 * (renderPolicyUpdate): new sets and chains, element deletes and adds, gone
 * chains and sets, in one transaction, so a port change in one of 100
 * policies over 1000 endpoints rewrites a few elements, not 5000. Chains and
 * the forward chain never change their rules once made, so the difference is
 * only ever in elements and in whole classes or rule groups.
 *
 * Node-originated packets leave through the output hook, never forward, so
 * they are not policed (docs/policy.md: traffic from the node is allowed).
 */
import { createHash } from 'node:crypto';
import { formatIp } from '../../net/ip';
import type { CompiledPolicy, CompiledRule, PolicyClass } from '../../policy';

export const POLICY_TABLE = 'knit_policy';

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Union of inclusive 1-D ranges, sorted and disjoint (adjacent ones joined). */
export function mergeRanges<T extends number | bigint>(ranges: ReadonlyArray<readonly [T, T]>): Array<[T, T]> {
  const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[T, T]> = [];
  for (const [f, l] of sorted) {
    const last = out[out.length - 1];
    // adjacency: f == last[1] + 1
    if (last !== undefined && (f <= last[1] || (typeof f === 'bigint' ? f === (last[1] as bigint) + 1n : f === (last[1] as number) + 1))) {
      if (l > last[1]) last[1] = l;
    } else {
      out.push([f, l]);
    }
  }
  return out;
}

function addr(family: 4 | 6, v: bigint): string {
  return formatIp({ family, value: v });
}

function range(family: 4 | 6, first: bigint, last: bigint): string {
  return `${addr(family, first)}-${addr(family, last)}`;
}

/** Disjoint address ranges of one class and family, each with the rules that allow it (adjacent ones with the same rules joined). */
export interface PeerSegment {
  readonly first: bigint;
  readonly last: bigint;
  readonly rules: readonly CompiledRule[];
}

/**
 * A sweep over the rules' peer ranges: each piece looks only at the ranges
 * active over it. `rangesOnly` leaves out single addresses (see renderClassPeers).
 */
export function peerSegments(cls: PolicyClass, family: 4 | 6, rangesOnly = false): PeerSegment[] {
  const tagged: Array<{ first: bigint; last: bigint; rule: CompiledRule }> = [];
  for (const rule of cls.rules) {
    for (const p of rule.peers) if (p.family === family && !(rangesOnly && p.first === p.last)) tagged.push({ first: p.first, last: p.last, rule });
  }
  const cuts = new Set<bigint>();
  for (const t of tagged) {
    cuts.add(t.first);
    cuts.add(t.last + 1n);
  }
  const points = [...cuts].sort(cmp);
  tagged.sort((a, b) => cmp(a.first, b.first));
  const out: PeerSegment[] = [];
  let active: typeof tagged = [];
  let next = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const first = points[i]!;
    const last = points[i + 1]! - 1n;
    if (active.some((t) => t.last < first)) active = active.filter((t) => t.last >= first);
    while (next < tagged.length && tagged[next]!.first === first) active.push(tagged[next++]!);
    if (active.length === 0) continue;
    // In the class's rule order, once each.
    const rules = cls.rules.filter((r) => active.some((t) => t.rule === r));
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.last + 1n === first && prev.rules.length === rules.length && prev.rules.every((r, k) => r === rules[k])) {
      out[out.length - 1] = { first: prev.first, last, rules: prev.rules };
    } else {
      out.push({ first, last, rules });
    }
  }
  return out;
}

/** A group of rules as programmed: the ports its peers may reach (rules of one network and direction). */
export interface RuleGroup {
  readonly name: string;
  readonly comment: string;
  /** "tcp . 80-80", merged per protocol */
  readonly ports: string[];
}

function ruleGroup(direction: 'egress' | 'ingress', network: string, rules: readonly CompiledRule[]): RuleGroup {
  const ids = rules.map((r) => `${r.policy} ${direction}[${r.rule}]`);
  const h = createHash('sha256').update(`${network}\n${ids.join('\n')}`).digest('hex').slice(0, 12);
  const byProtocol = new Map<string, Array<[number, number]>>();
  for (const r of rules) {
    for (const p of r.ports) {
      let list = byProtocol.get(p.protocol);
      if (list === undefined) byProtocol.set(p.protocol, (list = []));
      list.push([p.portFirst, p.portLast]);
    }
  }
  const ports: string[] = [];
  for (const protocol of [...byProtocol.keys()].sort()) {
    for (const [f, l] of mergeRanges(byProtocol.get(protocol)!)) ports.push(`${protocol.toLowerCase()} . ${f}-${l}`);
  }
  return { name: `${direction}_rules_${h}`, comment: truncateComment(ids.join(', ')), ports };
}

/** One class rendered for one family: its peer map's elements and the rule groups they jump to. */
interface RenderedClass extends ClassPeers {
  readonly name: string;
}

/**
 * A class's peers for one family as programmed: exact addresses, ranges, and the rule groups both reach.
 *
 * The ranges' map is keyed by address . protocol with every protocol (0-255)
 * in each element, not by address alone, for the same reason as the hosts'
 * map: nft reads back the elements of every single-field interval set of
 * the table before any write (one request per set), while a concatenated
 * interval set (the kernel's pipapo, which checks overlaps itself) costs it
 * nothing. 100 classes with ranges cost each policy write ~3 ms as
 * single-field interval maps, well under 1 ms this way.
 */
export interface ClassPeers {
  /** "10.1.2.3 : accept": single addresses (endpoints a selector names, /32 and /128 CIDRs), a hash map */
  readonly hosts: string[];
  /** "10.1.0.0-10.1.255.255 : goto …": the rest of the address space some rule allows, an interval map */
  readonly nets: string[];
  readonly groups: RuleGroup[];
}

/** The segment holding `a` in sorted disjoint segments, if any. */
function segmentAt(segs: readonly PeerSegment[], a: bigint): PeerSegment | undefined {
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segs[mid]!;
    if (a < s.first) hi = mid - 1;
    else if (a > s.last) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/**
 * A peer allowed on any port by one of its rules gets the verdict itself;
 * any other jumps to the group of the rules that name it, which checks the
 * port. Groups are named by their rules, not their ports, so a port change
 * rewrites a group's few port elements and none of the peers'.
 *
 * Single addresses go in a hash map, looked up first, each with all the
 * rules that hold it (its own and those of any range around it); only
 * ranges go in the interval map. Why: nft reads back every element of every
 * interval set in the table before it changes any of them (its overlap
 * checks), so the cost of each policy write grows with the interval
 * elements in the table: 2000 of them cost ~4 ms a write, 10 000 ~26 ms.
 * Endpoints are most peers, and a hash map write costs the same ~0.1 ms at
 * any size.
 */
export function renderClassPeers(direction: 'egress' | 'ingress', family: 4 | 6, network: string, cls: PolicyClass): ClassPeers {
  const ok = direction === 'egress' ? 'return' : 'accept';
  const groups = new Map<string, RuleGroup>();
  const verdictOf = (rules: readonly CompiledRule[]): string => {
    if (rules.some((r) => r.ports.some((p) => p.protocol === 'any'))) return ok;
    const g = ruleGroup(direction, network, rules);
    groups.set(g.name, g);
    // goto, not jump: the group's `return` (egress allowed) must return to the forward chain, past the class chain's drop.
    return `goto ${g.name}`;
  };

  const segs = peerSegments(cls, family, true);
  const nets: string[] = [];
  let last: { first: bigint; last: bigint; verdict: string } | undefined;
  // Keyed by address . protocol (every protocol): see ClassPeers.
  const flush = () => {
    if (last !== undefined) nets.push(`${range(family, last.first, last.last)} . 0-255 : ${last.verdict}`);
  };
  for (const seg of segs) {
    const verdict = verdictOf(seg.rules);
    if (last !== undefined && last.last + 1n === seg.first && last.verdict === verdict) {
      last.last = seg.last;
    } else {
      flush();
      last = { first: seg.first, last: seg.last, verdict };
    }
  }
  flush();

  const own = new Map<bigint, Set<CompiledRule>>();
  for (const rule of cls.rules) {
    for (const p of rule.peers) {
      if (p.family !== family || p.first !== p.last) continue;
      let rules = own.get(p.first);
      if (rules === undefined) own.set(p.first, (rules = new Set()));
      rules.add(rule);
    }
  }
  const hosts: string[] = [];
  const verdicts = new Map<string, string>(); // by the rules' positions: many hosts share their rules
  for (const a of [...own.keys()].sort(cmp)) {
    const mine = own.get(a)!;
    const around = segmentAt(segs, a)?.rules ?? [];
    // In the class's rule order, once each (the group's name depends on it).
    const rules = cls.rules.filter((r) => mine.has(r) || around.includes(r));
    const key = rules.map((r) => cls.rules.indexOf(r)).join(',');
    let verdict = verdicts.get(key);
    if (verdict === undefined) verdicts.set(key, (verdict = verdictOf(rules)));
    hosts.push(`${addr(family, a)} : ${verdict}`);
  }
  return { hosts, nets, groups: [...groups.values()] };
}

function truncateComment(text: string): string {
  return text.length > 120 ? `${text.slice(0, 100).replace(/, [^,]*$/, '')} and more` : text;
}

/** The chain's comment: which policies the class is (nft comments are at most 128 bytes). */
function classComment(cls: PolicyClass): string {
  return truncateComment(cls.policies.join(', '));
}

/** A set or verdict map of the policy table: its type line and elements. */
export interface PolicySet {
  readonly kind: 'set' | 'map';
  /** "ipv4_addr", "ipv4_addr . inet_proto . inet_service", "ipv4_addr : verdict" */
  readonly type: string;
  readonly interval: boolean;
  /** as rendered: the identity of an element for a later delete */
  readonly elements: readonly string[];
}

/** The whole policy table as data: what renderPolicyRuleset writes, and what renderPolicyUpdate diffs. */
export interface PolicyRuleset {
  /** sets and verdict maps; a map's elements may jump to `groups` */
  readonly sets: ReadonlyMap<string, PolicySet>;
  /** class chains: name → body lines (comment, rules); they look up their own peer map */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  /** rule-group chains: jumped to from peer maps; they look up their own ports set */
  readonly groups: ReadonlyMap<string, readonly string[]>;
}

/** The forward chain: the same rules whatever the policies (the maps may be empty). */
const FORWARD = [
  'ct state established,related accept',
  // Egress of the source first (its chain returns when allowed), then ingress of the destination.
  'ip saddr vmap @egress_class4',
  'ip6 saddr vmap @egress_class6',
  'ip daddr vmap @ingress_class4',
  'ip6 daddr vmap @ingress_class6',
];

/** The chain's rules depend on whether it has ranges to look up, so its name does too (a change makes a new chain, never edits one). */
function className(direction: string, family: 4 | 6, network: string, cls: PolicyClass, ranges: boolean): string {
  const h = createHash('sha256').update(`${network}\n${cls.policies.join('\n')}${ranges ? '\nranges' : ''}`).digest('hex').slice(0, 12);
  return `${direction}${family}_${h}`;
}

/**
 * A class's chain name, peer elements and groups per family, kept while the
 * class object lives: the compiler hands back the same object for a class
 * that did not change (CompileMemo), so a run renders only the classes that did.
 */
const rendered = new WeakMap<PolicyClass, Map<string, RenderedClass>>();

function renderClass(direction: 'egress' | 'ingress', family: 4 | 6, network: string, cls: PolicyClass): RenderedClass {
  let byFamily = rendered.get(cls);
  if (byFamily === undefined) rendered.set(cls, (byFamily = new Map()));
  const key = `${network}\n${family}`;
  let r = byFamily.get(key);
  if (r === undefined) {
    const peers = renderClassPeers(direction, family, network, cls);
    byFamily.set(key, (r = { name: className(direction, family, network, cls, peers.nets.length > 0), ...peers }));
  }
  return r;
}

/** Compiled policy of every network → the table as data. */
export function policyRuleset(states: readonly CompiledPolicy[]): PolicyRuleset {
  const sets = new Map<string, PolicySet>();
  const chains = new Map<string, readonly string[]>();
  const groups = new Map<string, readonly string[]>();
  for (const direction of ['egress', 'ingress'] as const) {
    const peer = direction === 'egress' ? 'daddr' : 'saddr';
    const ok = direction === 'egress' ? 'return' : 'accept';
    for (const family of [4, 6] as const) {
      const t = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
      const ip = family === 4 ? 'ip' : 'ip6';
      const jumps: string[] = [];
      for (const state of states) {
        for (const cls of state.classes[direction]) {
          const addresses = cls.addresses.filter((a) => a.includes(':') === (family === 6));
          if (addresses.length === 0) continue;
          const r = renderClass(direction, family, state.network, cls);
          if (chains.has(r.name)) throw new Error(`policy class name ${r.name} collides (network ${state.network}, policies ${cls.policies.join(', ')})`);
          for (const g of r.groups) {
            // (a group of the same rules is the same whichever class or family reaches it)
            if (groups.has(g.name)) continue;
            sets.set(`${g.name}_ports`, { kind: 'set', type: 'inet_proto . inet_service', interval: true, elements: g.ports });
            groups.set(g.name, [`comment "${g.comment}"`, `meta l4proto . th dport @${g.name}_ports ${ok}`, `counter drop comment "default deny ${direction}"`]);
          }
          sets.set(`${r.name}_hosts`, { kind: 'map', type: `${t} : verdict`, interval: false, elements: r.hosts });
          // Only a class with ranges has an interval map: each one costs every later write a read-back (see renderClassPeers).
          if (r.nets.length > 0) sets.set(`${r.name}_nets`, { kind: 'map', type: `${t} . inet_proto : verdict`, interval: true, elements: r.nets });
          chains.set(r.name, [
            `comment "${classComment(cls)}"`,
            `${ip} ${peer} vmap @${r.name}_hosts`,
            ...(r.nets.length > 0 ? [`${ip} ${peer} . meta l4proto vmap @${r.name}_nets`] : []),
            `counter drop comment "default deny ${direction}"`,
          ]);
          for (const a of addresses) jumps.push(`${a} : jump ${r.name}`);
        }
      }
      sets.set(`${direction}_class${family}`, { kind: 'map', type: `${t} : verdict`, interval: false, elements: jumps.sort() });
    }
  }
  return { sets, chains, groups };
}

function setLines(name: string, set: PolicySet, elements: readonly string[]): string[] {
  const lines = [`  ${set.kind} ${name} {`, `    type ${set.type};${set.interval ? ' flags interval;' : ''}`];
  if (elements.length > 0) lines.push(`    elements = { ${elements.join(',\n      ')} }`);
  lines.push('  }');
  return lines;
}

function chainLines(name: string, body: readonly string[]): string[] {
  return [`  chain ${name} {`, ...body.map((l) => `    ${l}`), '  }'];
}

/** The whole table as one transaction for `nft -f -` (replaces any table of that name atomically). */
export function renderPolicyRuleset(ruleset: PolicyRuleset, table = POLICY_TABLE): string {
  const lines = [`add table inet ${table}`, `delete table inet ${table}`, `table inet ${table} {`];
  for (const [name, set] of ruleset.sets) lines.push(...setLines(name, set, set.elements));
  for (const [name, body] of ruleset.groups) lines.push(...chainLines(name, body));
  for (const [name, body] of ruleset.chains) lines.push(...chainLines(name, body));
  lines.push('  chain forward {', '    type filter hook forward priority filter; policy accept;', ...FORWARD.map((l) => `    ${l}`), '  }', '}');
  return `${lines.join('\n')}\n`;
}

/** Compiled policy → the whole table's transaction. */
export function renderPolicyTable(states: readonly CompiledPolicy[], table = POLICY_TABLE): string {
  return renderPolicyRuleset(policyRuleset(states), table);
}

function elementBlock(verb: 'add' | 'delete', table: string, name: string, elements: readonly string[]): string[] {
  return elements.length === 0 ? [] : [`${verb} element inet ${table} ${name} { ${elements.join(',\n  ')} }`];
}

/** A map element's key: what `delete element` of a verdict map names. */
function elementKey(set: PolicySet, element: string): string {
  return set.kind === 'map' ? element.slice(0, element.indexOf(' : ')) : element;
}

/**
 * The transaction that turns the table `prev` (as knit last programmed it)
 * into `next`, or '' when they are the same. Order inside it: new sets,
 * maps, group and class chains (so new map elements can jump to them),
 * removed elements, added elements, then what is gone in the order nothing
 * still refers to it: class chains (they look up their maps), maps (their
 * elements jump to groups), group chains (they look up their sets), sets.
 * The kernel applies it all or nothing.
 */
export function renderPolicyUpdate(prev: PolicyRuleset, next: PolicyRuleset, table = POLICY_TABLE): string {
  const created: string[] = [];
  const removed: string[] = [];
  const added: string[] = [];
  for (const [name, set] of next.sets) {
    const old = prev.sets.get(name);
    if (old === undefined) {
      created.push(...setLines(name, set, set.elements));
      continue;
    }
    if (old.elements === set.elements) continue; // a class rendered once and unchanged since
    const before = new Set(old.elements);
    const after = new Set(set.elements);
    // A map element whose verdict changed goes out by key and comes back with the new one.
    removed.push(...elementBlock('delete', table, name, old.elements.filter((e) => !after.has(e)).map((e) => elementKey(old, e))));
    added.push(...elementBlock('add', table, name, set.elements.filter((e) => !before.has(e))));
  }
  for (const [name, body] of next.groups) if (!prev.groups.has(name)) created.push(...chainLines(name, body));
  for (const [name, body] of next.chains) if (!prev.chains.has(name)) created.push(...chainLines(name, body));
  const gone = (kind: string, names: Iterable<string>, still: ReadonlyMap<string, unknown>): string[] =>
    [...names].filter((n) => !still.has(n)).map((n) => `delete ${kind} inet ${table} ${n}`);
  const goneSets = [...prev.sets].filter(([n]) => !next.sets.has(n));
  const dropped = [
    ...gone('chain', prev.chains.keys(), next.chains),
    ...goneSets.filter(([, s]) => s.kind === 'map').map(([n]) => `delete map inet ${table} ${n}`),
    ...gone('chain', prev.groups.keys(), next.groups),
    ...goneSets.filter(([, s]) => s.kind === 'set').map(([n]) => `delete set inet ${table} ${n}`),
  ];
  if (created.length + removed.length + added.length + dropped.length === 0) return '';
  const lines = [...(created.length > 0 ? [`table inet ${table} {`, ...created, '}'] : []), ...removed, ...added, ...dropped];
  return `${lines.join('\n')}\n`;
}

/** Removes the policy table; tolerates its absence. */
export function renderPolicyRemove(table = POLICY_TABLE): string {
  return `add table inet ${table}\ndelete table inet ${table}\n`;
}

