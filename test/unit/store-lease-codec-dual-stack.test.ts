import { expect } from 'chai';
import {
  encodeLeaseValue, InvalidLeaseError, leaseSubnets, leaseUnderlay, parseLease, parseSubnetKeyName, subnetKeyName, type LeaseValue,
} from '../../agent/src/store/lease-codec';

const dual = { clusterCidr: '10.244.0.0/16', subnetLength: 24, ipv6ClusterCidr: 'fd00:10:244::/56', ipv6SubnetLength: 64 };
const v6only = { clusterCidr: 'fd00:10:244::/56', subnetLength: 64 };
const good: LeaseValue = {
  nodeName: 'node-1',
  publicIp: '192.168.1.10',
  publicIpv6: 'fd30::10',
  ipv6Subnet: 'fd00:10:244:3::/64',
  backend: { type: 'vxlan', data: { vtepMac: '0a:58:0a:f4:03:01' } },
  renewedAt: '2026-01-01T00:00:00.000Z',
};

describe('store: lease codec, dual-stack and IPv6-only', () => {
  it('round-trips a dual-stack lease (one record: IPv4 key, IPv6 subnet and underlay in the value)', () => {
    const lease = parseLease(subnetKeyName('10.244.3.0/24'), encodeLeaseValue(good), dual);
    expect(lease).to.deep.equal({ subnet: '10.244.3.0/24', ...good });
    expect(leaseSubnets(lease)).to.deep.equal({ ipv4: '10.244.3.0/24', ipv6: 'fd00:10:244:3::/64' });
    expect(leaseUnderlay(lease)).to.deep.equal({ ipv4: '192.168.1.10', ipv6: 'fd30::10' });
  });

  it('reads a lease written before dual-stack (no IPv6 fields) in a dual-stack network', () => {
    const old = { nodeName: 'node-1', publicIp: '192.168.1.10', backend: { type: 'vxlan', data: {} }, renewedAt: '2026-01-01T00:00:00.000Z' };
    const lease = parseLease('10.244.3.0-24', JSON.stringify(old), dual);
    expect(lease.ipv6Subnet).to.equal(undefined);
    expect(leaseSubnets(lease)).to.deep.equal({ ipv4: '10.244.3.0/24' });
    // and the IPv4-only encoding is byte-for-byte what it was
    expect(encodeLeaseValue(old as LeaseValue)).to.equal(JSON.stringify(old));
  });

  it('an IPv4-only network ignores the IPv6 subnet of a peer that runs dual-stack already (rolling upgrade: the peer stays)', () => {
    const lease = parseLease('10.244.3.0-24', encodeLeaseValue(good), { clusterCidr: '10.244.0.0/16', subnetLength: 24 });
    expect(lease.ipv6Subnet).to.equal(undefined);
    expect(lease.subnet).to.equal('10.244.3.0/24');
  });

  it('IPv6-only: keys are IPv6 subnets; an IPv6 publicIp is canonicalised', () => {
    expect(subnetKeyName('FD00:10:244:3::/64')).to.equal('fd00:10:244:3::-64');
    expect(parseSubnetKeyName('fd00:10:244:3::-64').family).to.equal(6);
    const lease = parseLease('fd00:10:244:3::-64', JSON.stringify({ ...good, publicIp: 'FD30:0::10', publicIpv6: undefined, ipv6Subnet: undefined }), v6only);
    expect(lease.subnet).to.equal('fd00:10:244:3::/64');
    expect(lease.publicIp).to.equal('fd30::10');
    expect(leaseSubnets(lease)).to.deep.equal({ ipv6: 'fd00:10:244:3::/64' });
    expect(leaseUnderlay(lease)).to.deep.equal({ ipv6: 'fd30::10' });
  });

  const v = (patch: Record<string, unknown>): string => JSON.stringify({ ...good, ...patch });
  const cases: { name: string; key: string; scope: typeof dual | typeof v6only; value: string; match: RegExp }[] = [
    { name: 'an IPv6 subnet not paired with the key (another node\'s)', key: '10.244.3.0-24', scope: dual, value: v({ ipv6Subnet: 'fd00:10:244:4::/64' }), match: /is not fd00:10:244:3::\/64, the IPv6 subnet paired with 10\.244\.3\.0\/24/ },
    { name: 'an IPv6 subnet that is no CIDR', key: '10.244.3.0-24', scope: dual, value: v({ ipv6Subnet: 42 }), match: /ipv6Subnet 42/ },
    { name: 'publicIpv6 that is IPv4', key: '10.244.3.0-24', scope: dual, value: v({ publicIpv6: '10.0.0.1' }), match: /publicIpv6 .* not an IPv6 address/ },
    { name: 'link-local publicIpv6', key: '10.244.3.0-24', scope: dual, value: v({ publicIpv6: 'fe80::1' }), match: /publicIpv6 fe80::1 is link-local/ },
    { name: 'multicast publicIp', key: '10.244.3.0-24', scope: dual, value: v({ publicIp: 'ff02::1', publicIpv6: undefined }), match: /publicIp ff02::1 is a multicast address/ },
    { name: 'publicIpv6 next to an IPv6 publicIp', key: '10.244.3.0-24', scope: dual, value: v({ publicIp: 'fd30::9' }), match: /publicIpv6 is only for a node whose publicIp is IPv4/ },
    { name: 'a non-canonical IPv6 key (two keys for one subnet)', key: 'fd00:10:244:3:0::-64', scope: v6only, value: v({ ipv6Subnet: undefined, publicIpv6: undefined }), match: /canonical form/ },
    { name: 'an IPv6 key outside the cluster', key: 'fd01::-64', scope: v6only, value: v({ ipv6Subnet: undefined, publicIpv6: undefined }), match: /outside the cluster CIDR/ },
    { name: 'an IPv4 key in an IPv6-only network', key: '10.244.3.0-24', scope: v6only, value: v({ ipv6Subnet: undefined, publicIpv6: undefined }), match: /not a \/64/ },
  ];
  for (const tc of cases) {
    it(`refuses ${tc.name}`, () => {
      expect(() => parseLease(tc.key, tc.value, tc.scope)).to.throw(InvalidLeaseError, tc.match);
    });
  }
});
