import { expect } from 'chai';
import { containerCidrProblem, notUnicastReason, spanOfCidr, spansOverlap } from '../../agent/src/net/special-ranges';
import { nodeOverlap, type NodePrefix } from '../../agent/src/dataplane/node-overlap';

describe('special address ranges (both families)', () => {
  const refusedCidrs: Array<[string, RegExp]> = [
    ['0.0.0.0/0', /whole IPv4 address space/],
    ['::/0', /whole IPv6 address space/],
    ['0.0.0.0/8', /"this network"/],
    ['127.0.0.0/8', /loopback range 127\.0\.0\.0\/8/],
    ['126.0.0.0/7', /loopback/],
    ['169.254.0.0/16', /link-local range 169\.254\.0\.0\/16/],
    ['224.0.0.0/4', /multicast range 224\.0\.0\.0\/4/],
    ['240.0.0.0/4', /limited broadcast|class E/],
    ['255.255.255.255/32', /limited broadcast/],
    ['::1/128', /loopback range ::1\/128/],
    ['fe80::/64', /link-local range fe80::\/10/],
    ['ff02::/16', /multicast range ff00::\/8/],
    ['::ffff:a00:0/120', /IPv4-mapped/],
  ];
  for (const [cidr, match] of refusedCidrs) {
    it(`refuses ${cidr} for containers`, () => expect(containerCidrProblem(cidr)).to.match(match));
  }
  for (const cidr of ['10.244.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fd00:10:244::/56', '2001:db8::/32']) {
    it(`accepts ${cidr} for containers`, () => expect(containerCidrProblem(cidr)).to.equal(undefined));
  }

  const notUnicast: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/], ['0.0.0.0', /"this network"/], ['255.255.255.255', /limited broadcast/],
    ['224.0.0.1', /multicast/], ['241.0.0.1', /class E/], ['::', /unspecified/], ['::1', /loopback/], ['ff02::1', /multicast/],
  ];
  for (const [ip, match] of notUnicast) {
    it(`${ip} is no unicast node address`, () => expect(notUnicastReason(ip)).to.match(match).and.to.match(/not a unicast address/));
  }
  for (const ip of ['192.168.77.11', '10.0.0.1', '169.254.1.1', '2001:db8::1', 'fe80::1']) {
    it(`${ip} is a unicast node address`, () => expect(notUnicastReason(ip)).to.equal(undefined));
  }

  it('overlap is inclusive at both ends and never across families', () => {
    expect(spansOverlap(spanOfCidr('10.0.0.0/24'), spanOfCidr('10.0.0.255/32'))).to.equal(true);
    expect(spansOverlap(spanOfCidr('10.0.0.0/24'), spanOfCidr('10.0.1.0/24'))).to.equal(false);
    expect(spansOverlap(spanOfCidr('0.0.0.0/0'), spanOfCidr('::/0'))).to.equal(false);
  });
  it('throws on text that is no CIDR', () => {
    expect(() => spanOfCidr('10.0.0/8')).to.throw(/not an IPv4 CIDR/);
    expect(() => notUnicastReason('1.2.3')).to.throw(/not an IPv4 address/);
  });
});

describe('nodeOverlap: a container CIDR against the node\'s own addresses and routes', () => {
  const node: NodePrefix[] = [
    { kind: 'address', cidr: '192.168.77.11/24', link: 'eth0' },
    { kind: 'route', cidr: '172.17.0.0/16', link: 'docker0' },
    { kind: 'address', cidr: 'fd00:77::11/64', link: 'eth0' },
  ];
  const cases: Array<[string, string | undefined]> = [
    ['10.244.0.0/16', undefined],
    ['192.168.0.0/16', "192.168.0.0/16 overlaps the node's address 192.168.77.11/24 on eth0"],
    ['192.168.77.128/25', "192.168.77.128/25 overlaps the node's address 192.168.77.11/24 on eth0"],
    ['172.16.0.0/12', "172.16.0.0/12 overlaps the node's route 172.17.0.0/16 on docker0"],
    ['fd00:77::/48', "fd00:77::/48 overlaps the node's address fd00:77::11/64 on eth0"],
    ['fd00:244::/48', undefined],
  ];
  for (const [cidr, want] of cases) it(`${cidr} → ${want ?? 'no overlap'}`, () => expect(nodeOverlap(cidr, node)).to.equal(want));
});
