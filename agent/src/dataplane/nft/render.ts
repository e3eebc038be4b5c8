/**
 * Pure renderer: desired state → the complete nft script for knit's own table.
 *
 * The script is one transaction for `nft -f -`:
 *   add table ip knit      (so the delete below never fails on a fresh node)
 *   delete table ip knit   (drops everything knit had, and nothing else)
 *   table ip knit { ... }  (the whole new definition)
 * The kernel commits it atomically: no packet ever sees a half-built table or
 * a moment without rules, and tables of other owners are never touched.
 *
 * Mappings live in two maps so the rule count stays constant however many
 * containers publish ports:
 *   hostip_ports: daddr . l4proto . dport → container addr . port  (hostIp given)
 *   any_ports:            l4proto . dport → container addr . port  (any local address)
 * A lookup that misses ends the rule without a verdict, so evaluation falls
 * through: specific hostIp first, then any local address (`fib daddr type local`,
 * the nft spelling of iptables' `-m addrtype --dst-type LOCAL`).
 *
 * Cluster-internal traffic skips conntrack (state.notrackCidr): a raw-priority
 * prerouting chain, which runs before conntrack's lookup, marks `notrack` the
 * packets it can prove need no NAT: source and destination in the cluster
 * CIDR, not addressed to this node (its bridge and tunnel addresses), and not
 * to or from a published container port. The last condition cannot be a ct
 * state or ct mark (no conntrack entry has been looked up yet at raw
 * priority), so it is a set of the port
 * mappings' targets (container addr . proto . port): a hostPort flow after
 * DNAT, and its replies, look pod-to-pod by address but must stay tracked so
 * the reply is un-DNATed. Packets the node sends or receives itself stay
 * tracked too (a host firewall may accept only established replies), with
 * one exception: knit's own VXLAN packets (state.tunnelNotrack), UDP to the
 * VXLAN port(s) to or from the node's underlay address, in raw prerouting
 * and raw output. They are never NATed, and a host firewall must accept
 * that port as new traffic anyway: each packet's source port is a hash of
 * the inner flow, so conntrack never sees one as another's reply.
 */
import type { NftDesiredState, NormalizedMapping, NormalizedState } from './types';
import { isolationRules } from './render-isolation';
import { normalizeDesired } from './validate';

/** Table identity; knit's table is `ip knit` unless a test or a second instance says otherwise. */
export interface TableId {
  family: 'ip';
  name: string;
}

export const DEFAULT_TABLE: TableId = { family: 'ip', name: 'knit' };

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

/** Element comments carry the mapping's owner; keep them to characters nft never needs quoted specially. */
function commentText(id: string): string {
  return id.replace(/[^A-Za-z0-9._:/@+-]/g, '_').slice(0, 128);
}

function element(m: NormalizedMapping, withHostIp: boolean): string {
  const key = withHostIp ? `${m.hostIp} . ${m.protocol} . ${m.hostPort}` : `${m.protocol} . ${m.hostPort}`;
  return `${key} comment "${commentText(m.id)}" : ${m.containerIp} . ${m.containerPort}`;
}

/** The published container endpoints (DNAT targets), once each, sorted: `addr . proto . port`. */
function publishedTargets(state: NormalizedState): string[] {
  return [...new Set(state.portMappings.map((m) => `${m.containerIp} . ${m.protocol} . ${m.containerPort}`))].sort();
}

function setBlock(name: string, keyType: string, elements: string[]): string[] {
  const lines = [`  set ${name} {`, `    type ${keyType}`];
  if (elements.length > 0) lines.push(`    elements = { ${elements.join(', ')} }`);
  lines.push('  }');
  return lines;
}

/**
 * The raw-priority chain that exempts forwarded cluster-internal traffic from
 * conntrack (see the module comment), with the set it consults; empty when
 * notrack is off. ONE rule: every pod-to-pod packet runs it, and a rule whose
 * first failing match ends it is the cheapest form; the published-port
 * matches are left out while nothing is published.
 */
