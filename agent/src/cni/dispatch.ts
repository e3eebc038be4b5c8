/**
 * One CNI request, from the line the plugin sent to the reply it gets:
 * decode, validate (again: the socket is not only reachable by our plugin),
 * call the matching handler, turn the outcome into a PluginReply. Pure apart
 * from the handlers it is given, so it is unit-tested without sockets.
 */
import type { PluginReply, PluginRequest } from '../../../cni-wire/protocol';
import { CniError, CniErrorCode, toCniError } from './errors';
import { isObject } from './fields';
import { parseCniArgs, parseNetConfObject } from './netconf';
import type { NetConf } from './netconf';
import { formatResult } from './result';
import type { CniHandlers } from './types';
import { CNI_COMMANDS, NEWEST_VERSION, SUPPORTED_VERSIONS, attachmentEnvProblem, compareVersions, errorVersion, minimumVersionFor } from './version';
import { errorMessage } from '../base';

/** What the server logs about a request once it is answered. */
export interface DispatchSummary {
  command: string;
  containerId?: string;
  ifname?: string;
  /** 0 on success, else the CNI error code sent */
  code: number;
}

/** The reply and its log summary. */
export interface Dispatched {
  reply: PluginReply;
  summary: DispatchSummary;
}

function fail(summary: Omit<DispatchSummary, 'code'>, cniVersion: string, e: unknown): Dispatched {
  const err = toCniError(e);
  return { reply: { ok: false, error: err.toErrorBody(cniVersion) }, summary: { ...summary, code: err.code } };
}

/** Decodes the request line; throws CniError 6 when it is not a PluginRequest. */
export function decodeRequest(line: string): PluginRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new CniError(CniErrorCode.DecodeFailure, `decoding the plugin request: ${errorMessage(e)}`);
  }
  if (!isObject(v)) throw new CniError(CniErrorCode.DecodeFailure, 'decoding the plugin request: not a JSON object');
  if (typeof v.command !== 'string' || !(CNI_COMMANDS as readonly string[]).includes(v.command)) {
    throw new CniError(CniErrorCode.DecodeFailure, `decoding the plugin request: unknown command ${JSON.stringify(v.command)}`);
  }
  if (typeof v.config !== 'string') throw new CniError(CniErrorCode.DecodeFailure, 'decoding the plugin request: config must be a string');
  for (const k of ['containerId', 'netns', 'ifname', 'args', 'path'] as const) {
    if (v[k] !== undefined && typeof v[k] !== 'string') throw new CniError(CniErrorCode.DecodeFailure, `decoding the plugin request: ${k} must be a string`);
  }
  return v as unknown as PluginRequest;
}

/** Handles one request line end to end; never throws. */
export async function dispatchLine(line: string, handlers: CniHandlers): Promise<Dispatched> {
  let req: PluginRequest;
  try {
    req = decodeRequest(line);
  } catch (e) {
    return fail({ command: 'unknown' }, NEWEST_VERSION, e);
  }
  const summary: Omit<DispatchSummary, 'code'> = { command: req.command };
  if (req.containerId !== undefined) summary.containerId = req.containerId;
  if (req.ifname !== undefined) summary.ifname = req.ifname;

  // The version errors are written in: the request's own when it states
  // one, even before the rest of the configuration has been validated.
  let raw: unknown;
  try {
    raw = JSON.parse(req.config);
  } catch (e) {
    return fail(summary, NEWEST_VERSION, new CniError(CniErrorCode.DecodeFailure, `decoding the network configuration: ${errorMessage(e)}`));
  }
  if (!isObject(raw)) return fail(summary, NEWEST_VERSION, new CniError(CniErrorCode.DecodeFailure, 'decoding the network configuration: not a JSON object'));
  let version = errorVersion(raw.cniVersion);

  if (req.command === 'VERSION') {
    return { reply: { ok: true, result: { cniVersion: version, supportedVersions: SUPPORTED_VERSIONS } }, summary: { ...summary, code: 0 } };
  }
  try {
    const envProblem = attachmentEnvProblem(req.command, { containerId: req.containerId ?? '', netns: req.netns ?? '', ifname: req.ifname ?? '' });
    if (envProblem !== undefined) throw new CniError(CniErrorCode.InvalidEnvironment, envProblem);
    const conf = parseNetConfObject(raw);
    version = conf.cniVersion;
    const minimum = minimumVersionFor(req.command);
    if (compareVersions(conf.cniVersion, minimum) < 0) {
      throw new CniError(CniErrorCode.IncompatibleVersion, `incompatible CNI version ${conf.cniVersion}: ${req.command} needs ${minimum} or newer`);
    }
    const args = parseCniArgs(req.args);
    const result = await call(req, conf, args, handlers);
    const reply: PluginReply = result === undefined ? { ok: true } : { ok: true, result };
    return { reply, summary: { ...summary, code: 0 } };
  } catch (e) {
    return fail(summary, version, e);
  }
}

async function call(req: PluginRequest, conf: NetConf, args: Record<string, string>, handlers: CniHandlers): Promise<Record<string, unknown> | undefined> {
  const containerId = req.containerId ?? '';
  const ifname = req.ifname ?? '';
  const base = { containerId, ifname, args, conf, ...(req.path !== undefined ? { path: req.path } : {}) };
  const prev = conf.prevResult !== undefined ? { prevResult: conf.prevResult } : {};
  switch (req.command) {
    case 'ADD': {
      const result = await handlers.add({ ...base, netns: req.netns ?? '', ...prev });
      return formatResult(result, conf.cniVersion);
    }
    case 'DEL':
      await handlers.del({ ...base, ...(req.netns !== undefined && req.netns !== '' ? { netns: req.netns } : {}), ...prev });
      return undefined;
    case 'CHECK':
      if (conf.prevResult === undefined) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid network configuration: prevResult is required for CHECK');
      await handlers.check({ ...base, netns: req.netns ?? '', prevResult: conf.prevResult });
      return undefined;
    case 'STATUS':
      await handlers.status({ conf });
      return undefined;
    case 'GC':
      // Without the list, GC would release every attachment: refuse instead.
      if (conf.validAttachments === undefined) {
        throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid network configuration: cni.dev/valid-attachments is required for GC');
      }
      await handlers.gc({ validAttachments: conf.validAttachments, conf });
      return undefined;
    case 'VERSION':
      return undefined;
  }
}
