import { expect } from 'chai';
import { NftValidationError, renderRemove, renderRuleset, type NftDesiredState, type PortMapping } from '../../agent/src/dataplane/nft';

const HEAD = [
  'add table ip knit',
  'delete table ip knit',
  'table ip knit {',
  '  comment "owned by knitd: replaced as a whole on every change, edits are lost"',
];
const PORTMAPS_AND_PREROUTING = [
  '  chain portmaps {',
  '    dnat ip to ip daddr . meta l4proto . th dport map @hostip_ports',
  '    fib daddr type local dnat ip to meta l4proto . th dport map @any_ports',
  '  }',
  '  chain prerouting {',
  '    type nat hook prerouting priority dstnat; policy accept;',
  '    jump portmaps',
  '  }',
];
const EMPTY_MAPS = [
  '  map hostip_ports {',
  '    type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service',
  '  }',
  '  map any_ports {',
  '    type inet_proto . inet_service : ipv4_addr . inet_service',
  '  }',
];
const text = (lines: string[]): string => `${lines.join('\n')}\n`;

const web: PortMapping = { id: 'c1/eth0', containerIp: '10.244.1.2', hostPort: 8080, containerPort: 80, protocol: 'tcp' };

describe('nft renderer: golden scripts', () => {
  it('an empty desired state is an empty but present table, loopback kept out of DNAT', () => {
    expect(renderRuleset({ portMappings: [] })).to.equal(text([
      ...HEAD,
      ...EMPTY_MAPS,
      ...PORTMAPS_AND_PREROUTING,
      '  chain output {',
      '    type nat hook output priority -100; policy accept;',
      '    ip daddr 127.0.0.0/8 return',
      '    jump portmaps',
      '  }',
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      '  }',
      '}',
    ]));
  });

  it('outbound NAT only: masquerade leaving the cluster CIDR with fully random ports', () => {
    const out = renderRuleset({ masquerade: { clusterCidr: '10.244.0.0/16' }, portMappings: [] });
    expect(out).to.contain(
      '  chain postrouting {\n'
      + '    type nat hook postrouting priority srcnat; policy accept;\n'
      + '    ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random\n'
      + '  }\n',
    );
  });

  it('the full picture: sorted elements in both maps, hairpin, loopback and its guard', () => {
    const desired: NftDesiredState = {
      masquerade: { clusterCidr: '10.244.0.0/16' },
      nodeSubnet: '10.244.1.0/24',
      bridge: 'knit0',
      portMappings: [
        { id: 'c2/eth0', containerIp: '10.244.1.3', hostPort: 5353, containerPort: 53, protocol: 'udp' },
        { ...web, hostPort: 8443, containerPort: 443, hostIp: '192.168.0.10' },
        web,
        { id: 'c3/net "1"', containerIp: '10.244.1.4', hostPort: 9000, containerPort: 9000, protocol: 'sctp', hostIp: '0.0.0.0' },
      ],
    };
    expect(renderRuleset(desired)).to.equal(text([
      ...HEAD,
      '  map hostip_ports {',
      '    type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service',
      '    elements = {',
      '      192.168.0.10 . tcp . 8443 comment "c1/eth0" : 10.244.1.2 . 443',
      '    }',
      '  }',
      '  map any_ports {',
      '    type inet_proto . inet_service : ipv4_addr . inet_service',
      '    elements = {',
      '      sctp . 9000 comment "c3/net__1_" : 10.244.1.4 . 9000,',
      '      tcp . 8080 comment "c1/eth0" : 10.244.1.2 . 80,',
      '      udp . 5353 comment "c2/eth0" : 10.244.1.3 . 53',
      '    }',
      '  }',
      ...PORTMAPS_AND_PREROUTING,
      '  chain output {',
      '    type nat hook output priority -100; policy accept;',
      '    jump portmaps',
      '  }',
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      '    ct status dnat ip saddr 10.244.1.0/24 ip daddr 10.244.1.0/24 masquerade',
      '    ct status dnat ip saddr 127.0.0.0/8 masquerade',
      '    ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random',
      '  }',
      '  chain input {',
      '    type filter hook input priority filter; policy accept;',
      '    ip daddr 127.0.0.0/8 iifname != "lo" ct state != { established, related } drop',
      '  }',
      '}',
    ]));
  });

  it('has no input chain when the caller says route_localnet is off (localnetGuard: false)', () => {
    const desired: NftDesiredState = { masquerade: { clusterCidr: '10.244.0.0/16' }, nodeSubnet: '10.244.1.0/24', bridge: 'knit0', portMappings: [] };
    const on = renderRuleset(desired);
    const off = renderRuleset(desired, undefined, { localnetGuard: false });
    expect(on).to.include('  chain input {');
    expect(off).to.not.include('chain input');
    // Nothing else changes (the 127.0.0.0/8 masquerade of loopback mappings stays).
    expect(off).to.equal(on.replace(/  chain input \{\n(?: {4}.*\n)*  \}\n/, ''));
  });

  it('is deterministic: input order does not change the text', () => {
    const a: PortMapping[] = [];
    for (let p = 1; p <= 30; p++) a.push({ ...web, id: `c${p}`, hostPort: p * 997 % 65535 || 1 });
    const b = [...a].reverse();
    expect(renderRuleset({ portMappings: a })).to.equal(renderRuleset({ portMappings: b }));
  });

  it('orders ports numerically, not as text', () => {
    const out = renderRuleset({ portMappings: [{ ...web, hostPort: 10000 }, { ...web, id: 'x', hostPort: 9 }] });
    expect(out.indexOf('tcp . 9 ')).to.be.lessThan(out.indexOf('tcp . 10000 '));
  });

  it('normalizes CIDRs to their network address', () => {
    const out = renderRuleset({ masquerade: { clusterCidr: '10.244.7.9/16' }, nodeSubnet: '10.244.1.77/24', portMappings: [] });
    expect(out).to.contain('ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16');
    expect(out).to.contain('ip saddr 10.244.1.0/24 ip daddr 10.244.1.0/24');
  });

  it('keeps the rule count constant as mappings grow', () => {
    const rules = (s: string): number => s.split('\n').filter((l) => /^ {4}(?! |type |elements|\})/.test(l)).length;
    const many: PortMapping[] = [];
    for (let p = 1; p <= 500; p++) many.push({ ...web, id: `c${p}`, hostPort: p });
    const one = renderRuleset({ bridge: 'knit0', portMappings: [web] });
    const lots = renderRuleset({ bridge: 'knit0', portMappings: many });
    expect(rules(one)).to.be.greaterThan(0);
    expect(rules(lots)).to.equal(rules(one));
  });

  it('renders a remove that tolerates absence', () => {
    expect(renderRemove()).to.equal('add table ip knit\ndelete table ip knit\n');
    expect(renderRuleset({ portMappings: [] }, { family: 'ip', name: 'knit_test' })).to.match(/^add table ip knit_test\ndelete table ip knit_test\ntable ip knit_test \{/);
  });
});