function notrackBlock(state: NormalizedState): string[] {
  const c = state.notrackCidr;
  const tunnel = state.tunnelNotrack;
  if (c === undefined && tunnel === undefined) return [];
  const out: string[] = [];
  const prerouting: string[] = [];
  if (c !== undefined) {
    const targets = publishedTargets(state);
    const matches = [
      `ip saddr ${c} ip daddr ${c}`,
      // Not for this node (bridge or tunnel address): replies to the node's own connections.
      ...(state.notrackNodeAddresses ?? []).map((a) => `ip daddr != ${a}`),
      // Not a hostPort flow after DNAT, nor its replies: conntrack must undo the DNAT.
      ...(targets.length > 0 ? ['ip saddr . meta l4proto . th sport != @published', 'ip daddr . meta l4proto . th dport != @published'] : []),
      // Not to or from an endpoint network policy isolates: its replies pass by ct state.
      ...(state.notrackTracked !== undefined ? ['ip saddr != @policy_tracked', 'ip daddr != @policy_tracked'] : []),
    ];
    out.push(...setBlock('published', 'ipv4_addr . inet_proto . inet_service', targets));
    if (state.notrackTracked !== undefined) out.push(...setBlock('policy_tracked', 'ipv4_addr', state.notrackTracked));
    prerouting.push(`    ${matches.join(' ')} notrack`);
  }
  const ports = tunnel === undefined ? '' : tunnel.udpPorts.length === 1 ? String(tunnel.udpPorts[0]) : `{ ${tunnel.udpPorts.join(', ')} }`;
  // knit's own VXLAN packets: arriving for this node's underlay address, and leaving from it.
  if (tunnel !== undefined) prerouting.push(`    ip daddr ${tunnel.localAddress} udp dport ${ports} notrack`);
  out.push('  chain raw_prerouting {', '    type filter hook prerouting priority raw; policy accept;', ...prerouting, '  }');
  if (tunnel !== undefined) {
    out.push(
      '  chain raw_output {',
      '    type filter hook output priority raw; policy accept;',
      `    ip saddr ${tunnel.localAddress} udp dport ${ports} notrack`,
      '  }',
    );
  }
  return out;
}

function mapBlock(name: string, keyType: string, elements: string[], addr: 'ipv4_addr' | 'ipv6_addr' = 'ipv4_addr'): string[] {
  const lines = [`  map ${name} {`, `    type ${keyType} : ${addr} . inet_service`];
  if (elements.length > 0) {
    lines.push('    elements = {');
    lines.push(elements.map((e) => `      ${e}`).join(',\n'));
    lines.push('    }');
  }
  lines.push('  }');
  return lines;
}

/**
 * The port-mapping chains of one family, reading the maps hostip_ports
 * (specific host address) and any_ports (any local address): prerouting for
 * traffic from elsewhere, output for the node's own; `skipLoopback` is kept
 * out of the output DNAT.
 */
function portmapChains(family: 'ip' | 'ip6', skipLoopback: string | undefined): string[] {
  return [
    '  chain portmaps {',
    `    dnat ${family} to ${family} daddr . meta l4proto . th dport map @hostip_ports`,
    `    fib daddr type local dnat ${family} to meta l4proto . th dport map @any_ports`,
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    '    jump portmaps',
    '  }',
    '  chain output {',
    // nft 1.0.6 refuses the "dstnat" keyword on the output hook; -100 is its value.
    '    type nat hook output priority -100; policy accept;',
    ...(skipLoopback !== undefined ? [`    ${family} daddr ${skipLoopback} return`] : []),
    '    jump portmaps',
    '  }',
  ];
}

/** Options of one rendering that depend on the node, not on the desired state. */
export interface RenderOptions {
  /**
   * Whether route_localnet is (or is about to be) on for state.bridge, so the
   * input chain must guard 127.0.0.0/8 (CVE-2020-8558). Default: whenever a
   * bridge is given. NftTable passes what it knows, so a node without
   * loopback-reachable mappings has no input chain, and the node's own
   * packets (knit's VXLAN packets among them) cross one hook less.
   */
  localnetGuard?: boolean;
}

