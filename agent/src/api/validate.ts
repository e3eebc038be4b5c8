/**
 * Request validation: every field a client sends is checked before the
 * source is asked, and a bad one is refused with INVALID_ARGUMENT naming the
 * field, so a typo never looks like "not found".
 */
import { status } from '@grpc/grpc-js';
import { networkNameProblem } from '../store';
import { POLICY_NAME } from '../policy';

/** An error that becomes a gRPC status with this code and message. */
export class ApiStatusError extends Error {
  constructor(readonly code: status, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiStatusError';
  }
}

/** Container IDs as the CNI spec allows them: alphanumerics, then also `_ . -`. */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAX_CONTAINER_ID = 1024;
/** Linux interface names: 1–15 bytes, no "/", ":" or whitespace, not "." or "..". */
const IFNAME = /^[^/:\s]{1,15}$/;
/** DNS-1123 subdomain, like node names in knitd's config. */
const NODE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** A network name, by the store's own rule. */
export function checkNetworkName(field: string, v: string): void {
  if (v === '') throw invalid(field, 'is required');
  const problem = networkNameProblem(v);
  if (problem) throw invalid(field, problem);
}

/** An optional small unsigned option (0 = unset): at most `max`. */
export function checkOptionalUint(field: string, v: number, max: number): number | undefined {
  if (!Number.isInteger(v) || v < 0 || v > max) throw invalid(field, `must be an integer 0..${max}, got ${v}`);
  return v === 0 ? undefined : v;
}

/** A short free-text option (a CIDR, a backend type): at most 64 printable characters. */
export function checkShortText(field: string, v: string, required: boolean): string | undefined {
  if (v === '') {
    if (required) throw invalid(field, 'is required');
    return undefined;
  }
  if (v.length > 64 || !/^[\x21-\x7e]+$/.test(v)) throw invalid(field, `${show(v)} is not a valid value`);
  return v;
}

/** A policy's network (empty: "default") and name, as policy files name them. */
export function checkPolicyRef(req: { network: string; name: string }): { network: string; name: string } {
  const network = req.network === '' ? 'default' : req.network;
  if (!POLICY_NAME.test(network)) throw invalid('network', `${show(network)} is not a network name a policy can name (lowercase letters, digits and -, 1..63)`);
  if (req.name === '') throw invalid('name', 'is required');
  if (!POLICY_NAME.test(req.name)) throw invalid('name', `${show(req.name)} is not a policy name (lowercase letters, digits and -, 1..63, starting and ending alphanumeric)`);
  return { network, name: req.name };
}

/** One end of a trace: an endpoint id ("<containerId>/<ifname>") or an address; printable, at most 300 characters. */
export function checkTraceRef(field: string, v: string): string {
  if (v === '') throw invalid(field, 'is required');
  if (v.length > 300 || !/^[\x21-\x7e]+$/.test(v)) throw invalid(field, `${show(v)} is neither an endpoint id nor an address`);
  return v;
}

function invalid(field: string, detail: string): ApiStatusError {
  return new ApiStatusError(status.INVALID_ARGUMENT, `${field}: ${detail}`);
}

function show(v: string): string {
  return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
}

/** Validates a container ID (empty allowed only when `optional`). */
export function checkContainerId(field: string, v: string, optional: boolean): void {
  if (v === '') {
    if (optional) return;
    throw invalid(field, 'is required');
  }
  if (v.length > MAX_CONTAINER_ID) throw invalid(field, `is longer than ${MAX_CONTAINER_ID} characters`);
  if (!CONTAINER_ID.test(v)) {
    throw invalid(field, `${show(v)} has characters a container ID cannot have (letters, digits, then also _ . -)`);
  }
}

export function checkIfname(field: string, v: string): void {
  if (v === '') return;
  if (!IFNAME.test(v) || v === '.' || v === '..') throw invalid(field, `${show(v)} is not a valid interface name (1-15 characters, no / : or spaces)`);
}

export function checkNodeName(field: string, v: string): void {
  if (v === '') return;
  if (!NODE_NAME.test(v)) throw invalid(field, `${show(v)} is not a valid node name (DNS-1123 subdomain)`);
}

/** "a.b.c.d/len" with host bits zero, as lease keys are written. */
export function checkSubnet(field: string, v: string): void {
  if (v === '') return;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
  if (m === null) throw invalid(field, `${show(v)} is not an IPv4 CIDR like 10.244.1.0/24`);
  const octets = m.slice(1, 5).map(Number);
  const len = Number(m[5]);
  if (octets.some((o) => o > 255) || len > 32) throw invalid(field, `${show(v)} is not an IPv4 CIDR like 10.244.1.0/24`);
  const addr = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  if ((addr & ~mask) >>> 0 !== 0) throw invalid(field, `${show(v)} has host bits set`);
}