describe('nft renderer: notrack for cluster-internal traffic', () => {
  const cidr = '10.244.0.0/16';
  const node = ['10.244.1.1', '10.244.1.0'];
  const head = ['  chain raw_prerouting {', '    type filter hook prerouting priority raw; policy accept;'];

  it('is absent unless asked for', () => {
    const out = renderRuleset({ masquerade: { clusterCidr: cidr }, portMappings: [web] });
    expect(out).to.not.contain('notrack');
    expect(out).to.not.contain('raw_prerouting');
  });

  it('one raw-priority rule: cluster to cluster, not for the node; no published-port matches while nothing is published', () => {
    expect(renderRuleset({ notrack: { clusterCidr: cidr, nodeAddresses: node }, portMappings: [] })).to.contain(text([
      '  set published {',
      '    type ipv4_addr . inet_proto . inet_service',
      '  }',
      ...head,
      `    ip saddr ${cidr} ip daddr ${cidr} ip daddr != 10.244.1.0 ip daddr != 10.244.1.1 notrack`,
      '  }',
    ]));
  });

  it('never to or from a published target: every mapping target once, sorted, whatever the host port or host IP', () => {
    const out = renderRuleset({
      notrack: { clusterCidr: '10.244.7.9/16', nodeAddresses: ['10.244.1.1', '10.244.1.1'] },
      portMappings: [
        { ...web, id: 'b', containerIp: '10.244.1.3', hostPort: 53, containerPort: 53, protocol: 'udp' },
        web,
        { ...web, id: 'c', hostPort: 8081 },
        { ...web, id: 'd', hostPort: 8082, hostIp: '192.168.0.10' },
      ],
    });
    expect(out).to.contain(text([
      '  set published {',
      '    type ipv4_addr . inet_proto . inet_service',
      '    elements = { 10.244.1.2 . tcp . 80, 10.244.1.3 . udp . 53 }',
      '  }',
      ...head,
      `    ip saddr ${cidr} ip daddr ${cidr} ip daddr != 10.244.1.1`
        + ' ip saddr . meta l4proto . th sport != @published ip daddr . meta l4proto . th dport != @published notrack',
      '  }',
    ]));
  });

  it('spares the addresses network policy isolates (their replies pass by ct state), in a set', () => {
    const out = renderRuleset({ notrack: { clusterCidr: cidr, nodeAddresses: ['10.244.1.1'], trackedAddresses: ['10.244.2.7', '10.244.1.3', '10.244.2.7'] }, portMappings: [] });
    expect(out).to.contain(text([
      '  set policy_tracked {',
      '    type ipv4_addr',
      '    elements = { 10.244.1.3, 10.244.2.7 }',
      '  }',
      ...head,
      `    ip saddr ${cidr} ip daddr ${cidr} ip daddr != 10.244.1.1 ip saddr != @policy_tracked ip daddr != @policy_tracked notrack`,
      '  }',
    ]));
    expect(renderRuleset({ notrack: { clusterCidr: cidr, nodeAddresses: [], trackedAddresses: [] }, portMappings: [] })).to.not.contain('policy_tracked');
    expect(() => renderRuleset({ notrack: { clusterCidr: cidr, nodeAddresses: [], trackedAddresses: ['fd00::1'] }, portMappings: [] })).to.throw(NftValidationError, /notrack\.trackedAddresses\[0\]/);
  });

  it('rejects a cluster CIDR or a node address that is not one', () => {
    expect(() => renderRuleset({ notrack: { clusterCidr: '10.244.0.0/33', nodeAddresses: [] }, portMappings: [] })).to.throw(NftValidationError, /notrack\.clusterCidr/);
    expect(() => renderRuleset({ notrack: { clusterCidr: cidr, nodeAddresses: ['10.244.1.1', 'fe80::1'] }, portMappings: [] })).to.throw(NftValidationError, /notrack\.nodeAddresses\[1\]: "fe80::1"/);
  });
});

