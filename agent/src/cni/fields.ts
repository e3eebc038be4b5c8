/**
 * Small readers for untrusted JSON from the runtime (network configuration,
 * prevResult). Each either returns a typed value or throws a CniError whose
 * message names the offending field by its path ("routes[1].gw"), so the
 * runtime's log says exactly what to fix.
 */
import { isIP } from 'node:net';
import { CniError, CniErrorCode } from './errors';

/** A decoded JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A code-7 error: "invalid network configuration: <path> <problem>". */
export function invalid(path: string, problem: string, value?: unknown): CniError {
  const got = value === undefined ? '' : `, got ${JSON.stringify(value)}`;
  return new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network configuration: ${path} ${problem}${got}`);
}

/** Joins a parent path and a key ("" + "mtu" = "mtu", "routes[0]" + "gw" = "routes[0].gw"). */
export function at(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export function expectObject(v: unknown, path: string): JsonObject {
  if (!isObject(v)) throw invalid(path, 'must be an object', v);
  return v;
}

export function expectArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw invalid(path, 'must be a list', v);
  return v;
}

export function optString(o: JsonObject, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(at(path, key), 'must be a string', v);
  return v;
}

export function reqString(o: JsonObject, key: string, path: string): string {
  const v = optString(o, key, path);
  if (v === undefined || v === '') throw invalid(at(path, key), 'is required');
  return v;
}

/** An optional integer within [min, max]. */
export function optInt(o: JsonObject, key: string, path: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(at(path, key), `must be an integer from ${min} to ${max}`, v);
  }
  return v;
}

export function optBool(o: JsonObject, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(at(path, key), 'must be true or false', v);
  return v;
}

export function optStringList(o: JsonObject, key: string, path: string): string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const list = expectArray(v, at(path, key));
  list.forEach((item, i) => {
    if (typeof item !== 'string') throw invalid(at(at(path, key), i), 'must be a string', item);
  });
  return list as string[];
}

/** The IP family of an address (4 or 6), or 0 when it is not one. */
export function ipFamily(s: string): 0 | 4 | 6 {
  return isIP(s) as 0 | 4 | 6;
}

/** The family of "addr/len" when it is a valid CIDR, else 0. */
export function cidrFamily(s: string): 0 | 4 | 6 {
  const slash = s.indexOf('/');
  if (slash < 0) return 0;
  const family = ipFamily(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(len)) return 0;
  return Number(len) <= (family === 4 ? 32 : 128) ? family : 0;
}

export function optIp(o: JsonObject, key: string, path: string): string | undefined {
  const v = optString(o, key, path);
  if (v !== undefined && ipFamily(v) === 0) throw invalid(at(path, key), 'must be an IP address', v);
  return v;
}

export function reqCidr(o: JsonObject, key: string, path: string): string {
  const v = reqString(o, key, path);
  if (cidrFamily(v) === 0) throw invalid(at(path, key), 'must be an address in CIDR notation', v);
  return v;
}
