/**
 * Turns what a runtime hands the plugin (CNI_* variables and the network
 * configuration on stdin) into either a final answer the plugin prints itself
 * (VERSION, or a spec-coded error) or a request to forward to knitd.
 *
 * Pure: the environment and stdin are passed in, nothing is printed here. The
 * checks are the ones that need no knowledge of knitd (variables, JSON,
 * cniVersion/name/type); knitd validates the whole configuration again.
 */
import { CniErrorCode, DEFAULT_AGENT_SOCKET } from '../../cni-wire/protocol';
import type { CniCommand, CniErrorBody, PluginRequest } from '../../cni-wire/protocol';
import {
  CNI_COMMANDS,
  NEWEST_VERSION,
  SUPPORTED_VERSIONS,
  attachmentEnvProblem,
  chooseVersion,
  compareVersions,
  errorVersion,
  isSemver,
  isValidNetworkName,
  minimumVersionFor,
} from '../../cni-wire/spec';

/** The process environment as the plugin sees it. */
export type PluginEnv = Readonly<Record<string, string | undefined>>;

/** What the plugin does next. */
export type Prepared =
  /** print `stdout` and exit with `exitCode` without contacting knitd */
  | { kind: 'done'; exitCode: 0 | 1; stdout: string }
  /** send `request` to knitd at `socketPath`; errors on the way carry `cniVersion` */
  | { kind: 'forward'; request: PluginRequest; socketPath: string; cniVersion: string };

/** The stdout line of a CNI error. */
export function errorText(cniVersion: string, code: number, msg: string, details?: string): string {
  const body: CniErrorBody = { cniVersion, code, msg };
  if (details !== undefined) body.details = details;
  return JSON.stringify(body) + '\n';
}

/** A 'done' outcome carrying a CNI error. */
export function errorOutcome(cniVersion: string, code: number, msg: string, details?: string): Prepared {
  return { kind: 'done', exitCode: 1, stdout: errorText(cniVersion, code, msg, details) };
}

function isCommand(v: string): v is CniCommand {
  return (CNI_COMMANDS as readonly string[]).includes(v);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Decides what to do for one invocation. `readStdin` is called at most once,
 * and not at all when CNI_COMMAND is missing (a person running `knit` by hand
 * at a terminal gets an error instead of a hang).
 */
export function prepare(env: PluginEnv, readStdin: () => string): Prepared {
  const rawCommand = env.CNI_COMMAND ?? '';
  if (rawCommand === '') {
    return errorOutcome(NEWEST_VERSION, CniErrorCode.InvalidEnvironment, 'invalid environment: CNI_COMMAND is not set');
  }

  let text: string;
  try {
    text = readStdin();
  } catch (e) {
    return errorOutcome(NEWEST_VERSION, CniErrorCode.IoFailure, `reading the network configuration from stdin: ${describe(e)}`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    // A version probe never fails: echo what we can read, else the newest
    // (the reference skel ignores stdin for VERSION altogether).
    if (rawCommand === 'VERSION') return versionOutcome(NEWEST_VERSION);
    return errorOutcome(NEWEST_VERSION, CniErrorCode.DecodeFailure, `decoding the network configuration from stdin: ${describe(e)}`);
  }
  if (rawCommand === 'VERSION') {
    const requested = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>).cniVersion : undefined;
    return versionOutcome(isSemver(requested) ? requested : NEWEST_VERSION);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return errorOutcome(NEWEST_VERSION, CniErrorCode.DecodeFailure, 'decoding the network configuration from stdin: not a JSON object');
  }
  const conf = parsed as Record<string, unknown>;
  const errVersion = errorVersion(conf.cniVersion);

  if (!isCommand(rawCommand)) {
    return errorOutcome(errVersion, CniErrorCode.InvalidEnvironment, `invalid environment: CNI_COMMAND ${JSON.stringify(rawCommand)} is not one of ${CNI_COMMANDS.join(', ')}`);
  }
  const command = rawCommand;

  const envProblem = attachmentEnvProblem(command, {
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifname: env.CNI_IFNAME ?? '',
  });
  if (envProblem !== undefined) return errorOutcome(errVersion, CniErrorCode.InvalidEnvironment, envProblem);

  const choice = chooseVersion(conf);
  if (!choice.ok) return errorOutcome(errVersion, choice.code, choice.msg);
  const version = choice.version;

  const minimum = minimumVersionFor(command);
  if (compareVersions(version, minimum) < 0) {
    return errorOutcome(version, CniErrorCode.IncompatibleVersion, `incompatible CNI version ${version}: ${command} needs ${minimum} or newer`);
  }

  const confProblem = configProblem(conf);
  if (confProblem !== undefined) return errorOutcome(version, CniErrorCode.InvalidNetworkConfig, confProblem);

  const request: PluginRequest = { command, config: text };
  setIfPresent(request, 'containerId', env.CNI_CONTAINERID);
  setIfPresent(request, 'netns', env.CNI_NETNS);
  setIfPresent(request, 'ifname', env.CNI_IFNAME);
  setIfPresent(request, 'args', env.CNI_ARGS);
  setIfPresent(request, 'path', env.CNI_PATH);
  const socketPath = typeof conf.agentSocket === 'string' ? conf.agentSocket : DEFAULT_AGENT_SOCKET;
  return { kind: 'forward', request, socketPath, cniVersion: version };
}

function setIfPresent(req: PluginRequest, key: 'containerId' | 'netns' | 'ifname' | 'args' | 'path', value: string | undefined): void {
  if (value !== undefined && value !== '') req[key] = value;
}

/** The fields the plugin itself relies on: name, type and where knitd listens. */
function configProblem(conf: Record<string, unknown>): string | undefined {
  if (conf.name === undefined) return 'invalid network configuration: name is required';
  if (typeof conf.name !== 'string' || !isValidNetworkName(conf.name)) {
    return `invalid network configuration: name ${JSON.stringify(conf.name)} must start with a letter or digit followed only by letters, digits, "_", "." or "-"`;
  }
  if (conf.type === undefined) return 'invalid network configuration: type is required';
  if (typeof conf.type !== 'string' || conf.type === '' || /[/\\]/.test(conf.type)) {
    return `invalid network configuration: type ${JSON.stringify(conf.type)} must be a non-empty string without "/" or "\\"`;
  }
  if (conf.agentSocket !== undefined && (typeof conf.agentSocket !== 'string' || !conf.agentSocket.startsWith('/'))) {
    return `invalid network configuration: agentSocket ${JSON.stringify(conf.agentSocket)} must be an absolute path`;
  }
  return undefined;
}

function versionOutcome(cniVersion: string): Prepared {
  return { kind: 'done', exitCode: 0, stdout: JSON.stringify({ cniVersion, supportedVersions: SUPPORTED_VERSIONS }) + '\n' };
}
