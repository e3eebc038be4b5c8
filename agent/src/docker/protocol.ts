/**
 * libnetwork's remote network driver and IPAM driver protocol, as knit
 * speaks it: the request shapes dockerd POSTs (validated here: everything
 * from the socket is untrusted), and the answers. Pure: no sockets, no state.
 *
 * Every call is `POST /<Interface>.<Method>` with a JSON body; the answer is
 * JSON with content type application/vnd.docker.plugins.v1+json; a failure is
 * `{"Err": "…"}` (dockerd shows the text to the user).
 */
import type { PortMapping } from '../records';
import { errorMessage } from '../base';
import { parseLabels } from '../policy';
import { formatIp, parseIp } from '../net/ip';

/** The content type dockerd expects on every plugin answer. */
export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';

/** A request that does not have the shape the protocol promises. */
export class PluginRequestError extends Error {
  override name = 'PluginRequestError';
}

type Obj = Record<string, unknown>;

function asObject(v: unknown, what: string): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new PluginRequestError(`${what}: expected a JSON object, got ${JSON.stringify(v)}`);
  return v as Obj;
}

/** A required non-empty string field of at most 256 characters (IDs are 64 hex digits). */
export function reqString(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '' || v.length > 256) throw new PluginRequestError(`${what}: field ${key} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function optString(o: Obj, key: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > 4096) throw new PluginRequestError(`${what}: field ${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Parses a request body ("" and "null" are an empty object, as dockerd sends for Activate). */
export function parseBody(text: string, what: string): Obj {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new PluginRequestError(`${what}: body is not JSON: ${errorMessage(err)}`);
  }
  return asObject(v, what);
}

/** IpamDriver.RequestPool. */
export interface RequestPool {
  pool?: string;
  v6: boolean;
  /** --ipam-opt key=value pairs */
  options: Record<string, string>;
}

export function parseRequestPool(o: Obj): RequestPool {
  const what = 'IpamDriver.RequestPool';
  const options: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObject(o.Options, `${what} Options`))) {
    if (typeof v === 'string') options[k] = v;
  }
  const pool = optString(o, 'Pool', what);
  return { ...(pool !== undefined ? { pool } : {}), v6: o.V6 === true, options };
}

/** IpamDriver.RequestAddress. */
export interface RequestAddress {
  poolId: string;
  address?: string;
  /** The gateway of the pool is asked for, not a container address. */
  gateway: boolean;
}

/** The option dockerd sets when it asks for a pool's gateway address. */
export const GATEWAY_REQUEST = 'com.docker.network.gateway';

export function parseRequestAddress(o: Obj): RequestAddress {
  const what = 'IpamDriver.RequestAddress';
  const options = asObject(o.Options, `${what} Options`);
  const address = optString(o, 'Address', what);
  return { poolId: reqString(o, 'PoolID', what), ...(address !== undefined ? { address } : {}), gateway: options.RequestAddressType === GATEWAY_REQUEST };
}

/** IpamDriver.ReleaseAddress. */
export function parseReleaseAddress(o: Obj): { poolId: string; address: string } {
  const what = 'IpamDriver.ReleaseAddress';
  return { poolId: reqString(o, 'PoolID', what), address: reqString(o, 'Address', what) };
}

/** NetworkDriver.CreateNetwork: what knit needs of it. */
export interface CreateNetwork {
  networkId: string;
  /** The first IPv4 pool's CIDR and gateway, as IPAM gave them. */
  pool?: string;
  gateway?: string;
  /** -o key=value driver options */
  driverOptions: Record<string, string>;
}

export function parseCreateNetwork(o: Obj): CreateNetwork {
  const what = 'NetworkDriver.CreateNetwork';
  const data = o.IPv4Data;
  const first = Array.isArray(data) && data.length > 0 ? asObject(data[0], `${what} IPv4Data[0]`) : {};
  const driverOptions: Record<string, string> = {};
  const generic = asObject(asObject(o.Options, `${what} Options`)['com.docker.network.generic'], `${what} generic options`);
  for (const [k, v] of Object.entries(generic)) if (typeof v === 'string') driverOptions[k] = v;
  const pool = optString(first, 'Pool', what);
  const gateway = optString(first, 'Gateway', what);
  return {
    networkId: reqString(o, 'NetworkID', what), driverOptions,
    ...(pool !== undefined ? { pool } : {}), ...(gateway !== undefined ? { gateway } : {}),
  };
}

/** NetworkDriver.CreateEndpoint. */
export interface CreateEndpoint {
  networkId: string;
  endpointId: string;
  /** "10.50.3.7/24" as IPAM gave it */
  address?: string;
  /** --ipv6 networks: "fd00:50:0:3::7/64" as IPAM gave it */
  address6?: string;
  mac?: string;
  /** The endpoint's policy labels: its driver options `knit.label.<key>=<value>` (docs/policy.md). */
  labels: Record<string, string>;
  /** The names of every option dockerd sent (logged, so what Docker passes can be seen). */
  optionKeys: string[];
}

/**
 * The prefix of an endpoint driver option that is a policy label: dockerd
 * passes an endpoint's driver options (`docker network connect --driver-opt`,
 * the Engine API's EndpointsConfig.DriverOpts) as top-level keys of
 * CreateEndpoint's Options, next to its own (com.docker.network.*).
 */
