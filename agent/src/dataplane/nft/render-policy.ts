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
 *                                      and go): allowed when the peer is in set
 *                                      …_H_any, or peer . protocol . port is in
 *                                      set …_H_ports; else counted and dropped
 *   chain forward   ct established/related accept; the source's egress
 *                   class (return when allowed), then the destination's
 *                   ingress class (accept when allowed)
 *
 * The per-packet cost is one map lookup and at most two set lookups per
 * direction, whatever the number of policies, rules and endpoints; the
 * number of elements grows with endpoints plus peers per class, never with
 * their product (issue 18: 100 × 100 endpoints was 10 000 elements as a
 * cross product, now about 200). The kernel rejects overlapping elements in
 * a concatenated interval set, so a class's (peer × port) rectangles are first
 * cut into disjoint ones per protocol.
 *
 * The first table goes in whole; after that a change is the difference
 * (renderPolicyUpdate): new sets and chains, element deletes and adds, gone
 * chains and sets, in one transaction, so a port change in one of 100
 * policies over 1000 endpoints rewrites a few elements, not 5000. Chains and
 * the forward chain never change their rules once made, so the difference is
 * only ever in elements and in whole classes.
 *
 * Node-originated packets leave through the output hook, never forward, so
 * they are not policed (docs/policy.md: traffic from the node is allowed).
 */
import { createHash } from 'node:crypto';
import { formatIp } from '../../net/ip';
import type { AddressRange, CompiledPolicy, PolicyClass } from '../../policy';

export const POLICY_TABLE = 'knit_policy';

interface Rect { first: bigint; last: bigint; pFirst: number; pLast: number }

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

/**
 * Cuts possibly overlapping (address × port) rectangles into disjoint ones
 * covering the same points, joining address-adjacent pieces with the same
 * ports. A sweep over the address cuts: each piece looks only at the
 * rectangles active over it, so a class with thousands of peers costs
 * O(n log n), not O(n²).
 */
export function disjointRects(rects: readonly Rect[]): Rect[] {
  const cuts = new Set<bigint>();
  for (const r of rects) {
    cuts.add(r.first);
    cuts.add(r.last + 1n);
  }
  const points = [...cuts].sort(cmp);
  const byFirst = [...rects].sort((a, b) => cmp(a.first, b.first));
  const out: Rect[] = [];
  let active: Rect[] = [];
  let nextRect = 0;
  let prev: { first: bigint; last: bigint; ports: Array<[number, number]>; key: string } | undefined;
  const flush = () => {
    if (prev === undefined) return;
    for (const [pFirst, pLast] of prev.ports) out.push({ first: prev.first, last: prev.last, pFirst, pLast });
    prev = undefined;
  };
  for (let i = 0; i + 1 < points.length; i++) {
    const first = points[i]!;
    const last = points[i + 1]! - 1n;
    if (active.some((r) => r.last < first)) active = active.filter((r) => r.last >= first);
    while (nextRect < byFirst.length && byFirst[nextRect]!.first === first) active.push(byFirst[nextRect++]!);
    if (active.length === 0) {
      flush();
      continue;
    }
    const ports = mergeRanges(active.map((r) => [r.pFirst, r.pLast] as const));
    const key = ports.join(';');
    if (prev !== undefined && prev.last + 1n === first && prev.key === key) {
      prev.last = last;
    } else {
      flush();
      prev = { first, last, ports, key };
    }
  }
  flush();
  return out;
}

function addr(family: 4 | 6, v: bigint): string {
  return formatIp({ family, value: v });
}

function range(family: 4 | 6, first: bigint, last: bigint): string {
  return `${addr(family, first)}-${addr(family, last)}`;
}

/** Elements of one class's `any` and `ports` sets for one family (peers as ranges). */
export function classElements(cls: PolicyClass, family: 4 | 6): { any: string[]; ports: string[] } {
  const any: Array<[bigint, bigint]> = [];
  const byProtocol = new Map<string, Rect[]>();
  for (const rule of cls.rules) {
    const peers = rule.peers.filter((p) => p.family === family);
    for (const port of rule.ports) {
      if (port.protocol === 'any') {
        for (const p of peers) any.push([p.first, p.last]);
        continue;
      }
      let rects = byProtocol.get(port.protocol);
      if (rects === undefined) byProtocol.set(port.protocol, (rects = []));
      for (const p of peers) rects.push({ first: p.first, last: p.last, pFirst: port.portFirst, pLast: port.portLast });
    }
  }
  const ports: string[] = [];
  for (const protocol of [...byProtocol.keys()].sort()) {
    for (const r of disjointRects(byProtocol.get(protocol)!)) {
      ports.push(`${range(family, r.first, r.last)} . ${protocol.toLowerCase()} . ${r.pFirst}-${r.pLast}`);
    }
  }
  return { any: mergeRanges(any).map(([f, l]) => range(family, f, l)), ports };
}

