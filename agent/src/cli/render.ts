/**
 * How knitctl shows each answer as text. Pure functions of the wire messages
 * (types generated from knit.proto; type imports only, nothing loaded) and
 * the current time, so the tables are unit-tested without a server.
 */
import type { BgpRoute__Output } from '../api/gen/knit/v1/BgpRoute';
import type { BgpSession__Output } from '../api/gen/knit/v1/BgpSession';
import type { Endpoint__Output } from '../api/gen/knit/v1/Endpoint';
import type { ListSubnetsResponse__Output } from '../api/gen/knit/v1/ListSubnetsResponse';
import type { Node__Output } from '../api/gen/knit/v1/Node';
import type { Peer__Output } from '../api/gen/knit/v1/Peer';
import type { SyncState__Output } from '../api/gen/knit/v1/SyncState';
import type { AgentState__Output } from '../api/gen/knit/v1/AgentState';
import type { WatchEvent__Output } from '../api/gen/knit/v1/WatchEvent';
import { age, renderFields, renderTable, type Cell } from './table';

function when(rfc3339: string, now: Date): string {
  if (rfc3339 === '') return '';
  const a = age(rfc3339, now);
  return a.startsWith('in ') ? `${rfc3339} (${a})` : `${rfc3339} (${a} ago)`;
}

function condition(c: { ok: boolean; reasons: string[] } | null | undefined, okText: string, badText: string): string {
  if (c === null || c === undefined) return 'unknown';
  return c.ok ? okText : `${badText}: ${c.reasons.join('; ') || 'no reason given'}`;
}

/** True when `status` should exit 0. */
export function nodeIsHealthy(n: Node__Output): boolean {
  return n.health?.ok === true && n.readiness?.ok === true;
}

export function renderStatus(n: Node__Output, now: Date): string {
  const b = n.backend;
  const backendParts: string[] = [];
  if (b !== null && b !== undefined) {
    if (b.device !== '') backendParts.push(`device ${b.device}`);
    if (b.vni !== 0) backendParts.push(`VNI ${b.vni}`);
    if (b.port !== 0) backendParts.push(`port ${b.port}`);
    if (b.vtepMac !== '') backendParts.push(`VTEP ${b.vtepMac}`);
    if (b.underlayDevice !== '') backendParts.push(`via ${b.underlayDevice}`);
    for (const [k, v] of Object.entries(b.details).sort()) backendParts.push(`${k} ${v}`);
  }
  const backend = b === null || b === undefined ? '' : `${b.type}${backendParts.length > 0 ? ` (${backendParts.join(', ')})` : ''}`;
  const v = n.versions;
  const fields: Array<[string, Cell]> = [
    ['Node', n.name],
    ['Mode', n.mode],
    ['Health', condition(n.health, 'healthy', 'UNHEALTHY')],
    ['Ready', condition(n.readiness, 'ready', 'NOT READY')],
    ['Public IP', both(n.publicIp, n.publicIpv6)],
    ['Subnet', both(n.subnet, n.ipv6Subnet)],
    ['Lease expires', when(n.leaseExpiresAt, now)],
    ['Lease renewed', when(n.leaseRenewedAt, now)],
    ['Cluster CIDR', both(n.clusterCidr, n.ipv6ClusterCidr)],
    ['Backend', backend],
    ['MTU', n.mtu === 0 ? '' : n.mtu],
    ['Bridge', n.bridge],
    ['Masquerade', n.masquerade ? 'on' : 'off'],
    ['Peers', n.mode === 'cluster' ? `${n.peersAlive}/${n.peersTotal} agents alive` : ''],
    ['IPAM', n.ipamTotal === 0 ? '' : `${n.ipamUsed}/${n.ipamTotal} addresses used`],
    ['Errors', `netlink ${netlinkErrors(n.netlinkErrors)}`],
    ['Metrics', n.metricsAddress === '' ? 'off' : `http://${n.metricsAddress}/metrics`],
    ['Started', when(n.startedAt, now)],
    ['Uptime', n.startedAt === '' ? '' : duration(n.uptimeSeconds)],
    ['Versions', v === null || v === undefined ? '' : `knitd ${v.knitd}, node ${v.node}, grpc-js ${v.grpcJs}, api ${v.api}`],
  ];
  return renderFields(fields);
}