export const LABEL_OPTION_PREFIX = 'knit.label.';

export function parseCreateEndpoint(o: Obj): CreateEndpoint {
  const what = 'NetworkDriver.CreateEndpoint';
  const iface = asObject(o.Interface, `${what} Interface`);
  const address = optString(iface, 'Address', what);
  // dockerd sends "" when the network has no IPv6 (optString: absent).
  const address6 = optString(iface, 'AddressIPv6', what);
  const mac = optString(iface, 'MacAddress', what);
  const options = asObject(o.Options, `${what} Options`);
  const labels: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (!k.startsWith(LABEL_OPTION_PREFIX)) continue;
    if (typeof v !== 'string') throw new PluginRequestError(`${what}: driver option ${k} must be a string, got ${JSON.stringify(v)}`);
    labels[k.slice(LABEL_OPTION_PREFIX.length)] = v;
  }
  let parsed: Record<string, string>;
  try {
    parsed = parseLabels(labels, 'driver options knit.label');
  } catch (err) {
    throw new PluginRequestError(`${what}: ${errorMessage(err)}`);
  }
  return {
    networkId: reqString(o, 'NetworkID', what), endpointId: reqString(o, 'EndpointID', what),
    ...(address !== undefined ? { address } : {}), ...(address6 !== undefined ? { address6 } : {}), ...(mac !== undefined ? { mac } : {}),
    labels: parsed, optionKeys: Object.keys(options).slice(0, 64),
  };
}

/** The (NetworkID, EndpointID) pair most calls carry. */
export function parseEndpointRef(o: Obj, what: string): { networkId: string; endpointId: string } {
  return { networkId: reqString(o, 'NetworkID', what), endpointId: reqString(o, 'EndpointID', what) };
}

/** NetworkDriver.Join. */
export function parseJoin(o: Obj): { networkId: string; endpointId: string; sandboxKey: string } {
  const what = 'NetworkDriver.Join';
  return { ...parseEndpointRef(o, what), sandboxKey: reqString(o, 'SandboxKey', what) };
}


const PROTOCOLS: Record<number, PortMapping['protocol']> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

function port(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) throw new PluginRequestError(`${what}: ${JSON.stringify(v)} is not a port`);
  return v;
}

/**
 * A binding's host address, as Docker means it: "" (or absent) is every
 * address of every family the container has (`-p 8080:80`; dockerd 20.10
 * sends one binding with HostIP "" also on an IPv6 network), while
 * "0.0.0.0" is every IPv4 address only (`-p 0.0.0.0:8080:80`) and "::"
 * every IPv6 address only (`-p [::]:8080:80`), as dockerd's own bridge
 * driver publishes them. So "0.0.0.0" and "::" are kept (the port-mapping
 * records read them as "any address of this family"), and any other value
 * must be one address, returned in canonical form (it ends up in nft).
 */
function hostIpOf(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const a = typeof v === 'string' && v.length <= 64 ? parseIp(v) : undefined;
  if (a === undefined) throw new PluginRequestError(`${what}: ${JSON.stringify(v)} is not an IP address`);
  const text = formatIp(a);
  // An IPv4-mapped IPv6 address (dockerd writes IPv4 as a.b.c.d) would go into the IPv6 table and match nothing.
  if (a.family === 6 && a.value >> 32n === 0xffffn) throw new PluginRequestError(`${what}: ${JSON.stringify(v)} is an IPv4-mapped IPv6 address; give the IPv4 address`);
  return text;
}

/**
 * NetworkDriver.ProgramExternalConnectivity: the published ports. A range
 * (HostPort..HostPortEnd) is taken at its first port, as dockerd's own
 * bridge does when it allocates one; HostPort 0 ("any free port") is refused,
 * because knit does not pick host ports.
 */
export function parseExternalConnectivity(o: Obj): { networkId: string; endpointId: string; ports: PortMapping[] } {
  const what = 'NetworkDriver.ProgramExternalConnectivity';
  const ref = parseEndpointRef(o, what);
  const options = asObject(o.Options, `${what} Options`);
  const list = options['com.docker.network.portmap'];
  const ports: PortMapping[] = [];
  if (Array.isArray(list)) {
    for (const [i, raw] of list.entries()) {
      const m = asObject(raw, `${what} portmap[${i}]`);
      const protocol = PROTOCOLS[m.Proto as number];
      if (protocol === undefined) throw new PluginRequestError(`${what}: portmap[${i}] protocol ${JSON.stringify(m.Proto)} is not tcp (6), udp (17) or sctp (132)`);
      const hostPort = port(m.HostPort, `${what} portmap[${i}].HostPort`);
      if (hostPort === 0) throw new PluginRequestError(`${what}: portmap[${i}] has no host port; knit publishes fixed host ports only (-p HOSTPORT:PORT)`);
      const hostIp = hostIpOf(m.HostIP, `${what}: portmap[${i}].HostIP`);
      ports.push({ protocol, containerPort: port(m.Port, `${what} portmap[${i}].Port`), hostPort, ...(hostIp !== undefined ? { hostIp } : {}) });
    }
  }
  return { ...ref, ports };
}
