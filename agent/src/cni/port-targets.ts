/**
 * Which family's nft maps each published port goes into. A mapping's
 * `hostIp` decides, with the meanings Docker and the CNI portmap plugin
 * give it:
 *
 *   absent         every family the container has an address of
 *   0.0.0.0        every IPv4 address of the node, and no IPv6
 *   ::             every IPv6 address of the node, and no IPv4
 *   an address     that address only, in its own family
 *
 * So `docker run -p 0.0.0.0:8080:80` on a dual-stack network publishes on
 * IPv4 only, as dockerd's own bridge driver does, and `-p 8080:80` on both.
 * Pure: the caller hands the result to the nft table (which reads 0.0.0.0
 * and :: as "any address" of its family).
 */
import type { Endpoint, PortMapping } from '../records';
import { endpointIps } from './endpoints';

/** One mapping bound for one family's nft maps: the container's address of that family, and who owns it. */
export type PortTarget = PortMapping & { containerIp: string; id: string };

/** Every endpoint's mappings, split by family (a mapping for a family the container has no address of is dropped). */
export function portTargets(endpoints: Iterable<Endpoint>): { v4: PortTarget[]; v6: PortTarget[] } {
  const v4: PortTarget[] = [];
  const v6: PortTarget[] = [];
  for (const e of endpoints) {
    const { ipv4, ipv6 } = endpointIps(e);
    const id = `${e.containerId}/${e.ifname}`;
    for (const m of e.portMappings) {
      const six = m.hostIp?.includes(':') === true;
      if (!six && ipv4 !== undefined) v4.push({ ...m, containerIp: ipv4, id });
      if ((six || m.hostIp === undefined) && ipv6 !== undefined) v6.push({ ...m, containerIp: ipv6, id });
    }
  }
  return { v4, v6 };
}
