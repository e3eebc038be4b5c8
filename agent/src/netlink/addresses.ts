/**
 * Address verbs: `ip addr add/del/show`, IPv4 and IPv6.
 */
import { FlagsNew, rt } from 'netlink';
import type { RtConn } from './conn';
import type { Addr } from './types';
import { AF_INET, AF_INET6, bufToIp, checkFamily, checkIndex, familyNumber, parseCidr } from './validate';

const RT_SCOPE_HOST = 254;

function addrMessage(index: number, cidr: string, noDad = false): { data: rt.Address; attrs: rt.AddressAttrs } {
  checkIndex('index', index);
  const p = parseCidr('cidr', cidr);
  // like iproute2: 127/8 on IPv4 gets host scope, everything else universe
  const scope = p.family === 4 && p.bytes[0] === 127 ? RT_SCOPE_HOST : 0;
  return {
    data: { family: familyNumber(p.family), prefixlen: p.prefixLen, index, scope, ...(noDad && p.family === 6 ? { flags: { nodad: true } } : {}) },
    attrs: { local: p.bytes, address: p.bytes },
  };
}

/** ip addr add CIDR dev X [nodad] (EEXIST when present); nodad applies to IPv6 only */
export async function addrAdd(c: RtConn, index: number, cidr: string, opts: { noDad?: boolean } = {}): Promise<void> {
  const m = addrMessage(index, cidr, opts.noDad === true);
  await c.request('addr add', `${cidr} on link #${index}`, (s) =>
    s.newAddress(m.data, m.attrs, { flags: FlagsNew.CREATE | FlagsNew.EXCL }));
}

/** ip addr del CIDR dev X (EADDRNOTAVAIL when absent) */
export async function addrDel(c: RtConn, index: number, cidr: string): Promise<void> {
  const m = addrMessage(index, cidr);
  await c.request('addr del', `${cidr} on link #${index}`, (s) => s.delAddress(m.data, m.attrs));
}

/** ip [-4|-6] addr show [dev X] */
export async function addrList(c: RtConn, filter: { index?: number; family?: 4 | 6 } = {}): Promise<Addr[]> {
  const family = checkFamily('family', filter.family);
  if (filter.index !== undefined) checkIndex('index', filter.index);
  const msgs = await c.dump('addr list', 'addresses', (s) =>
    s.getAddresses({ family: family ? familyNumber(family) : 0 }));
  const out: Addr[] = [];
  for (const { data, attrs } of msgs) {
    if (filter.index !== undefined && data.index !== filter.index) continue;
    if (data.family !== AF_INET && data.family !== AF_INET6) continue;
    const ip = attrs.local ?? attrs.address;
    if (!ip) continue;
    out.push({ index: data.index ?? 0, cidr: `${bufToIp(ip)}/${data.prefixlen ?? 0}`, family: data.family === AF_INET ? 4 : 6 });
  }
  return out;
}
