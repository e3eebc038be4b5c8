/**
 * The log rate limiter: `burst` lines per key and interval, the rest
 * counted, one summary line per key at the end of the interval; keys are
 * independent, and the speaker uses it so a peer's flood of refused routes
 * costs a bounded number of lines.
 */
import { expect } from 'chai';
import { LogRateLimiter } from '../../agent/src/log/rate-limiter';
import { parsePrefix } from '../../agent/src/bgp/path';
import { Speaker } from '../../agent/src/bgp/speaker';
import { FakeClock, FakeConn, FakeDialer, flush, peerOpen } from './bgp-fakes';
import { recordingLogger } from '../support/recording-logger';

describe('log rate limiter', () => {
  it('logs `burst` lines per key, counts the rest, and summarises them once per interval', () => {
    const { logger, lines } = recordingLogger();
    const l = new LogRateLimiter(logger, { burst: 3, intervalMs: 60_000 });
    for (let i = 0; i < 1000; i++) l.event('a', 'peer A', 'warn', `a ${i}`);
    for (let i = 0; i < 2; i++) l.event('b', 'peer B', 'info', `b ${i}`);
    expect(lines.map((x) => x.message)).to.deep.equal(['a 0', 'a 1', 'a 2', 'b 0', 'b 1']);
    l.flush();
    expect(lines.slice(5).map((x) => [x.message, x.suppressed])).to.deep.equal([['peer A: 997 more line(s) not logged in the last 60 s', 997]]);
    // A new interval starts with a fresh burst.
    l.event('a', 'peer A', 'warn', 'again');
    expect(lines.at(-1)?.message).to.equal('again');
    l.stop();
  });

  it('a peer announcing 5000 refused routes costs at most the burst plus a summary', async () => {
    const { logger, lines } = recordingLogger();
    const clock = new FakeClock();
    const dialer = new FakeDialer();
    const P = (t: string) => parsePrefix(t)!;
    const s = new Speaker({
      localAsn: 65001, routerId: '10.0.0.1', clock, dial: dialer.dial, logger, batchMs: 10, eventLimit: { burst: 5, intervalMs: 60_000 },
      importContext: { ownSubnets: [P('10.244.1.0/24')], clusterPrefixes: [P('10.244.0.0/16')], interfaces: [{ address: '10.0.0.1', prefix: P('10.0.0.0/24'), onLink: true }], leases: new Map() },
    });
    try {
      s.setPeers([{ address: '10.0.0.2', asn: 65000, import: 'all' }]);
      await flush();
      const conn = new FakeConn('10.0.0.2', 179, '10.0.0.1');
      dialer.attempts[0]!.resolve(conn);
      await flush();
      conn.send(peerOpen({ asn: 65000, bgpId: '10.0.0.2' }));
      conn.send({ type: 'keepalive' });
      const before = lines.length;
      for (let i = 0; i < 5000; i++) {
        conn.send({ type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65000] }], nextHop: '10.0.0.2' }, nlri: [P(`127.${(i >> 8) & 255}.${i & 255}.0/24`)] });
      }
      const rejected = lines.slice(before).filter((x) => x.event === 'rejected');
      expect(rejected).to.have.length(5);
      expect(s.sessions()[0]?.prefixesRejected).to.deep.equal({ 'special-purpose': 5000 });
    } finally {
      await s.stop();
    }
    expect(lines.filter((x) => typeof x.message === 'string' && x.message.startsWith("peer 10.0.0.2 'rejected' events: 4995 more"))).to.have.length(1);
  });
});