function netlinkErrors(byCode: Record<string, number>): string {
  const entries = Object.entries(byCode).sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.length === 0) return '0';
  return `${entries.reduce((n, [, c]) => n + Number(c), 0)} (${entries.map(([k, c]) => `${k} ${c}`).join(', ')})`;
}

const AGENT_TEXT: Record<AgentState__Output, string> = {
  AGENT_STATE_UNSPECIFIED: '-',
  AGENT_STATE_ALIVE: 'alive',
  AGENT_STATE_DOWN: 'DOWN',
  AGENT_STATE_UNKNOWN: 'unknown',
};

/** "alive 5m", "DOWN 12s" (for how long), "DOWN" (since before we looked), "unknown". */
export function agentText(state: AgentState__Output, since: string, now: Date): string {
  const t = AGENT_TEXT[state];
  return since === '' || state === 'AGENT_STATE_UNKNOWN' ? t : `${t} ${age(since, now)}`;
}

/** An IPv4 value and its IPv6 twin in one cell ("10.244.1.0/24,fd00:10:244:1::/64"); just the first on an IPv4-only node. */
function both(v4: string, v6: string | undefined): string {
  return v6 === undefined || v6 === '' ? v4 : v4 === '' ? v6 : `${v4},${v6}`;
}

export function renderSubnets(r: ListSubnetsResponse__Output, now: Date): string {
  const rows = r.leases.map((l): Cell[] => [
    both(l.subnet, l.ipv6Subnet),
    l.nodeName + (l.own ? ' (this node)' : ''),
    both(l.publicIp, l.publicIpv6),
    l.backendType,
    Object.entries(l.backendData).sort().map(([k, v]) => `${k}=${v}`).join(','),
    l.expiresAt === '' ? '' : age(l.expiresAt, now),
    l.renewedAt === '' ? '' : `${age(l.renewedAt, now)} ago`,
  ]);
  let out = renderTable(['subnet', 'node', 'public-ip', 'backend', 'backend-data', 'expires', 'renewed'], rows);
  if (r.invalidSkipped > 0) out += `\n${r.invalidSkipped} invalid lease entr${r.invalidSkipped === 1 ? 'y' : 'ies'} in etcd skipped (see knitd's log)\n`;
  return out;
}

const SYNC_TEXT: Record<SyncState__Output, string> = {
  SYNC_STATE_UNSPECIFIED: 'unknown',
  SYNC_STATE_IN_SYNC: 'in-sync',
  SYNC_STATE_MISSING: 'MISSING',
  SYNC_STATE_DIFFERS: 'DIFFERS',
  SYNC_STATE_STALE: 'STALE',
};

function ratio(objs: Array<{ state: SyncState__Output }>): string {
  if (objs.length === 0) return '-';
  return `${objs.filter((o) => o.state === 'SYNC_STATE_IN_SYNC').length}/${objs.length}`;
}

/**
 * One row per peer: its agent (alive or DOWN, for how long), the last change
 * this node saw, and whether its kernel objects are programmed and match.
 */
export function renderPeers(peers: Peer__Output[], now: Date): string {
  const rows = peers.map((p): Cell[] => [
    p.nodeName, both(p.subnet, p.ipv6Subnet), both(p.publicIp, p.publicIpv6), p.backendType, agentText(p.agent, p.agentSince, now),
    p.lastChangeAt === '' ? '-' : `${age(p.lastChangeAt, now)} ago`,
    ratio(p.routes), ratio(p.nexthops), ratio(p.neighbours), ratio(p.fdbEntries), p.inSync ? 'yes' : 'NO',
  ]);
  return renderTable(['node', 'subnet', 'public-ip', 'backend', 'agent', 'changed', 'routes', 'nexthops', 'neighbours', 'fdb', 'in-sync'], rows);
}

/** Every kernel object of every peer, one per line. */
export function renderRoutes(peers: Peer__Output[]): string {
  const rows: Cell[][] = [];
  for (const p of peers) {
    for (const r of p.routes) {
      const via = r.nhid !== 0 ? `nhid ${r.nhid}` : r.gateway === '' ? '' : `via ${r.gateway}${r.onlink ? ' onlink' : ''}`;
      // a route through a nexthop has no device of its own: the nexthop's line names it
      rows.push([p.nodeName, 'route', r.destination, via, r.nhid !== 0 && r.device === '' ? '-' : r.device, SYNC_TEXT[r.state], r.detail]);
    }
    for (const n of p.nexthops) {
      rows.push([p.nodeName, 'nexthop', `id ${n.id}`, `via ${n.gateway}${n.onlink ? ' onlink' : ''}`, n.device, SYNC_TEXT[n.state], n.detail]);
    }
    for (const n of p.neighbours) rows.push([p.nodeName, 'neighbour', n.ip, `lladdr ${n.mac}`, n.device, SYNC_TEXT[n.state], n.detail]);
    for (const f of p.fdbEntries) rows.push([p.nodeName, 'fdb', f.mac, `dst ${f.destination}`, f.device, SYNC_TEXT[f.state], f.detail]);
  }
  return renderTable(['peer', 'kind', 'destination', 'via', 'device', 'state', 'detail'], rows.map((r) => r.map((c, i) => (i === 6 && c === '' ? '-' : c))));
}

