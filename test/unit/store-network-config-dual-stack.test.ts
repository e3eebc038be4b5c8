import { expect } from 'chai';
import { formatNetworkConfig, networkFamilies, pairedIpv6Subnet, parseNetworkConfigText } from '../../agent/src/store/network-config';
import { parseNetwork } from '../../agent/src/backend';

const vx = { type: 'vxlan' };

describe('store: network config families (IPv4-only, dual-stack, IPv6-only)', () => {
  it('dual-stack: IPv6 defaults to /64 per node, no IPv6 masquerade', () => {
    const cfg = parseNetwork({ clusterCidr: '10.244.0.0/16', ipv6ClusterCidr: 'FD00:10:244::/56', backend: vx });
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
    const cfg = parseNetwork({ clusterCidr: '10.244.0.0/16', backend: vx });
    expect(Object.keys(JSON.parse(formatNetworkConfig(cfg)) as object).filter((k) => k.startsWith('ipv6'))).to.deep.equal([]);
    expect(networkFamilies(cfg).stack).to.equal('ipv4');
    expect(pairedIpv6Subnet(cfg, '10.244.3.0/24')).to.equal(undefined);
  });

  it('IPv6-only: an IPv6 clusterCidr, /64 by default, range over the IPv6 subnets', () => {
    const cfg = parseNetwork({ clusterCidr: 'fd00:10:244::/56', backend: { type: 'host-gw' }, ipv6Masquerade: true });
    expect(cfg).to.deep.include({
      clusterCidr: 'fd00:10:244::/56', subnetLength: 64, subnetMin: 'fd00:10:244::/64', subnetMax: 'fd00:10:244:ff::/64', ipv6Masquerade: true,
    });
    expect(networkFamilies(cfg)).to.deep.equal({ ipv6: { clusterCidr: 'fd00:10:244::/56', subnetLength: 64 }, stack: 'ipv6' });
    const ranged = parseNetwork({ clusterCidr: 'fd00:10:244::/56', subnetMin: 'fd00:10:244:10::', subnetMax: 'fd00:10:244:20::/64', backend: vx });
    expect([ranged.subnetMin, ranged.subnetMax]).to.deep.equal(['fd00:10:244:10::/64', 'fd00:10:244:20::/64']);
  });

  it('pairs each IPv4 subnet with the IPv6 subnet at the same index', () => {
    const cfg = parseNetwork({ clusterCidr: '10.244.0.0/16', ipv6ClusterCidr: 'fd00:10:244::/56', backend: vx });
    expect(pairedIpv6Subnet(cfg, '10.244.0.0/24')).to.equal('fd00:10:244::/64');
    expect(pairedIpv6Subnet(cfg, '10.244.3.0/24')).to.equal('fd00:10:244:3::/64');
    expect(pairedIpv6Subnet(cfg, '10.244.255.0/24')).to.equal('fd00:10:244:ff::/64');
    const wide = parseNetwork({ clusterCidr: '10.0.0.0/8', subnetLength: 26, ipv6ClusterCidr: 'fd00::/48', ipv6SubnetLength: 80, backend: vx });
    expect(pairedIpv6Subnet(wide, '10.0.1.64/26')).to.equal('fd00::5:0:0:0/80');
  });
});
