import { expect } from 'chai';
import {
  encodeLeaseValue,
  InvalidLeaseError,
  parseLease,
  parseSubnetKeyName,
  subnetKeyName,
  type LeaseValue,
} from '../../agent/src/store/lease-codec';
import { cidrCovers, formatIpv4, mustParseCidr, mustParseIpv4 } from '../../agent/src/net/ipv4';
import { mustParseCidrAny } from '../../agent/src/net/ip';

const scope = { clusterCidr: '10.244.0.0/16', subnetLength: 24 };
const good: LeaseValue = {
  nodeName: 'node-1',
  publicIp: '192.168.1.10',
  backend: { type: 'vxlan', data: { vtepMac: '0a:58:0a:f4:03:01' } },
  renewedAt: '2026-01-01T00:00:00.000Z',
};

describe('store: ipv4 helpers', () => {
  it('parses and formats addresses and networks', () => {
    expect(formatIpv4(mustParseIpv4('255.254.0.1'))).to.equal('255.254.0.1');
    expect(mustParseCidr('10.244.3.0/24')).to.deep.equal({ network: mustParseIpv4("10.244.3.0"), prefixLength: 24 });
    expect(cidrCovers(mustParseCidr('10.244.0.0/16'), mustParseCidr('10.244.255.0/24'))).to.equal(true);
    expect(cidrCovers(mustParseCidr('10.244.0.0/16'), mustParseCidr('10.245.0.0/24'))).to.equal(false);
    expect(cidrCovers(mustParseCidr('10.244.0.0/16'), mustParseCidr('10.0.0.0/8'))).to.equal(false);
  });
  for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', ' 1.2.3.4', 'a.b.c.d']) {
    it(`refuses address ${JSON.stringify(bad)}`, () => expect(() => mustParseIpv4(bad)).to.throw(/not an IPv4/));
  }
});

describe('store: lease codec', () => {
  it('round-trips a lease', () => {
    const lease = parseLease(subnetKeyName('10.244.3.0/24'), encodeLeaseValue(good), scope);
    expect(lease).to.deep.equal({ subnet: '10.244.3.0/24', ...good });
  });

  it('accepts a Buffer value and a lease without backend data', () => {
    const v = { ...good, backend: { type: 'host-gw' } };
    const lease = parseLease('10.244.0.0-24', Buffer.from(JSON.stringify(v)), scope);
    expect(lease.backend).to.deep.equal({ type: 'host-gw', data: {} });
  });

  it('maps subnets to key names and back', () => {
    expect(subnetKeyName('10.244.3.0/24')).to.equal('10.244.3.0-24');
    expect(parseSubnetKeyName('10.244.3.0-24')).to.deep.equal(mustParseCidrAny('10.244.3.0/24'));
  });

  const v = (patch: Record<string, unknown>): string => JSON.stringify({ ...good, ...patch });
  const cases: { name: string; key: string; value: string; match: RegExp }[] = [
    { name: 'key without length', key: '10.244.3.0', value: v({}), match: /a\.b\.c\.d-len/ },
    { name: 'key with a slash', key: 'x/10.244.3.0-24', value: v({}), match: /a\.b\.c\.d-len/ },
    { name: 'key with host bits', key: '10.244.3.7-24', value: v({}), match: /host bits/ },
    { name: 'key with a bad octet', key: '10.244.300.0-24', value: v({}), match: /not an IPv4/ },
    { name: 'subnet outside the cluster CIDR', key: '10.245.3.0-24', value: v({}), match: /outside the cluster CIDR/ },
    { name: 'subnet of the wrong length', key: '10.244.4.0-23', value: v({}), match: /is not a \/24/ },
    { name: 'garbage value', key: '10.244.3.0-24', value: 'garbage{', match: /not JSON/ },
    { name: 'JSON that is not an object', key: '10.244.3.0-24', value: '[1,2]', match: /not a JSON object/ },
    { name: 'missing nodeName', key: '10.244.3.0-24', value: v({ nodeName: undefined }), match: /nodeName/ },
    { name: 'nodeName with a space', key: '10.244.3.0-24', value: v({ nodeName: 'a b' }), match: /nodeName/ },
    { name: 'bad publicIp', key: '10.244.3.0-24', value: v({ publicIp: '1.2.3' }), match: /publicIp/ },
    { name: 'publicIp loopback', key: '10.244.3.0-24', value: v({ publicIp: '127.0.0.1' }), match: /publicIp 127\.0\.0\.1 is a loopback address/ },
    { name: 'publicIp unspecified', key: '10.244.3.0-24', value: v({ publicIp: '0.0.0.0' }), match: /publicIp 0\.0\.0\.0 is a "this network"/ },
    { name: 'publicIp limited broadcast', key: '10.244.3.0-24', value: v({ publicIp: '255.255.255.255' }), match: /publicIp 255\.255\.255\.255 is a limited broadcast address/ },
    { name: 'publicIp multicast', key: '10.244.3.0-24', value: v({ publicIp: '224.0.0.1' }), match: /publicIp 224\.0\.0\.1 is a multicast address/ },
    { name: 'publicIp class E', key: '10.244.3.0-24', value: v({ publicIp: '250.1.2.3' }), match: /reserved \(class E\)/ },
    { name: 'publicIp inside the cluster CIDR', key: '10.244.3.0-24', value: v({ publicIp: '10.244.7.9' }), match: /publicIp 10\.244\.7\.9 is inside the cluster CIDR 10\.244\.0\.0\/16/ },
    { name: 'missing publicIp', key: '10.244.3.0-24', value: v({ publicIp: undefined }), match: /publicIp is missing/ },
    { name: 'a backend type that is no backend name (a peer on another backend is refused by backend/peer-checks)', key: '10.244.3.0-24', value: v({ backend: { type: 'UDP tunnel', data: {} } }), match: /backend\.type/ },
    { name: 'backend.data an array', key: '10.244.3.0-24', value: v({ backend: { type: 'vxlan', data: [] } }), match: /backend\.data is not an object/ },
    { name: 'backend.data nested object', key: '10.244.3.0-24', value: v({ backend: { type: 'vxlan', data: { x: {} } } }), match: /backend\.data\.x/ },
    { name: 'bad vtepMac', key: '10.244.3.0-24', value: v({ backend: { type: 'vxlan', data: { vtepMac: 'zz' } } }), match: /vtepMac/ },
    { name: 'multicast vtepMac', key: '10.244.3.0-24', value: v({ backend: { type: 'vxlan', data: { vtepMac: '01:00:5e:00:00:01' } } }), match: /unicast/ },
    { name: 'bad renewedAt', key: '10.244.3.0-24', value: v({ renewedAt: 'yesterday' }), match: /renewedAt/ },
  ];
  for (const tc of cases) {
    it(`refuses ${tc.name}`, () => {
      expect(() => parseLease(tc.key, tc.value, scope)).to.throw(InvalidLeaseError, tc.match);
    });
  }
});
