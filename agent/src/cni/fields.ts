/**
 * The CNI side of base/json-fields: readers for untrusted JSON from the
 * runtime (network configuration, prevResult) that throw a code-7 CniError
 * naming the offending field by its path ("routes[1].gw").
 */
import { at, cidrFamily, FieldReader, gotSuffix, ipFamily, isObject, type JsonObject } from '../base';
import { CniError, CniErrorCode } from './errors';

export { at, cidrFamily, ipFamily, isObject, type JsonObject };

/** A code-7 error: "invalid network configuration: <path> <problem>". */
export function invalid(path: string, problem: string, value?: unknown): CniError {
  return new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network configuration: ${path} ${problem}${gotSuffix(value)}`);
}

const reader = new FieldReader(invalid);

export const { expectObject, expectArray, optString, reqString, optInt, optBool, optStringList, optIp, reqCidr } = reader;
