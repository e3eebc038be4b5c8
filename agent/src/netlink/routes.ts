/**
 * Route verbs: `ip route add/replace/del/show`, IPv4 and IPv6, with gateway,
 * dev, onlink, protocol, table, scope, src and metric.
 *
 * Requests are built the way iproute2 builds them, so the kernel matches the
 * same routes: adds default to protocol boot, type unicast and scope link
 * (no gateway) or universe (gateway); deletes send scope "nowhere" and
 * protocol 0 unless given, which match any. Tables above 255 go in RTA_TABLE.
 */
import { FlagsNew, rt } from 'netlink';
import type { RtConn } from './conn';
import { decodeRoute } from './decode';
import type { BatchedWrite } from './write-batch';
import { NetlinkInputError } from './errors';
import type { Route, RouteFilter, RouteScope } from './types';
import {
  AF_INET, AF_INET6, bufToIp, checkFamily, checkIndex, checkInt, familyNumber, parseCidr, parseIp,
} from './validate';

const RTN_UNICAST = 1;
const RTPROT_BOOT = 3;
const RTNH_F_ONLINK = 4;
const RT_TABLE_MAIN = 254;
const RT_TABLE_LOCAL = 255;
const RT_SCOPE_NOWHERE = 255;
const SCOPES: Record<RouteScope, number> = { universe: 0, link: 253, host: 254 };

type Op = 'add' | 'replace' | 'del';

/** Build the rtmsg + attributes for one route; validates every field. */
export function routeMessage(r: Route, op: Op): { data: rt.Route; attrs: rt.RouteAttrs } {
  if (!r || typeof r !== 'object') throw new NetlinkInputError('route', r, 'must be an object');
  const dst = parseCidr('dst', r.dst, { network: true });
  const table = r.table === undefined ? RT_TABLE_MAIN : checkInt('table', r.table, 1, 0xffffffff);
  const data: rt.Route = {
    family: familyNumber(dst.family),
    dstLen: dst.prefixLen,
    table: table < 256 ? table : 0,
    type: op === 'del' ? 0 : RTN_UNICAST,
    protocol: r.protocol !== undefined ? checkInt('protocol', r.protocol, 0, 255) : op === 'del' ? 0 : RTPROT_BOOT,
  };
  const attrs: rt.RouteAttrs = { table };
  if (dst.prefixLen > 0) attrs.dst = dst.bytes;
  if (r.gateway !== undefined) {
    const gw = parseIp('gateway', r.gateway);
    if (gw.family !== dst.family) throw new NetlinkInputError('gateway', r.gateway, `family differs from dst ${r.dst}`);
    attrs.gateway = gw.bytes;
  }
  if (r.index !== undefined) attrs.oif = checkIndex('index', r.index);
  if (r.src !== undefined) {
    const src = parseIp('src', r.src);
    if (src.family !== dst.family) throw new NetlinkInputError('src', r.src, `family differs from dst ${r.dst}`);
    attrs.prefsrc = src.bytes;
  }
  if (r.metric !== undefined) attrs.priority = checkInt('metric', r.metric, 0, 0xffffffff);
  if (r.scope !== undefined) {
    if (!(r.scope in SCOPES)) throw new NetlinkInputError('scope', r.scope, 'must be universe, link or host');
    data.scope = SCOPES[r.scope];
  } else if (op === 'del') {
    data.scope = RT_SCOPE_NOWHERE;
  } else {
    data.scope = r.gateway === undefined ? SCOPES.link : SCOPES.universe;
  }
  if (r.onlink) {
    if (r.index === undefined) throw new NetlinkInputError('index', r.index, 'an onlink route needs an output device');
    data.flags = { __unknown: RTNH_F_ONLINK };
  }
  return { data, attrs };
}

/** One route request for the write batcher (conn.ts): the body as the package's newRoute/delRoute would send it. */
function routeWrite(type: number, m: { data: rt.Route; attrs: rt.RouteAttrs }, flags: number): BatchedWrite {
  return { type, flags, body: (st) => rt.formatRouteMessage({ kind: 'route', data: m.data, attrs: m.attrs }, st) };
}