function ports(e: Endpoint__Output): string {
  return e.portMappings.map((m) => `${m.hostIp !== '' ? `${m.hostIp}:` : ''}${m.hostPort}->${m.containerPort}/${m.protocol}`).join(',');
}

export function renderEndpoints(eps: Endpoint__Output[], now: Date): string {
  const rows = eps.map((e): Cell[] => [
    e.containerId.length > 12 ? e.containerId.slice(0, 12) : e.containerId,
    e.ifname, both(e.address, e.ipv6Address), e.mac, e.hostVeth, ports(e) || '-', e.netns, age(e.createdAt, now),
  ]);
  return renderTable(['container', 'ifname', 'address', 'mac', 'host-veth', 'ports', 'netns', 'age'], rows);
}

function duration(s: number): string {
  return s === 0 ? '0s' : age(new Date(0).toISOString(), new Date(s * 1000));
}

export function renderBgpSessions(sessions: BgpSession__Output[]): string {
  const rows = sessions.map((s): Cell[] => [
    s.peerAddress, s.peerAsn, s.localAsn, s.state, duration(s.uptimeSeconds), s.prefixesSent, s.prefixesReceived,
    s.prefixesAccepted, rejectedCell(s.prefixesRejected), s.maxPrefixHits, s.lastError || '-',
  ]);
  return renderTable(['peer', 'peer-asn', 'local-asn', 'state', 'since', 'sent', 'received', 'accepted', 'rejected', 'max-prefix-hits', 'last-error'], rows);
}

