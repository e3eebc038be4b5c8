/**
 * Round trips of every message type and attribute, and byte tables worked out
 * by hand from RFC 4271/4760/6793/1997/2918 layouts (the comment on each row
 * spells the fields out), so encoder and decoder are checked against the
 * RFCs rather than only against each other.
 */
import { expect } from 'chai';
import {
  BgpDecodeError,
  decodeMessage,
  encodeMessage,
  endOfRib,
  type BgpMessage,
  type CodecContext,
} from '../../agent/src/bgp/codec';
import { bytesToIpv6, ipv6ToBytes } from '../../agent/src/bgp/codec/ip';
import { sampleMessages } from '../support/bgp-codec-samples';

const MARKER = 'ff'.repeat(16);
const FOUR: CodecContext = { fourOctetAs: true };
const TWO: CodecContext = { fourOctetAs: false };

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function decodeOk(buf: Buffer, ctx: CodecContext): BgpMessage {
  const m = decodeMessage(buf, ctx);
  if (m instanceof BgpDecodeError) throw m;
  return m;
}

describe('bgp codec: round trips', () => {
  for (const s of sampleMessages()) {
    for (const ctx of [FOUR, TWO]) {
      it(`${s.name} (${ctx.fourOctetAs ? '4' : '2'}-octet AS)`, () => {
        const bytes = encodeMessage(s.msg, ctx);
        const back = decodeOk(bytes, ctx);
        if (s.msg.type === 'update' && back.type === 'update') {
          // Unknown transitive attributes come back with Partial set (RFC 4271 §5); nothing else changes.
          const unknown = s.msg.attributes.unknown?.map((u) => ({ ...u, flags: u.flags | 0x20 }));
          expect(back).to.deep.equal({ ...s.msg, attributes: { ...s.msg.attributes, ...(unknown ? { unknown } : {}) } });
        } else {
          expect(back).to.deep.equal(s.msg);
        }
        expect(encodeMessage(back, ctx).equals(bytes)).to.equal(true);
      });
    }
  }
});

interface ByteCase {
  name: string;
  ctx: CodecContext;
  msg: BgpMessage;
  bytes: string;
}