function describe(r: Route): string {
  const via = r.gateway ? ` via ${r.gateway}` : '';
  const dev = r.index !== undefined ? ` dev #${r.index}` : '';
  const table = r.table !== undefined && r.table !== RT_TABLE_MAIN ? ` table ${r.table}` : '';
  return `route ${String(r?.dst)}${via}${dev}${table}`;
}

/** ip route add DST [via GW] [dev X] [onlink] [proto P] [table T] [scope S] [src IP] [metric M] (EEXIST when present) */
export async function routeAdd(c: RtConn, r: Route): Promise<void> {
  await c.write('route add', describe(r), routeWrite(rt.MessageType.NEWROUTE, routeMessage(r, 'add'), FlagsNew.CREATE | FlagsNew.EXCL));
}

/** ip route replace DST ... (creates or overwrites the route with the same dst/table/metric) */
export async function routeReplace(c: RtConn, r: Route): Promise<void> {
  await c.write('route replace', describe(r), routeWrite(rt.MessageType.NEWROUTE, routeMessage(r, 'replace'), FlagsNew.CREATE | FlagsNew.REPLACE));
}

/** ip route del DST [via GW] [dev X] [proto P] [table T] ... (ESRCH when absent) */
export async function routeDel(c: RtConn, r: Route): Promise<void> {
  await c.write('route del', describe(r), routeWrite(rt.MessageType.DELROUTE, routeMessage(r, 'del'), 0));
}

const SCOPE_NAMES = new Map<number, RouteScope>([[0, 'universe'], [253, 'link'], [254, 'host']]);

/** Decode one RTM_NEWROUTE message; undefined for non-unicast routes. */
export function routeFromMessage(m: rt.RouteMessage): Route | undefined {
  const { data, attrs } = m;
  const type = typeof data.type === 'string' ? rt.RouteType[data.type] : data.type;
  if (type !== RTN_UNICAST) return undefined;
  const v4 = data.family === AF_INET;
  if (!v4 && data.family !== AF_INET6) return undefined;
  const dst = attrs.dst ? bufToIp(attrs.dst) : v4 ? '0.0.0.0' : '::';
  const route: Route = { dst: `${dst}/${data.dstLen ?? 0}`, table: attrs.table ?? data.table };
  if (attrs.gateway) route.gateway = bufToIp(attrs.gateway);
  if (attrs.oif) route.index = attrs.oif;
  const flags = data.flags ? rt.formatRouteFlags(data.flags) : 0;
  if (flags & RTNH_F_ONLINK) route.onlink = true;
  route.protocol = typeof data.protocol === 'string' ? rt.RouteProtocol[data.protocol] : data.protocol;
  const scope = typeof data.scope === 'string' ? rt.RouteScope[data.scope] : data.scope;
  const scopeName = SCOPE_NAMES.get(scope ?? 0);
  if (scopeName) route.scope = scopeName;
  if (attrs.prefsrc) route.src = bufToIp(attrs.prefsrc);
  route.metric = attrs.priority ?? 0;
  return route;
}

/**
 * ip [-4|-6] route show [table T] [proto P] [dev X]: unicast routes only;
 * table defaults to main, 0 means every table but local.
 */
export async function routeList(c: RtConn, filter: RouteFilter = {}): Promise<Route[]> {
  const family = checkFamily('family', filter.family);
  const table = filter.table === undefined ? RT_TABLE_MAIN : checkInt('table', filter.table, 0, 0xffffffff);
  if (filter.protocol !== undefined) checkInt('protocol', filter.protocol, 0, 255);
  if (filter.index !== undefined) checkIndex('index', filter.index);
  // rtmsg with only the family set: every route of that family (0: both)
  const req = Buffer.alloc(12);
  req[0] = family ? familyNumber(family) : 0;
  const out: Route[] = [];
  await c.rawDump('route list', `routes${table ? ` table ${table}` : ''}`, rt.MessageType.GETROUTE, req, (type, buf, start, end) => {
    if (type !== rt.MessageType.NEWROUTE) return;
    const r = decodeRoute(buf, start, end);
    if (!r) return;
    if (table ? r.table !== table : r.table === RT_TABLE_LOCAL) return;
    if (filter.protocol !== undefined && r.protocol !== filter.protocol) return;
    if (filter.index !== undefined && r.index !== filter.index) return;
    out.push(r);
  });
  return out;
}
