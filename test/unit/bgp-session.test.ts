/**
 * The BGP session FSM on a fake connection and a fake clock: transitions,
 * hold-time negotiation and timers, refusals with the right NOTIFICATION,
 * collision detection, connect-retry back-off, Cease on a planned stop,
 * RFC 7606 actions and the set() diff.
 */
import { expect } from 'chai';
import type { BgpMessage, NotificationMessage, UpdateMessage } from '../../agent/src/bgp/codec';
import { silentLogger } from '../../agent/src/log/logger';
import { Session, type SessionConfig, type SessionDown } from '../../agent/src/bgp/session/session';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../agent/src/bgp/session/negotiate';
import type { UpdateEffect } from '../../agent/src/bgp/session/updates';
import { parsePrefix, type Path } from '../../agent/src/bgp/path';
import { FakeClock, FakeConn, FakeDialer, flush, peerOpen } from './bgp-fakes';

interface Harness {
  session: Session;
  clock: FakeClock;
  dialer: FakeDialer;
  transitions: string[];
  updates: UpdateEffect[];
  downs: SessionDown[];
  eors: string[];
}

function harness(over: Partial<SessionConfig> = {}, localHold = 90): Harness {
  const clock = new FakeClock();
  const dialer = new FakeDialer();
  const h: Harness = { session: undefined as unknown as Session, clock, dialer, transitions: [], updates: [], downs: [], eors: [] };
  h.session = new Session(
    {
      peerAddress: '10.0.0.2', peerAsn: 65000,
      local: { asn: 65001, routerId: '10.0.0.1', holdTime: localHold, families: [IPV4_UNICAST, IPV6_UNICAST] },
      ...over,
    },
    { clock, dial: dialer.dial, logger: silentLogger() },
    {
      stateChanged: (s, p, why) => h.transitions.push(`${p} -> ${s} (${why})`),
      update: (u) => h.updates.push(u),
      down: (d) => h.downs.push(d),
      endOfRib: (f) => h.eors.push(`${f.afi}/${f.safi}`),
    },
  );
  return h;
}

