/**
 * A live knit BGP session over real TCP (loopback only): the speaker listens
 * on 127.0.0.1 with one passive peer (127.0.0.1, AS 65000), and this test
 * plays that peer with knit's codec.
 *
 * - Refusals as the RFCs say: wrong AS → 2/2, hold time 1 or 2 → 2/6, no
 *   common address family → 2/7, and no session in each case; hold time 0 is
 *   accepted; a peer that sends our own routes back (our AS in AS_PATH) has
 *   them ignored.
 * - Fuzz: at least 10 000 random and mutated messages sent into Established
 *   sessions. After each one a ROUTE-REFRESH probe is sent; the codec, run on
 *   the same bytes, says what the session must do (answer the probe, send a
 *   given NOTIFICATION, or close after the peer's NOTIFICATION). The session
 *   must do exactly that, the process must survive, and a clean reconnect
 *   must reach Established at the end.
 */
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import {
  BgpDecodeError, decodeMessage, encodeMessage, MessageSplitter,
  type BgpMessage, type DecodeContext, type OpenMessage,
} from '../../agent/src/bgp/codec';
import { parsePrefix } from '../../agent/src/bgp/path';
import { Speaker } from '../../agent/src/bgp/speaker';
import { silentLogger } from '../../agent/src/log/logger';
import { freePort } from '../lab/etcd';
import { sampleMessages } from '../support/bgp-codec-samples';
import { bgpMutator } from '../support/bgp-fuzz';
import { prng } from '../support/prng';

const PEER_ASN = 65000;
const LOCAL_ASN = 65001;
const ITERATIONS = 10_000;
const SEED = Number(process.env.BGP_FUZZ_SEED ?? Date.now() % 1_000_000_007);

function peerOpen(over: Partial<OpenMessage> = {}): OpenMessage {
  return {
    type: 'open', version: 4, asn: PEER_ASN, holdTime: 90, bgpId: '127.0.0.2',
    capabilityParams: [[{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'multiprotocol', afi: 2, safi: 1 }, { kind: 'four-octet-as', asn: PEER_ASN }, { kind: 'route-refresh' }]],
    ...over,
  };
}

