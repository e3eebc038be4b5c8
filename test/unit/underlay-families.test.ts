import { expect } from 'chai';
import { underlayForFamilies, type Underlay } from '../../agent/src/dataplane/underlay';
import type { Link } from '../../agent/src/netlink';

const link = { index: 2, name: 'eth0' } as Link;

describe('underlayForFamilies: the address a named network leases with, by its families', () => {
  const v4node: Underlay = { link, ip: '192.168.77.11' };
  const dualNode: Underlay = { link, ip: '192.168.77.11', ipv6: 'fd77::b' };
  const v6node: Underlay = { link, ip: 'fd77::b' };
  const cases: Array<{ name: string; node: Underlay; families: { ipv4: boolean; ipv6: boolean }; found: { ipv4?: string; ipv6?: string }; want: Omit<Underlay, 'link'> | RegExp }> = [
    { name: 'IPv4-only network on an IPv4 node: unchanged', node: v4node, families: { ipv4: true, ipv6: false }, found: {}, want: { ip: '192.168.77.11' } },
    { name: 'IPv4-only network on a dual-stack default: no IPv6 address in its leases', node: dualNode, families: { ipv4: true, ipv6: false }, found: {}, want: { ip: '192.168.77.11' } },
    { name: 'dual-stack network on an IPv4 default: the link\'s IPv6 address next to the IPv4 one', node: v4node, families: { ipv4: true, ipv6: true }, found: { ipv6: 'fd77::b' }, want: { ip: '192.168.77.11', ipv6: 'fd77::b' } },
    { name: 'dual-stack network on a link without IPv6: IPv4 alone (host-gw refuses its IPv6 side with the reason)', node: v4node, families: { ipv4: true, ipv6: true }, found: {}, want: { ip: '192.168.77.11' } },
    { name: 'IPv6-only network on a dual-stack default: the IPv6 address is its public one', node: dualNode, families: { ipv4: false, ipv6: true }, found: {}, want: { ip: 'fd77::b' } },
    { name: 'IPv6-only network on an IPv4 default: the link\'s IPv6 address', node: v4node, families: { ipv4: false, ipv6: true }, found: { ipv6: 'fd77::b' }, want: { ip: 'fd77::b' } },
    { name: 'IPv6-only network on a link without IPv6: refused', node: v4node, families: { ipv4: false, ipv6: true }, found: {}, want: /eth0 has no global IPv6 address: an IPv6-only network needs one/ },
    { name: 'dual-stack network on an IPv6-only default: the link\'s IPv4 address, the default\'s IPv6 one next to it', node: v6node, families: { ipv4: true, ipv6: true }, found: { ipv4: '192.168.77.11' }, want: { ip: '192.168.77.11', ipv6: 'fd77::b' } },
    { name: 'IPv4 network on an IPv6-only default without IPv4 on the link: refused', node: v6node, families: { ipv4: true, ipv6: false }, found: {}, want: /eth0 has no IPv4 address/ },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      if (tc.want instanceof RegExp) {
        expect(() => underlayForFamilies(tc.node, tc.families, tc.found)).to.throw(tc.want);
      } else {
        expect(underlayForFamilies(tc.node, tc.families, tc.found)).to.deep.equal({ link, ...tc.want });
      }
    });
  }
});