const states = (h: Harness): string[] => h.transitions.map((t) => t.replace(/ \(.*$/, ''));
const notifications = (msgs: BgpMessage[]): string[] =>
  msgs.filter((m): m is NotificationMessage => m.type === 'notification').map((m) => `${m.code}/${m.subcode}`);

async function connect(h: Harness, conn = new FakeConn()): Promise<FakeConn> {
  h.session.start();
  await flush();
  const attempt = h.dialer.attempts.at(-1);
  if (!attempt) throw new Error('no dial attempt');
  attempt.resolve(conn);
  await flush();
  return conn;
}

async function establish(h: Harness, open = peerOpen()): Promise<FakeConn> {
  const conn = await connect(h);
  conn.send(open);
  conn.send({ type: 'keepalive' });
  return conn;
}

const v4 = (text: string): Path => ({
  prefix: parsePrefix(text)!, nextHop: '10.0.0.1', attrs: { origin: 0, asPath: [{ type: 'sequence', asns: [65001] }] },
});

describe('bgp session FSM', () => {
  it('active open walks Idle -> Connect -> OpenSent -> OpenConfirm -> Established and logs each step', async () => {
    const h = harness();
    const conn = await connect(h);
    const sent = conn.received();
    expect(sent.map((m) => m.type)).to.deep.equal(['open']);
    const open = sent[0] as Extract<BgpMessage, { type: 'open' }>;
    expect(open.asn).to.equal(65001);
    expect(open.holdTime).to.equal(90);
    conn.send(peerOpen());
    expect(conn.received().map((m) => m.type)).to.deep.equal(['keepalive']);
    conn.send({ type: 'keepalive' });
    expect(h.session.currentState).to.equal('Established');
    expect(states(h)).to.deep.equal(['Idle -> Connect', 'Connect -> OpenSent', 'OpenSent -> OpenConfirm', 'OpenConfirm -> Established']);
    // End-of-RIB for both negotiated families right after Established.
    const eor = conn.received() as UpdateMessage[];
    expect(eor).to.have.length(2);
    expect(eor[1].attributes.mpUnreach?.afi).to.equal(2);
  });

  it('passive sessions never dial and accept the peer\'s connection', async () => {
    const h = harness({ passive: true });
    h.session.start();
    await flush();
    expect(h.dialer.attempts).to.have.length(0);
    expect(h.session.currentState).to.equal('Active');
    const conn = new FakeConn();
    h.session.accept(conn);
    conn.send(peerOpen());
    conn.send({ type: 'keepalive' });
    expect(h.session.currentState).to.equal('Established');
  });

  const holdCases = [
    { name: 'peer smaller: min wins', local: 90, peer: 9, hold: 9, keepaliveMs: 3000 },
    { name: 'ours smaller: min wins', local: 6, peer: 180, hold: 6, keepaliveMs: 2000 },
    { name: 'peer 0: no keepalives at all', local: 90, peer: 0, hold: 0, keepaliveMs: 0 },
    { name: 'both 3: keepalive every second', local: 3, peer: 3, hold: 3, keepaliveMs: 1000 },
  ];
  for (const tc of holdCases) {
    it(`hold time negotiation: ${tc.name}`, async () => {
      const h = harness({}, tc.local);
      const conn = await establish(h, peerOpen({ holdTime: tc.peer }));
      expect(h.session.negotiated?.holdTime).to.equal(tc.hold);
      expect(h.session.negotiated?.keepaliveMs).to.equal(tc.keepaliveMs);
      conn.received();
      if (tc.hold === 0) {
        h.clock.advance(3_600_000);
        expect(conn.received()).to.deep.equal([]);
        expect(h.session.currentState).to.equal('Established');
        return;
      }
      // Keepalives at hold/3 while the peer keeps talking.
      for (let i = 0; i < 4; i++) {
        h.clock.advance(tc.keepaliveMs);
        expect(conn.received().map((m) => m.type)).to.deep.equal(['keepalive']);
        conn.send({ type: 'keepalive' });
      }
      // Silence for a whole hold time: 4/0 and down.
      h.clock.advance(tc.hold * 1000);
      expect(notifications(conn.received())).to.deep.equal(['4/0']);
      expect(h.session.currentState).to.equal('Idle');
      expect(h.downs).to.have.length(1);
      expect(h.downs[0].silent).to.equal(false);
    });
  }

  const refusals = [
    { name: 'hold time 1', open: peerOpen({ holdTime: 1 }), code: '2/6' },
    { name: 'hold time 2', open: peerOpen({ holdTime: 2 }), code: '2/6' },
    { name: 'wrong peer AS', open: peerOpen({ asn: 65099 }), code: '2/2' },
    { name: 'our own identifier on iBGP', open: peerOpen({ asn: 65001, bgpId: '10.0.0.1' }), code: '2/2' },
    { name: 'no common address family', open: peerOpen({}, [[{ kind: 'multiprotocol', afi: 1, safi: 2 }, { kind: 'four-octet-as', asn: 65000 }]]), code: '2/7' },
  ];
  for (const tc of refusals) {
    it(`refuses an OPEN with ${tc.name}: NOTIFICATION ${tc.code}, never Established`, async () => {
      const h = harness();
      const conn = await connect(h);
      conn.received();
      conn.send(tc.open);
      expect(notifications(conn.received())).to.deep.equal([tc.code]);
      expect(conn.ended).to.equal(true);
      expect(states(h)).not.to.include('OpenSent -> OpenConfirm');
      expect(h.session.snapshot().lastError).to.include(tc.code);
    });
  }

  it('iBGP with our own identifier is 2/3 (the peer AS matches ours)', async () => {
    const h = harness({ peerAsn: 65001 });
    const conn = await connect(h);
    conn.received();
    conn.send(peerOpen({ asn: 65001, bgpId: '10.0.0.1' }));
    expect(notifications(conn.received())).to.deep.equal(['2/3']);
  });

  const fsmErrors = [
    { name: 'KEEPALIVE in OpenSent', before: [] as BgpMessage[], msg: { type: 'keepalive' } as BgpMessage, code: '5/1' },
    { name: 'UPDATE in OpenConfirm', before: [peerOpen()], msg: { type: 'update', withdrawn: [], attributes: {}, nlri: [] } as BgpMessage, code: '5/2' },
    { name: 'OPEN in Established', before: [peerOpen(), { type: 'keepalive' } as BgpMessage], msg: peerOpen(), code: '5/3' },
  ];
  for (const tc of fsmErrors) {
    it(`FSM error: ${tc.name} → ${tc.code}`, async () => {
      const h = harness();
      const conn = await connect(h);
      for (const m of tc.before) conn.send(m);
      conn.received();
      conn.send(tc.msg);
      expect(notifications(conn.received())).to.deep.equal([tc.code]);
    });
  }

  it('a bad marker is a header error 1/1 and drops the connection', async () => {
    const h = harness();
    const conn = await establish(h);
    conn.received();
    const bad = Buffer.alloc(19, 0xff);
    bad[0] = 0;
    bad.writeUInt16BE(19, 16);
    bad[18] = 4;
    conn.sendRaw(bad);
    expect(notifications(conn.received())).to.deep.equal(['1/1']);
    expect(h.downs).to.have.length(1);
  });

  it('a malformed ORIGIN is treat-as-withdraw: the prefixes are withdrawn, the session stays', async () => {
    const h = harness();
    const conn = await establish(h);
    conn.received();
    conn.send({ type: 'update', withdrawn: [], attributes: { origin: 7, asPath: [{ type: 'sequence', asns: [65000] }], nextHop: '10.0.0.2' }, nlri: [parsePrefix('10.9.0.0/16')!] });
    expect(conn.received()).to.deep.equal([]);
    expect(h.session.currentState).to.equal('Established');
    expect(h.updates).to.deep.equal([{ announced: [], withdrawn: [parsePrefix('10.9.0.0/16')] }]);
  });

  it('End-of-RIB markers are reported, ordinary UPDATEs become paths', async () => {
    const h = harness();
    const conn = await establish(h);
    conn.send({ type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65000] }], nextHop: '10.0.0.2' }, nlri: [parsePrefix('10.9.0.0/16')!] });
    conn.send({ type: 'update', withdrawn: [], attributes: {}, nlri: [] });
    expect(h.updates[0].announced[0].nextHop).to.equal('10.0.0.2');
    expect(h.eors).to.deep.equal(['1/1']);
  });

  it('stop() sends Cease 6/2 (administrative shutdown) and goes Idle without retrying', async () => {
    const h = harness();
    const conn = await establish(h);
    conn.received();
    h.session.stop();
    expect(notifications(conn.received())).to.deep.equal(['6/2']);
    expect(h.session.currentState).to.equal('Idle');
    h.clock.advance(600_000);
    expect(h.dialer.attempts).to.have.length(1);
  });

  it('stop({notify:false}) closes silently (graceful restart: the peer keeps our routes)', async () => {
    const h = harness();
    const conn = await establish(h);
    conn.received();
    h.session.stop({ notify: false });
    expect(conn.received()).to.deep.equal([]);
    expect(conn.destroyed).to.equal(true);
  });

  it('connect-retry backs off exponentially with ±25 % jitter, capped', async () => {
    const h = harness({ connectRetryMs: 1000, connectRetryMaxMs: 8000 });
    h.session.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await flush();
      h.dialer.attempts.at(-1)!.reject(new Error('ECONNREFUSED'));
      await flush();
      expect(h.session.currentState).to.equal('Idle');
      const pending = h.clock.pending();
      expect(pending).to.have.length(1);
      delays.push(pending[0]);
      h.clock.advance(pending[0]);
    }
    expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 8000, 8000]);
    h.clock.rand = 0;
    await flush();
    h.dialer.attempts.at(-1)!.reject(new Error('ECONNREFUSED'));
    await flush();
    expect(h.clock.pending()[0]).to.equal(6000); // 8000 × 0.75
  });

  it('a lost connection after Established is reported silent (graceful restart may apply) and retried', async () => {
    const h = harness();
    const conn = await establish(h, peerOpen({}, [[
      { kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'four-octet-as', asn: 65000 },
      { kind: 'graceful-restart', restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
    ]]));
    conn.closeFromPeer();
    expect(h.downs).to.have.length(1);
    expect(h.downs[0].silent).to.equal(true);
    expect(h.downs[0].peerGracefulRestart?.restartTime).to.equal(120);
    h.clock.advance(2000);
    await flush();
    expect(h.dialer.attempts).to.have.length(2);
  });

  it('graceful restart capability is advertised only when configured', async () => {
    const plain = harness();
    const c1 = await connect(plain);
    const o1 = c1.received()[0] as Extract<BgpMessage, { type: 'open' }>;
    expect(o1.capabilityParams.flat().map((c) => c.kind)).not.to.include('graceful-restart');
    const gr = harness({ local: { asn: 65001, routerId: '10.0.0.1', holdTime: 90, families: [IPV4_UNICAST], gracefulRestart: { restartTime: 60, restarting: true } } });
    const c2 = await connect(gr);
    const o2 = c2.received()[0] as Extract<BgpMessage, { type: 'open' }>;
    const cap = o2.capabilityParams.flat().find((c) => c.kind === 'graceful-restart');
    expect(cap).to.deep.include({ kind: 'graceful-restart', restartTime: 60, restarting: true });
  });

  describe('collision detection (RFC 4271 §6.8)', () => {
    async function collide(localId: string, remoteId: string): Promise<{ h: Harness; out: FakeConn; inc: FakeConn }> {
      const h = harness({ local: { asn: 65001, routerId: localId, holdTime: 90, families: [IPV4_UNICAST] } });
      const out = await connect(h, new FakeConn('10.0.0.2', 179));
      const inc = new FakeConn('10.0.0.2', 40000);
      h.session.accept(inc);
      out.received();
      inc.received();
      out.send(peerOpen({ bgpId: remoteId }));
      inc.send(peerOpen({ bgpId: remoteId }));
      return { h, out, inc };
    }

    it('lower local identifier: our outgoing connection is closed with Cease 6/7, the incoming one survives', async () => {
      const { h, out, inc } = await collide('10.0.0.1', '10.0.0.2');
      expect(notifications(out.received())).to.deep.equal(['6/7']);
      expect(inc.received().map((m) => m.type)).to.deep.equal(['keepalive']);
      inc.send({ type: 'keepalive' });
      expect(h.session.currentState).to.equal('Established');
    });

    it('higher local identifier: the incoming connection is closed, the outgoing one survives', async () => {
      const { h, out, inc } = await collide('10.0.0.9', '10.0.0.2');
      expect(out.received().map((m) => m.type)).to.deep.equal(['keepalive']);
      expect(notifications(inc.received())).to.deep.equal(['6/7']);
      out.send({ type: 'keepalive' });
      expect(h.session.currentState).to.equal('Established');
    });

    it('a graceful-restart peer reconnecting while Established replaces the old session (its routes go stale, not away)', async () => {
      const h = harness();
      const old = await establish(h, peerOpen({}, [[
        { kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'four-octet-as', asn: 65000 },
        { kind: 'graceful-restart', restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
      ]]));
      const fresh = new FakeConn('10.0.0.2', 40002);
      h.session.accept(fresh);
      expect(old.destroyed).to.equal(true);
      expect(h.downs).to.have.length(1);
      expect(h.downs[0]).to.deep.include({ silent: true });
      expect(fresh.received().map((m) => m.type)).to.deep.equal(['open']);
      fresh.send(peerOpen());
      fresh.send({ type: 'keepalive' });
      expect(h.session.currentState).to.equal('Established');
    });

    it('a connection arriving while Established is closed with 6/7', async () => {
      const h = harness();
      await establish(h);
      const late = new FakeConn('10.0.0.2', 40001);
      h.session.accept(late);
      expect(notifications(late.received())).to.deep.equal(['6/7']);
      expect(h.session.currentState).to.equal('Established');
    });
  });

  describe('path checks (issue 19)', () => {
    it('an AS_PATH with confederation segments is treat-as-withdraw (RFC 5065 §5), the session stays up', async () => {
      const h = harness();
      const conn = await establish(h);
      conn.received();
      for (const type of ['confed-sequence', 'confed-set'] as const) {
        conn.send({ type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type, asns: [65010] }, { type: 'sequence', asns: [65000] }], nextHop: '10.0.0.2' }, nlri: [parsePrefix('10.9.0.0/16')!] });
        expect(h.updates.at(-1)).to.deep.equal({ announced: [], withdrawn: [parsePrefix('10.9.0.0/16')] });
      }
      expect(notifications(conn.received())).to.deep.equal([]);
      expect(h.session.currentState).to.equal('Established');
    });

    it('a 4-octet-AS capability of the wrong length gets 2/0', async () => {
      const h = harness();
      const conn = await connect(h);
      conn.received();
      conn.send(peerOpen({}, [[{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'unknown', code: 65, value: Buffer.from([0xfd, 0xe8]) }]]));
      expect(notifications(conn.received())).to.deep.equal(['2/0']);
      expect(h.session.currentState).to.not.equal('Established');
    });
  });

  describe('connection limits (issue 19: connection flood)', () => {
    it('holds one incoming connection waiting for its OPEN: a newer one replaces it (Cease 6/5), the outgoing one stays', async () => {
      const h = harness();
      const out = await connect(h, new FakeConn('10.0.0.2', 179));
      const incoming: FakeConn[] = [];
      for (let i = 0; i < 50; i++) {
        const c = new FakeConn('10.0.0.2', 40000 + i);
        incoming.push(c);
        h.session.accept(c);
      }
      const open = [out, ...incoming].filter((c) => !c.ended && !c.destroyed);
      expect(open).to.deep.equal([out, incoming[49]]);
      expect(notifications(incoming[0]!.received())).to.deep.equal(['6/5']);
      // The survivor still completes a session.
      incoming[49]!.send(peerOpen());
      incoming[49]!.send({ type: 'keepalive' });
      expect(h.session.currentState).to.equal('Established');
    });

    it('a connection that never sends its OPEN is dropped after 30 s (hold timer 4/0), not 240 s', async () => {
      const h = harness({ passive: true });
      h.session.start();
      const c = new FakeConn('10.0.0.2', 40000);
      h.session.accept(c);
      h.clock.advance(29_000);
      expect(c.ended).to.equal(false);
      h.clock.advance(1_001);
      expect(notifications(c.received())).to.deep.equal(['4/0']);
      expect(c.ended).to.equal(true);
    });

    it('shutdownFor: the NOTIFICATION goes out, no dial and no incoming connection until the idle time passed', async () => {
      const h = harness();
      const conn = await establish(h);
      conn.received();
      h.session.shutdownFor({ type: 'notification', code: 6, subcode: 1, data: Buffer.from('00010100000005', 'hex') }, 'max-prefix', 60_000);
      expect(notifications(conn.received())).to.deep.equal(['6/1']);
      const dials = h.dialer.attempts.length;
      h.clock.advance(59_000);
      await flush();
      expect(h.dialer.attempts.length).to.equal(dials);
      const inc = new FakeConn('10.0.0.2', 40000);
      h.session.accept(inc);
      expect(notifications(inc.received())).to.deep.equal(['6/5']);
      h.clock.advance(1_100);
      await flush();
      expect(h.dialer.attempts.length).to.equal(dials + 1);
    });
  });

  describe('set(): advertise the difference, withdraw the rest', () => {
    it('announces new paths, re-announces changed ones, withdraws dropped ones, and sends nothing for no change', async () => {
      const h = harness();
      const conn = await establish(h);
      conn.received();
      h.session.set([v4('10.244.1.0/24'), v4('10.244.2.0/24')]);
      const first = conn.received() as UpdateMessage[];
      expect(first).to.have.length(1);
      expect(first[0].nlri.map((p) => `${p.addr}/${p.len}`)).to.deep.equal(['10.244.1.0/24', '10.244.2.0/24']);
      h.session.set([v4('10.244.1.0/24'), v4('10.244.2.0/24')]);
      expect(conn.received()).to.deep.equal([]);
      h.session.set([{ ...v4('10.244.1.0/24'), attrs: { origin: 2, asPath: [{ type: 'sequence', asns: [65001] }] } }]);
      const second = conn.received() as UpdateMessage[];
      expect(second.map((u) => ({ w: u.withdrawn.map((p) => p.addr), n: u.nlri.map((p) => p.addr) }))).to.deep.equal([
        { w: ['10.244.2.0'], n: [] },
        { w: [], n: ['10.244.1.0'] },
      ]);
      expect(h.session.snapshot().prefixesSent).to.equal(1);
    });

    it('paths set before Established are sent once Established, before End-of-RIB; IPv6 goes in MP_REACH', async () => {
      const h = harness();
      h.session.set([v4('10.244.1.0/24'), { prefix: parsePrefix('2001:db8:1::/64')!, nextHop: '2001:db8::1', nextHopLinkLocal: 'fe80::1', attrs: { origin: 0, asPath: [] } }]);
      const conn = await establish(h);
      const msgs = conn.received().filter((m) => m.type === 'update') as UpdateMessage[];
      expect(msgs).to.have.length(4);
      expect(msgs[0].nlri[0].addr).to.equal('10.244.1.0');
      expect(msgs[1].attributes.mpReach?.nextHop).to.deep.equal({ global: '2001:db8::1', linkLocal: 'fe80::1' });
      expect(msgs[1].attributes.mpReach?.nlri[0].addr).to.equal('2001:db8:1::');
    });

    it('many prefixes are packed into UPDATEs of at most 4096 octets', async () => {
      const h = harness();
      const conn = await establish(h);
      conn.received();
      const paths: Path[] = [];
      for (let i = 0; i < 3000; i++) paths.push(v4(`10.${i >> 8}.${i & 255}.0/24`));
      h.session.set(paths);
      expect(conn.written.slice(-10).every((b) => b.length <= 4096)).to.equal(true);
      const ups = conn.received() as UpdateMessage[];
      expect(ups.reduce((n, u) => n + u.nlri.length, 0)).to.equal(3000);
      expect(ups.length).to.be.greaterThan(3);
    });
  });
});
