import { expect } from 'chai';
import {
  formatNetworkConfig, networkFamilies, NetworkConfigError, pairedIpv6Subnet, parseNetworkConfig, parseNetworkConfigText,
} from '../../agent/src/store/network-config';

const vx = { type: 'vxlan' };

describe('store: network config families (IPv4-only, dual-stack, IPv6-only)', () => {
  it('dual-stack: IPv6 defaults to /64 per node, no IPv6 masquerade', () => {
    const cfg = parseNetworkConfig({ clusterCidr: '10.244.0.0/16', ipv6ClusterCidr: 'FD00:10:244::/56', backend: vx });
    expect(cfg.ipv6ClusterCidr).to.equal('fd00:10:244::/56');
    expect(cfg.ipv6SubnetLength).to.equal(64);
    expect(cfg.ipv6Masquerade).to.equal(false);
    expect(networkFamilies(cfg)).to.deep.equal({
      ipv4: { clusterCidr: '10.244.0.0/16', subnetLength: 24 },
      ipv6: { clusterCidr: 'fd00:10:244::/56', subnetLength: 64 },
      stack: 'dual-stack',
    });
    expect(parseNetworkConfigText(formatNetworkConfig(cfg))).to.deep.equal(cfg);
  });

  it('IPv4-only: no IPv6 field is stored, so older knitd versions still read the document', () => {
    const cfg = parseNetworkConfig({ clusterCidr: '10.244.0.0/16', backend: vx });
    expect(Object.keys(JSON.parse(formatNetworkConfig(cfg)) as object).filter((k) => k.startsWith('ipv6'))).to.deep.equal([]);
    expect(networkFamilies(cfg).stack).to.equal('ipv4');
    expect(pairedIpv6Subnet(cfg, '10.244.3.0/24')).to.equal(undefined);
  });

  it('IPv6-only: an IPv6 clusterCidr, /64 by default, range over the IPv6 subnets', () => {
    const cfg = parseNetworkConfig({ clusterCidr: 'fd00:10:244::/56', backend: { type: 'host-gw' }, ipv6Masquerade: true });
    expect(cfg).to.deep.include({
      clusterCidr: 'fd00:10:244::/56', subnetLength: 64, subnetMin: 'fd00:10:244::/64', subnetMax: 'fd00:10:244:ff::/64', ipv6Masquerade: true,
    });
    expect(networkFamilies(cfg)).to.deep.equal({ ipv6: { clusterCidr: 'fd00:10:244::/56', subnetLength: 64 }, stack: 'ipv6' });
    const ranged = parseNetworkConfig({ clusterCidr: 'fd00:10:244::/56', subnetMin: 'fd00:10:244:10::', subnetMax: 'fd00:10:244:20::/64', backend: vx });
    expect([ranged.subnetMin, ranged.subnetMax]).to.deep.equal(['fd00:10:244:10::/64', 'fd00:10:244:20::/64']);
  });

  it('pairs each IPv4 subnet with the IPv6 subnet at the same index', () => {
    const cfg = parseNetworkConfig({ clusterCidr: '10.244.0.0/16', ipv6ClusterCidr: 'fd00:10:244::/56', backend: vx });
    expect(pairedIpv6Subnet(cfg, '10.244.0.0/24')).to.equal('fd00:10:244::/64');
    expect(pairedIpv6Subnet(cfg, '10.244.3.0/24')).to.equal('fd00:10:244:3::/64');
    expect(pairedIpv6Subnet(cfg, '10.244.255.0/24')).to.equal('fd00:10:244:ff::/64');
    const wide = parseNetworkConfig({ clusterCidr: '10.0.0.0/8', subnetLength: 26, ipv6ClusterCidr: 'fd00::/48', ipv6SubnetLength: 80, backend: vx });
    expect(pairedIpv6Subnet(wide, '10.0.1.64/26')).to.equal('fd00::5:0:0:0/80');
  });

  const base = { clusterCidr: '10.244.0.0/16', ipv6ClusterCidr: 'fd00:10:244::/56', backend: vx };
  const cases: { name: string; input: unknown; field: string; match: RegExp }[] = [
    { name: 'IPv6 cluster with host bits', input: { ...base, ipv6ClusterCidr: 'fd00:10:244::1/56' }, field: 'ipv6ClusterCidr', match: /host bits/ },
    { name: 'IPv4 in ipv6ClusterCidr', input: { ...base, ipv6ClusterCidr: '10.0.0.0/8' }, field: 'ipv6ClusterCidr', match: /must be an IPv6 CIDR/ },
    { name: 'link-local IPv6 cluster', input: { ...base, ipv6ClusterCidr: 'fe80::/56' }, field: 'ipv6ClusterCidr', match: /link-local/ },
    { name: 'multicast IPv6 cluster', input: { ...base, ipv6ClusterCidr: 'ff00::/56' }, field: 'ipv6ClusterCidr', match: /multicast/ },
    { name: 'IPv6 cluster covering ::1', input: { ...base, ipv6ClusterCidr: '::/56' }, field: 'ipv6ClusterCidr', match: /unspecified|loopback/ },
    { name: 'IPv6-only cluster on link-local space', input: { clusterCidr: 'fe80::/56', backend: vx }, field: 'clusterCidr', match: /link-local/ },
    { name: 'too few IPv6 subnets for the IPv4 ones', input: { ...base, ipv6ClusterCidr: 'fd00::/60' }, field: 'ipv6ClusterCidr', match: /holds 16 \/64 subnets, fewer than the 256 \/24 .*use a \/56 or shorter/ },
    { name: 'ipv6SubnetLength not longer than the IPv6 cluster', input: { ...base, ipv6SubnetLength: 56 }, field: 'ipv6SubnetLength', match: /longer than the ipv6ClusterCidr prefix \/56/ },
    { name: 'ipv6SubnetLength above 126', input: { ...base, ipv6ClusterCidr: 'fd00::/120', ipv6SubnetLength: 127 }, field: 'ipv6SubnetLength', match: /at most 126/ },
    { name: 'ipv6SubnetLength without a cluster', input: { clusterCidr: '10.244.0.0/16', ipv6SubnetLength: 64, backend: vx }, field: 'ipv6SubnetLength', match: /needs ipv6ClusterCidr/ },
    { name: 'ipv6Masquerade on IPv4-only', input: { clusterCidr: '10.244.0.0/16', ipv6Masquerade: true, backend: vx }, field: 'ipv6Masquerade', match: /needs IPv6/ },
    { name: 'ipv6ClusterCidr next to an IPv6 clusterCidr', input: { clusterCidr: 'fd01::/56', ipv6ClusterCidr: 'fd00::/56', backend: vx }, field: 'ipv6ClusterCidr', match: /only for dual-stack/ },
    { name: 'IPv6-only with 2^40 subnets', input: { clusterCidr: 'fd00::/24', backend: vx }, field: 'subnetLength', match: /more than 2\^32 subnets/ },
    { name: 'IPv4 subnetMin in an IPv6-only cluster', input: { clusterCidr: 'fd00::/56', subnetMin: '10.0.0.0', backend: vx }, field: 'subnetMin', match: /is IPv4, clusterCidr is IPv6/ },
    { name: 'an IPv6 node subnet shorter than /64', input: { ...base, ipv6ClusterCidr: 'fd00::/40', ipv6SubnetLength: 48 }, field: 'ipv6SubnetLength', match: /must be 64\.\.126 for IPv6/ },
    { name: 'ipip with IPv6', input: { ...base, backend: { type: 'ipip' } }, field: 'backend.type', match: /ipip carries IPv4 only/ },
  ];
  for (const tc of cases) {
    it(`refuses: ${tc.name}`, () => {
      let caught: unknown;
      try {
        parseNetworkConfig(tc.input);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(NetworkConfigError);
      const e = caught as NetworkConfigError;
      expect(e.field).to.equal(tc.field);
      expect(e.message).to.match(tc.match);
    });
  }
});
