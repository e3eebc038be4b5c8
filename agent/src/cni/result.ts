/**
 * The ADD result: one internal shape for every spec version, a formatter
 * that writes exactly the JSON a given version defines, and a parser that
 * reads a `prevResult` of any supported version back into the internal shape.
 *
 * What differs between versions (SPEC.md "Result", per tag):
 *   0.3.0, 0.3.1, 0.4.0  ips[] carry `version` ("4"/"6"); interfaces are
 *                        {name, mac, sandbox}; routes are {dst, gw}
 *   1.0.0                `version` removed from ips[]; otherwise the same
 *   1.1.0                interfaces may carry mtu, socketPath, pciID; routes
 *                        may carry mtu, advmss, priority, table, scope
 * Fields a version does not define are dropped when formatting for it.
 * The 0.3.0 spec text still calls the list `ip`, but libcni (the reference
 * every runtime uses) reads and writes `ips` for 0.3.0, so knit does too and
 * accepts `ip` only when reading an old prevResult.
 */
import type { CniVersion } from './version';
import { isSupportedVersion, resultFamily } from './version';
import { CniError, CniErrorCode } from './errors';
import { at, cidrFamily, expectArray, expectObject, invalid, optInt, optIp, optString, optStringList, reqCidr, reqString } from './fields';
import type { JsonObject } from './fields';

/** An interface created by the attachment (container side or host side). */
export interface ResultInterface {
  name: string;
  mac?: string;
  /** netns path for container interfaces; absent for host interfaces */
  sandbox?: string;
  /** 1.1.0+ */
  mtu?: number;
  /** 1.1.0+ */
  socketPath?: string;
  /** 1.1.0+ */
  pciID?: string;
}

/** An address assigned by the attachment. */
export interface ResultIp {
  /** address with prefix length, e.g. "10.244.1.5/24" */
  address: string;
  gateway?: string;
  /** index into `interfaces` */
  interface?: number;
}

/** A route created by the attachment. */
export interface ResultRoute {
  dst: string;
  gw?: string;
  /** 1.1.0+ */
  mtu?: number;
  /** 1.1.0+ */
  advmss?: number;
  /** 1.1.0+ */
  priority?: number;
  /** 1.1.0+ */
  table?: number;
  /** 1.1.0+: 0 global, 253 link, 254 host */
  scope?: number;
}

/** DNS settings, as given in the network configuration or a previous result. */
export interface ResultDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** knit's version-independent ADD result. */
export interface InternalResult {
  interfaces: ResultInterface[];
  ips: ResultIp[];
  routes: ResultRoute[];
  dns: ResultDns;
}

/** A result as printed for one spec version (a plain JSON object). */
export type FormattedResult = Record<string, unknown>;

/** Copies the listed keys of `src` that are defined, in the listed order. */
function pick<T extends object>(src: T, keys: readonly (keyof T)[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) if (src[k] !== undefined) out[k as string] = src[k];
  return out;
}

/** "4" or "6" for an address in CIDR notation (0.x results need it). */
function ipVersionOf(address: string): '4' | '6' {
  return cidrFamily(address) === 6 ? '6' : '4';
}

/**
 * The result JSON of `cniVersion`: `cniVersion` first, then interfaces, ips,
 * routes, dns; empty lists, an empty dns and undefined fields are omitted.
 */
export function formatResult(r: InternalResult, cniVersion: CniVersion): FormattedResult {
  const family = resultFamily(cniVersion);
  const ifaceKeys: (keyof ResultInterface)[] = family === '1.1' ? ['name', 'mac', 'mtu', 'sandbox', 'socketPath', 'pciID'] : ['name', 'mac', 'sandbox'];
  const routeKeys: (keyof ResultRoute)[] = family === '1.1' ? ['dst', 'gw', 'mtu', 'advmss', 'priority', 'table', 'scope'] : ['dst', 'gw'];
  const out: FormattedResult = { cniVersion };
  if (r.interfaces.length > 0) out.interfaces = r.interfaces.map((i) => pick(i, ifaceKeys));
  if (r.ips.length > 0) {
    out.ips = r.ips.map((ip) => (family === '0.x' ? { version: ipVersionOf(ip.address), ...pick(ip, ['address', 'gateway', 'interface']) } : pick(ip, ['address', 'gateway', 'interface'])));
  }
  if (r.routes.length > 0) out.routes = r.routes.map((rt) => pick(rt, routeKeys));
  const dns = pick(r.dns, ['nameservers', 'domain', 'search', 'options']);
  if (Object.keys(dns).length > 0) out.dns = dns;
  return out;
}

const UINT32 = 0xffffffff;

