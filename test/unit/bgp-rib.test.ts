/**
 * Routing without sockets: the decision process as a table, AS_PATH loop
 * detection, the export rules (never back to the source, iBGP split
 * horizon, next hop self, AS prepending, NO_EXPORT/NO_ADVERTISE), and the
 * RIB's stale-path handling for graceful restart.
 */
import { expect } from 'chai';
import type { PathAttributes } from '../../agent/src/bgp/codec';
import { compareCandidates, selectBest, type Candidate, type RouteSource } from '../../agent/src/bgp/decision';
import { exportPaths, type ExportTarget } from '../../agent/src/bgp/export-policy';
import { parsePrefix, type Path } from '../../agent/src/bgp/path';
import { Rib } from '../../agent/src/bgp/rib';

const ebgpPeer = (addr: string, id = addr, asn = 65000): Extract<RouteSource, { kind: 'peer' }> => ({ kind: 'peer', peerAddress: addr, peerAsn: asn, peerBgpId: id, ebgp: true });
const ibgpPeer = (addr: string, id = addr): Extract<RouteSource, { kind: 'peer' }> => ({ kind: 'peer', peerAddress: addr, peerAsn: 65001, peerBgpId: id, ebgp: false });

function path(prefix: string, attrs: PathAttributes, nextHop = '192.0.2.1'): Path {
  return { prefix: parsePrefix(prefix)!, nextHop, attrs };
}
const seq = (...asns: number[]): PathAttributes['asPath'] => [{ type: 'sequence', asns }];
const cand = (source: RouteSource, attrs: PathAttributes): Candidate => ({ source, path: path('10.1.0.0/16', attrs) });

describe('bgp decision process', () => {
  const base: PathAttributes = { origin: 0, asPath: seq(65000), localPref: 100 };
  const cases: { name: string; better: Candidate; worse: Candidate }[] = [
    { name: 'local paths beat any learned path', better: { source: { kind: 'local' }, path: path('10.1.0.0/16', { origin: 2 }) }, worse: cand(ebgpPeer('10.0.0.2'), { ...base, localPref: 1000 }) },
    { name: 'highest LOCAL_PREF', better: cand(ibgpPeer('10.0.0.3'), { ...base, localPref: 200, asPath: seq(1, 2, 3) }), worse: cand(ebgpPeer('10.0.0.2'), base) },
    { name: 'missing LOCAL_PREF counts as 100', better: cand(ebgpPeer('10.0.0.2'), { origin: 0, asPath: seq(65000) }), worse: cand(ebgpPeer('10.0.0.3'), { ...base, localPref: 99 }) },
    { name: 'shortest AS_PATH', better: cand(ebgpPeer('10.0.0.3'), { ...base, asPath: seq(65000) }), worse: cand(ebgpPeer('10.0.0.2'), { ...base, asPath: seq(65000, 65010) }) },
    { name: 'an AS_SET counts as one', better: cand(ebgpPeer('10.0.0.3'), { ...base, asPath: [{ type: 'sequence', asns: [65000] }, { type: 'set', asns: [1, 2, 3, 4] }] }), worse: cand(ebgpPeer('10.0.0.2'), { ...base, asPath: seq(65000, 2, 3) }) },
    { name: 'lowest ORIGIN (IGP < EGP)', better: cand(ebgpPeer('10.0.0.3'), { ...base, origin: 0 }), worse: cand(ebgpPeer('10.0.0.2'), { ...base, origin: 1 }) },
    { name: 'lowest ORIGIN (EGP < INCOMPLETE)', better: cand(ebgpPeer('10.0.0.3'), { ...base, origin: 1 }), worse: cand(ebgpPeer('10.0.0.2'), { ...base, origin: 2 }) },
    { name: 'lowest MED from the same neighbour AS', better: cand(ebgpPeer('10.0.0.3'), { ...base, med: 10 }), worse: cand(ebgpPeer('10.0.0.2'), { ...base, med: 20 }) },
    { name: 'eBGP over iBGP', better: cand(ebgpPeer('10.0.0.3', '10.9.9.9'), base), worse: cand(ibgpPeer('10.0.0.2', '10.0.0.1'), base) },
    { name: 'lowest router ID', better: cand(ebgpPeer('10.0.0.3', '1.1.1.1'), base), worse: cand(ebgpPeer('10.0.0.2', '2.2.2.2'), base) },
    { name: 'router IDs compare numerically, not as text', better: cand(ebgpPeer('10.0.0.3', '9.0.0.1'), base), worse: cand(ebgpPeer('10.0.0.2', '10.0.0.1'), base) },
    { name: 'lowest peer address last', better: cand(ebgpPeer('10.0.0.2', '1.1.1.1'), base), worse: cand(ebgpPeer('10.0.0.3', '1.1.1.1'), base) },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      expect(compareCandidates(tc.better, tc.worse)).to.be.lessThan(0);
      expect(compareCandidates(tc.worse, tc.better)).to.be.greaterThan(0);
      expect(selectBest([tc.worse, tc.better])).to.equal(tc.better);
      expect(selectBest([tc.better, tc.worse])).to.equal(tc.better);
    });
  }

  it('MED is not compared between different neighbour ASes (falls through to router ID)', () => {
    const a = cand(ebgpPeer('10.0.0.3', '1.1.1.1', 65000), { ...base, asPath: seq(65000), med: 500 });
    const b = cand(ebgpPeer('10.0.0.2', '2.2.2.2', 65005), { ...base, asPath: seq(65005), med: 1 });
    expect(selectBest([a, b])).to.equal(a);
  });
});

