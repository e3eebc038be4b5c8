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

/**
 * Bridged traffic through the ip/ip6 hooks (br_netfilter's
 * net.bridge.bridge-nf-call-iptables / -ip6tables = 1), so that network
 * policy's forward chain also sees two containers on one bridge, as
 * Kubernetes CNIs on a bridge rely on. Returns why not, or undefined.
 */
export function bridgedTrafficFiltered(sys: SysctlAccess, ipv6: boolean): string | undefined {
  const keys = ['net.bridge.bridge-nf-call-iptables', ...(ipv6 ? ['net.bridge.bridge-nf-call-ip6tables'] : [])];
  for (const key of keys) {
    try {
      ensureSysctl(sys, key, '1');
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      return cause?.code === 'ENOENT'
        ? `${key} does not exist: the br_netfilter module is not loaded (load it: modprobe br_netfilter), so traffic between containers on one bridge bypasses policy`
        : `${(err as Error).message}: traffic between containers on one bridge may bypass policy`;
    }
  }
  return undefined;
}

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
