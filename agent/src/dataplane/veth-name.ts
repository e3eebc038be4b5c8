/**
 * Host-side veth names are derived from (container ID, ifname), so DEL, CHECK
 * and GC find the link again without any state, even after knitd lost its
 * memory. "knv" + 12 hex digits of a SHA-256 = 15 chars, the kernel's limit.
 */
import { createHash } from 'node:crypto';

export const HOST_VETH_PREFIX = 'knv';

export function hostVethName(containerId: string, ifname: string): string {
  const digest = createHash('sha256').update(`${containerId}/${ifname}`).digest('hex');
  return HOST_VETH_PREFIX + digest.slice(0, 12);
}

export function isHostVethName(name: string): boolean {
  return name.length === 15 && name.startsWith(HOST_VETH_PREFIX) && /^[0-9a-f]{12}$/.test(name.slice(3));
}
