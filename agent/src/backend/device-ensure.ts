/**
 * Idempotent device convergence shared by the tunnel backends: each step
 * reads first and writes only what differs, and reports how many writes it
 * made, so a setup() at steady state makes none.
 */
import { isNetlinkError, type Handle, type Link } from '../netlink';
import { connectedPrefixes } from './peer-checks';
import type { Ipv4Cidr } from '../net/ipv4';
import { mustParseCidrAny, type Cidr } from '../net/ip';

/** The underlay as it is now: the link re-read by index, its connected IPv4 and IPv6 prefixes. */
export interface UnderlayNow {
  link: Link;
  prefixes: Ipv4Cidr[];
  /** connected IPv6 prefixes other than link-local (the segment an IPv6 next hop must be on) */
  prefixes6: Cidr[];
}

/** Re-read the underlay by index (its MTU may have changed since detection) and its connected prefixes. */
export async function readUnderlay(nl: Pick<Handle, 'linkByIndex' | 'addrList'>, underlay: Link): Promise<UnderlayNow> {
  const link = await nl.linkByIndex(underlay.index);
  if (!link) throw new Error(`underlay ${underlay.name} (#${underlay.index}) no longer exists`);
  const addrs = await nl.addrList({ index: link.index });
  const prefixes6 = addrs
    .filter((a) => a.family === 6 && !a.cidr.startsWith('fe80:') && !a.cidr.endsWith('/128'))
    .map((a) => mustParseCidrAny(a.cidr, false));
  return { link, prefixes: connectedPrefixes(addrs.filter((a) => a.family === 4).map((a) => a.cidr)), prefixes6 };
}

/**
 * Make `cidr` the only IPv4 address of the device (an address left from a
 * previous subnet is removed, like flannel does). Returns the writes made.
 */
export async function ensureOnlyAddress(nl: Handle, index: number, cidr: string): Promise<number> {
  let writes = 0;
  const addrs = await nl.addrList({ index, family: 4 });
  for (const a of addrs) {
    if (a.cidr === cidr) continue;
    try {
      await nl.addrDel(index, a.cidr);
    } catch (err) {
      if (!isNetlinkError(err, 'EADDRNOTAVAIL', 'ENOENT')) throw err;
    }
    writes++;
  }
  if (!addrs.some((a) => a.cidr === cidr)) {
    try {
      await nl.addrAdd(index, cidr);
    } catch (err) {
      if (!isNetlinkError(err, 'EEXIST')) throw err;
    }
    writes++;
  }
  return writes;
}

/** Set MTU and up-state where they differ. Returns the writes made. */
export async function ensureMtuUp(nl: Handle, link: Link, mtu: number): Promise<number> {
  let writes = 0;
  if (link.mtu !== mtu) {
    await nl.linkSetMtu(link.index, mtu);
    writes++;
  }
  if (!link.up) {
    await nl.linkSetUp(link.index);
    writes++;
  }
  return writes;
}