/**
 * Reads a result of any supported version (typically `prevResult`) into the
 * internal shape. Throws CniError code 7 naming the bad field, or code 1 when
 * the result declares a version knit does not read.
 */
export function parseResult(v: unknown, path = 'prevResult'): InternalResult {
  const o = expectObject(v, path);
  if (o.cniVersion !== undefined && !isSupportedVersion(o.cniVersion)) {
    throw new CniError(CniErrorCode.IncompatibleVersion, `incompatible CNI version ${JSON.stringify(o.cniVersion)} in ${path}`);
  }
  const interfaces = (o.interfaces === undefined ? [] : expectArray(o.interfaces, at(path, 'interfaces'))).map((x, i) => parseInterface(x, at(at(path, 'interfaces'), i)));
  const ipsKey = o.ips === undefined && o.ip !== undefined ? 'ip' : 'ips';
  const ips = (o[ipsKey] === undefined ? [] : expectArray(o[ipsKey], at(path, ipsKey))).map((x, i) => parseIp(x, at(at(path, ipsKey), i), interfaces.length));
  const routes = (o.routes === undefined ? [] : expectArray(o.routes, at(path, 'routes'))).map((x, i) => parseRoute(x, at(at(path, 'routes'), i)));
  const dns = o.dns === undefined ? {} : parseDns(o.dns, at(path, 'dns'));
  return { interfaces, ips, routes, dns };
}

function parseInterface(v: unknown, path: string): ResultInterface {
  const o = expectObject(v, path);
  const out: ResultInterface = { name: reqString(o, 'name', path) };
  const mac = optString(o, 'mac', path);
  if (mac !== undefined && mac !== '') {
    if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*$/.test(mac)) throw invalid(at(path, 'mac'), 'must be a hardware address like 0a:58:0a:f4:01:05', mac);
    out.mac = mac;
  }
  const sandbox = optString(o, 'sandbox', path);
  if (sandbox !== undefined && sandbox !== '') out.sandbox = sandbox;
  const mtu = optInt(o, 'mtu', path, 0, UINT32);
  if (mtu !== undefined) out.mtu = mtu;
  const socketPath = optString(o, 'socketPath', path);
  if (socketPath !== undefined && socketPath !== '') out.socketPath = socketPath;
  const pciID = optString(o, 'pciID', path);
  if (pciID !== undefined && pciID !== '') out.pciID = pciID;
  return out;
}

function parseIp(v: unknown, path: string, interfaceCount: number): ResultIp {
  const o = expectObject(v, path);
  const out: ResultIp = { address: reqCidr(o, 'address', path) };
  if (o.version !== undefined && o.version !== ipVersionOf(out.address)) {
    throw invalid(at(path, 'version'), `must be "${ipVersionOf(out.address)}" for ${out.address}`, o.version);
  }
  const gateway = optIp(o, 'gateway', path);
  if (gateway !== undefined) out.gateway = gateway;
  // An IPAM-style result has no interfaces; an index then points nowhere.
  const index = optInt(o, 'interface', path, 0, UINT32);
  if (index !== undefined) {
    if (index >= interfaceCount) throw invalid(at(path, 'interface'), `must index the ${interfaceCount} interface(s) listed`, index);
    out.interface = index;
  }
  return out;
}

function parseRoute(v: unknown, path: string): ResultRoute {
  const o = expectObject(v, path);
  const out: ResultRoute = { dst: reqCidr(o, 'dst', path) };
  const gw = optIp(o, 'gw', path);
  if (gw !== undefined) out.gw = gw;
  for (const key of ['mtu', 'advmss', 'priority', 'table'] as const) {
    const n = optInt(o, key, path, 0, UINT32);
    if (n !== undefined) out[key] = n;
  }
  const scope = optInt(o, 'scope', path, 0, 255);
  if (scope !== undefined) out.scope = scope;
  return out;
}

/** Reads a dns dictionary (shared with the network configuration's `dns`). */
export function parseDns(v: unknown, path: string): ResultDns {
  const o = expectObject(v, path);
  const out: ResultDns = {};
  const nameservers = optStringList(o, 'nameservers', path);
  if (nameservers !== undefined) out.nameservers = nameservers;
  const domain = optString(o, 'domain', path);
  if (domain !== undefined) out.domain = domain;
  const search = optStringList(o, 'search', path);
  if (search !== undefined) out.search = search;
  const options = optStringList(o, 'options', path);
  if (options !== undefined) out.options = options;
  return out;
}

/** An empty result, for handlers that build one up. */
export function emptyResult(): InternalResult {
  return { interfaces: [], ips: [], routes: [], dns: {} };
}