describe('nft renderer: notrack for knit\'s own VXLAN packets on the underlay', () => {
  it('raw prerouting for packets to the node\'s underlay address, raw output for packets from it, the ports deduplicated and sorted', () => {
    const out = renderRuleset({
      notrack: { clusterCidr: '10.244.0.0/16', nodeAddresses: ['10.244.1.1'] },
      tunnelNotrack: { localAddress: '192.168.77.11', udpPorts: [8472, 4789, 8472] },
      portMappings: [],
    });
    expect(out).to.contain(text([
      '  chain raw_prerouting {',
      '    type filter hook prerouting priority raw; policy accept;',
      '    ip saddr 10.244.0.0/16 ip daddr 10.244.0.0/16 ip daddr != 10.244.1.1 notrack',
      '    ip daddr 192.168.77.11 udp dport { 4789, 8472 } notrack',
      '  }',
      '  chain raw_output {',
      '    type filter hook output priority raw; policy accept;',
      '    ip saddr 192.168.77.11 udp dport { 4789, 8472 } notrack',
      '  }',
    ]));
  });

  it('works without the pod-to-pod rule; no ports means no rule', () => {
    const one = renderRuleset({ tunnelNotrack: { localAddress: '192.168.77.11', udpPorts: [8472] }, portMappings: [] });
    expect(one).to.contain('    ip daddr 192.168.77.11 udp dport 8472 notrack\n');
    expect(one).to.contain('    ip saddr 192.168.77.11 udp dport 8472 notrack\n');
    expect(one).to.not.contain('set published');
    const none = renderRuleset({ tunnelNotrack: { localAddress: '192.168.77.11', udpPorts: [] }, portMappings: [] });
    expect(none).to.not.contain('raw_');
  });

  it('rejects an address that is not IPv4 and a port that is not one', () => {
    expect(() => renderRuleset({ tunnelNotrack: { localAddress: 'fd00::1', udpPorts: [8472] }, portMappings: [] })).to.throw(NftValidationError, /tunnelNotrack\.localAddress: "fd00::1"/);
    expect(() => renderRuleset({ tunnelNotrack: { localAddress: '192.168.77.11', udpPorts: [8472, 0] }, portMappings: [] })).to.throw(NftValidationError, /tunnelNotrack\.udpPorts\[1\]: 0 is not a port/);
  });
});

