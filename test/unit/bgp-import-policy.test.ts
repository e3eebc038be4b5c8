/**
 * The import policy on its own (pure): every refused class of learned route
 * from issue 19, both families, each next-hop case, the full-mesh lease rule
 * and prefix lists with ge/le. The node here: pod subnet 10.244.61.0/24 on
 * its bridge (10.244.61.1), underlay 192.168.90.11/24 (+ 2001:db8:90::11/64),
 * a second link 172.17.0.1/16, cluster 10.244.0.0/16 + 2001:db8:1::/48.
 */
import { expect } from 'chai';
import { ImportPolicy, type ImportContext, type PeerImportRules, type RejectReason } from '../../agent/src/bgp/import-policy';
import { parsePrefix, type Path } from '../../agent/src/bgp/path';

const P = (t: string) => {
  const p = parsePrefix(t);
  if (!p) throw new Error(`bad prefix ${t}`);
  return p;
};

const ctx: ImportContext = {
  ownSubnets: [P('10.244.61.0/24')],
  interfaces: [
    { address: '192.168.90.11', prefix: P('192.168.90.0/24'), onLink: true },
    { address: '2001:db8:90::11', prefix: P('2001:db8:90::/64'), onLink: true },
    { address: 'fe80::11', prefix: P('fe80::/64'), onLink: true },
    { address: '10.244.61.1', prefix: P('10.244.61.0/24'), onLink: false },
    { address: '172.17.0.1', prefix: P('172.17.0.0/16'), onLink: false },
  ],
  clusterPrefixes: [P('10.244.0.0/16'), P('2001:db8:1::/48')],
  leases: new Map([['10.244.62.0/24', '192.168.90.12'], ['10.244.63.0/24', '192.168.90.13']]),
};

const tor: PeerImportRules = { filter: 'all', allowDefault: false, requireLease: false };
const mesh: PeerImportRules = { filter: 'cluster', allowDefault: false, requireLease: true };

function path(prefix: string, nextHop: string, linkLocal?: string): Path {
  const p: Path = { prefix: P(prefix), nextHop, attrs: { origin: 0, asPath: [{ type: 'sequence', asns: [65000] }] } };
  if (linkLocal) p.nextHopLinkLocal = linkLocal;
  return p;
}

interface Case { name: string; path: Path; rules: PeerImportRules; want: RejectReason | undefined }

const cases: Case[] = [
  // accepted
  { name: 'a plain external route via the peer', path: path('10.99.0.0/16', '192.168.90.1'), rules: tor, want: undefined },
  { name: 'IPv6 via the peer\'s link-local address', path: path('2001:db8:aa::/48', '2001:db8:90::1', 'fe80::1'), rules: tor, want: undefined },
  { name: 'IPv6 via a global next hop on the underlay', path: path('2001:db8:aa::/48', '2001:db8:90::1'), rules: tor, want: undefined },
  { name: 'mesh: a leased subnet via its owner', path: path('10.244.62.0/24', '192.168.90.12'), rules: mesh, want: undefined },
  { name: 'a default route when the peer is allowed one', path: path('0.0.0.0/0', '192.168.90.1'), rules: { ...tor, allowDefault: true }, want: undefined },
  // the node's own pod subnet
  { name: 'own pod subnet', path: path('10.244.61.0/24', '192.168.90.1'), rules: tor, want: 'own-subnet' },
  { name: 'a more-specific of the own pod subnet (/25)', path: path('10.244.61.128/25', '192.168.90.1'), rules: tor, want: 'own-subnet' },
  // underlay
  { name: 'a more-specific of the underlay subnet', path: path('192.168.90.0/25', '192.168.90.1'), rules: tor, want: 'underlay' },
  { name: 'the underlay subnet itself', path: path('192.168.90.0/24', '192.168.90.1'), rules: tor, want: 'underlay' },
  { name: 'the node\'s own address /32', path: path('192.168.90.11/32', '192.168.90.1'), rules: tor, want: 'underlay' },
  { name: 'another connected subnet (docker0)', path: path('172.17.5.0/24', '192.168.90.1'), rules: tor, want: 'underlay' },
  { name: 'IPv6 more-specific of the underlay', path: path('2001:db8:90::/96', '2001:db8:90::1', 'fe80::1'), rules: tor, want: 'underlay' },
  // special purpose and default
  { name: '127.0.0.0/8', path: path('127.0.0.0/8', '192.168.90.1'), rules: tor, want: 'special-purpose' },
  { name: '224.0.0.0/4', path: path('224.0.0.0/4', '192.168.90.1'), rules: tor, want: 'special-purpose' },
  { name: '0.0.0.0/8', path: path('0.0.0.0/8', '192.168.90.1'), rules: tor, want: 'special-purpose' },
  { name: '169.254.0.0/16', path: path('169.254.0.0/16', '192.168.90.1'), rules: tor, want: 'special-purpose' },
  { name: '240.0.0.0/4', path: path('240.0.0.0/4', '192.168.90.1'), rules: tor, want: 'special-purpose' },
  { name: '255.255.255.255/32', path: path('255.255.255.255/32', '192.168.90.1'), rules: tor, want: 'special-purpose' },
  { name: '::1/128', path: path('::1/128', '2001:db8:90::1', 'fe80::1'), rules: tor, want: 'special-purpose' },
  { name: '::/128', path: path('::/128', '2001:db8:90::1', 'fe80::1'), rules: tor, want: 'special-purpose' },
  { name: 'fe80::/10', path: path('fe80::/10', '2001:db8:90::1', 'fe80::1'), rules: tor, want: 'special-purpose' },
  { name: 'ff00::/8', path: path('ff00::/8', '2001:db8:90::1', 'fe80::1'), rules: tor, want: 'special-purpose' },
  { name: 'IPv4 default route', path: path('0.0.0.0/0', '192.168.90.1'), rules: tor, want: 'default-route' },
  { name: 'IPv6 default route', path: path('::/0', '2001:db8:90::1', 'fe80::1'), rules: tor, want: 'default-route' },
  // filters
  { name: 'cluster filter: outside the cluster space', path: path('10.99.0.0/16', '192.168.90.1'), rules: { ...tor, filter: 'cluster' }, want: 'filter' },
  { name: 'cluster filter: an advertised IPv6 range', path: path('2001:db8:1::/64', '2001:db8:90::1', 'fe80::1'), rules: { ...tor, filter: 'cluster' }, want: undefined },
  // full mesh / reflector lease rule
  { name: 'mesh: a subnet nobody leased', path: path('10.244.70.0/24', '192.168.90.12'), rules: mesh, want: 'no-lease' },
  { name: 'mesh: somebody else\'s subnet announced by another node', path: path('10.244.63.0/24', '192.168.90.12'), rules: mesh, want: 'no-lease' },
  { name: 'mesh: a more-specific of a leased subnet', path: path('10.244.62.128/25', '192.168.90.12'), rules: mesh, want: 'no-lease' },
  // next hops (RFC 4271 §5.1.3)
  { name: 'next hop 8.8.8.8 (not on a shared subnet)', path: path('10.99.0.0/16', '8.8.8.8'), rules: tor, want: 'next-hop' },
  { name: 'next hop 127.0.0.1', path: path('10.99.0.0/16', '127.0.0.1'), rules: tor, want: 'next-hop' },
  { name: 'next hop = the segment\'s broadcast address', path: path('10.99.0.0/16', '192.168.90.255'), rules: tor, want: 'next-hop' },
  { name: 'next hop = the segment\'s network address', path: path('10.99.0.0/16', '192.168.90.0'), rules: tor, want: 'next-hop' },
  { name: 'next hop = the node\'s bridge address', path: path('10.99.0.0/16', '10.244.61.1'), rules: tor, want: 'next-hop' },
  { name: 'next hop 0.1.2.3', path: path('10.99.0.0/16', '0.1.2.3'), rules: tor, want: 'next-hop' },
  { name: 'next hop = the node\'s own underlay address', path: path('10.99.0.0/16', '192.168.90.11'), rules: tor, want: 'next-hop' },
  { name: 'next hop on a connected link that is not the underlay', path: path('10.99.0.0/16', '172.17.0.2'), rules: tor, want: 'next-hop' },
  { name: 'IPv6 next hop = our own link-local', path: path('2001:db8:aa::/48', '2001:db8:90::1', 'fe80::11'), rules: tor, want: 'next-hop' },
  { name: 'IPv6 next hop ::1', path: path('2001:db8:aa::/48', '::1'), rules: tor, want: 'next-hop' },
  { name: 'IPv6 next hop off the underlay', path: path('2001:db8:aa::/48', '2001:db8:99::1'), rules: tor, want: 'next-hop' },
];