describe('bgp RIB', () => {
  const attrs = (...asns: number[]): PathAttributes => ({ origin: 0, asPath: seq(...asns) });

  it('drops paths whose AS_PATH holds our AS (loop) and withdraws what the peer had for them', () => {
    const rib = new Rib(65001);
    rib.peerUp(ebgpPeer('10.0.0.2'));
    rib.apply('10.0.0.2', [path('10.1.0.0/16', attrs(65000))], []);
    const r = rib.apply('10.0.0.2', [path('10.1.0.0/16', attrs(65000, 65001, 65002)), path('10.2.0.0/16', { origin: 0, asPath: [{ type: 'set', asns: [65001] }] })], []);
    expect(r.loops).to.equal(2);
    expect(r.changed).to.deep.equal(['10.1.0.0/16']);
    expect([...rib.bestPaths()]).to.have.length(0);
  });

  it('keeps the best path per prefix across peers and re-decides on withdrawal', () => {
    const rib = new Rib(65001);
    rib.peerUp(ebgpPeer('10.0.0.2'));
    rib.peerUp(ebgpPeer('10.0.0.3'));
    rib.apply('10.0.0.2', [path('10.1.0.0/16', attrs(65000, 65010), '10.0.0.2')], []);
    expect(rib.apply('10.0.0.3', [path('10.1.0.0/16', attrs(65000), '10.0.0.3')], []).changed).to.deep.equal(['10.1.0.0/16']);
    expect(rib.bestFor('10.1.0.0/16')?.path.nextHop).to.equal('10.0.0.3');
    rib.apply('10.0.0.3', [], [parsePrefix('10.1.0.0/16')!]);
    expect(rib.bestFor('10.1.0.0/16')?.path.nextHop).to.equal('10.0.0.2');
    expect(rib.dropPeer('10.0.0.2')).to.deep.equal(['10.1.0.0/16']);
    expect(rib.bestFor('10.1.0.0/16')).to.equal(undefined);
  });

  it('graceful restart: stale paths stay usable, are replaced by fresh ones, and the rest go on sweep', () => {
    const rib = new Rib(65001);
    rib.peerUp(ebgpPeer('10.0.0.2'));
    rib.apply('10.0.0.2', [path('10.1.0.0/16', attrs(65000)), path('10.2.0.0/16', attrs(65000)), path('2001:db8::/32', attrs(65000), '2001:db8::2')], []);
    expect(rib.markStale('10.0.0.2', new Set([4, 6] as const))).to.equal(3);
    expect([...rib.bestPaths()].every((c) => c.stale)).to.equal(true);
    expect(rib.received('10.0.0.2')).to.equal(3);
    // The peer is back and re-announces one IPv4 prefix: that one is fresh.
    rib.apply('10.0.0.2', [path('10.1.0.0/16', attrs(65000))], []);
    expect(rib.bestFor('10.1.0.0/16')?.stale).to.equal(undefined);
    // End-of-RIB for IPv4: the IPv4 stale path goes, IPv6 waits for its own End-of-RIB.
    expect(rib.sweepStale('10.0.0.2', 4)).to.deep.equal(['10.2.0.0/16']);
    expect(rib.bestFor('2001:db8::/32')?.stale).to.equal(true);
    expect(rib.sweepStale('10.0.0.2')).to.deep.equal(['2001:db8::/32']);
    expect(rib.bestFor('10.1.0.0/16')).not.to.equal(undefined);
  });

  it('local paths replace the set each time', () => {
    const rib = new Rib(65001);
    expect(rib.setLocal([path('10.244.1.0/24', {})]).sort()).to.deep.equal(['10.244.1.0/24']);
    expect(rib.setLocal([path('10.244.2.0/24', {})]).sort()).to.deep.equal(['10.244.1.0/24', '10.244.2.0/24']);
    expect([...rib.bestPaths()].map((c) => c.path.prefix.addr)).to.deep.equal(['10.244.2.0']);
  });
});