/** The test side of one TCP connection: decoded messages in order, and whether it closed. */
class Peer {
  readonly got: (BgpMessage | BgpDecodeError)[] = [];
  closed = false;
  private readonly splitter = new MessageSplitter();
  private wake: (() => void) | undefined;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (chunk: Buffer) => {
      for (const item of this.splitter.push(chunk)) this.got.push(item instanceof BgpDecodeError ? item : decodeMessage(item, { fourOctetAs: true }));
      this.wake?.();
    });
    sock.on('close', () => { this.closed = true; this.wake?.(); });
    sock.on('error', () => undefined);
  }

  static open(port: number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new Peer(s)));
      s.once('error', reject);
    });
  }

  send(buf: Buffer): void {
    this.sock.write(buf);
  }

  /** Waits until `pred` holds over what arrived; false on timeout. */
  async until(pred: () => boolean, ms = 3000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
    }
    return true;
  }

  notification(): string | undefined {
    const n = this.got.find((m) => !(m instanceof BgpDecodeError) && m.type === 'notification');
    return n && !(n instanceof BgpDecodeError) && n.type === 'notification' ? `${n.code}/${n.subcode}` : undefined;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

describe('bgp live session (loopback TCP)', function () {
  this.timeout(240_000);
  let speaker: Speaker;
  let port: number;

  before(async () => {
    port = await freePort('127.0.0.1');
    speaker = new Speaker({ localAsn: LOCAL_ASN, routerId: '127.0.0.1', listen: { address: '127.0.0.1', port }, logger: silentLogger(), batchMs: 1 });
    speaker.setLocal([{ prefix: parsePrefix('10.244.1.0/24')!, nextHop: '', attrs: { origin: 0, asPath: [] } }]);
    speaker.setPeers([{ address: '127.0.0.1', asn: PEER_ASN, passive: true }]);
    await speaker.start();
  });

  after(async () => {
    await speaker?.stop();
  });

  /** Connects and completes the handshake; resolves once our UPDATE from the speaker arrived (Established). */
  async function established(open: OpenMessage = peerOpen()): Promise<Peer> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const p = await Peer.open(port);
      p.send(encodeMessage(open, { fourOctetAs: true }));
      p.send(encodeMessage({ type: 'keepalive' }, { fourOctetAs: true }));
      if (await p.until(() => p.closed || p.got.some((m) => !(m instanceof BgpDecodeError) && m.type === 'update'))) {
        if (!p.closed) {
          p.got.length = 0;
          return p;
        }
      }
      p.destroy();
      // The previous connection may still be closing on the speaker side (a collision with it is refused).
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no clean session after 50 attempts');
  }

  const refusals: { name: string; open: OpenMessage; code: string }[] = [
    { name: 'wrong peer AS', open: peerOpen({ asn: 65099, capabilityParams: [[{ kind: 'four-octet-as', asn: 65099 }]] }), code: '2/2' },
    { name: 'hold time 1', open: peerOpen({ holdTime: 1 }), code: '2/6' },
    { name: 'hold time 2', open: peerOpen({ holdTime: 2 }), code: '2/6' },
    { name: 'only IPv4 multicast (no common family)', open: peerOpen({ capabilityParams: [[{ kind: 'multiprotocol', afi: 1, safi: 2 }, { kind: 'four-octet-as', asn: PEER_ASN }]] }), code: '2/7' },
  ];
  for (const tc of refusals) {
    it(`refuses an OPEN with ${tc.name}: NOTIFICATION ${tc.code}, connection closed, no session`, async () => {
      const p = await Peer.open(port);
      p.send(encodeMessage(tc.open, { fourOctetAs: true }));
      expect(await p.until(() => p.closed)).to.equal(true);
      expect(p.notification()).to.equal(tc.code);
      expect(speaker.sessions()[0]!.state).not.to.equal('Established');
      expect(speaker.sessions()[0]!.lastError).to.include(tc.code);
    });
  }

  it('hold time 0 is accepted (no keepalives on either side)', async () => {
    const p = await established(peerOpen({ holdTime: 0 }));
    expect(speaker.sessions()[0]!.state).to.equal('Established');
    p.destroy();
  });

  it('a peer that sends our own routes back (our AS in AS_PATH) has them ignored; other routes are learned', async () => {
    const p = await established();
    const ctx = { fourOctetAs: true };
    p.send(encodeMessage({ type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [PEER_ASN, LOCAL_ASN] }], nextHop: '127.0.0.2' }, nlri: [parsePrefix('10.244.1.0/24')!, parsePrefix('10.50.0.0/16')!] }, ctx));
    p.send(encodeMessage({ type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [PEER_ASN] }], nextHop: '127.0.0.2' }, nlri: [parsePrefix('10.60.0.0/16')!] }, ctx));
    p.send(encodeMessage({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 }, ctx));
    expect(await p.until(() => p.got.some((m) => !(m instanceof BgpDecodeError) && m.type === 'update'))).to.equal(true);
    expect(speaker.routes().map((r) => r.prefix)).to.deep.equal(['10.60.0.0/16']);
    p.destroy();
  });

  it(`survives ${ITERATIONS} random and mutated messages, answering each as the codec says, then accepts a clean session (seed ${SEED})`, async () => {
    const rnd = prng(SEED);
    const corpus = sampleMessages().map((s) => encodeMessage(s.msg, { fourOctetAs: true }));
    const probe = encodeMessage({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 }, { fourOctetAs: true });
    const filler = Buffer.alloc(4200, 0xff); // becomes a header of length 65535: 1/2, ends any half-message
    const ctx: DecodeContext = { fourOctetAs: true, expectedPeerAs: PEER_ASN, localBgpId: '127.0.0.1', localAs: LOCAL_ASN };

    const mutate = bgpMutator(rnd, corpus);

    /** What the session must do with `bytes` followed by the probe (and the filler when the stream is left mid-message). */
    const oracle = (msg: Buffer): { expect: 'probe' | 'closed' | string; filler: boolean } => {
      const s = new MessageSplitter();
      let answered = false;
      for (const [part, usesFiller] of [[Buffer.concat([msg, probe]), false], [filler, true]] as const) {
        for (const item of s.push(part)) {
          if (item instanceof BgpDecodeError) return { expect: `${item.code}/${item.subcode}`, filler: usesFiller };
          const m = decodeMessage(item, ctx);
          if (m instanceof BgpDecodeError) {
            if (m.action === 'session-reset') return { expect: `${m.code}/${m.subcode}`, filler: usesFiller };
            continue;
          }
          if (m.type === 'open') return { expect: '5/3', filler: usesFiller };
          if (m.type === 'notification') return { expect: 'closed', filler: usesFiller };
          if (m.type === 'route-refresh') answered = true;
        }
        // The whole stream was read: the probe (or an earlier ROUTE-REFRESH) was answered and nothing ended the session.
        if (!usesFiller && s.buffered === 0 && answered) return { expect: 'probe', filler: false };
      }
      throw new Error('oracle: the filler always ends the stream');
    };

    const tally = { probe: 0, notification: 0, closed: 0, reconnects: 0 };
    let p = await established();
    for (let i = 0; i < ITERATIONS; i++) {
      const msg = mutate();
      const want = oracle(msg);
      p.send(Buffer.concat([msg, probe, ...(want.filler ? [filler] : [])]));
      const where = `seed ${SEED} iteration ${i} (${msg.toString('hex')}), want ${want.expect}`;
      if (want.expect === 'probe') {
        const ok = await p.until(() => p.closed || p.got.some((m) => !(m instanceof BgpDecodeError) && m.type === 'update'));
        expect(ok && !p.closed, `${where}: session closed or silent; got ${p.notification() ?? 'nothing'}`).to.equal(true);
        expect(p.notification(), where).to.equal(undefined);
        p.got.length = 0;
        tally.probe++;
        continue;
      }
      expect(await p.until(() => p.closed), `${where}: not closed`).to.equal(true);
      if (want.expect === 'closed') {
        expect(p.notification(), where).to.equal(undefined);
        tally.closed++;
      } else {
        expect(p.notification(), where).to.equal(want.expect);
        tally.notification++;
      }
      p.destroy();
      p = await established();
      tally.reconnects++;
    }
    console.log(`      (${JSON.stringify(tally)})`);
    expect(tally.probe + tally.notification + tally.closed).to.equal(ITERATIONS);
    expect(tally.notification).to.be.greaterThan(100);
    expect(tally.probe).to.be.greaterThan(100);
    // A clean session at the end, and the speaker still reports it.
    p.destroy();
    const last = await established();
    expect(speaker.sessions()[0]!.state).to.equal('Established');
    last.destroy();
  });
});