const byteCases: ByteCase[] = [
  { name: 'KEEPALIVE: a bare header of length 19, type 4', ctx: FOUR, msg: { type: 'keepalive' }, bytes: `${MARKER} 0013 04` },
  {
    name: 'OPEN AS 65001 hold 90 id 10.0.0.1, capabilities MP IPv4/unicast, route refresh, 4-octet AS 65001',
    ctx: FOUR,
    msg: {
      type: 'open',
      version: 4,
      asn: 65001,
      holdTime: 90,
      bgpId: '10.0.0.1',
      capabilityParams: [[{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'route-refresh' }, { kind: 'four-octet-as', asn: 65001 }]],
    },
    // len 45 | type 1 | v4 | AS fde9 | hold 005a | id 0a000001 | optlen 16 | param 2 len 14 | cap 1 len 4 afi 1 rsv safi 1 | cap 2 len 0 | cap 65 len 4 AS
    bytes: `${MARKER} 002d 01 04 fde9 005a 0a000001 10 02 0e 01 04 0001 00 01 02 00 41 04 0000fde9`,
  },
  {
    name: 'OPEN AS 4200000001: My AS is AS_TRANS (23456 = 5ba0), graceful restart R bit, 120 s, IPv4 forwarding kept',
    ctx: FOUR,
    msg: {
      type: 'open',
      version: 4,
      asn: 4200000001,
      holdTime: 180,
      bgpId: '192.0.2.1',
      capabilityParams: [
        [
          { kind: 'four-octet-as', asn: 4200000001 },
          { kind: 'graceful-restart', restarting: true, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
        ],
      ],
    },
    // GR value: flags+time 8078 | afi 0001 safi 01 flags 80
    bytes: `${MARKER} 002d 01 04 5ba0 00b4 c0000201 10 02 0e 41 04 fa56ea01 40 06 8078 0001 01 80`,
  },
  {
    name: 'UPDATE 4-octet: ORIGIN IGP, AS_PATH seq 65001 65002, NEXT_HOP 10.0.0.1, NLRI 10.1.0.0/24',
    ctx: FOUR,
    msg: {
      type: 'update',
      withdrawn: [],
      attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65001, 65002] }], nextHop: '10.0.0.1' },
      nlri: [{ afi: 4, addr: '10.1.0.0', len: 24 }],
    },
    // len 51 | wlen 0 | alen 24 | 40 01 01 00 | 40 02 0a (02 02 0000fde9 0000fdea) | 40 03 04 0a000001 | 18 0a0100
    bytes: `${MARKER} 0033 02 0000 0018 400101 00 40020a 0202 0000fde9 0000fdea 400304 0a000001 18 0a0100`,
  },
  {
    name: 'the same UPDATE to a 2-octet peer: AS numbers of 2 octets, no AS4_PATH needed',
    ctx: TWO,
    msg: {
      type: 'update',
      withdrawn: [],
      attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65001, 65002] }], nextHop: '10.0.0.1' },
      nlri: [{ afi: 4, addr: '10.1.0.0', len: 24 }],
    },
    bytes: `${MARKER} 002f 02 0000 0014 400101 00 400206 0202 fde9 fdea 400304 0a000001 18 0a0100`,
  },
  {
    name: 'UPDATE to a 2-octet peer with AS 4200000001 in the path: AS_TRANS in AS_PATH, the truth in AS4_PATH (type 17)',
    ctx: TWO,
    msg: {
      type: 'update',
      withdrawn: [],
      attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [4200000001, 65002] }], nextHop: '10.0.0.1' },
      nlri: [{ afi: 4, addr: '10.1.0.0', len: 24 }],
    },
    bytes: `${MARKER} 003c 02 0000 0021 400101 00 400206 0202 5ba0 fdea 400304 0a000001 c0110a 0202 fa56ea01 0000fdea 18 0a0100`,
  },
  {
    name: 'UPDATE withdrawing 10.0.0.0/8 and 192.168.1.0/24, no attributes',
    ctx: FOUR,
    msg: {
      type: 'update',
      withdrawn: [
        { afi: 4, addr: '10.0.0.0', len: 8 },
        { afi: 4, addr: '192.168.1.0', len: 24 },
      ],
      attributes: {},
      nlri: [],
    },
    bytes: `${MARKER} 001d 02 0006 08 0a 18 c0a801 0000`,
  },
  {
    name: 'UPDATE with MED 50, LOCAL_PREF 100, ATOMIC_AGGREGATE, AGGREGATOR 65001/10.0.0.9, COMMUNITIES 65001:100 NO_EXPORT',
    ctx: FOUR,
    msg: {
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [],
        nextHop: '10.0.0.1',
        med: 50,
        localPref: 100,
        atomicAggregate: true,
        aggregator: { asn: 65001, address: '10.0.0.9' },
        communities: [0xfde90064, 0xffffff01],
      },
      nlri: [{ afi: 4, addr: '10.1.2.3', len: 32 }],
    },
    // 400101 00 | 400200 | 400304 .. | 800404 00000032 | 400504 00000064 | 400600 | c00708 0000fde9 0a000009 | c00808 fde90064 ffffff01
    bytes: `${MARKER} 0051 02 0000 0035 40010100 400200 4003040a000001 80040400000032 40050400000064 400600 c007080000fde90a000009 c00808fde90064ffffff01 20 0a010203`,
  },
  {
    name: 'UPDATE with IPv6 MP_REACH: next hop 2001:db8::1 (16 octets), NLRI 2001:db8::/32; extended length as BIRD writes it',
    ctx: FOUR,
    msg: {
      type: 'update',
      withdrawn: [],
      attributes: { mpReach: { afi: 2, safi: 1, nextHop: { global: '2001:db8::1' }, nlri: [{ afi: 6, addr: '2001:db8::', len: 32 }] }, origin: 0, asPath: [] },
      nlri: [],
    },
    // 900e 001a | afi 0002 safi 01 nhlen 10 | nh | reserved 00 | 20 20010db8
    bytes: `${MARKER} 003c 02 0000 0025 900e001a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8 40010100 400200`,
  },
  {
    name: 'End-of-RIB for IPv6 unicast: MP_UNREACH with AFI 2 SAFI 1 and nothing else',
    ctx: FOUR,
    msg: endOfRib({ afi: 2, safi: 1 }),
    bytes: `${MARKER} 001d 02 0000 0006 800f03 0002 01`,
  },
  { name: 'End-of-RIB for IPv4 unicast: an empty UPDATE', ctx: FOUR, msg: endOfRib({ afi: 1, safi: 1 }), bytes: `${MARKER} 0017 02 0000 0000` },
  {
    name: 'NOTIFICATION 2/1 Unsupported Version with the supported version as data',
    ctx: FOUR,
    msg: { type: 'notification', code: 2, subcode: 1, data: hex('0004') },
    bytes: `${MARKER} 0017 03 02 01 0004`,
  },
  { name: 'ROUTE-REFRESH IPv6 unicast', ctx: FOUR, msg: { type: 'route-refresh', afi: 2, safi: 1, subtype: 0 }, bytes: `${MARKER} 0017 05 0002 00 01` },
  {
    name: 'UPDATE as a route reflector sends it (RFC 4456): ORIGINATOR_ID 10.0.0.5, CLUSTER_LIST 10.0.0.9 10.0.0.8 (optional non-transitive)',
    ctx: FOUR,
    msg: {
      type: 'update',
      withdrawn: [],
      attributes: { origin: 0, asPath: [], nextHop: '10.0.0.1', originatorId: '10.0.0.5', clusterList: ['10.0.0.9', '10.0.0.8'] },
      nlri: [{ afi: 4, addr: '10.1.2.0', len: 24 }],
    },
    // 40010100 | 400200 | 4003040a000001 | 8009040a000005 | 800a080a0000090a000008 | 18 0a0102
    bytes: `${MARKER} 003b 02 0000 0020 40010100 400200 4003040a000001 8009040a000005 800a080a0000090a000008 18 0a0102`,
  },
  {
    name: 'unknown optional transitive attribute 99: re-advertised with the Partial bit (c0 → e0)',
    ctx: FOUR,
    msg: { type: 'update', withdrawn: [], attributes: { unknown: [{ flags: 0xc0, type: 99, value: hex('abcd') }] }, nlri: [] },
    bytes: `${MARKER} 001c 02 0000 0005 e06302abcd`,
  },
];