/** "3 (next-hop 2, filter 1)", or 0: refused prefixes by reason, largest first. */
function rejectedCell(byReason: Record<string, number> | undefined): string | number {
  const entries = Object.entries(byReason ?? {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = entries.reduce((n, [, c]) => n + c, 0);
  return total === 0 ? 0 : `${total} (${entries.map(([r, n]) => `${r} ${n}`).join(', ')})`;
}

export function renderBgpRoutes(routes: BgpRoute__Output[]): string {
  const rows = routes.map((r): Cell[] => [r.prefix, r.nextHop, r.peerAddress, r.asPath.join(' ') || '-', r.installed]);
  return renderTable(['prefix', 'next-hop', 'peer', 'as-path', 'installed'], rows);
}

const CHANGE_TEXT: Record<string, string> = {
  CHANGE_TYPE_ADDED: 'added',
  CHANGE_TYPE_UPDATED: 'updated',
  CHANGE_TYPE_REMOVED: 'removed',
  CHANGE_TYPE_UNSPECIFIED: 'changed',
};

/** One line per Watch event: time, kind, change, what. */
export function renderWatchEvent(ev: WatchEvent__Output): string {
  const t = ev.time === '' ? '' : ev.time.slice(11, 23);
  let body: string;
  if (ev.snapshot) {
    const s = ev.snapshot;
    body = `snapshot   node ${s.node?.name ?? '?'} subnet ${s.node?.subnet || '<none>'}: ${s.leases.length} leases, ${s.peers.length} peers, ` +
      `${s.endpoints.length} endpoints, ${s.bgpSessions.length} BGP sessions${s.networks.length > 0 ? `, ${s.networks.length} networks` : ''}${s.policies.length > 0 ? `, ${s.policies.length} policies` : ''}`;
  } else if (ev.subnet) {
    const l = ev.subnet.lease;
    body = `subnet     ${CHANGE_TEXT[ev.subnet.change]} ${both(l?.subnet ?? '', l?.ipv6Subnet)}${l?.nodeName ? ` node ${l.nodeName}` : ''}${l?.publicIp ? ` ${l.publicIp}` : ''}`;
  } else if (ev.peer) {
    const p = ev.peer.peer;
    body = `peer       ${CHANGE_TEXT[ev.peer.change]} ${p?.nodeName ?? ''} ${p?.subnet ?? ''}${ev.peer.change === 'CHANGE_TYPE_REMOVED' ? '' : p?.inSync ? ' in-sync' : ' NOT in sync'}`;
  } else if (ev.endpoint) {
    const e = ev.endpoint.endpoint;
    body = `endpoint   ${CHANGE_TEXT[ev.endpoint.change]} ${e?.containerId ?? ''} ${e?.ifname ?? ''}${e?.address ? ` ${both(e.address, e.ipv6Address)}` : ''}`;
  } else if (ev.bgpSession) {
    const s = ev.bgpSession.session;
    body = `bgp        ${CHANGE_TEXT[ev.bgpSession.change]} ${s?.peerAddress ?? ''} ${s?.state ?? ''}`;
  } else if (ev.peerLiveness) {
    const l = ev.peerLiveness;
    const word = l.agent === 'AGENT_STATE_ALIVE' ? 'peer-alive' : l.agent === 'AGENT_STATE_DOWN' ? 'peer-down' : 'peer-agent';
    body = `${word.padEnd(10)} ${l.nodeName} ${l.subnet}`;
  } else if (ev.network) {
    body = `network    ${CHANGE_TEXT[ev.network.change]} ${ev.network.network?.name ?? ''}`;
  } else if (ev.policy) {
    const p = ev.policy.policy;
    body = `policy     ${CHANGE_TEXT[ev.policy.change]} ${p?.network ?? ''}/${p?.name ?? ''}`;
  } else if (ev.node) {
    const n = ev.node.node;
    body = `node       ${n?.name ?? ''} ${condition(n?.health, 'healthy', 'UNHEALTHY')}, ${condition(n?.readiness, 'ready', 'NOT READY')}`;
  } else {
    body = 'unknown event (newer knitd?)';
  }
  return `${t}  ${body.trimEnd()}\n`;
}

/** Whether a peer needs a look: its agent is down or unknown, or its kernel objects do not match. */
function peerTrouble(p: Peer__Output): boolean {
  return !p.inSync || p.agent === 'AGENT_STATE_DOWN' || p.agent === 'AGENT_STATE_UNKNOWN';
}

/**
 * One frame of `knitctl top`: this node in two lines, a one-line verdict
 * over all peers, then the peers with the ones that need a look first. What
 * an operator woken at 3 a.m. asks first: is this node fine, which peers are
 * down or drifting, since when.
 */
export function renderTop(n: Node__Output, peers: Peer__Output[], endpoints: number, now: Date): string {
  const lease = n.leaseExpiresAt === '' ? 'no lease' : `lease ${n.subnet} expires in ${age(n.leaseExpiresAt, now).replace(/^in /, '')}, renewed ${age(n.leaseRenewedAt, now)} ago`;
  const down = peers.filter((p) => p.agent === 'AGENT_STATE_DOWN').length;
  const unknown = peers.filter((p) => p.agent === 'AGENT_STATE_UNKNOWN').length;
  const drift = peers.filter((p) => !p.inSync).length;
  const verdict = [
    `${peers.length} peer${peers.length === 1 ? '' : 's'}: ${peers.length - down - unknown} alive`,
    ...(down > 0 ? [`${down} DOWN`] : []),
    ...(unknown > 0 ? [`${unknown} unknown`] : []),
    drift > 0 ? `${drift} NOT in sync` : 'all in sync',
  ].join(', ');
  const sorted = [...peers].sort((a, b) => Number(peerTrouble(b)) - Number(peerTrouble(a)) || (a.nodeName < b.nodeName ? -1 : a.nodeName > b.nodeName ? 1 : 0));
  const head = [
    `knit top — ${n.name} (${n.mode}, ${n.backend?.type ?? '?'}), ${now.toISOString().slice(11, 19)} UTC`,
    `${condition(n.health, 'healthy', 'UNHEALTHY')}, ${condition(n.readiness, 'ready', 'NOT READY')}; ${lease}; ` +
      `${endpoints} endpoint${endpoints === 1 ? '' : 's'}; IPAM ${n.ipamUsed}/${n.ipamTotal}; netlink errors ${netlinkErrors(n.netlinkErrors)}`,
    verdict,
    '',
  ];
  return head.join('\n') + '\n' + renderPeers(sorted, now);
}
