/**
 * Pure: the nft rules that keep networks apart on one node. Rendered only
 * when there is something to isolate (two networks or more, or an internal
 * one), so a single-network node's table is what it always was.
 *
 *   set networks          every network's CIDR (interval set)
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

export function isolationRules(networks: readonly NftNetwork[]): IsolationRules {
  if (networks.length < 2 && !networks.some((n) => n.internal)) return { declarations: [], forward: [], input: [] };
  const declarations = [
    '  set networks {',
    '    type ipv4_addr; flags interval;',
    `    elements = { ${networks.map((n) => n.cidr).join(', ')} }`,
    '  }',
  ];
  const forward = [
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    ct status dnat accept',
  ];
  const input: string[] = [];
  for (const n of networks) {
    const tag = `comment "network ${comment(n.name)}"`;
    if (n.internal) {
      forward.push(`    ip saddr ${n.cidr} ip daddr != ${n.cidr} drop ${tag}`);
      forward.push(`    ip daddr ${n.cidr} ip saddr != ${n.cidr} drop ${tag}`);
      input.push(`    iifname "${n.bridge}" ip daddr != ${n.cidr} drop ${tag}`);
    } else {
      forward.push(`    ip saddr ${n.cidr} ip daddr != ${n.cidr} ip daddr @networks drop ${tag}`);
      input.push(`    iifname "${n.bridge}" ip daddr != ${n.cidr} ip daddr @networks drop ${tag}`);
    }
  }
  forward.push('  }');
  return { declarations, forward, input };
}