describe('bgp codec: hand-checked byte tables', () => {
  for (const tc of byteCases) {
    it(tc.name, () => {
      const expected = hex(tc.bytes);
      expect(expected.readUInt16BE(16), 'the table row\'s own length field').to.equal(expected.length);
      expect(encodeMessage(tc.msg, tc.ctx).toString('hex')).to.equal(expected.toString('hex'));
      const back = decodeOk(expected, tc.ctx);
      expect(back.type).to.equal(tc.msg.type);
      expect(encodeMessage(back, tc.ctx).toString('hex')).to.equal(expected.toString('hex'));
    });
  }

  it('decodes the AS4_PATH row back to the real path', () => {
    const row = byteCases.find((c) => c.name.includes('AS4_PATH (type 17)'));
    const back = decodeOk(hex(row?.bytes ?? ''), TWO);
    expect(back.type === 'update' && back.attributes.asPath).to.deep.equal([{ type: 'sequence', asns: [4200000001, 65002] }]);
  });

  it('decodes a received unknown optional transitive attribute with its flags, and drops an optional non-transitive one', () => {
    const m = decodeOk(hex(`${MARKER} 0021 02 0000 000a c06302abcd 806402abcd`), FOUR);
    expect(m.type === 'update' && m.attributes.unknown).to.deep.equal([{ flags: 0xc0, type: 99, value: hex('abcd') }]);
  });

  it('clears bits past the prefix length inside its last octet (10.1.255.0/17 → 10.1.128.0/17)', () => {
    const odd = decodeOk(hex(`${MARKER} 0029 02 0000 000e 40010100 400200 4003040a000001 11 0a01ff`), FOUR);
    expect(odd.type === 'update' && odd.nlri).to.deep.equal([{ afi: 4, addr: '10.1.128.0', len: 17 }]);
  });
});

describe('bgp codec: IPv6 text', () => {
  const cases: Array<[string, string]> = [
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['2001:db8:0:1:0:0:0:0', '2001:db8:0:1::'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ];
  for (const [input, canonical] of cases) {
    it(`${input} → ${canonical}`, () => {
      const b = ipv6ToBytes(input);
      expect(b, input).not.to.equal(undefined);
      expect(bytesToIpv6(b as Buffer)).to.equal(canonical);
    });
  }
  for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::', ':1', '1:2:3:4:5:6:7', '::1.2.3']) {
    it(`rejects ${bad}`, () => expect(ipv6ToBytes(bad)).to.equal(undefined));
  }
});
