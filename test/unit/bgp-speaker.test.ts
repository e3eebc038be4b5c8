/**
 * The speaker on fake connections: learned paths reach the owner and the
 * other peers (not the source), a Cease or lost session withdraws at once,
 * graceful restart keeps a peer's paths stale until its End-of-RIB or the
 * restart time, and a deconfigured peer gets Cease 6/3.
 */
import { expect } from 'chai';
import type { BgpMessage, NotificationMessage, OpenMessage, UpdateMessage } from '../../agent/src/bgp/codec';
import { parsePrefix } from '../../agent/src/bgp/path';
import { Speaker, type PeerSpec } from '../../agent/src/bgp/speaker';
import { silentLogger } from '../../agent/src/log/logger';
import { FakeClock, FakeConn, FakeDialer, flush, peerOpen } from './bgp-fakes';

const GR_CAPS = (asn: number, restartTime: number, restarting = false): OpenMessage['capabilityParams'] => [[
  { kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'multiprotocol', afi: 2, safi: 1 }, { kind: 'four-octet-as', asn },
  { kind: 'graceful-restart', restarting, notification: false, restartTime, families: [{ afi: 1, safi: 1, forwardingPreserved: true }, { afi: 2, safi: 1, forwardingPreserved: true }] },
]];

function announce(prefix: string, nextHop: string, asns: number[]): UpdateMessage {
  return { type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns }], nextHop }, nlri: [parsePrefix(prefix)!] };
}

const updates = (msgs: BgpMessage[]): UpdateMessage[] => msgs.filter((m): m is UpdateMessage => m.type === 'update');
const announced = (msgs: BgpMessage[]): string[] => updates(msgs).flatMap((u) => u.nlri.map((p) => `${p.addr}/${p.len}`)).sort();

