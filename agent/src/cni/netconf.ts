/**
 * The network configuration knitd receives with every CNI request: one
 * plugin configuration object, as a runtime derives it from the conflist
 * (cniVersion and name inserted, capabilities turned into runtimeConfig,
 * prevResult added for chained/DEL/CHECK calls). Everything is validated up
 * front, like the reference plugins' loadNetConf, so handlers only ever see
 * a typed, checked `NetConf`. Unknown keys are allowed (the spec lets
 * runtimes pass plugin-specific fields) and kept in `raw`.
 *
 * Error codes: 6 not JSON, 1 unsupported version, 7 a bad field (the message
 * names it), 2 a field knit deliberately does not support (`ipam`: knitd
 * allocates addresses itself, and silently ignoring a delegated IPAM plugin
 * would hand out addresses the operator did not ask for).
 */
import type { CniVersion } from './version';
import { chooseVersion, containerIdProblem, ifnameProblem, isValidNetworkName } from './version';
import { CniError, CniErrorCode } from './errors';
import { at, expectArray, expectObject, invalid, isObject, optInt, optIp, optString, reqCidr } from './fields';
import type { JsonObject } from './fields';
import { parseDns, parseResult } from './result';
import type { InternalResult, ResultDns } from './result';
import { errorMessage } from '../base';

/** A static route the configuration asks for inside the container. */
export interface RouteConf {
  dst: string;
  gw?: string;
}

/** One `portMappings` capability entry (CONVENTIONS.md), protocol defaulted to tcp. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/** Capability arguments the runtime inserted. */
export interface RuntimeConfig {
  portMappings: PortMapping[];
  /** every other capability argument, unvalidated, for handlers that want one */
  other: JsonObject;
}

/** An attachment GC must keep (`cni.dev/valid-attachments`). */
export interface ValidAttachment {
  containerId: string;
  ifname: string;
}

/** A validated network configuration. */
export interface NetConf {
  /** the version of this request: results and errors are written in it */
  cniVersion: CniVersion;
  cniVersions?: string[];
  name: string;
  type: string;
  /** knitd's CNI socket as the plugin was told (informational on knitd's side) */
  agentSocket?: string;
  mtu?: number;
  routes?: RouteConf[];
  dns?: ResultDns;
  capabilities?: Record<string, boolean>;
  runtimeConfig?: RuntimeConfig;
  prevResult?: InternalResult;
  /** the `args` dictionary (runtime-provided, e.g. labels); not CNI_ARGS */
  args?: JsonObject;
  /** the knit network to attach to (the `network` key); absent = the default network */
  network?: string;
  /** GC only: the attachments still in use */
  validAttachments?: ValidAttachment[];
  /** the configuration object exactly as received */
  raw: JsonObject;
}

/** Parses the configuration text as received on the plugin's stdin. */
export function parseNetConf(text: string): NetConf {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniError(CniErrorCode.DecodeFailure, `decoding the network configuration: ${errorMessage(e)}`);
  }
  if (!isObject(v)) throw new CniError(CniErrorCode.DecodeFailure, 'decoding the network configuration: not a JSON object');
  return parseNetConfObject(v);
}

/** Validates an already decoded configuration object. */
export function parseNetConfObject(o: JsonObject): NetConf {
  const choice = chooseVersion(o);
  if (!choice.ok) {
    throw new CniError(choice.code, choice.code === CniErrorCode.InvalidNetworkConfig ? `invalid network configuration: ${choice.msg}` : choice.msg);
  }
  if (o.name === undefined || o.name === '') throw invalid('name', 'is required');
  if (typeof o.name !== 'string' || !isValidNetworkName(o.name)) {
    throw invalid('name', 'must start with a letter or digit followed only by letters, digits, "_", "." or "-"', o.name);
  }
  if (o.type === undefined || o.type === '') throw invalid('type', 'is required');
  if (typeof o.type !== 'string' || /[/\\]/.test(o.type)) throw invalid('type', 'must be a plugin name without "/" or "\\"', o.type);
  if (o.ipam !== undefined) {
    throw new CniError(CniErrorCode.UnsupportedField, `unsupported field ipam: ${JSON.stringify(o.ipam)} (knitd allocates container addresses itself; remove the ipam section)`);
  }

  const conf: NetConf = { cniVersion: choice.version, name: o.name, type: o.type, raw: o };
  if (Array.isArray(o.cniVersions)) conf.cniVersions = o.cniVersions as string[];
  const agentSocket = optString(o, 'agentSocket', '');
  if (agentSocket !== undefined) {
    if (!agentSocket.startsWith('/')) throw invalid('agentSocket', 'must be an absolute path', agentSocket);
    conf.agentSocket = agentSocket;
  }
  const network = optString(o, 'network', '');
  if (network !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(network)) throw invalid('network', 'must be a knit network name (letters, digits, "_", "." or "-", at most 63)', network);
    conf.network = network;
  }
  const mtu = optInt(o, 'mtu', '', 68, 65535);
  if (mtu !== undefined) conf.mtu = mtu;
  if (o.routes !== undefined) conf.routes = expectArray(o.routes, 'routes').map((r, i) => parseRouteConf(r, at('routes', i)));
  if (o.dns !== undefined) conf.dns = parseDns(o.dns, 'dns');
  if (o.capabilities !== undefined) conf.capabilities = parseCapabilities(o.capabilities);
  if (o.runtimeConfig !== undefined) conf.runtimeConfig = parseRuntimeConfig(o.runtimeConfig);
  if (o.prevResult !== undefined) conf.prevResult = parseResult(o.prevResult, 'prevResult');
  if (o.args !== undefined) conf.args = expectObject(o.args, 'args');
  // spec-v1.1.0's text says cni.dev/attachments; the released libcni and
  // later spec text say cni.dev/valid-attachments. Accept both.
  const gcKey = o['cni.dev/valid-attachments'] !== undefined ? 'cni.dev/valid-attachments' : o['cni.dev/attachments'] !== undefined ? 'cni.dev/attachments' : undefined;
  if (gcKey !== undefined) conf.validAttachments = expectArray(o[gcKey], gcKey).map((a, i) => parseAttachment(a, at(gcKey, i)));
  return conf;
}

