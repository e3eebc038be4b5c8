/**
 * Typed readers for untrusted JSON (CNI network configuration, prevResult,
 * etcd values, state files). Each returns a typed value or throws the
 * caller's own error type (via the `invalid` factory a FieldReader is built
 * with) whose message names the offending field by its path
 * ("routes[1].gw"), so the log says exactly what to fix.
 */
import { isIP } from 'node:net';

/** A decoded JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Joins a parent path and a key ("" + "mtu" = "mtu", "routes[0]" + "gw" = "routes[0].gw"). */
export function at(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
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

/** Builds the error for a bad field: `path` names it, `problem` says what is wrong, `value` is what was found (if any). */
export type InvalidField = (path: string, problem: string, value?: unknown) => Error;

/** ", got <json>" for a value that was found, "" for a missing one. */
export function gotSuffix(value: unknown): string {
  return value === undefined ? '' : `, got ${JSON.stringify(value)}`;
}

/**
 * The readers, bound to one error factory. Methods are arrow properties so
 * they can be destructured (`const { optString } = reader`).
 */
export class FieldReader {
  constructor(readonly invalid: InvalidField) {}

  expectObject = (v: unknown, path: string): JsonObject => {
    if (!isObject(v)) throw this.invalid(path, 'must be an object', v);
    return v;
  };

  expectArray = (v: unknown, path: string): unknown[] => {
    if (!Array.isArray(v)) throw this.invalid(path, 'must be a list', v);
    return v;
  };

  optString = (o: JsonObject, key: string, path: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw this.invalid(at(path, key), 'must be a string', v);
    return v;
  };

  reqString = (o: JsonObject, key: string, path: string): string => {
    const v = this.optString(o, key, path);
    if (v === undefined || v === '') throw this.invalid(at(path, key), 'is required');
    return v;
  };

  /** An optional integer within [min, max]. */
  optInt = (o: JsonObject, key: string, path: string, min: number, max: number): number | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw this.invalid(at(path, key), `must be an integer from ${min} to ${max}`, v);
    }
    return v;
  };

  optBool = (o: JsonObject, key: string, path: string): boolean | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw this.invalid(at(path, key), 'must be true or false', v);
    return v;
  };

  optStringList = (o: JsonObject, key: string, path: string): string[] | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    const list = this.expectArray(v, at(path, key));
    const out: string[] = [];
    list.forEach((item, i) => {
      if (typeof item !== 'string') throw this.invalid(at(at(path, key), i), 'must be a string', item);
      out.push(item);
    });
    return out;
  };

  optIp = (o: JsonObject, key: string, path: string): string | undefined => {
    const v = this.optString(o, key, path);
    if (v !== undefined && ipFamily(v) === 0) throw this.invalid(at(path, key), 'must be an IP address', v);
    return v;
  };

  reqCidr = (o: JsonObject, key: string, path: string): string => {
    const v = this.reqString(o, key, path);
    if (cidrFamily(v) === 0) throw this.invalid(at(path, key), 'must be an address in CIDR notation', v);
    return v;
  };
}
