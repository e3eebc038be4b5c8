import { expect } from 'chai';
import {
  canonicalIp, cidrCoversAny, cidrsOverlap, formatCidrAny, formatIpv6, mustParseCidrAny, nthSubnet, parseIp, parseIpv6, subnetIndex,
} from '../../agent/src/net/ip';

describe('net: family-generic address math (ip-num)', () => {
  const canon: Array<[string, string]> = [
    ['FD00:0:0::0001', 'fd00::1'],
    ['fd00:10:244:0:0:0:0:0', 'fd00:10:244::'],
    ['1:0:0:1:0:0:1:1', '1::1:0:0:1:1'], // first of two equal zero runs
    ['1:0:1:1:1:1:1:1', '1:0:1:1:1:1:1:1'], // one zero field is not compressed (RFC 5952 4.2.2)
    ['::', '::'],
    ['10.244.3.1', '10.244.3.1'],
  ];
  for (const [input, want] of canon) {
    it(`writes ${input} as ${want}`, () => expect(canonicalIp(input)).to.equal(want));
  }

  for (const bad of ['fe80::1%eth0', ' fd00::1', 'fd00:::1', '1::2::3', 'gggg::', '12345::', 'fd00::/64', '010.1.1.1', '1.2.3', '']) {
    it(`refuses address ${JSON.stringify(bad)}`, () => expect(parseIp(bad)).to.equal(undefined));
  }

  it('parses prefixes of both families and refuses host bits', () => {
    expect(formatCidrAny(mustParseCidrAny('FD00:10:244::/56'))).to.equal('fd00:10:244::/56');
    expect(mustParseCidrAny('10.244.0.0/16')).to.deep.equal({ family: 4, network: 0x0af40000n, prefixLength: 16 });
    expect(() => mustParseCidrAny('fd00:10:244::1/56')).to.throw(/host bits set \(network address is fd00:10:244::\/56\)/);
    expect(formatCidrAny(mustParseCidrAny('fd00:10:244::1/56', false))).to.equal('fd00:10:244::/56');
    expect(() => mustParseCidrAny('fd00::/129')).to.throw(/0\.\.128/);
    expect(() => mustParseCidrAny('10.0.0.0/33')).to.throw(/0\.\.32/);
  });

  it('covers, overlaps, and cuts subnets by index in both families', () => {
    const c6 = mustParseCidrAny('fd00:10:244::/56');
    const s6 = mustParseCidrAny('fd00:10:244:3::/64');
    expect(cidrCoversAny(c6, s6)).to.equal(true);
    expect(cidrCoversAny(c6, mustParseCidrAny('fd00:10:245::/64'))).to.equal(false);
    expect(cidrCoversAny(c6, mustParseCidrAny('10.0.0.0/8'))).to.equal(false);
    expect(cidrsOverlap(mustParseCidrAny('fd00::/8'), c6)).to.equal(true);
    expect(formatCidrAny(nthSubnet(c6, 64, 255n))).to.equal('fd00:10:244:ff::/64');
    expect(() => nthSubnet(c6, 64, 256n)).to.throw(RangeError);
    expect(subnetIndex(c6, s6)).to.equal(3n);
    expect(subnetIndex(mustParseCidrAny('10.244.0.0/16'), mustParseCidrAny('10.244.3.0/24'))).to.equal(3n);
  });

  it('formats the largest and refuses out-of-range values', () => {
    expect(formatIpv6((1n << 128n) - 1n)).to.equal('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(() => formatIpv6(1n << 128n)).to.throw(RangeError);
    expect(parseIpv6('::ffff:1.2.3.4')).to.equal(0xffff01020304n);
  });

});
