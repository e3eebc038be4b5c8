/**
 * Route verbs: `ip route add/replace/del/show`, IPv4 and IPv6, with gateway,
 * dev, onlink, protocol, table, scope, src, metric and nexthop id.
 *
 * Requests are built the way iproute2 builds them, so the kernel matches the
 * same routes: adds default to protocol boot, type unicast and scope link
 * (no gateway) or universe (gateway); deletes send scope "nowhere" and
 * protocol 0 unless given, which match any. Tables above 255 go in RTA_TABLE.
 */
import { FlagsNew, rt } from 'netlink';
import type { RtConn } from './conn';
import { decodeRoute, RTA_DST, RTA_GATEWAY, RTA_NH_ID, RTA_OIF, RTA_PREFSRC, RTA_PRIORITY, RTA_TABLE } from './decode';
import { addrLen, addrScratch, parseAddr, parseDst, type MessageWriter } from './encode';
import type { WriteKind } from './write-batch';
import { NetlinkInputError } from './errors';
import type { DumpReuse, Route, RouteFilter, RouteScope } from './types';
import { AF_INET, AF_INET6, bufToIp, checkFamily, checkIndex, checkInt, familyNumber } from './validate';

const RTN_UNICAST = 1;
const RTPROT_BOOT = 3;
const RTNH_F_ONLINK = 4;
const RT_TABLE_MAIN = 254;
const RT_TABLE_LOCAL = 255;
const RT_SCOPE_NOWHERE = 255;
const SCOPES: Record<RouteScope, number> = { universe: 0, link: 253, host: 254 };

type Op = 'add' | 'replace' | 'del';

// One route is encoded at a time (single-threaded, nothing awaits in between): the parsed addresses reuse these.
const dstAddr = addrScratch();
const gwAddr = addrScratch();
const srcAddr = addrScratch();

/**
 * The rtmsg and attributes of one route, validated field by field and
 * written into `w` (encode.ts): the same bytes the package's
 * rt.formatRouteMessage produces for the same route (unit test
 * netlink-encode), without its per-attribute buffers.
 */
export function encodeRoute(w: MessageWriter, r: Route, op: Op): void {
  if (!r || typeof r !== 'object') throw new NetlinkInputError('route', r, 'must be an object');
  const dst = parseDst(dstAddr, 'dst', r.dst);
  const table = r.table === undefined ? RT_TABLE_MAIN : checkInt('table', r.table, 1, 0xffffffff);
  const protocol = r.protocol !== undefined ? checkInt('protocol', r.protocol, 0, 255) : op === 'del' ? 0 : RTPROT_BOOT;
  const gw = r.gateway !== undefined ? parseAddr(gwAddr, 'gateway', r.gateway) : undefined;
  if (gw && gw.family !== dst.family) throw new NetlinkInputError('gateway', r.gateway, `family differs from dst ${r.dst}`);
  const oif = r.index !== undefined ? checkIndex('index', r.index) : undefined;
  const src = r.src !== undefined ? parseAddr(srcAddr, 'src', r.src) : undefined;
  if (src && src.family !== dst.family) throw new NetlinkInputError('src', r.src, `family differs from dst ${r.dst}`);
  const metric = r.metric !== undefined ? checkInt('metric', r.metric, 0, 0xffffffff) : undefined;
  const nhid = r.nhid !== undefined ? checkInt('nhid', r.nhid, 1, 0xffffffff) : undefined;
  // the kernel takes the gateway and device from the nexthop object, and rejects a route naming both
  if (nhid !== undefined && op !== 'del' && (r.gateway !== undefined || r.index !== undefined || r.onlink)) {
    throw new NetlinkInputError('nhid', r.nhid, 'a route through a nexthop object has no gateway, index or onlink of its own');
  }
  let scope: number;
  if (r.scope !== undefined) {
    if (!(r.scope in SCOPES)) throw new NetlinkInputError('scope', r.scope, 'must be universe, link or host');
    scope = SCOPES[r.scope];
  } else if (op === 'del') {
    scope = RT_SCOPE_NOWHERE;
  } else {
    // a nexthop object with a gateway refuses a link-scope route (fib_check_nexthop)
    scope = r.gateway === undefined && nhid === undefined ? SCOPES.link : SCOPES.universe;
  }
  if (r.onlink && r.index === undefined) throw new NetlinkInputError('index', r.index, 'an onlink route needs an output device');
  // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (u32)
  w.u8(familyNumber(dst.family));
  w.u8(dst.prefixLen);
  w.u16(0);
  w.u8(table < 256 ? table : 0);
  w.u8(protocol);
  w.u8(scope);
  w.u8(op === 'del' ? 0 : RTN_UNICAST);
  w.u32(r.onlink ? RTNH_F_ONLINK : 0);
  // attributes in the order the package writes them (tables above 255 only fit here)
  w.attrU32(RTA_TABLE, table);
  if (dst.prefixLen > 0) w.attrBytes(RTA_DST, dst.bytes, addrLen(dst));
  if (gw) w.attrBytes(RTA_GATEWAY, gw.bytes, addrLen(gw));
  if (oif !== undefined) w.attrU32(RTA_OIF, oif);
  if (src) w.attrBytes(RTA_PREFSRC, src.bytes, addrLen(src));
  if (metric !== undefined) w.attrU32(RTA_PRIORITY, metric);
  if (nhid !== undefined) w.attrU32(RTA_NH_ID, nhid);
}

