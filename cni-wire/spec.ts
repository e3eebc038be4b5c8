/**
 * The parts of the CNI specification both sides of the wire must agree on:
 * which spec versions knit speaks, which command needs which version, and how
 * the attachment parameters (CNI_CONTAINERID, CNI_IFNAME) are validated.
 *
 * The plugin checks these before it forwards anything (so a runtime gets a
 * spec-coded error without a round trip) and knitd checks them again (the
 * socket may be reached by something other than the plugin). Like
 * protocol.ts, this file imports nothing at run time: the plugin loads only
 * Node built-ins.
 */
import type { CniCommand } from './protocol';

/** Spec versions knit reads and writes, oldest first. */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

/** The newest supported version: used when a request names none we can trust. */
export const NEWEST_VERSION: CniVersion = '1.1.0';

/** All CNI commands knit understands. */
export const CNI_COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** True when `v` is one of SUPPORTED_VERSIONS. */
export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** True when `v` is a plain MAJOR.MINOR.PATCH string. */
export function isSemver(v: unknown): v is string {
  return typeof v === 'string' && SEMVER.test(v);
}

/** Compares two MAJOR.MINOR.PATCH strings numerically (-1, 0, 1). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * The oldest spec version in which a command exists: CHECK arrived in 0.4.0,
 * STATUS and GC in 1.1.0. A runtime that asks for CHECK with a 0.3.1 config
 * gets code 1, as the reference skel answers.
 */
export function minimumVersionFor(command: CniCommand): CniVersion {
  switch (command) {
    case 'CHECK':
      return '0.4.0';
    case 'STATUS':
    case 'GC':
      return '1.1.0';
    default:
      return '0.3.0';
  }
}

/** The version an error reply carries: the request's own when it looks like one, else the newest. */
export function errorVersion(requested: unknown): string {
  return isSemver(requested) ? requested : NEWEST_VERSION;
}

/** Outcome of choosing the protocol version of a request. */
export type VersionChoice =
  | { ok: true; version: CniVersion }
  /** code 7: a field is missing or has the wrong type; code 1: nothing we support */
  | { ok: false; code: 1 | 7; msg: string };

/**
 * Chooses the version a request speaks. `cniVersion` is what the runtime
 * selected and the result must be written in, so when present it alone
 * decides. Spec 1.1 lets a configuration also list `cniVersions`; when
 * `cniVersion` is absent we apply the runtime's rule ourselves (the highest
 * listed version we support). Both fields are type-checked when present.
 */
export function chooseVersion(conf: Record<string, unknown>): VersionChoice {
  const single = conf.cniVersion;
  const list = conf.cniVersions;
  if (single !== undefined && typeof single !== 'string') {
    return { ok: false, code: 7, msg: 'cniVersion must be a string' };
  }
  if (list !== undefined && (!Array.isArray(list) || !list.every((v) => typeof v === 'string'))) {
    return { ok: false, code: 7, msg: 'cniVersions must be a list of strings' };
  }
  if (typeof single === 'string') {
    if (isSupportedVersion(single)) return { ok: true, version: single };
    return { ok: false, code: 1, msg: `incompatible CNI version ${JSON.stringify(single)}: knit supports ${SUPPORTED_VERSIONS.join(', ')}` };
  }
  if (Array.isArray(list)) {
    const usable = (list as string[]).filter(isSupportedVersion).sort(compareVersions);
    const best = usable[usable.length - 1];
    if (best !== undefined) return { ok: true, version: best };
    return { ok: false, code: 1, msg: `incompatible CNI versions: cniVersions ${JSON.stringify(list)} lists none that knit supports (${SUPPORTED_VERSIONS.join(', ')})` };
  }
  return { ok: false, code: 7, msg: 'cniVersion is required' };
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NETWORK_NAME = CONTAINER_ID;

/**
 * Longest container ID knit accepts. Runtimes use 64 hex digits (Docker,
 * containerd, CRI-O, podman); the spec sets no bound, but knitd keeps every
 * ID in memory, in its state files and in logs, so a 10 KB "ID" is refused
 * (code 4) instead of stored.
 */
export const MAX_CONTAINER_ID_LENGTH = 256;

/** Why a container ID is invalid, or undefined when it is valid (spec: alphanumeric first, then [A-Za-z0-9_.-]; knit: at most MAX_CONTAINER_ID_LENGTH). */
export function containerIdProblem(id: string): string | undefined {
  if (id === '') return 'must not be empty';
  if (id.length > MAX_CONTAINER_ID_LENGTH) return `must be at most ${MAX_CONTAINER_ID_LENGTH} characters (got ${id.length})`;
  if (!CONTAINER_ID.test(id)) return 'must start with a letter or digit followed only by letters, digits, "_", "." or "-"';
  return undefined;
}

/** Why an interface name is invalid for Linux, or undefined when it is valid. */
export function ifnameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  // IFNAMSIZ is 16 including the terminating NUL.
  if (name.length > 15) return 'must be at most 15 characters';
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (/[/:\s]/.test(name)) return 'must not contain "/", ":" or whitespace';
  return undefined;
}

/** True when `name` is a valid network name (same rule as a container ID). */
export function isValidNetworkName(name: string): boolean {
  return NETWORK_NAME.test(name);
}

/** The attachment parameters as read from CNI_* variables ('' when unset). */
export interface AttachmentEnv {
  containerId: string;
  netns: string;
  ifname: string;
}

/**
 * Checks the attachment variables a command requires (ADD and CHECK need all
 * three, DEL all but CNI_NETNS; VERSION, STATUS and GC none) and returns one
 * message naming every offending variable, or undefined when all is well.
 * Variables a command does not need are ignored even when malformed.
 */
export function attachmentEnvProblem(command: CniCommand, env: AttachmentEnv): string | undefined {
  const needsAttachment = command === 'ADD' || command === 'CHECK' || command === 'DEL';
  if (!needsAttachment) return undefined;
  const problems: string[] = [];
  const idProblem = containerIdProblem(env.containerId);
  if (idProblem !== undefined) problems.push(`CNI_CONTAINERID ${idProblem}`);
  if (command !== 'DEL' && env.netns === '') problems.push('CNI_NETNS must not be empty');
  const ifProblem = ifnameProblem(env.ifname);
  if (ifProblem !== undefined) problems.push(`CNI_IFNAME ${ifProblem}`);
  return problems.length === 0 ? undefined : `invalid environment: ${problems.join('; ')}`;
}