describe('bgp speaker', () => {
  let clock: FakeClock;
  let dialer: FakeDialer;
  let speaker: Speaker;
  let notified: number;
  let bConns: FakeConn[];

  beforeEach(() => {
    clock = new FakeClock();
    dialer = new FakeDialer();
    notified = 0;
    bConns = [];
    speaker = new Speaker({
      localAsn: 65001, routerId: '10.0.0.1', clock, dial: dialer.dial, logger: silentLogger(), batchMs: 10,
      onRoutesChanged: () => { notified++; },
    });
    speaker.setLocal([{ prefix: parsePrefix('10.244.1.0/24')!, nextHop: '', attrs: { origin: 0, asPath: [] } }]);
  });

  afterEach(async () => {
    await speaker.stop();
  });

  async function up(spec: PeerSpec, open: OpenMessage): Promise<FakeConn> {
    const conn = new FakeConn(spec.address, 179, '10.0.0.1');
    const attempt = dialer.attempts.find((a) => a.target.host === spec.address);
    if (!attempt) throw new Error(`no dial to ${spec.address}`);
    attempt.resolve(conn);
    await flush();
    conn.send(open);
    conn.send({ type: 'keepalive' });
    return conn;
  }

  async function twoPeers(aOpen: OpenMessage = peerOpen({ asn: 65000, bgpId: '10.0.0.2' })): Promise<{ a: FakeConn; b: FakeConn }> {
    speaker.setPeers([{ address: '10.0.0.2', asn: 65000 }, { address: '10.0.0.3', asn: 65003 }]);
    await flush();
    const a = await up({ address: '10.0.0.2', asn: 65000 }, aOpen);
    const b = await up({ address: '10.0.0.3', asn: 65003 }, peerOpen({ asn: 65003, bgpId: '10.0.0.3' }));
    bConns.push(b);
    return { a, b };
  }

  /** Re-establishes the session with 10.0.0.3 (after twoPeers) with another OPEN. */
  async function twoPeersAgainB(open: OpenMessage): Promise<FakeConn> {
    // Drop the current connection, then let the retry dial and answer with `open`.
    const current = bConns.at(-1)!;
    current.send({ type: 'notification', code: 6, subcode: 4, data: Buffer.alloc(0) });
    clock.advance(5000);
    await flush();
    const conn = new FakeConn('10.0.0.3');
    dialer.attempts.filter((x) => x.target.host === '10.0.0.3').at(-1)!.resolve(conn);
    await flush();
    conn.send(open);
    conn.send({ type: 'keepalive' });
    return conn;
  }

  it('advertises the local prefix on Established, learns paths, and is no transit between its eBGP peers', async () => {
    const { a, b } = await twoPeers();
    expect(announced(a.received())).to.deep.equal(['10.244.1.0/24']);
    expect(announced(b.received())).to.deep.equal(['10.244.1.0/24']);
    a.send(announce('10.1.0.0/16', '10.0.0.2', [65000]));
    clock.advance(10);
    expect(notified).to.equal(1);
    expect(speaker.bestLearned().map((c) => c.path.nextHop)).to.deep.equal(['10.0.0.2']);
    // b is another eBGP peer (AS 65003): a's path is not passed on to it.
    expect(updates(b.received()).flatMap((u) => u.nlri.map((p) => p.addr))).to.deep.equal([]);
    expect(a.received()).to.deep.equal([]); // never back to the source
    const s = speaker.sessions().find((x) => x.peerAddress === '10.0.0.2');
    expect(s).to.deep.include({ state: 'Established', prefixesReceived: 1, prefixesSent: 1, peerAsn: 65000, localAsn: 65001 });
  });

  it('TTL 1 on a directly connected eBGP session; the system default for multihop eBGP and for iBGP', async () => {
    speaker.setPeers([
      { address: '10.0.0.2', asn: 65000 },
      { address: '10.0.0.4', asn: 65004, multihop: true },
      { address: '10.0.0.5', asn: 65001 },
    ]);
    await flush();
    const direct = await up({ address: '10.0.0.2', asn: 65000 }, peerOpen({ asn: 65000, bgpId: '10.0.0.2' }));
    const multihop = await up({ address: '10.0.0.4', asn: 65004 }, peerOpen({ asn: 65004, bgpId: '10.0.0.4' }));
    const ibgp = await up({ address: '10.0.0.5', asn: 65001 }, peerOpen({ asn: 65001, bgpId: '10.0.0.5' }));
    expect(direct.ttls).to.deep.equal([1]);
    expect(multihop.ttls).to.deep.equal([]);
    expect(ibgp.ttls).to.deep.equal([]);
  });

  it('a peer that sends our own routes back (our AS in the path) is ignored for them', async () => {
    const { a } = await twoPeers();
    a.send(announce('10.244.1.0/24', '10.0.0.2', [65000, 65001]));
    a.send(announce('10.9.0.0/16', '10.0.0.2', [65000, 65001]));
    clock.advance(10);
    expect(speaker.bestLearned()).to.deep.equal([]);
    expect(speaker.routes()).to.deep.equal([]);
  });

  it('max-prefix: one prefix over the limit ends the session with Cease 6/1 (AFI, SAFI, limit) and drops its paths', async () => {
    speaker.setPeers([{ address: '10.0.0.2', asn: 65000, maxPrefixes: 3, maxPrefixRestart: 30 }]);
    await flush();
    const a = await up({ address: '10.0.0.2', asn: 65000 }, peerOpen({ asn: 65000, bgpId: '10.0.0.2' }));
    a.received();
    for (const p of ['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16']) a.send(announce(p, '10.0.0.2', [65000]));
    expect(a.ended).to.equal(false);
    a.send(announce('10.4.0.0/16', '10.0.0.2', [65000]));
    const n = a.received().find((m): m is NotificationMessage => m.type === 'notification');
    expect(n && `${n.code}/${n.subcode} ${n.data.toString('hex')}`).to.equal('6/1 00010100000003');
    expect(a.ended).to.equal(true);
    expect(speaker.bestLearned()).to.deep.equal([]);
    expect(speaker.sessions()[0]).to.deep.include({ maxPrefixHits: 1, prefixesReceived: 0, state: 'Idle' });
    // Idle for maxPrefixRestart: no dial before it passed.
    const dials = dialer.attempts.length;
    clock.advance(29_000);
    await flush();
    expect(dialer.attempts.length).to.equal(dials);
    clock.advance(1_100);
    await flush();
    expect(dialer.attempts.length).to.equal(dials + 1);
  });

  it('import: a mesh route waits for its lease, and counts per reason until then', async () => {
    const P = (t: string) => parsePrefix(t)!;
    const ctx = {
      ownSubnets: [P('10.244.1.0/24')], clusterPrefixes: [P('10.244.0.0/16')],
      interfaces: [{ address: '10.0.0.1', prefix: P('10.0.0.0/24'), onLink: true }], leases: new Map<string, string>(),
    };
    const s = new Speaker({ localAsn: 65001, routerId: '10.0.0.1', clock, dial: dialer.dial, logger: silentLogger(), batchMs: 10, importContext: ctx });
    try {
      s.setPeers([{ address: '10.0.0.3', asn: 65001, requireLease: true }]);
      await flush();
      const c = await up({ address: '10.0.0.3', asn: 65001 }, peerOpen({ asn: 65001, bgpId: '10.0.0.3' }));
      c.send(announce('10.244.3.0/24', '10.0.0.3', []));
      c.send(announce('10.244.1.128/25', '10.0.0.3', []));
      clock.advance(10);
      expect(s.bestLearned()).to.deep.equal([]);
      expect(s.sessions()[0]).to.deep.include({ prefixesReceived: 2, prefixesAccepted: 0, prefixesRejected: { 'no-lease': 1, 'own-subnet': 1 } });
      s.setImportContext({ ...ctx, leases: new Map([['10.244.3.0/24', '10.0.0.3']]) });
      expect(s.bestLearned().map((x) => `${x.path.prefix.addr}/${x.path.prefix.len}`)).to.deep.equal(['10.244.3.0/24']);
      expect(s.sessions()[0]).to.deep.include({ prefixesAccepted: 1, prefixesRejected: { 'own-subnet': 1 } });
    } finally {
      await s.stop();
    }
  });

  it('first AS: an eBGP path that does not start with the peer\'s AS is refused (and allowed when enforceFirstAs is false)', async () => {
    speaker.setPeers([{ address: '10.0.0.2', asn: 65000 }, { address: '10.0.0.3', asn: 65003, enforceFirstAs: false }]);
    await flush();
    const a = await up({ address: '10.0.0.2', asn: 65000 }, peerOpen({ asn: 65000, bgpId: '10.0.0.2' }));
    const b = await up({ address: '10.0.0.3', asn: 65003 }, peerOpen({ asn: 65003, bgpId: '10.0.0.3' }));
    a.send(announce('10.1.0.0/16', '10.0.0.2', [65099, 65000]));
    b.send(announce('10.2.0.0/16', '10.0.0.3', [65099]));
    clock.advance(10);
    expect(speaker.bestLearned().map((x) => x.path.prefix.addr)).to.deep.equal(['10.2.0.0']);
    expect(speaker.sessions().find((x) => x.peerAddress === '10.0.0.2')?.prefixesRejected).to.deep.equal({ 'first-as': 1 });
  });

  it('route reflector client (RFC 4456): our own route reflected back (ORIGINATOR_ID = our router ID) and a CLUSTER_LIST loop are ignored', async () => {
    speaker.setPeers([{ address: '10.0.0.9', asn: 65001 }]);
    await flush();
    const rr = await up({ address: '10.0.0.9', asn: 65001 }, peerOpen({ asn: 65001, bgpId: '10.0.0.9' }));
    const reflected = (prefix: string, originatorId: string, clusterList: string[]): UpdateMessage => {
      const u = announce(prefix, '10.0.0.5', []);
      return { ...u, attributes: { ...u.attributes, originatorId, clusterList } };
    };
    rr.send(reflected('10.244.1.0/24', '10.0.0.1', ['10.0.0.9'])); // ours, echoed by the reflector
    rr.send(reflected('10.5.0.0/16', '10.0.0.5', ['10.0.0.9', '10.0.0.1'])); // passed through us before
    rr.send(reflected('10.6.0.0/16', '10.0.0.5', ['10.0.0.9'])); // a normal reflected route
    clock.advance(10);
    expect(speaker.bestLearned().map((x) => `${x.path.prefix.addr}/${x.path.prefix.len}`)).to.deep.equal(['10.6.0.0/16']);
    expect(speaker.sessions()[0]).to.deep.include({ prefixesReceived: 3, prefixesAccepted: 1, prefixesRejected: { 'rr-loop': 2 } });
  });

  it('a NOTIFICATION from the peer withdraws its paths at once', async () => {
    const { a } = await twoPeers();
    a.send(announce('10.1.0.0/16', '10.0.0.2', [65000]));
    clock.advance(10);
    a.send({ type: 'notification', code: 6, subcode: 2, data: Buffer.alloc(0) });
    expect(speaker.bestLearned()).to.deep.equal([]);
    clock.advance(10);
    expect(notified).to.equal(2);
  });

  it('a silent drop without graceful restart withdraws at once too', async () => {
    const { a } = await twoPeers();
    a.send(announce('10.1.0.0/16', '10.0.0.2', [65000]));
    a.closeFromPeer();
    expect(speaker.bestLearned()).to.deep.equal([]);
  });

  describe('graceful restart (receiving speaker)', () => {
    it('keeps a restarting peer\'s paths stale until the restart time passes', async () => {
      const { a } = await twoPeers(peerOpen({ asn: 65000, bgpId: '10.0.0.2' }, GR_CAPS(65000, 30)));
      a.send(announce('10.1.0.0/16', '10.0.0.2', [65000]));
      clock.advance(10);
      a.closeFromPeer();
      expect(speaker.bestLearned().map((c) => c.stale)).to.deep.equal([true]);
      expect(speaker.routes()[0].stale).to.equal(true);
      clock.advance(29_000);
      expect(speaker.bestLearned()).to.have.length(1);
      clock.advance(1_100);
      expect(speaker.bestLearned()).to.deep.equal([]);
    });

    it('replaces stale paths with fresh ones and sweeps the rest on End-of-RIB', async () => {
      const { a } = await twoPeers(peerOpen({ asn: 65000, bgpId: '10.0.0.2' }, GR_CAPS(65000, 120)));
      a.send(announce('10.1.0.0/16', '10.0.0.2', [65000]));
      a.send(announce('10.2.0.0/16', '10.0.0.2', [65000]));
      a.closeFromPeer();
      clock.advance(5000);
      await flush();
      const again = dialer.attempts.filter((x) => x.target.host === '10.0.0.2').at(-1)!;
      const conn = new FakeConn('10.0.0.2');
      again.resolve(conn);
      await flush();
      conn.send(peerOpen({ asn: 65000, bgpId: '10.0.0.2' }, GR_CAPS(65000, 120, true)));
      conn.send({ type: 'keepalive' });
      conn.send(announce('10.1.0.0/16', '10.0.0.2', [65000]));
      expect(speaker.bestLearned().map((c) => `${c.path.prefix.addr}:${c.stale === true}`).sort()).to.deep.equal(['10.1.0.0:false', '10.2.0.0:true']);
      conn.send({ type: 'update', withdrawn: [], attributes: {}, nlri: [] }); // End-of-RIB IPv4
      expect(speaker.bestLearned().map((c) => c.path.prefix.addr)).to.deep.equal(['10.1.0.0']);
    });

    it('only the families listed in the capability are retained; "aware only" (no families, like BIRD by default) retains nothing', async () => {
      const v4only: OpenMessage['capabilityParams'] = [[
        { kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'multiprotocol', afi: 2, safi: 1 }, { kind: 'four-octet-as', asn: 65000 },
        { kind: 'graceful-restart', restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
      ]];
      const { a } = await twoPeers(peerOpen({ asn: 65000, bgpId: '10.0.0.2' }, v4only));
      a.send(announce('10.1.0.0/16', '10.0.0.2', [65000]));
      a.send({ type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65000] }], mpReach: { afi: 2, safi: 1, nextHop: { global: '2001:db8::2' }, nlri: [parsePrefix('2001:db8:5::/48')!] } } });
      expect(speaker.bestLearned()).to.have.length(2);
      a.closeFromPeer();
      expect(speaker.bestLearned().map((c) => `${c.path.prefix.addr} ${c.stale === true}`)).to.deep.equal(['10.1.0.0 true']);

      const b = await twoPeersAgainB(peerOpen({ asn: 65003, bgpId: '10.0.0.3' }, [[
        { kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'four-octet-as', asn: 65003 },
        { kind: 'graceful-restart', restarting: false, notification: false, restartTime: 120, families: [] },
      ]]));
      b.send(announce('10.3.0.0/16', '10.0.0.3', [65003]));
      expect(speaker.bestLearned().map((c) => c.path.prefix.addr).sort()).to.deep.equal(['10.1.0.0', '10.3.0.0']);
      b.closeFromPeer();
      expect(speaker.bestLearned().map((c) => c.path.prefix.addr)).to.deep.equal(['10.1.0.0']);
    });

    it('a peer that comes back without the capability loses its stale paths at once', async () => {
      const { a } = await twoPeers(peerOpen({ asn: 65000, bgpId: '10.0.0.2' }, GR_CAPS(65000, 120)));
      a.send(announce('10.1.0.0/16', '10.0.0.2', [65000]));
      a.closeFromPeer();
      clock.advance(5000);
      await flush();
      const conn = new FakeConn('10.0.0.2');
      dialer.attempts.filter((x) => x.target.host === '10.0.0.2').at(-1)!.resolve(conn);
      await flush();
      conn.send(peerOpen({ asn: 65000, bgpId: '10.0.0.2' }));
      conn.send({ type: 'keepalive' });
      expect(speaker.bestLearned()).to.deep.equal([]);
    });
  });

  it('converged() once every peer is Established and sent End-of-RIB for each family; an End-of-RIB alone notifies', async () => {
    const { a, b } = await twoPeers();
    clock.advance(10);
    const before = notified;
    expect(speaker.converged()).to.equal(false);
    for (const c of [a, b]) {
      c.send({ type: 'update', withdrawn: [], attributes: {}, nlri: [] });
      c.send({ type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] });
    }
    expect(speaker.converged()).to.equal(true);
    clock.advance(10);
    expect(notified).to.equal(before + 1);
  });

  it('a deconfigured peer gets Cease 6/3 and its paths go', async () => {
    const { a } = await twoPeers();
    a.send(announce('10.1.0.0/16', '10.0.0.2', [65000]));
    a.received();
    speaker.setPeers([{ address: '10.0.0.3', asn: 65003 }]);
    const n = a.received().filter((m): m is NotificationMessage => m.type === 'notification').map((m) => `${m.code}/${m.subcode}`);
    expect(n).to.deep.equal(['6/3']);
    expect(speaker.bestLearned()).to.deep.equal([]);
    expect(speaker.sessions().map((s) => s.peerAddress)).to.deep.equal(['10.0.0.3']);
  });

  it('stop({graceful}) closes every session without a NOTIFICATION', async () => {
    const { a, b } = await twoPeers();
    a.received();
    b.received();
    await speaker.stop({ graceful: true });
    for (const c of [a, b]) {
      expect(c.received()).to.deep.equal([]);
      expect(c.destroyed).to.equal(true);
    }
  });

  it('stop() sends Cease 6/2 to every peer', async () => {
    const { a, b } = await twoPeers();
    a.received();
    b.received();
    await speaker.stop();
    for (const c of [a, b]) {
      expect(c.received().filter((m) => m.type === 'notification').map((m) => `${(m as NotificationMessage).code}/${(m as NotificationMessage).subcode}`)).to.deep.equal(['6/2']);
    }
  });
});
