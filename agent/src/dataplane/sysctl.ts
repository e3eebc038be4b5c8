/**
 * The few sysctls a node needs, written through /proc/sys of knitd's own
 * network namespace (per-netns values: knitd only ever changes its own node).
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface SysctlAccess {
  read(key: string): string;
  write(key: string, value: string): void;
}

export const procSysctl: SysctlAccess = {
  read: (key) => readFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8').trim(),
  write: (key, value) => writeFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, value),
};

/** Sets `key` to `value` unless it already is; returns true when it wrote. */
export function ensureSysctl(sys: SysctlAccess, key: string, value: string): boolean {
  let current: string;
  try {
    current = sys.read(key);
  } catch (err) {
    throw new Error(`read sysctl ${key}`, { cause: err });
  }
  if (current === value) return false;
  try {
    sys.write(key, value);
  } catch (err) {
    throw new Error(`set sysctl ${key}=${value} (was ${current})`, { cause: err });
  }
  return true;
}
