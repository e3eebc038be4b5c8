/**
 * Pure: compiled network policy (agent/src/policy) → the nft script of
 * knit's policy table `inet knit_policy`, one transaction (add, delete,
 * define: the kernel swaps it atomically, so no packet sees a mix of the old
 * and new allowances). Both families in one table.
 *
 *   set {ingress,egress}_isolated{4,6}   addresses isolated in that direction
 *   set {ingress,egress}_any{4,6}        local . peer range            (rules without ports)
 *   set {ingress,egress}_ports{4,6}      local . peer range . proto . port range
 *   chain forward   ct established/related accept; isolated source → egress
 *                   chain (return when allowed, else drop); isolated
 *                   destination → ingress chain (accept when allowed, else drop)
 *
 * The per-packet cost is a fixed number of set lookups whatever the number of
 * policies and rules. The kernel rejects overlapping elements in a
 * concatenated interval set, so entries are first made disjoint: peer ranges
 * are merged per local address, and (peer × port) rectangles are cut into
 * disjoint ones per (local address, protocol).
 *
 * Node-originated packets leave through the output hook, never forward, so
 * they are not policed (docs/policy.md: traffic from the node is allowed).
 */
import { formatIp } from '../../net/ip';
import type { AddressRange, AllowEntry, CompiledPolicy } from '../../policy';

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

/** Cuts possibly overlapping (address × port) rectangles into disjoint ones covering the same points. */
export function disjointRects(rects: readonly Rect[]): Rect[] {
  const cuts = new Set<bigint>();
  for (const r of rects) {
    cuts.add(r.first);
    cuts.add(r.last + 1n);
  }
  const points = [...cuts].sort(cmp);
  const out: Rect[] = [];
  let prev: { first: bigint; last: bigint; ports: Array<[number, number]> } | undefined;
  const flush = () => {
    if (prev === undefined) return;
    for (const [pFirst, pLast] of prev.ports) out.push({ first: prev.first, last: prev.last, pFirst, pLast });
    prev = undefined;
  };
  for (let i = 0; i + 1 < points.length; i++) {
    const first = points[i]!;
    const last = points[i + 1]! - 1n;
    const ports = mergeRanges(rects.filter((r) => r.first <= first && r.last >= last).map((r) => [r.pFirst, r.pLast] as const));
    if (ports.length === 0) {
      flush();
      continue;
    }
    if (prev !== undefined && prev.last + 1n === first && JSON.stringify(prev.ports) === JSON.stringify(ports)) {
      prev.last = last;
    } else {
      flush();
      prev = { first, last, ports };
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

function setBlock(name: string, type: string, interval: boolean, elements: string[]): string[] {
  const lines = [`  set ${name} {`, `    type ${type};${interval ? ' flags interval;' : ''}`];
  if (elements.length > 0) lines.push(`    elements = { ${elements.join(',\n      ')} }`);
  lines.push('  }');
  return lines;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list === undefined) m.set(k, [it]);
    else list.push(it);
  }
  return m;
}

/** Elements of the `any` and `ports` sets of one direction and family. */
export function policyElements(allow: readonly AllowEntry[], direction: 'ingress' | 'egress', family: 4 | 6): { any: string[]; ports: string[] } {
  const mine = allow.filter((e) => e.direction === direction && e.peer.family === family);
  const any: string[] = [];
  for (const [local, list] of groupBy(mine.filter((e) => e.protocol === 'any'), (e) => e.local)) {
    for (const [f, l] of mergeRanges(list.map((e) => [e.peer.first, e.peer.last] as const))) any.push(`${local} . ${range(family, f, l)}`);
  }
  const ports: string[] = [];
  for (const [key, list] of groupBy(mine.filter((e) => e.protocol !== 'any'), (e) => `${e.local} ${e.protocol}`)) {
    const [local, protocol] = key.split(' ') as [string, string];
    for (const r of disjointRects(list.map((e) => ({ first: e.peer.first, last: e.peer.last, pFirst: e.portFirst, pLast: e.portLast })))) {
      ports.push(`${local} . ${range(family, r.first, r.last)} . ${protocol.toLowerCase()} . ${r.pFirst}-${r.pLast}`);
    }
  }
  return { any: any.sort(), ports: ports.sort() };
}

/** The whole transaction for `nft -f -`. */
export function renderPolicyTable(states: readonly CompiledPolicy[], table = POLICY_TABLE): string {
  const allow = states.flatMap((s) => s.allow);
  const lines = [`add table inet ${table}`, `delete table inet ${table}`, `table inet ${table} {`];
  const chains: string[] = [];
  const jumps: string[] = [];
  for (const family of [4, 6] as const) {
    const t = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
    const ip = family === 4 ? 'ip' : 'ip6';
    for (const direction of ['egress', 'ingress'] as const) {
      const isolated = [...new Set(states.flatMap((s) => s.isolated[direction].map((i) => i.address)).filter((a) => a.includes(':') === (family === 6)))].sort();
      const { any, ports } = policyElements(allow, direction, family);
      const sfx = `${direction}_`;
      lines.push(...setBlock(`${sfx}isolated${family}`, t, false, isolated));
      lines.push(...setBlock(`${sfx}any${family}`, `${t} . ${t}`, true, any));
      lines.push(...setBlock(`${sfx}ports${family}`, `${t} . ${t} . inet_proto . inet_service`, true, ports));
      const [local, peer] = direction === 'egress' ? ['saddr', 'daddr'] : ['daddr', 'saddr'];
      const ok = direction === 'egress' ? 'return' : 'accept';
      jumps.push(`    ${ip} ${local} @${sfx}isolated${family} jump ${direction}${family}`);
      chains.push(
        `  chain ${direction}${family} {`,
        `    ${ip} ${local} . ${ip} ${peer} @${sfx}any${family} ${ok}`,
        `    ${ip} ${local} . ${ip} ${peer} . meta l4proto . th dport @${sfx}ports${family} ${ok}`,
        `    counter drop comment "default deny ${direction}"`,
        '  }',
      );
    }
  }
  // Egress of the source first (a `return` continues here), then ingress of the destination.
  const ordered = [...jumps.filter((j) => j.includes('jump egress')), ...jumps.filter((j) => j.includes('jump ingress'))];
  lines.push(...chains,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    ct state established,related accept',
    ...ordered,
    '  }',
    '}');
  return `${lines.join('\n')}\n`;
}

/** Removes the policy table; tolerates its absence. */
export function renderPolicyRemove(table = POLICY_TABLE): string {
  return `add table inet ${table}\ndelete table inet ${table}\n`;
}

export type { AddressRange };