describe('nft renderer: IPv6 masquerade (ipv6Masquerade)', () => {
  it('a table ip6 knit with one masquerade rule, in the same transaction as the IPv4 table', () => {
    const out = renderRuleset({ masquerade6: { clusterCidr: 'FD00:10:244::/56' }, portMappings: [] });
    expect(out).to.contain(text([
      'add table ip6 knit',
      'delete table ip6 knit',
      'table ip6 knit {',
      '  comment "owned by knitd: replaced as a whole on every change, edits are lost"',
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      '    ip6 saddr fd00:10:244::/56 ip6 daddr != fd00:10:244::/56 ip6 daddr != ff00::/8 masquerade fully-random',
      '  }',
      '}',
    ]));
    expect(out.indexOf('table ip knit {')).to.be.lessThan(out.indexOf('table ip6 knit {'));
    expect(renderRuleset({ masquerade: { clusterCidr: '10.244.0.0/16' }, portMappings: [] })).to.not.contain('ip6');
  });

  it('IPv6 port mappings: the same maps and chains in table ip6, ::1 never DNATed, hairpin for the IPv6 node subnet', () => {
    const out = renderRuleset({
      portMappings: [],
      nodeSubnet6: 'fd00:10:244:1::/64',
      portMappings6: [
        { id: 'c1/eth0', containerIp: 'FD00:10:244:1::2', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { id: 'c1/eth0', containerIp: 'fd00:10:244:1::2', hostPort: 8086, containerPort: 80, protocol: 'tcp', hostIp: 'fd77::b' },
        { id: 'c2/eth0', containerIp: 'fd00:10:244:1::3', hostPort: 53, containerPort: 53, protocol: 'udp', hostIp: '::' },
      ],
    });
    const ip6 = out.slice(out.indexOf('table ip6 knit {'));
    expect(ip6).to.contain('    type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service');
    expect(ip6).to.contain('      fd77::b . tcp . 8086 comment "c1/eth0" : fd00:10:244:1::2 . 80');
    expect(ip6).to.contain('tcp . 8080 comment "c1/eth0" : fd00:10:244:1::2 . 80');
    expect(ip6).to.contain('udp . 53 comment "c2/eth0" : fd00:10:244:1::3 . 53');
    expect(ip6).to.contain('    dnat ip6 to ip6 daddr . meta l4proto . th dport map @hostip_ports');
    expect(ip6).to.contain('    ip6 daddr ::1 return');
    expect(ip6).to.contain('    ct status dnat ip6 saddr fd00:10:244:1::/64 ip6 daddr fd00:10:244:1::/64 masquerade');
    expect(ip6).to.not.contain('masquerade fully-random');
  });

  it('refuses ::1 as an IPv6 host address, an IPv4 target, and a port claimed twice', () => {
    const m = { id: 'c1/eth0', containerIp: 'fd00::2', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const };
    expect(() => renderRuleset({ portMappings: [], portMappings6: [{ ...m, hostIp: '::1' }] })).to.throw(NftValidationError, /portMappings6\[0\] \(c1\/eth0\)\.hostIp: ::1 cannot be DNATed/);
    expect(() => renderRuleset({ portMappings: [], portMappings6: [{ ...m, containerIp: '10.244.1.2' }] })).to.throw(NftValidationError, /portMappings6\[0\].*containerIp: "10\.244\.1\.2" is not an IPv6 address/);
    expect(() => renderRuleset({ portMappings: [], portMappings6: [m, { ...m, id: 'c2/eth0' }] })).to.throw(NftValidationError, /claimed by both c1\/eth0 and c2\/eth0/);
  });

  it('refuses a CIDR that is not IPv6', () => {
    expect(() => renderRuleset({ masquerade6: { clusterCidr: '10.244.0.0/16' }, portMappings: [] })).to.throw(NftValidationError, /masquerade6\.clusterCidr: "10\.244\.0\.0\/16" is not an IPv6 CIDR/);
    expect(() => renderRuleset({ masquerade6: { clusterCidr: 'fd00::1/56' }, portMappings: [] })).to.throw(NftValidationError, /masquerade6\.clusterCidr/);
  });
});

describe('nft renderer: validation', () => {
  const cases: Array<{ name: string; desired: NftDesiredState; error: RegExp }> = [
    { name: 'port 0', desired: { portMappings: [{ ...web, hostPort: 0 }] }, error: /portMappings\[0\] \(c1\/eth0\)\.hostPort: 0 is not a port in 1\.\.65535/ },
    { name: 'port 65536', desired: { portMappings: [{ ...web, containerPort: 65536 }] }, error: /containerPort: 65536 is not a port/ },
    { name: 'fractional port', desired: { portMappings: [{ ...web, hostPort: 80.5 }] }, error: /hostPort: 80\.5 is not a port/ },
    { name: 'protocol', desired: { portMappings: [{ ...web, protocol: 'icmp' as 'tcp' }] }, error: /protocol: "icmp" is not one of tcp, udp, sctp/ },
    { name: 'container IP', desired: { portMappings: [{ ...web, containerIp: '10.244.1.256' }] }, error: /containerIp: "10\.244\.1\.256" is not an IPv4 address/ },
    { name: 'IPv6 hostIp', desired: { portMappings: [{ ...web, hostIp: '::1' }] }, error: /hostIp: "::1" is not an IPv4 address/ },
    { name: 'octal-looking IP', desired: { portMappings: [{ ...web, containerIp: '010.1.1.1' }] }, error: /containerIp/ },
    { name: 'empty id', desired: { portMappings: [{ ...web, id: '' }] }, error: /portMappings\[0\]\.id: must be a non-empty string/ },
    { name: 'loopback hostIp without bridge', desired: { portMappings: [{ ...web, hostIp: '127.0.0.1' }] }, error: /hostIp: 127\.0\.0\.1 is a loopback address, which needs "bridge"/ },
    { name: 'cluster CIDR', desired: { masquerade: { clusterCidr: '10.244.0.0' }, portMappings: [] }, error: /masquerade\.clusterCidr: "10\.244\.0\.0" is not an IPv4 CIDR/ },
    { name: 'node subnet /33', desired: { nodeSubnet: '10.244.1.0/33', portMappings: [] }, error: /nodeSubnet: "10\.244\.1\.0\/33"/ },
    { name: 'bridge name', desired: { bridge: 'a/b', portMappings: [] }, error: /bridge: "a\/b" is not an interface name/ },
    { name: 'portMappings missing', desired: {} as NftDesiredState, error: /portMappings: must be an array/ },
    {
      name: 'duplicate host port names both claimants',
      desired: { portMappings: [web, { ...web, id: 'c9/eth0', containerIp: '10.244.1.9' }] },
      error: /port tcp\/\*:8080 is claimed by both c1\/eth0 and c9\/eth0/,
    },
    {
      name: 'duplicate with the same hostIp',
      desired: { portMappings: [{ ...web, hostIp: '192.168.0.10' }, { ...web, id: 'c9/eth0', hostIp: '192.168.0.10' }] },
      error: /port tcp\/192\.168\.0\.10:8080 is claimed by both c1\/eth0 and c9\/eth0/,
    },
    {
      name: '"" and 0.0.0.0 are both "any address"',
      desired: { portMappings: [{ ...web, hostIp: '' }, { ...web, id: 'c9/eth0', hostIp: '0.0.0.0' }] },
      error: /claimed by both c1\/eth0 and c9\/eth0/,
    },
  ];
  for (const tc of cases) {
    it(`rejects ${tc.name}`, () => {
      expect(() => renderRuleset(tc.desired)).to.throw(NftValidationError, tc.error);
    });
  }

  const fine: Array<{ name: string; desired: NftDesiredState }> = [
    { name: 'the same port on tcp and udp', desired: { portMappings: [web, { ...web, protocol: 'udp' }] } },
    { name: 'the same port on two host IPs', desired: { portMappings: [{ ...web, hostIp: '192.168.0.10' }, { ...web, id: 'b', hostIp: '192.168.0.11' }] } },
    { name: 'a specific hostIp next to any address (specific wins)', desired: { portMappings: [web, { ...web, id: 'b', hostIp: '192.168.0.10' }] } },
    { name: 'ports 1 and 65535', desired: { portMappings: [{ ...web, hostPort: 1, containerPort: 65535 }] } },
    { name: 'a loopback hostIp with a bridge', desired: { bridge: 'knit0', portMappings: [{ ...web, hostIp: '127.0.0.1' }] } },
  ];
  for (const tc of fine) {
    it(`accepts ${tc.name}`, () => {
      expect(renderRuleset(tc.desired)).to.match(/^add table ip knit\n/);
    });
  }
});
