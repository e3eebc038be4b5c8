/**
 * Pure: the nft rules that keep networks apart on one node. Rendered only
 * when there is something to isolate (two networks or more, or an internal
 * one), so a single-network node's table is what it always was.
 *
 *   set networks          every network's CIDR (interval set), per family:
 *                         IPv4 in `ip knit`, IPv6 in `ip6 knit`
 *   chain forward         A → any other network: drop (both directions follow,
 *                         because the rule exists for every network);
 *                         internal I: nothing in or out of I's CIDR;
 *                         a connection a port mapping DNATed is let through
 *                         first (a published port is for everybody, as in Docker)
 *   input rules           a container may not reach the node's addresses on
 *                         another network's bridge (the node would otherwise
 *                         answer for it); an internal network's containers
 *                         reach only their own gateway
 */
import type { NftNetwork } from './types';

/** The pieces render.ts splices into knit's table. */
export interface IsolationRules {
  /** table-level declarations (sets, the forward chain) */
  declarations: string[];
  forward: string[];
  /** rules for the input chain's body */
  input: string[];
}

/** Element comments and rule comments must stay plain tokens. */
function comment(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * The isolation rules of one family, for that family's table: IPv4 (`ip`)
 * among the networks with an IPv4 CIDR, IPv6 (`ip6`) among those with an
 * IPv6 one. A dual-stack network takes part in both; an IPv6-only network
 * only in the IPv6 rules (its containers have no IPv4 address to send from).
 */
export function isolationRules(all: readonly NftNetwork[], family: 'ip' | 'ip6' = 'ip'): IsolationRules {
  const networks = all.flatMap((n) => {
    const cidr = family === 'ip' ? n.cidr : n.cidr6;
    return cidr === undefined ? [] : [{ ...n, cidr }];
  });
  if (networks.length < 2 && !networks.some((n) => n.internal)) return { declarations: [], forward: [], input: [] };
  const declarations = [
    '  set networks {',
    `    type ${family === 'ip' ? 'ipv4_addr' : 'ipv6_addr'}; flags interval;`,
    `    elements = { ${networks.map((n) => n.cidr).join(', ')} }`,
    '  }',
  ];
  const forward = [
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    ct status dnat accept',
  ];
  const input: string[] = [];
  const f = family;
  for (const n of networks) {
    const tag = `comment "network ${comment(n.name)}"`;
    if (n.internal) {
      forward.push(`    ${f} saddr ${n.cidr} ${f} daddr != ${n.cidr} drop ${tag}`);
      forward.push(`    ${f} daddr ${n.cidr} ${f} saddr != ${n.cidr} drop ${tag}`);
      // IPv6: neighbour discovery (link-local and multicast destinations) must still reach the node,
      // or the containers could not even resolve their gateway.
      const own = f === 'ip' ? n.cidr : `{ ${n.cidr}, fe80::/10, ff00::/8 }`;
      input.push(`    iifname "${n.bridge}" ${f} daddr != ${own} drop ${tag}`);
    } else {
      forward.push(`    ${f} saddr ${n.cidr} ${f} daddr != ${n.cidr} ${f} daddr @networks drop ${tag}`);
      input.push(`    iifname "${n.bridge}" ${f} daddr != ${n.cidr} ${f} daddr @networks drop ${tag}`);
    }
  }
  forward.push('  }');
  return { declarations, forward, input };
}
