import { expect } from 'chai';
import { NetworkConfigError, parseNetworkConfig, parseNetworkConfigText, formatNetworkConfig } from '../../agent/src/store/network-config';
import { parseNetwork } from '../../agent/src/backend';

const vx = { type: 'vxlan' };

describe('parseNetwork: the store\'s fields, then the backend\'s own section', () => {
  it('fills the defaults (VNI 1, port 8472, masquerade, /24, full range)', () => {
    const cfg = parseNetwork({ clusterCidr: '10.244.0.0/16', backend: vx });
    expect(cfg).to.deep.equal({
      clusterCidr: '10.244.0.0/16',
      subnetLength: 24,
      subnetMin: '10.244.0.0/24',
      subnetMax: '10.244.255.0/24',
      backend: { type: 'vxlan', vni: 1, port: 8472, directRouting: false, disableTxChecksumOffload: false },
      masquerade: true,
    });
  });

  it('keeps explicit values and accepts min/max with or without /len', () => {
    const cfg = parseNetwork({
      clusterCidr: '10.0.0.0/8',
      subnetLength: 26,
      subnetMin: '10.1.0.0',
      subnetMax: '10.2.0.64/26',
      backend: { type: 'vxlan', vni: 16777215, port: 4789, directRouting: true },
      mtu: 1400,
      masquerade: false,
    });
    expect(cfg.subnetMin).to.equal('10.1.0.0/26');
    expect(cfg.subnetMax).to.equal('10.2.0.64/26');
    expect(cfg.backend).to.deep.equal({ type: 'vxlan', vni: 16777215, port: 4789, directRouting: true, disableTxChecksumOffload: false });
    expect(cfg.mtu).to.equal(1400);
    expect(cfg.masquerade).to.equal(false);
  });

  for (const type of ['host-gw', 'ipip', 'bgp'] as const) {
    it(`accepts backend ${type}`, () => {
      expect(parseNetwork({ clusterCidr: '10.244.0.0/16', backend: { type } }).backend).to.deep.equal({ type });
    });
  }

  it('accepts bgp in an IPv6-only cluster (sessions over IPv6; ipip alone refuses IPv6)', () => {
    const n = parseNetwork({ clusterCidr: 'fd00::/56', backend: { type: 'bgp', asn: 65001, peers: [{ address: 'FD77:0::1', asn: 65000 }], listenAddress: '::', advertise: ['fd00:1::/48'] } });
    expect(n.backend).to.deep.include({ type: 'bgp', asn: 65001, listenAddress: '::', advertise: ['fd00:1::/48'] });
    expect((n.backend as { peers?: Array<{ address: string }> }).peers?.[0]?.address, 'kept in canonical form (what a socket reports)').to.equal('fd77::1');
  });

  it('round-trips through its stored text', () => {
    const cfg = parseNetwork({ clusterCidr: '172.16.0.0/12', subnetLength: 20, backend: { type: 'ipip' }, mtu: 1480 });
    expect(parseNetworkConfigText(formatNetworkConfig(cfg))).to.deep.equal(cfg);
  });

  const base = { clusterCidr: '10.244.0.0/16', backend: vx };
  const dual = { clusterCidr: '10.244.0.0/16', ipv6ClusterCidr: 'fd00:10:244::/56', backend: vx };
  const cases: { name: string; input: unknown; field: string; match: RegExp }[] = [
    { name: 'not an object', input: [1], field: '', match: /JSON object/ },
    { name: 'unknown top-level field', input: { ...base, vni: 3 }, field: 'vni', match: /unknown field/ },
    { name: 'missing clusterCidr', input: { backend: vx }, field: 'clusterCidr', match: /required/ },
    { name: 'clusterCidr not a CIDR', input: { ...base, clusterCidr: '10.244.0.0' }, field: 'clusterCidr', match: /missing \/len/ },
    { name: 'clusterCidr bad octet', input: { ...base, clusterCidr: '10.300.0.0/16' }, field: 'clusterCidr', match: /not an IPv4/ },
    { name: 'clusterCidr host bits set', input: { ...base, clusterCidr: '10.244.1.0/16' }, field: 'clusterCidr', match: /host bits/ },
    { name: 'clusterCidr too small for two subnets', input: { ...base, clusterCidr: '10.0.0.0/30', subnetLength: 30 }, field: 'clusterCidr', match: /too small for two subnets/ },
    { name: 'clusterCidr 0.0.0.0/0', input: { ...base, clusterCidr: '0.0.0.0/0' }, field: 'clusterCidr', match: /0\.0\.0\.0\/0 is the whole IPv4 address space/ },
    { name: 'clusterCidr 0.0.0.0/1 (touches 0.0.0.0/8)', input: { ...base, clusterCidr: '0.0.0.0/1' }, field: 'clusterCidr', match: /overlaps the "this network" \(0\.0\.0\.0\/8\) range/ },
    { name: 'clusterCidr loopback', input: { ...base, clusterCidr: '127.0.0.0/8' }, field: 'clusterCidr', match: /127\.0\.0\.0\/8 overlaps the loopback range 127\.0\.0\.0\/8/ },
    { name: 'clusterCidr inside loopback', input: { ...base, clusterCidr: '127.10.0.0/16' }, field: 'clusterCidr', match: /loopback/ },
    { name: 'clusterCidr multicast', input: { ...base, clusterCidr: '224.0.0.0/4', subnetLength: 24 }, field: 'clusterCidr', match: /overlaps the multicast range 224\.0\.0\.0\/4/ },
    { name: 'clusterCidr link-local', input: { ...base, clusterCidr: '169.254.0.0/16' }, field: 'clusterCidr', match: /link-local range 169\.254\.0\.0\/16/ },
    { name: 'clusterCidr class E', input: { ...base, clusterCidr: '240.0.0.0/8' }, field: 'clusterCidr', match: /reserved \(class E\)/ },
    { name: 'clusterCidr holding the limited broadcast', input: { ...base, clusterCidr: '255.255.255.0/24', subnetLength: 26 }, field: 'clusterCidr', match: /limited broadcast range 255\.255\.255\.255\/32/ },
    { name: 'clusterCidr spanning 10/8 and loopback', input: { ...base, clusterCidr: '0.0.0.0/1' }, field: 'clusterCidr', match: /use a private range/ },
    { name: 'subnetLength required for a /24 cluster', input: { ...base, clusterCidr: '10.0.0.0/24' }, field: 'subnetLength', match: /required/ },
    { name: 'subnetLength not an integer', input: { ...base, subnetLength: 24.5 }, field: 'subnetLength', match: /integer/ },
    { name: 'subnetLength equal to the prefix', input: { ...base, subnetLength: 16 }, field: 'subnetLength', match: /longer than the clusterCidr prefix \/16/ },
    { name: 'subnetLength shorter than the prefix', input: { ...base, subnetLength: 8 }, field: 'subnetLength', match: /longer than/ },
    { name: 'subnetLength above 30', input: { ...base, subnetLength: 31 }, field: 'subnetLength', match: /at most 30/ },
    { name: 'subnetMin misaligned', input: { ...base, subnetMin: '10.244.1.5' }, field: 'subnetMin', match: /not aligned to a \/24/ },
    { name: 'subnetMax misaligned', input: { ...base, subnetMax: '10.244.1.128' }, field: 'subnetMax', match: /not aligned/ },
    { name: 'subnetMin outside the cluster', input: { ...base, subnetMin: '10.245.0.0' }, field: 'subnetMin', match: /outside clusterCidr/ },
    { name: 'subnetMax wrong length', input: { ...base, subnetMax: '10.244.8.0/23' }, field: 'subnetMax', match: /differs from subnetLength/ },
    { name: 'subnetMin not a string', input: { ...base, subnetMin: 5 }, field: 'subnetMin', match: /string/ },
    { name: 'subnetMin above subnetMax', input: { ...base, subnetMin: '10.244.9.0', subnetMax: '10.244.8.0' }, field: 'subnetMax', match: /below subnetMin/ },
    { name: 'missing backend', input: { clusterCidr: '10.244.0.0/16' }, field: 'backend', match: /required/ },
    { name: 'backend not an object', input: { ...base, backend: 'vxlan' }, field: 'backend', match: /object/ },
    { name: 'unknown backend', input: { ...base, backend: { type: 'udp' } }, field: 'backend.type', match: /unknown backend "udp"/ },
    { name: 'VNI 0', input: { ...base, backend: { type: 'vxlan', vni: 0 } }, field: 'backend.vni', match: /1\.\.16777215/ },
    { name: 'VNI too big', input: { ...base, backend: { type: 'vxlan', vni: 16777216 } }, field: 'backend.vni', match: /1\.\.16777215/ },
    { name: 'VNI a string', input: { ...base, backend: { type: 'vxlan', vni: '1' } }, field: 'backend.vni', match: /integer/ },
    { name: 'port 0', input: { ...base, backend: { type: 'vxlan', port: 0 } }, field: 'backend.port', match: /1\.\.65535/ },
    { name: 'port 65536', input: { ...base, backend: { type: 'vxlan', port: 65536 } }, field: 'backend.port', match: /1\.\.65535/ },
    { name: 'directRouting not boolean', input: { ...base, backend: { type: 'vxlan', directRouting: 'yes' } }, field: 'backend.directRouting', match: /true or false/ },
    { name: 'unknown VXLAN option (typo)', input: { ...base, backend: { type: 'vxlan', VNI: 2 } }, field: 'backend.VNI', match: /unknown field/ },
    { name: 'option on host-gw', input: { ...base, backend: { type: 'host-gw', vni: 2 } }, field: 'backend.vni', match: /unknown field/ },
    { name: 'bgp asn 0', input: { ...base, backend: { type: 'bgp', asn: 0 } }, field: 'backend.asn', match: /1\.\.4294967295/ },
    { name: 'mtu too small', input: { ...base, mtu: 10 }, field: 'mtu', match: /68\.\.65535/ },
    { name: 'masquerade not boolean', input: { ...base, masquerade: 1 }, field: 'masquerade', match: /true or false/ },
    // IPv6: dual-stack and IPv6-only (store-network-config-dual-stack.test.ts has the accepted shapes).
    { name: 'IPv6 cluster with host bits', input: { ...dual, ipv6ClusterCidr: 'fd00:10:244::1/56' }, field: 'ipv6ClusterCidr', match: /host bits/ },
    { name: 'IPv4 in ipv6ClusterCidr', input: { ...dual, ipv6ClusterCidr: '10.0.0.0/8' }, field: 'ipv6ClusterCidr', match: /must be an IPv6 CIDR/ },
    { name: 'link-local IPv6 cluster', input: { ...dual, ipv6ClusterCidr: 'fe80::/56' }, field: 'ipv6ClusterCidr', match: /link-local/ },
    { name: 'multicast IPv6 cluster', input: { ...dual, ipv6ClusterCidr: 'ff00::/56' }, field: 'ipv6ClusterCidr', match: /multicast/ },
    { name: 'IPv6 cluster covering ::1', input: { ...dual, ipv6ClusterCidr: '::/56' }, field: 'ipv6ClusterCidr', match: /unspecified|loopback/ },
    { name: 'IPv6-only cluster on link-local space', input: { clusterCidr: 'fe80::/56', backend: vx }, field: 'clusterCidr', match: /link-local/ },
    { name: 'too few IPv6 subnets for the IPv4 ones', input: { ...dual, ipv6ClusterCidr: 'fd00::/60' }, field: 'ipv6ClusterCidr', match: /holds 16 \/64 subnets, fewer than the 256 \/24 .*use a \/56 or shorter/ },
    { name: 'ipv6SubnetLength not longer than the IPv6 cluster', input: { ...dual, ipv6SubnetLength: 56 }, field: 'ipv6SubnetLength', match: /longer than the ipv6ClusterCidr prefix \/56/ },
    { name: 'ipv6SubnetLength above 126', input: { ...dual, ipv6ClusterCidr: 'fd00::/120', ipv6SubnetLength: 127 }, field: 'ipv6SubnetLength', match: /at most 126/ },
    { name: 'ipv6SubnetLength without a cluster', input: { clusterCidr: '10.244.0.0/16', ipv6SubnetLength: 64, backend: vx }, field: 'ipv6SubnetLength', match: /needs ipv6ClusterCidr/ },
    { name: 'ipv6Masquerade on IPv4-only', input: { clusterCidr: '10.244.0.0/16', ipv6Masquerade: true, backend: vx }, field: 'ipv6Masquerade', match: /needs IPv6/ },
    { name: 'ipv6ClusterCidr next to an IPv6 clusterCidr', input: { clusterCidr: 'fd01::/56', ipv6ClusterCidr: 'fd00::/56', backend: vx }, field: 'ipv6ClusterCidr', match: /only for dual-stack/ },
    { name: 'IPv6-only with 2^40 subnets', input: { clusterCidr: 'fd00::/24', backend: vx }, field: 'subnetLength', match: /more than 2\^32 subnets/ },
    { name: 'IPv4 subnetMin in an IPv6-only cluster', input: { clusterCidr: 'fd00::/56', subnetMin: '10.0.0.0', backend: vx }, field: 'subnetMin', match: /is IPv4, clusterCidr is IPv6/ },
    { name: 'an IPv6 node subnet shorter than /64', input: { ...dual, ipv6ClusterCidr: 'fd00::/40', ipv6SubnetLength: 48 }, field: 'ipv6SubnetLength', match: /must be 64\.\.126 for IPv6/ },
    { name: 'ipip with IPv6', input: { ...dual, backend: { type: 'ipip' } }, field: 'backend.type', match: /ipip carries IPv4 only/ },
    { name: 'ipip IPv6-only', input: { clusterCidr: 'fd00::/56', backend: { type: 'ipip' } }, field: 'backend.type', match: /ipip carries IPv4 only/ },
    // IPv6-only bgp runs its sessions over IPv6 (docs/dual-stack.md): addresses of the other family are refused, both ways.
    { name: 'bgp IPv6-only with an IPv4 peer', input: { clusterCidr: 'fd00::/56', backend: { type: 'bgp', asn: 65001, peers: [{ address: '192.168.77.1', asn: 65000 }] } }, field: 'backend.peers.0.address', match: /must be an IPv6 address string \(BGP sessions run over IPv6 in an IPv6-only cluster\)/ },
    { name: 'bgp IPv6-only with an IPv4 listenAddress', input: { clusterCidr: 'fd00::/56', backend: { type: 'bgp', asn: 65001, listenAddress: '0.0.0.0' } }, field: 'backend.listenAddress', match: /IPv6 address/ },
    { name: 'bgp IPv6-only with a link-local reflector', input: { clusterCidr: 'fd00::/56', backend: { type: 'bgp', asn: 65001, routeReflectors: [{ address: 'fe80::1' }] } }, field: 'backend.routeReflectors.0.address', match: /link-local/ },
    { name: 'bgp IPv6-only advertising IPv4', input: { clusterCidr: 'fd00::/56', backend: { type: 'bgp', asn: 65001, advertise: ['10.0.0.0/8'] } }, field: 'backend.advertise', match: /no IPv4 address family/ },
    { name: 'bgp dual-stack with an IPv6 peer', input: { ...dual, backend: { type: 'bgp', asn: 65001, peers: [{ address: 'fd77::1', asn: 65000 }] } }, field: 'backend.peers.0.address', match: /must be an IPv4 address: BGP sessions run over IPv4 unless the cluster is IPv6-only/ },
  ];
  for (const tc of cases) {
    it(`refuses: ${tc.name}`, () => {
      let caught: unknown;
      try {
        parseNetwork(tc.input);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(NetworkConfigError);
      const e = caught as NetworkConfigError;
      expect(e.field).to.equal(tc.field);
      expect(e.message).to.match(tc.match);
      if (tc.field !== '') expect(e.message).to.contain(`"${tc.field}"`);
    });
  }

  it('refuses text that is not JSON', () => {
    expect(() => parseNetworkConfigText('{oops')).to.throw(NetworkConfigError, /not valid JSON/);
  });
});

describe('store: parseNetworkConfig leaves the backend section to its backend', () => {
  it('checks the section\'s shape and keeps its fields as written (a copy)', () => {
    const section = { type: 'vxlan', vni: 7, VNI: 'kept for the backend to refuse' };
    const cfg = parseNetworkConfig({ clusterCidr: '10.244.0.0/16', backend: section });
    expect(cfg.backend).to.deep.equal(section);
    expect(cfg.backend).to.not.equal(section);
  });
  for (const [name, backend, match] of [
    ['missing', undefined, /"backend": is required/],
    ['not an object', 'vxlan', /"backend": must be an object/],
    ['no type', {}, /"backend.type": must name a backend/],
    ['a type that is no backend name', { type: '../../etc' }, /"backend.type": must name a backend/],
  ] as const) {
    it(`refuses a backend section that is ${name}`, () => {
      expect(() => parseNetworkConfig({ clusterCidr: '10.244.0.0/16', backend })).to.throw(NetworkConfigError, match);
    });
  }
});