describe('bgp import policy', () => {
  const policy = new ImportPolicy(ctx);
  for (const tc of cases) {
    it(`${tc.want ?? 'accepted'}: ${tc.name}`, () => {
      expect(policy.verdict(tc.path, tc.rules)).to.equal(tc.want);
    });
  }

  it('covers every reason the policy itself decides', () => {
    const seen = new Set(cases.map((c) => c.want));
    for (const r of ['own-subnet', 'underlay', 'special-purpose', 'default-route', 'filter', 'no-lease', 'next-hop']) expect(seen.has(r as RejectReason), r).to.equal(true);
  });

  describe('prefix lists (ge/le, first match decides, no match rejects)', () => {
    const list: PeerImportRules = {
      allowDefault: false, requireLease: false,
      filter: [
        { prefix: P('10.100.0.0/16'), ge: 24, le: 26, action: 'reject' },
        { prefix: P('10.100.0.0/16'), le: 28, action: 'accept' },
        { prefix: P('10.50.0.0/16'), action: 'accept' },
        { prefix: P('10.60.0.0/16'), ge: 20, action: 'accept' },
        { prefix: P('2001:db8:aa::/48'), le: 64, action: 'accept' },
      ],
    };
    const table: [string, RejectReason | undefined][] = [
      ['10.100.0.0/16', undefined], ['10.100.0.0/20', undefined], ['10.100.1.0/24', 'filter'], ['10.100.1.0/26', 'filter'],
      ['10.100.1.0/27', undefined], ['10.100.1.0/29', 'filter'], ['10.50.0.0/16', undefined], ['10.50.1.0/24', 'filter'],
      ['10.60.0.0/16', 'filter'], ['10.60.16.0/20', undefined], ['10.60.1.128/32', undefined], ['10.70.0.0/16', 'filter'],
      ['2001:db8:aa:1::/64', undefined], ['2001:db8:aa:1::/80', 'filter'],
    ];
    for (const [prefix, want] of table) {
      it(`${prefix} → ${want ?? 'accepted'}`, () => {
        const nh = prefix.includes(':') ? path(prefix, '2001:db8:90::1', 'fe80::1') : path(prefix, '192.168.90.1');
        expect(policy.verdict(nh, list)).to.equal(want);
      });
    }
  });

  it('setContext reports whether anything changed', () => {
    const p = new ImportPolicy(ctx);
    expect(p.setContext({ ...ctx, leases: new Map(ctx.leases) })).to.equal(false);
    expect(p.setContext({ ...ctx, leases: new Map([...ctx.leases, ['10.244.70.0/24', '192.168.90.14']]) })).to.equal(true);
    expect(p.verdict(path('10.244.70.0/24', '192.168.90.14'), mesh)).to.equal(undefined);
  });
});
