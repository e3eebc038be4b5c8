import { expect } from 'chai';
import { NftValidationError, renderRuleset } from '../../agent/src/dataplane/nft';

const dflt = { name: 'default', cidr: '10.244.0.0/16', bridge: 'knit0', internal: false };
const blue = { name: 'blue', cidr: '10.50.0.0/16', bridge: 'knb0123456789a', internal: false };
const quiet = { name: 'quiet', cidr: '10.60.0.0/16', bridge: 'knbfedcba98765', internal: true };

describe('nft renderer: network isolation', () => {
  it('renders nothing extra for one ordinary network (a single-network table is unchanged)', () => {
    const base = renderRuleset({ portMappings: [], masquerade: { clusterCidr: '10.244.0.0/16' } });
    const withOne = renderRuleset({ portMappings: [], masquerade: { clusterCidr: '10.244.0.0/16' }, networks: [dflt] });
    expect(withOne).to.equal(base);
    expect(withOne).not.to.include('chain forward');
  });

  it('two networks: every network is kept from the others, forwarded and to the node, DNATed traffic first', () => {
    const text = renderRuleset({ portMappings: [], networks: [dflt, blue] });
    expect(text).to.include('  set networks {\n    type ipv4_addr; flags interval;\n    elements = { 10.50.0.0/16, 10.244.0.0/16 }\n  }');
    const forward = text.slice(text.indexOf('chain forward'), text.indexOf('}', text.indexOf('chain forward')));
    const rules = forward.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    expect(rules).to.deep.equal([
      'chain forward {',
      'type filter hook forward priority filter; policy accept;',
      'ct status dnat accept',
      'ip saddr 10.50.0.0/16 ip daddr != 10.50.0.0/16 ip daddr @networks drop comment "network blue"',
      'ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 ip daddr @networks drop comment "network default"',
    ]);
    expect(text).to.include('    iifname "knb0123456789a" ip daddr != 10.50.0.0/16 ip daddr @networks drop comment "network blue"');
    expect(text).to.include('    iifname "knit0" ip daddr != 10.244.0.0/16 ip daddr @networks drop comment "network default"');
    expect(text).to.include('chain input {\n    type filter hook input priority filter; policy accept;');
  });

  it('an internal network talks only to itself, both ways, and reaches only its own addresses on the node', () => {
    const text = renderRuleset({ portMappings: [], networks: [quiet] });
    expect(text).to.include('    ip saddr 10.60.0.0/16 ip daddr != 10.60.0.0/16 drop comment "network quiet"');
    expect(text).to.include('    ip daddr 10.60.0.0/16 ip saddr != 10.60.0.0/16 drop comment "network quiet"');
    expect(text).to.include('    iifname "knbfedcba98765" ip daddr != 10.60.0.0/16 drop comment "network quiet"');
  });

  it('named networks get their own hairpin and masquerade', () => {
    const text = renderRuleset({ portMappings: [], extraNat: [{ nodeSubnet: '10.50.3.0/24', masqueradeCidr: '10.50.0.0/16' }, { nodeSubnet: '10.60.1.0/24' }] });
    expect(text).to.include('    ct status dnat ip saddr 10.50.3.0/24 ip daddr 10.50.3.0/24 masquerade');
    expect(text).to.include('    ip saddr 10.50.0.0/16 ip daddr != 10.50.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random');
    expect(text).to.include('    ct status dnat ip saddr 10.60.1.0/24 ip daddr 10.60.1.0/24 masquerade');
    expect(text).not.to.include('ip saddr 10.60.0.0/16 ip daddr != 10.60.0.0/16 ip daddr != 224.0.0.0/4');
  });

  describe('IPv6 (named networks with IPv6 CIDRs): the same rules in table ip6 knit', () => {
    const dual = { name: 'dual', cidr: '10.80.0.0/16', cidr6: 'fd00:80::/56', bridge: 'knb1111111111a', internal: false };
    const six = { name: 'six', cidr6: 'fd00:90:0::/56', bridge: 'knb2222222222b', internal: false };
    const quiet6 = { name: 'quiet6', cidr6: 'fd00:95::/56', bridge: 'knb3333333333c', internal: true };
    const ip6Part = (text: string): string => text.slice(text.indexOf('table ip6 knit {'));
    const ip4Part = (text: string): string => (text.includes('add table ip6 knit') ? text.slice(0, text.indexOf('add table ip6 knit')) : text);

    it('a dual-stack and an IPv6-only network: isolated in ip6 by their IPv6 CIDRs; the IPv4 table is what the IPv4 networks alone give', () => {
      const text = renderRuleset({ portMappings: [], networks: [dflt, dual, six] });
      const v6 = ip6Part(text);
      expect(v6).to.include('  set networks {\n    type ipv6_addr; flags interval;\n    elements = { fd00:80::/56, fd00:90::/56 }\n  }');
      const forward = v6.slice(v6.indexOf('chain forward'), v6.indexOf('}', v6.indexOf('chain forward')));
      expect(forward.split('\n').map((l) => l.trim()).filter((l) => l !== '')).to.deep.equal([
        'chain forward {',
        'type filter hook forward priority filter; policy accept;',
        'ct status dnat accept',
        'ip6 saddr fd00:80::/56 ip6 daddr != fd00:80::/56 ip6 daddr @networks drop comment "network dual"',
        'ip6 saddr fd00:90::/56 ip6 daddr != fd00:90::/56 ip6 daddr @networks drop comment "network six"',
      ]);
      expect(v6).to.include('    iifname "knb2222222222b" ip6 daddr != fd00:90::/56 ip6 daddr @networks drop comment "network six"');
      // IPv4: default and dual only (six has no IPv4 CIDR).
      expect(ip4Part(text)).to.include('elements = { 10.244.0.0/16, 10.80.0.0/16 }');
      expect(ip4Part(text)).not.to.include('network six');
      const { cidr6: _c6, ...dual4 } = dual;
      void _c6;
      expect(ip4Part(text), 'six adds nothing to the IPv4 table').to.equal(renderRuleset({ portMappings: [], networks: [dflt, dual4] }));
    });

    it('one IPv6 network next to IPv4-only ones: nothing to isolate in IPv6, no ip6 table', () => {
      const text = renderRuleset({ portMappings: [], networks: [dflt, blue, six] });
      expect(text).not.to.include('table ip6 knit');
    });

    it('an internal IPv6-only network: nothing in or out in IPv6; neighbour discovery to the node still passes', () => {
      const text = ip6Part(renderRuleset({ portMappings: [], networks: [dflt, quiet6] }));
      expect(text).to.include('    ip6 saddr fd00:95::/56 ip6 daddr != fd00:95::/56 drop comment "network quiet6"');
      expect(text).to.include('    ip6 daddr fd00:95::/56 ip6 saddr != fd00:95::/56 drop comment "network quiet6"');
      expect(text).to.include('    iifname "knb3333333333c" ip6 daddr != { fd00:95::/56, fe80::/10, ff00::/8 } drop comment "network quiet6"');
    });

    it('named networks\' IPv6 NAT: ipv6Masquerade per network, hairpin with IPv6 port mappings', () => {
      const text = ip6Part(renderRuleset({
        portMappings: [],
        portMappings6: [{ id: 'c1/eth0', containerIp: 'fd00:80:0:3::5', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
        extraNat: [{ nodeSubnet: '10.80.3.0/24', nodeSubnet6: 'fd00:80:0:3::/64' }, { nodeSubnet6: 'fd00:90:0:1::/64', masquerade6Cidr: 'fd00:90::/56' }],
      }));
      expect(text).to.include('    ct status dnat ip6 saddr fd00:80:0:3::/64 ip6 daddr fd00:80:0:3::/64 masquerade');
      expect(text).to.include('    ip6 saddr fd00:90::/56 ip6 daddr != fd00:90::/56 ip6 daddr != ff00::/8 masquerade fully-random');
      expect(text).not.to.include('ip6 saddr fd00:80::/56 ip6 daddr != fd00:80::/56 ip6 daddr != ff00::/8');
    });

    it('refuses an IPv4 cidr6, an IPv6 cidr, and a network with neither', () => {
      expect(() => renderRuleset({ portMappings: [], networks: [dflt, { ...six, cidr6: '10.90.0.0/16' }] })).to.throw(NftValidationError, /networks\[1\]\.cidr6/);
      expect(() => renderRuleset({ portMappings: [], networks: [dflt, { ...blue, cidr: 'fd00:50::/56' }] })).to.throw(NftValidationError, /networks\[1\]\.cidr/);
      expect(() => renderRuleset({ portMappings: [], networks: [dflt, { name: 'none', bridge: 'knb4', internal: false }] })).to.throw(NftValidationError, /neither cidr nor cidr6/);
      expect(() => renderRuleset({ portMappings: [], extraNat: [{ nodeSubnet6: '10.1.0.0/24' }] })).to.throw(NftValidationError, /extraNat\[0\]\.nodeSubnet6/);
    });
  });

  const bad: Array<{ name: string; networks: Array<typeof dflt> }> = [
    { name: 'a bridge name with a quote', networks: [dflt, { ...blue, bridge: 'kn"b' }] },
    { name: 'a bridge name over 15 characters', networks: [dflt, { ...blue, bridge: 'knb0123456789abcd' }] },
    { name: 'an address without a prefix length', networks: [dflt, { ...blue, cidr: '10.50.0.1' }] },
    { name: 'a network name with a space', networks: [dflt, { ...blue, name: 'bl ue' }] },
  ];
  for (const tc of bad) {
    it(`refuses ${tc.name}`, () => {
      expect(() => renderRuleset({ portMappings: [], networks: tc.networks })).to.throw(NftValidationError, /networks\[1\]/);
    });
  }
});