/** Render an already normalized state (see normalizeDesired). */
export function renderNormalized(state: NormalizedState, table: TableId = DEFAULT_TABLE, opts: RenderOptions = {}): string {
  if (table.family !== 'ip' || !TABLE_NAME.test(table.name)) {
    throw new Error(`nft table ${table.family} ${table.name}: only family ip and a plain name are supported`);
  }
  const id = `${table.family} ${table.name}`;
  const specific = state.portMappings.filter((m) => m.hostIp !== undefined).map((m) => element(m, true));
  const any = state.portMappings.filter((m) => m.hostIp === undefined).map((m) => element(m, false));
  const loopback = state.bridge !== undefined;
  const guard = loopback && (opts.localnetGuard ?? true);

  const lines: string[] = [
    `add table ${id}`,
    `delete table ${id}`,
    `table ${id} {`,
    '  comment "owned by knitd: replaced as a whole on every change, edits are lost"',
    ...mapBlock('hostip_ports', 'ipv4_addr . inet_proto . inet_service', specific),
    ...mapBlock('any_ports', 'inet_proto . inet_service', any),
    ...notrackBlock(state),
    // Without route_localnet a DNATed 127.0.0.1 packet cannot leave lo: keep loopback out of DNAT.
    ...portmapChains('ip', loopback ? undefined : '127.0.0.0/8'),
  ];

  lines.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;');
  if (state.nodeSubnet !== undefined) {
    // Hairpin: container → own node's mapping → container on the same bridge. Without
    // SNAT the target would answer the client directly and the client would drop it.
    lines.push(`    ct status dnat ip saddr ${state.nodeSubnet} ip daddr ${state.nodeSubnet} masquerade`);
  }
  if (loopback) {
    // 127.0.0.1:hostPort from the node: the container must see a source it can answer.
    lines.push('    ct status dnat ip saddr 127.0.0.0/8 masquerade');
  }
  if (state.masqueradeCidr !== undefined) {
    // fully-random: the source port is picked at random, not sequentially, which avoids
    // the conntrack insertion race of concurrent connections (flannel #1004).
    const c = state.masqueradeCidr;
    lines.push(`    ip saddr ${c} ip daddr != ${c} ip daddr != 224.0.0.0/4 masquerade fully-random`);
  }
  for (const n of state.extraNat) {
    if (n.nodeSubnet !== undefined) lines.push(`    ct status dnat ip saddr ${n.nodeSubnet} ip daddr ${n.nodeSubnet} masquerade`);
    if (n.masqueradeCidr !== undefined) {
      const c = n.masqueradeCidr;
      lines.push(`    ip saddr ${c} ip daddr != ${c} ip daddr != 224.0.0.0/4 masquerade fully-random`);
    }
  }
  lines.push('  }');
  const isolation = isolationRules(state.networks, 'ip');
  lines.push(...isolation.declarations, ...isolation.forward);

  if (guard || isolation.input.length > 0) {
    lines.push('  chain input {', '    type filter hook input priority filter; policy accept;');
    // route_localnet on the bridge would also let a neighbour send packets to the node's
    // 127.0.0.1 services (CVE-2020-8558); only replies of connections we made may arrive.
    // The address first: it fails for nearly every packet, and costs less than the name.
    if (guard) lines.push('    ip daddr 127.0.0.0/8 iifname != "lo" ct state != { established, related } drop');
    lines.push(...isolation.input, '  }');
  }
  lines.push('}');
  if (hasIp6Table(state)) lines.push(...ip6Table(table.name, state));
  return `${lines.join('\n')}\n`;
}

/** Whether knit's IPv6 table has anything to hold (ipv6Masquerade, IPv6 port mappings, IPv6 isolation). */
export function hasIp6Table(state: NormalizedState): boolean {
  return state.masquerade6Cidr !== undefined || state.portMappings6.length > 0
    || state.extraNat.some((n) => n.masquerade6Cidr !== undefined)
    || isolationRules(state.networks, 'ip6').forward.length > 0;
}

