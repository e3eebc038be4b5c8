/**
 * The codec against a real BIRD 2, both directions: BIRD runs in one lab
 * namespace, and in another this file (started by node with --bgp-peer, not
 * by mocha) plays the peer using only knit's codec. BIRD must establish the
 * sessions and install what knit encoded (IPv4 with MED and communities, an
 * unknown transitive attribute, IPv6 in MP_REACH with global + link-local
 * next hop, an AS4_PATH towards a 2-octet session); an UPDATE with a bad
 * ORIGIN must be treated as withdraw without dropping the session; and every
 * message BIRD sends must decode without error.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  BgpDecodeError,
  decodeMessage,
  encodeMessage,
  endOfRib,
  MessageSplitter,
  type BgpMessage,
  type CodecContext,
} from '../../agent/src/bgp/codec';
import { addNetns, delNetns, nsIpJson, nsRun, uniqueName } from '../lab/netns';
import { spawnTracked, type LabProcess } from '../lab/procs';
import { makeTempDir, removeTempDir } from '../lab/run-dir';
import { waitFor as pollFor } from '../support/wait';

const BIRD_V4 = '10.99.1.1';
const PEER_V4 = '10.99.1.2';
const BIRD_V6 = '2001:db8:98::1';
const PEER_V6 = '2001:db8:98::2';
const PORT_FOUR = 17911;
const PORT_TWO = 17912;

/** Peer side: one listener per session; prints one line per event for the test to read. */
function runPeer(linkLocal: string): void {
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const serve = (port: number, name: string, ctx: CodecContext, open: BgpMessage, updates: BgpMessage[]): void => {
    createServer((sock: Socket) => {
      const splitter = new MessageSplitter();
      let sent = false;
      sock.write(encodeMessage(open, ctx));
      sock.write(encodeMessage({ type: 'keepalive' }, ctx));
      const timer = setInterval(() => sock.write(encodeMessage({ type: 'keepalive' }, ctx)), 1000);
      sock.on('data', (chunk: Buffer) => {
        for (const item of splitter.push(chunk)) {
          const m = item instanceof BgpDecodeError ? item : decodeMessage(item, ctx);
          if (m instanceof BgpDecodeError) {
            say(`${name} DECODE-ERROR ${m.message}`);
            continue;
          }
          say(`${name} RECV ${m.type}`);
          // BIRD's KEEPALIVE after the OPENs: the session is up, send the routes.
          if (m.type === 'keepalive' && !sent) {
            sent = true;
            for (const u of updates) sock.write(encodeMessage(u, ctx));
            say(`${name} SENT ${updates.length}`);
          }
        }
      });
      sock.on('error', () => undefined);
      sock.on('close', () => clearInterval(timer));
    }).listen(port, '::');
  };

  const four: CodecContext = { fourOctetAs: true };
  serve(
    PORT_FOUR,
    'four',
    four,
    {
      type: 'open',
      version: 4,
      asn: 4200000002,
      holdTime: 90,
      bgpId: PEER_V4,
      capabilityParams: [
        [
          { kind: 'multiprotocol', afi: 1, safi: 1 },
          { kind: 'multiprotocol', afi: 2, safi: 1 },
          { kind: 'four-octet-as', asn: 4200000002 },
          { kind: 'route-refresh' },
        ],
      ],
    },
    [
      {
        type: 'update',
        withdrawn: [],
        attributes: {
          origin: 0,
          asPath: [{ type: 'sequence', asns: [4200000002, 64999] }],
          nextHop: PEER_V4,
          med: 42,
          communities: [(65002 * 65536 + 7) >>> 0],
          unknown: [{ flags: 0xc0, type: 250, value: Buffer.from('6b6e6974', 'hex') }],
        },
        nlri: [{ afi: 4, addr: '10.77.0.0', len: 24 }],
      },
      {
        type: 'update',
        withdrawn: [],
        attributes: {
          origin: 2,
          asPath: [{ type: 'sequence', asns: [4200000002] }],
          mpReach: { afi: 2, safi: 1, nextHop: { global: PEER_V6, linkLocal }, nlri: [{ afi: 6, addr: '2001:db8:77::', len: 48 }] },
        },
        nlri: [],
      },
      // ORIGIN 3 is malformed: RFC 7606 says treat-as-withdraw, not a reset.
      {
        type: 'update',
        withdrawn: [],
        attributes: { origin: 3, asPath: [{ type: 'sequence', asns: [4200000002] }], nextHop: PEER_V4 },
        nlri: [{ afi: 4, addr: '10.78.0.0', len: 24 }],
      },
      endOfRib({ afi: 1, safi: 1 }),
      endOfRib({ afi: 2, safi: 1 }),
    ],
  );
  const two: CodecContext = { fourOctetAs: false };
  serve(
    PORT_TWO,
    'two',
    two,
    { type: 'open', version: 4, asn: 65005, holdTime: 90, bgpId: PEER_V4, capabilityParams: [[{ kind: 'multiprotocol', afi: 1, safi: 1 }]] },
    [
      {
        type: 'update',
        withdrawn: [],
        attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65005, 4200000009] }], nextHop: PEER_V4 },
        nlri: [{ afi: 4, addr: '10.79.0.0', len: 24 }],
      },
      endOfRib({ afi: 1, safi: 1 }),
    ],
  );
  say('LISTENING');
  process.on('SIGTERM', () => process.exit(0));
}