function parseRouteConf(v: unknown, path: string): RouteConf {
  const o = expectObject(v, path);
  const out: RouteConf = { dst: reqCidr(o, 'dst', path) };
  const gw = optIp(o, 'gw', path);
  if (gw !== undefined) out.gw = gw;
  return out;
}

function parseCapabilities(v: unknown): Record<string, boolean> {
  const o = expectObject(v, 'capabilities');
  for (const [k, b] of Object.entries(o)) if (typeof b !== 'boolean') throw invalid(at('capabilities', k), 'must be true or false', b);
  return o as Record<string, boolean>;
}

function parseRuntimeConfig(v: unknown): RuntimeConfig {
  const o = expectObject(v, 'runtimeConfig');
  const { portMappings, ...other } = o;
  const list = portMappings === undefined || portMappings === null ? [] : expectArray(portMappings, 'runtimeConfig.portMappings');
  return { portMappings: list.map((p, i) => parsePortMapping(p, at('runtimeConfig.portMappings', i))), other };
}

function parsePortMapping(v: unknown, path: string): PortMapping {
  const o = expectObject(v, path);
  const hostPort = optInt(o, 'hostPort', path, 1, 65535);
  if (hostPort === undefined) throw invalid(at(path, 'hostPort'), 'is required');
  const containerPort = optInt(o, 'containerPort', path, 1, 65535);
  if (containerPort === undefined) throw invalid(at(path, 'containerPort'), 'is required');
  const rawProtocol = optString(o, 'protocol', path);
  const protocol = rawProtocol === undefined || rawProtocol === '' ? 'tcp' : rawProtocol.toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') throw invalid(at(path, 'protocol'), 'must be tcp, udp or sctp', rawProtocol);
  const out: PortMapping = { hostPort, containerPort, protocol };
  // Runtimes send "" for "all host addresses".
  const hostIP = o.hostIP === '' ? undefined : optIp(o, 'hostIP', path);
  if (hostIP !== undefined) out.hostIP = hostIP;
  return out;
}

function parseAttachment(v: unknown, path: string): ValidAttachment {
  const o = expectObject(v, path);
  const containerId = optString(o, 'containerID', path) ?? '';
  const idProblem = containerIdProblem(containerId);
  if (idProblem !== undefined) throw invalid(at(path, 'containerID'), idProblem, o.containerID);
  const ifname = optString(o, 'ifname', path) ?? '';
  const ifProblem = ifnameProblem(ifname);
  if (ifProblem !== undefined) throw invalid(at(path, 'ifname'), ifProblem, o.ifname);
  return { containerId, ifname };
}

/**
 * Parses CNI_ARGS ("K1=V1;K2=V2"). Empty segments (a trailing ";") are
 * tolerated; a segment without "=" or with an empty key is code 4 naming
 * CNI_ARGS. A value may itself contain "=" (only the first one splits).
 */
export function parseCniArgs(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (s === undefined || s === '') return out;
  for (const segment of s.split(';')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    if (eq <= 0) {
      throw new CniError(CniErrorCode.InvalidEnvironment, `invalid environment: CNI_ARGS segment ${JSON.stringify(segment)} is not KEY=VALUE`);
    }
    out[segment.slice(0, eq)] = segment.slice(eq + 1);
  }
  return out;
}
