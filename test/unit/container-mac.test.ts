import { expect } from 'chai';
import { containerMac } from '../../agent/src/dataplane/container-mac';

describe('containerMac: a container interface\'s MAC from its address', () => {
  it('IPv4: 0a:58 and the four address bytes', () => {
    expect(containerMac('10.244.1.5')).to.equal('0a:58:0a:f4:01:05');
    expect(containerMac('192.168.255.254')).to.equal('0a:58:c0:a8:ff:fe');
  });
  it('IPv6: 0a:58 and the last four bytes', () => {
    expect(containerMac('fd00:10:244:1::5')).to.equal('0a:58:00:00:00:05');
    expect(containerMac('fd00:10:244:1::a:ff02')).to.equal('0a:58:00:0a:ff:02');
  });
  it('is a locally administered unicast address', () => {
    const first = parseInt(containerMac('10.0.0.1').slice(0, 2), 16);
    expect(first & 0x01, 'unicast').to.equal(0);
    expect(first & 0x02, 'locally administered').to.equal(2);
  });
  it('different addresses of one pool give different MACs', () => {
    const macs = new Set(Array.from({ length: 254 }, (_, i) => containerMac(`10.244.7.${i + 1}`)));
    expect(macs.size).to.equal(254);
  });
  it('refuses what is not an address', () => {
    expect(() => containerMac('10.244.1')).to.throw(/not an IP address/);
  });
});