if (require.main === module && process.argv[2] === '--bgp-peer') {
  runPeer(process.argv[3] ?? 'fe80::1');
} else {
  // Loaded by mocha.
  describe('bgp codec against BIRD 2 (integration)', function () {
    this.timeout(90000);
    let nsBird = '';
    let nsPeer = '';
    let dir = '';
    let ctl = '';
    let bird: LabProcess | undefined;
    let peer: LabProcess | undefined;
    let linkLocal = '';

    const birdc = (...args: string[]): string => nsRun(nsBird, 'birdc', ['-s', ctl, ...args]);
    // a probe that throws is "not ready yet" (e.g. the control socket)
    const waitFor = async (what: string, cond: () => boolean, ms: number): Promise<void> => {
      await pollFor(what, cond, ms, () => `\nbird log:\n${bird?.logTail()}\npeer log:\n${peer?.logTail()}`, { intervalMs: 200, tolerateErrors: true });
    };

    before(async () => {
      nsBird = addNetns('gb');
      nsPeer = addNetns('gp');
      const vb = uniqueName('gb');
      const vp = uniqueName('gp');
      nsRun(nsBird, 'ip', ['link', 'add', vb, 'type', 'veth', 'peer', 'name', vp]);
      nsRun(nsBird, 'ip', ['link', 'set', vp, 'netns', nsPeer]);
      for (const [ns, dev, v4, v6] of [
        [nsBird, vb, BIRD_V4, BIRD_V6],
        [nsPeer, vp, PEER_V4, PEER_V6],
      ] as const) {
        nsRun(ns, 'ip', ['addr', 'add', `${v4}/24`, 'dev', dev]);
        nsRun(ns, 'ip', ['addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
        nsRun(ns, 'ip', ['link', 'set', dev, 'up']);
      }
      type AddrJson = Array<{ addr_info: Array<{ family: string; local: string; scope: string }> }>;
      await waitFor('peer link-local address', () => {
        const info = nsIpJson<AddrJson>(nsPeer, ['addr', 'show', 'dev', vp]);
        linkLocal = info[0]?.addr_info.find((a) => a.family === 'inet6' && a.scope === 'link')?.local ?? '';
        return linkLocal !== '';
      }, 10000);

      dir = makeTempDir('bird');
      ctl = join(dir, 'bird.ctl');
      writeFileSync(
        join(dir, 'bird.conf'),
        `router id ${BIRD_V4};
log stderr all;
protocol device { scan time 2; }
protocol bgp four {
  local ${BIRD_V4} as 65001;
  neighbor ${PEER_V4} port ${PORT_FOUR} as 4200000002;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
protocol bgp two {
  local ${BIRD_V4} as 65001;
  neighbor ${PEER_V4} port ${PORT_TWO} as 65005;
  ipv4 { import all; export none; };
}
`,
      );
      peer = spawnTracked(process.execPath, [__filename, '--bgp-peer', linkLocal], { ns: nsPeer, tag: 'bgp-peer' });
      await waitFor('peer listening', () => (peer?.logTail() ?? '').includes('LISTENING'), 10000);
      bird = spawnTracked('bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', ctl], { ns: nsBird, tag: 'bird' });
      await waitFor('both sessions Established and routes sent', () => {
        const log = peer?.logTail(20000) ?? '';
        return /four SENT/.test(log) && /two SENT/.test(log) && (birdc('show', 'protocols').match(/Established/g) ?? []).length === 2;
      }, 30000);
      await waitFor('routes installed', () => birdc('show', 'route', 'count').includes('3 of 3 routes'), 10000);
    });

    after(async () => {
      await bird?.stop();
      await peer?.stop();
      if (nsPeer) delNetns(nsPeer);
      if (nsBird) delNetns(nsBird);
      if (dir) removeTempDir(dir);
    });

    it('BIRD installs the IPv4 route with MED, community and the unknown transitive attribute', () => {
      const out = birdc('show', 'route', '10.77.0.0/24', 'all');
      expect(out).to.match(/10\.77\.0\.0\/24\s+unicast \[four/);
      expect(out).to.include('BGP.as_path: 4200000002 64999');
      expect(out).to.include('BGP.med: 42');
      expect(out).to.include('BGP.community: (65002,7)');
      // BIRD shows an attribute it does not know by its type code in hex, with its flags.
      expect(out).to.match(/BGP\.fa \[[a-z]*t[a-z]*\]: 6b 6e 69 74/);
    });

    it('BIRD installs the IPv6 route with the next hop knit put in MP_REACH_NLRI', () => {
      const out = birdc('show', 'route', '2001:db8:77::/48', 'all');
      expect(out).to.match(/2001:db8:77::\/48\s+unicast \[four/);
      expect(out).to.include(`BGP.next_hop: ${PEER_V6} ${linkLocal}`);
      expect(out).to.include('BGP.origin: Incomplete');
    });

    it('BIRD merges the AS4_PATH knit sent on the 2-octet session', () => {
      const out = birdc('show', 'route', '10.79.0.0/24', 'all');
      expect(out).to.match(/10\.79\.0\.0\/24\s+unicast \[two/);
      expect(out).to.include('BGP.as_path: 65005 4200000009');
    });

    it('a malformed ORIGIN is treat-as-withdraw: no route, session still up', () => {
      const log = bird?.logTail(20000) ?? '';
      expect(log).to.include('four: Malformed ORIGIN attribute');
      expect(log).to.include('four: Invalid route 10.78.0.0/24 withdrawn');
      expect(birdc('show', 'route')).not.to.include('10.78.0.0/24');
      expect(birdc('show', 'protocols', 'four')).to.include('Established');
    });

    it('every message BIRD sent decoded without error', () => {
      const log = peer?.logTail(20000) ?? '';
      expect(log).not.to.include('DECODE-ERROR');
      expect(log).to.match(/four RECV open/);
      expect(log).to.match(/four RECV keepalive/);
      expect(log).to.match(/two RECV open/);
    });
  });
}
