/**
 * Pure: which netfilter base chains on the forward hook would drop cluster
 * traffic. Input is nft's JSON of the chains and of those chains' rules:
 * `nft -j list chains`, then `nft -j list chain` of each forward-hook chain
 * with policy drop (see forwardDropChains), not the whole ruleset, whose
 * set elements (knit's policy table holds thousands) the check never reads
 * (iptables-nft's tables included:
 * Docker's `ip filter FORWARD` with policy DROP shows up as a base chain
 * there). A chain blocks a family when its policy is drop and it holds no
 * rule that accepts the cluster CIDR of that family as source and one as
 * destination (a bare `ip saddr <covering prefix> accept`, optionally with
 * a counter or comment: what knit's own iptables rules and flannel's look
 * like). Rules that jump elsewhere, or drop rules under an accept policy,
 * are not followed: the check is deliberately narrow, and says so.
 */
import { spanCovers, spanOfCidr, type IpFamily } from '../../net/special-ranges';

/** A forward-hook base chain with policy drop that has no accept for the cluster CIDR. */
export interface BlockingChain {
  /** nft family: ip, ip6 or inet */
  family: string;
  table: string;
  chain: string;
  /** the cluster CIDRs it drops (one per address family it applies to) */
  cidrs: string[];
}

interface NftChain { family: string; table: string; name: string; hook?: string; policy?: string; type?: string }
interface NftRule { family: string; table: string; chain: string; expr?: unknown[] }

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The families a chain of this nft family sees. */
function familiesOf(nftFamily: string): IpFamily[] {
  if (nftFamily === 'ip') return [4];
  if (nftFamily === 'ip6') return [6];
  if (nftFamily === 'inet') return [4, 6];
  return [];
}

/** 'saddr' / 'daddr' when the rule is exactly "<family> <field> <prefix covering cidr> [counter] [comment] accept". */
function acceptedField(expr: unknown[], cidr: string): 'saddr' | 'daddr' | undefined {
  const want = spanOfCidr(cidr);
  let field: 'saddr' | 'daddr' | undefined;
  let accept = false;
  for (const e of expr) {
    if (!isObj(e)) return undefined;
    if ('accept' in e) { accept = true; continue; }
    if ('counter' in e || ('xt' in e && isObj(e.xt) && e.xt.name === 'comment')) continue;
    if (!isObj(e.match) || field !== undefined) return undefined;
    const { op, left, right } = e.match as Obj;
    const payload = isObj(left) ? left.payload : undefined;
    if (op !== '==' || !isObj(payload) || (payload.protocol !== 'ip' && payload.protocol !== 'ip6')) return undefined;
    if (payload.field !== 'saddr' && payload.field !== 'daddr') return undefined;
    let text: string | undefined;
    if (typeof right === 'string') text = right.includes('/') ? right : `${right}/${right.includes(':') ? 128 : 32}`;
    else if (isObj(right) && isObj(right.prefix)) text = `${String(right.prefix.addr)}/${String(right.prefix.len)}`;
    if (text === undefined) return undefined;
    try {
      if (!spanCovers(spanOfCidr(text), want)) return undefined;
    } catch {
      return undefined;
    }
    field = payload.field;
  }
  return accept ? field : undefined;
}

/** The forward-hook base chains with policy drop in parsed `nft -j list chains`: the ones whose rules the check needs. */
export function forwardDropChains(listed: unknown): Array<{ family: string; table: string; name: string }> {
  const items = isObj(listed) && Array.isArray(listed.nftables) ? listed.nftables : [];
  const out: Array<{ family: string; table: string; name: string }> = [];
  for (const it of items) {
    if (!isObj(it) || !isObj(it.chain)) continue;
    const c = it.chain as unknown as NftChain;
    if (c.hook === 'forward' && c.policy === 'drop' && typeof c.family === 'string' && typeof c.table === 'string' && typeof c.name === 'string') {
      out.push({ family: c.family, table: c.table, name: c.name });
    }
  }
  return out;
}

/** Forward-hook base chains with policy drop that would drop traffic of `clusterCidrs` (parsed nft JSON holding the chains and their rules). */
export function blockingForwardChains(ruleset: unknown, clusterCidrs: readonly string[]): BlockingChain[] {
  const items = isObj(ruleset) && Array.isArray(ruleset.nftables) ? ruleset.nftables : [];
  const chains: NftChain[] = [];
  const rules: NftRule[] = [];
  for (const it of items) {
    if (!isObj(it)) continue;
    if (isObj(it.chain)) chains.push(it.chain as unknown as NftChain);
    if (isObj(it.rule)) rules.push(it.rule as unknown as NftRule);
  }
  const out: BlockingChain[] = [];
  for (const c of chains) {
    if (c.hook !== 'forward' || c.policy !== 'drop') continue;
    const fams = familiesOf(c.family);
    const mine = rules.filter((r) => r.family === c.family && r.table === c.table && r.chain === c.name);
    const dropped = clusterCidrs.filter((cidr) => {
      const fam: IpFamily = cidr.includes(':') ? 6 : 4;
      if (!fams.includes(fam)) return false;
      const fields = new Set(mine.map((r) => acceptedField(Array.isArray(r.expr) ? r.expr : [], cidr)));
      return !(fields.has('saddr') && fields.has('daddr'));
    });
    if (dropped.length > 0) out.push({ family: c.family, table: c.table, chain: c.name, cidrs: dropped });
  }
  return out;
}

/** "inet filter forward" (what nft calls it), for logs and readiness. */
export function chainName(c: Pick<BlockingChain, 'family' | 'table' | 'chain'>): string {
  return `${c.family} ${c.table} ${c.chain}`;
}