describe('bgp export policy', () => {
  const ebgpTarget: ExportTarget = { peerAddress: '10.0.0.9', ebgp: true, localAsn: 65001, nextHop4: '10.0.0.1' };
  const ibgpTarget: ExportTarget = { peerAddress: '10.0.0.8', ebgp: false, localAsn: 65001, nextHop4: '10.0.0.1' };
  const local: Candidate = { source: { kind: 'local' }, path: path('10.244.1.0/24', { origin: 0, asPath: [] }) };
  const fromEbgp: Candidate = { source: ebgpPeer('10.0.0.9'), path: path('10.5.0.0/16', { origin: 0, asPath: seq(65000), med: 5, localPref: 300 }, '10.0.0.9') };
  const fromIbgp: Candidate = { source: ibgpPeer('10.0.0.8'), path: path('10.6.0.0/16', { origin: 0, asPath: [], localPref: 100 }, '10.0.0.8') };
  const fromOtherEbgp: Candidate = { source: ebgpPeer('10.0.0.7', '10.0.0.7', 65007), path: path('10.7.0.0/16', { origin: 1, asPath: seq(65007), med: 9 }, '10.0.0.7') };

  const prefixes = (ps: Path[]): string[] => ps.map((p) => `${p.prefix.addr}/${p.prefix.len}`).sort();

  it('never sends a path back to the peer it came from', () => {
    expect(prefixes(exportPaths([local, fromEbgp], ebgpTarget))).to.deep.equal(['10.244.1.0/24']);
  });

  it('iBGP split horizon: iBGP-learned paths are not sent to iBGP peers, but are to eBGP peers', () => {
    const other: ExportTarget = { ...ibgpTarget, peerAddress: '10.0.0.6' };
    expect(prefixes(exportPaths([local, fromIbgp, fromOtherEbgp], other))).to.deep.equal(['10.244.1.0/24', '10.7.0.0/16']);
    expect(prefixes(exportPaths([local, fromIbgp], ebgpTarget))).to.deep.equal(['10.244.1.0/24', '10.6.0.0/16']);
  });

  it('no transit: a path from one eBGP peer is not sent to another eBGP peer, but is to iBGP peers', () => {
    expect(prefixes(exportPaths([local, fromOtherEbgp], ebgpTarget))).to.deep.equal(['10.244.1.0/24']);
    expect(prefixes(exportPaths([local, fromOtherEbgp], ibgpTarget))).to.deep.equal(['10.244.1.0/24', '10.7.0.0/16']);
  });

  it('eBGP: our AS prepended, next hop self, no LOCAL_PREF, no foreign MED', () => {
    // Learned over iBGP from a node that heard it from AS 65007, with that node's MED.
    const viaIbgp: Candidate = { source: ibgpPeer('10.0.0.8'), path: path('10.7.0.0/16', { origin: 1, asPath: seq(65007), med: 9, localPref: 100 }, '10.0.0.8') };
    const [p] = exportPaths([viaIbgp], ebgpTarget);
    expect(p.nextHop).to.equal('10.0.0.1');
    expect(p.attrs.asPath).to.deep.equal(seq(65001, 65007));
    expect(p.attrs.localPref).to.equal(undefined);
    expect(p.attrs.med).to.equal(undefined);
    expect(p.attrs.origin).to.equal(1);
    const [own] = exportPaths([local], ebgpTarget);
    expect(own.attrs.asPath).to.deep.equal(seq(65001));
  });

  it('iBGP: AS_PATH unchanged, LOCAL_PREF set, next hop self', () => {
    const [own] = exportPaths([local], ibgpTarget);
    expect(own.attrs).to.deep.include({ asPath: [], localPref: 100 });
    expect(own.nextHop).to.equal('10.0.0.1');
  });

  it('NO_ADVERTISE goes nowhere, NO_EXPORT not to eBGP', () => {
    const noAdv: Candidate = { ...fromOtherEbgp, path: { ...fromOtherEbgp.path, attrs: { ...fromOtherEbgp.path.attrs, communities: [0xffffff02] } } };
    const noExp: Candidate = { source: ebgpPeer('10.0.0.5', '10.0.0.5', 65005), path: path('10.8.0.0/16', { origin: 0, asPath: seq(65005), communities: [0xffffff01] }) };
    expect(prefixes(exportPaths([noAdv, noExp], ibgpTarget))).to.deep.equal(['10.8.0.0/16']);
    // Towards eBGP the communities alone must decide: the same paths learned over iBGP.
    const overIbgp = (c: Candidate): Candidate => ({ ...c, source: ibgpPeer('10.0.0.8') });
    const plain: Candidate = { source: ibgpPeer('10.0.0.8'), path: path('10.9.0.0/16', { origin: 0, asPath: seq(65005) }) };
    expect(prefixes(exportPaths([overIbgp(noAdv), overIbgp(noExp), plain], ebgpTarget))).to.deep.equal(['10.9.0.0/16']);
  });

  it('IPv6 paths need an IPv6 next hop and carry global + link-local', () => {
    const v6: Candidate = { source: { kind: 'local' }, path: path('2001:db8:1::/64', { origin: 0, asPath: [] }) };
    expect(exportPaths([v6], ebgpTarget)).to.deep.equal([]);
    const [p] = exportPaths([v6], { ...ebgpTarget, nextHop6: { global: '2001:db8::1', linkLocal: 'fe80::1' } });
    expect(p.nextHop).to.equal('2001:db8::1');
    expect(p.nextHopLinkLocal).to.equal('fe80::1');
  });
});

describe('bgp prefix parsing', () => {
  const cases: [string, string | undefined][] = [
    ['10.244.1.0/24', '10.244.1.0/24'],
    ['10.244.1.1/24', undefined],
    ['2001:DB8:0:0::/64', '2001:db8::/64'],
    ['2001:db8::1/64', undefined],
    ['10.0.0.0/33', undefined],
    ['nonsense', undefined],
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${want ?? 'refused'}`, () => {
      const p = parsePrefix(input);
      expect(p ? `${p.addr}/${p.len}` : undefined).to.equal(want);
    });
  }
});
