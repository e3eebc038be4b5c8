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