function describe(r: Route): string {
  const via = r.gateway ? ` via ${r.gateway}` : r.nhid !== undefined ? ` nhid ${r.nhid}` : '';
  const dev = r.index !== undefined ? ` dev #${r.index}` : '';
  const table = r.table !== undefined && r.table !== RT_TABLE_MAIN ? ` table ${r.table}` : '';
  return `route ${String(r?.dst)}${via}${dev}${table}`;
}

function routeKind(op: Op, type: number, flags: number): WriteKind<Route> {
  return { op: `route ${op}`, type, flags, encode: (w, r) => encodeRoute(w, r, op), describe };
}

const ROUTE_ADD = routeKind('add', rt.MessageType.NEWROUTE, FlagsNew.CREATE | FlagsNew.EXCL);
const ROUTE_REPLACE = routeKind('replace', rt.MessageType.NEWROUTE, FlagsNew.CREATE | FlagsNew.REPLACE);
const ROUTE_DEL = routeKind('del', rt.MessageType.DELROUTE, 0);

/** ip route add DST [via GW] [dev X] [onlink] [proto P] [table T] [scope S] [src IP] [metric M] (EEXIST when present) */
export function routeAdd(c: RtConn, r: Route): Promise<void> {
  return c.write(ROUTE_ADD, r);
}

/** ip route replace DST ... (creates or overwrites the route with the same dst/table/metric) */
export function routeReplace(c: RtConn, r: Route): Promise<void> {
  return c.write(ROUTE_REPLACE, r);
}

/** ip route del DST [via GW] [dev X] [proto P] [table T] ... (ESRCH when absent) */
export function routeDel(c: RtConn, r: Route): Promise<void> {
  return c.write(ROUTE_DEL, r);
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
  if (attrs.nhId && attrs.nhId.length >= 4) {
    // as decodeRoute: a route through a nexthop object is its id alone
    delete route.gateway;
    delete route.index;
    delete route.onlink;
    route.nhid = attrs.nhId.readUInt32LE(0);
  }
  return route;
}

/**
 * ip [-4|-6] route show [table T] [proto P] [dev X]: unicast routes only;
 * table defaults to main, 0 means every table but local.
 */
export async function routeList(c: RtConn, filter: RouteFilter & DumpReuse<Route> = {}): Promise<Route[]> {
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
    out.push(filter.reuse ? filter.reuse(r) : r);
  });
  return out;
}
