import { expect } from 'chai';
import {
  broadcastAddress, cidrContains, cidrSize, formatCidr, formatIpv4, isIpv4, parseCidr, parseIpv4, prefixMask,
} from '../../agent/src/net/ipv4';

describe('ipam/ipv4', () => {
  describe('parseIpv4', () => {
    const good: Array<[string, number]> = [
      ['0.0.0.0', 0],
      ['10.244.1.1', 0x0af40101],
      ['255.255.255.255', 0xffffffff],
      ['192.168.0.10', 0xc0a8000a],
    ];
    for (const [text, value] of good) {
      it(`parses ${text}`, () => {
        expect(parseIpv4(text)).to.equal(value);
        expect(formatIpv4(value)).to.equal(text);
      });
    }
    const bad = ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4 ', ' 1.2.3.4', 'a.b.c.d', '1..3.4', '1.2.3.4/24', '0x1.2.3.4', '1e2.1.1.1'];
    for (const text of bad) {
      it(`rejects ${JSON.stringify(text)}`, () => {
        expect(parseIpv4(text)).to.equal(undefined);
        expect(isIpv4(text)).to.equal(false);
      });
    }
  });

  it('formatIpv4 rejects values outside 32 bits', () => {
    expect(() => formatIpv4(-1)).to.throw(RangeError);
    expect(() => formatIpv4(2 ** 32)).to.throw(RangeError);
    expect(() => formatIpv4(1.5)).to.throw(RangeError);
  });

  it('prefixMask covers /0, /8, /24, /32', () => {
    expect(prefixMask(0)).to.equal(0);
    expect(prefixMask(8)).to.equal(0xff000000);
    expect(prefixMask(24)).to.equal(0xffffff00);
    expect(prefixMask(32)).to.equal(0xffffffff);
    expect(() => prefixMask(33)).to.throw(RangeError);
  });

  describe('parseCidr', () => {
    const good: Array<[string, number, number, string, number]> = [
      // text, network, prefix, broadcast, size
      ['10.244.1.0/24', 0x0af40100, 24, '10.244.1.255', 256],
      ['10.244.0.0/16', 0x0af40000, 16, '10.244.255.255', 65536],
      ['192.168.7.8/29', 0xc0a80708, 29, '192.168.7.15', 8],
      ['0.0.0.0/0', 0, 0, '255.255.255.255', 2 ** 32],
      ['10.1.2.3/32', 0x0a010203, 32, '10.1.2.3', 1],
    ];
    for (const [text, network, prefixLength, broadcast, size] of good) {
      it(`parses ${text}`, () => {
        const cidr = parseCidr(text);
        expect(cidr).to.deep.equal({ network, prefixLength });
        expect(formatCidr(cidr!)).to.equal(text);
        expect(formatIpv4(broadcastAddress(cidr!))).to.equal(broadcast);
        expect(cidrSize(cidr!)).to.equal(size);
      });
    }
    const bad = ['10.244.1.5/24', '10.244.1.0', '10.244.1.0/33', '10.244.1.0/', '10.244.1.0/024', '10.244.1.0/2a', '/24', '10.244.1.0/24/1'];
    for (const text of bad) {
      it(`rejects ${JSON.stringify(text)}`, () => expect(parseCidr(text)).to.equal(undefined));
    }
  });

  it('cidrContains includes both ends and nothing outside', () => {
    const cidr = parseCidr('10.244.1.0/24')!;
    expect(cidrContains(cidr, parseIpv4('10.244.1.0')!)).to.equal(true);
    expect(cidrContains(cidr, parseIpv4('10.244.1.255')!)).to.equal(true);
    expect(cidrContains(cidr, parseIpv4('10.244.0.255')!)).to.equal(false);
    expect(cidrContains(cidr, parseIpv4('10.244.2.0')!)).to.equal(false);
  });
});