/** The chain's comment: which policies the class is (nft comments are at most 128 bytes). */
function classComment(cls: PolicyClass): string {
  let text = cls.policies.join(', ');
  if (text.length > 120) text = `${text.slice(0, 100).replace(/, [^,]*$/, '')} and more`;
  return text;
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
  readonly sets: ReadonlyMap<string, PolicySet>;
  /** class chains: name → body lines (comment, rules) */
  readonly chains: ReadonlyMap<string, readonly string[]>;
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

function className(direction: string, family: 4 | 6, network: string, cls: PolicyClass): string {
  const h = createHash('sha256').update(`${network}\n${cls.policies.join('\n')}`).digest('hex').slice(0, 12);
  return `${direction}${family}_${h}`;
}

/**
 * A class's chain name and elements per family, kept while the class object
 * lives: the compiler hands back the same object for a class that did not
 * change (CompileMemo), so a run renders only the classes that did.
 */
const rendered = new WeakMap<PolicyClass, Map<string, { name: string; any: string[]; ports: string[] }>>();

function renderClass(direction: 'egress' | 'ingress', family: 4 | 6, network: string, cls: PolicyClass): { name: string; any: string[]; ports: string[] } {
  let byFamily = rendered.get(cls);
  if (byFamily === undefined) rendered.set(cls, (byFamily = new Map()));
  const key = `${network}\n${family}`;
  let r = byFamily.get(key);
  if (r === undefined) byFamily.set(key, (r = { name: className(direction, family, network, cls), ...classElements(cls, family) }));
  return r;
}

/** Compiled policy of every network → the table as data. */
export function policyRuleset(states: readonly CompiledPolicy[]): PolicyRuleset {
  const sets = new Map<string, PolicySet>();
  const chains = new Map<string, readonly string[]>();
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
          const { name, any, ports } = renderClass(direction, family, state.network, cls);
          if (chains.has(name)) throw new Error(`policy class name ${name} collides (network ${state.network}, policies ${cls.policies.join(', ')})`);
          sets.set(`${name}_any`, { kind: 'set', type: t, interval: true, elements: any });
          sets.set(`${name}_ports`, { kind: 'set', type: `${t} . inet_proto . inet_service`, interval: true, elements: ports });
          chains.set(name, [
            `comment "${classComment(cls)}"`,
            `${ip} ${peer} @${name}_any ${ok}`,
            `${ip} ${peer} . meta l4proto . th dport @${name}_ports ${ok}`,
            `counter drop comment "default deny ${direction}"`,
          ]);
          for (const a of addresses) jumps.push(`${a} : jump ${name}`);
        }
      }
      sets.set(`${direction}_class${family}`, { kind: 'map', type: `${t} : verdict`, interval: false, elements: jumps.sort() });
    }
  }
  return { sets, chains };
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
 * into `next`, or '' when they are the same. Order inside it: new sets and
 * chains (so new map elements can jump to them), removed elements, added
 * elements, then gone chains and their sets (no map element refers to them
 * any more). The kernel applies it all or nothing.
 */
export function renderPolicyUpdate(prev: PolicyRuleset, next: PolicyRuleset, table = POLICY_TABLE): string {
  const created: string[] = [];
  const removed: string[] = [];
  const added: string[] = [];
  const dropped: string[] = [];
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
  for (const [name, body] of next.chains) {
    if (!prev.chains.has(name)) created.push(...chainLines(name, body));
  }
  for (const name of prev.chains.keys()) {
    if (!next.chains.has(name)) dropped.push(`delete chain inet ${table} ${name}`);
  }
  for (const name of prev.sets.keys()) {
    if (!next.sets.has(name)) dropped.push(`delete ${prev.sets.get(name)!.kind} inet ${table} ${name}`);
  }
  if (created.length + removed.length + added.length + dropped.length === 0) return '';
  const lines = [...(created.length > 0 ? [`table inet ${table} {`, ...created, '}'] : []), ...removed, ...added, ...dropped];
  return `${lines.join('\n')}\n`;
}

/** Removes the policy table; tolerates its absence. */
export function renderPolicyRemove(table = POLICY_TABLE): string {
  return `add table inet ${table}\ndelete table inet ${table}\n`;
}

export type { AddressRange };