/**
 * The IPv6 table, `table ip6 <name>`, replaced in the same transaction
 * as the IPv4 one: IPv6 port mappings (the same maps and chains as IPv4,
 * except that ::1 is never DNATed: IPv6 has no route_localnet) with their
 * hairpin, IPv6 outbound NAT (ipv6Masquerade; IPv6 pods usually have
 * routable addresses, so it is off unless the network asks for it), and
 * the isolation between networks' IPv6 CIDRs (render-isolation.ts).
 */
function ip6Table(name: string, state: NormalizedState): string[] {
  const specific = state.portMappings6.filter((m) => m.hostIp !== undefined).map((m) => element(m, true));
  const any = state.portMappings6.filter((m) => m.hostIp === undefined).map((m) => element(m, false));
  const lines = [
    `add table ip6 ${name}`,
    `delete table ip6 ${name}`,
    `table ip6 ${name} {`,
    '  comment "owned by knitd: replaced as a whole on every change, edits are lost"',
  ];
  if (state.portMappings6.length > 0) {
    lines.push(
      ...mapBlock('hostip_ports', 'ipv6_addr . inet_proto . inet_service', specific, 'ipv6_addr'),
      ...mapBlock('any_ports', 'inet_proto . inet_service', any, 'ipv6_addr'),
      // IPv6 has no route_localnet: ::1 is never DNATed.
      ...portmapChains('ip6', '::1'),
    );
  }
  lines.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;');
  if (state.portMappings6.length > 0 && state.nodeSubnet6 !== undefined) {
    lines.push(`    ct status dnat ip6 saddr ${state.nodeSubnet6} ip6 daddr ${state.nodeSubnet6} masquerade`);
  }
  if (state.masquerade6Cidr !== undefined) {
    const c = state.masquerade6Cidr;
    lines.push(`    ip6 saddr ${c} ip6 daddr != ${c} ip6 daddr != ff00::/8 masquerade fully-random`);
  }
  // The named networks' IPv6 hairpin and outbound NAT, as their IPv4 ones in `ip knit`.
  for (const n of state.extraNat) {
    if (state.portMappings6.length > 0 && n.nodeSubnet6 !== undefined) {
      lines.push(`    ct status dnat ip6 saddr ${n.nodeSubnet6} ip6 daddr ${n.nodeSubnet6} masquerade`);
    }
    if (n.masquerade6Cidr !== undefined) {
      const c = n.masquerade6Cidr;
      lines.push(`    ip6 saddr ${c} ip6 daddr != ${c} ip6 daddr != ff00::/8 masquerade fully-random`);
    }
  }
  lines.push('  }');
  const isolation = isolationRules(state.networks, 'ip6');
  lines.push(...isolation.declarations, ...isolation.forward);
  if (isolation.input.length > 0) lines.push('  chain input {', '    type filter hook input priority filter; policy accept;', ...isolation.input, '  }');
  lines.push('}');
  return lines;
}

/** Removes the IPv6 NAT table of knit's table name (when a change turns ipv6Masquerade off, or at removal). */
export function renderRemoveIp6(table: TableId = DEFAULT_TABLE): string {
  return `add table ip6 ${table.name}\ndelete table ip6 ${table.name}\n`;
}

/**
 * Render the complete nft script that replaces knit's table atomically.
 * Throws NftValidationError for an invalid desired state.
 */
export function renderRuleset(desired: NftDesiredState, table: TableId = DEFAULT_TABLE, opts: RenderOptions = {}): string {
  return renderNormalized(normalizeDesired(desired), table, opts);
}

/** The script that removes knit's table, tolerating its absence (one transaction). */
export function renderRemove(table: TableId = DEFAULT_TABLE): string {
  return `add table ${table.family} ${table.name}\ndelete table ${table.family} ${table.name}\n`;
}
