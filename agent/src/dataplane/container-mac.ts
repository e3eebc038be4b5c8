/**
 * The MAC of a container's interface, derived from its address: 0a:58 (a
 * locally administered unicast prefix, the one Kubernetes network plugins
 * use for the same purpose) and the address's last four bytes (the whole
 * IPv4 address; in an IPv6-only network the IPv6 one's, unique on the
 * node's bridge because the node's pool hands out at most 2^32 addresses).
 *
 * Why not the kernel's random one: known before the veth exists, so the
 * endpoint record (which carries it) is written while the veth is made; and
 * an address handed out again comes back with the same MAC, so a neighbour's
 * cached entry for it still reaches the container that holds it now.
 */
import { parseIp } from '../net/ip';

export function containerMac(ip: string): string {
  const addr = parseIp(ip);
  if (addr === undefined) throw new Error(`containerMac: ${ip} is not an IP address`);
  const low = Number(addr.value & 0xffffffffn);
  const bytes = [0x0a, 0x58, (low >>> 24) & 0xff, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
