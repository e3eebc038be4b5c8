/**
 * Every error case of RFC 4271 §6 and RFC 7606 the codec handles: the
 * NOTIFICATION code/subcode/data it assigns and the action the session takes.
 */
import { expect } from 'chai';
import {
  BgpDecodeError,
  decodeMessage,
  ErrorCode,
  HeaderErrorSubcode,
  MessageSplitter,
  OpenErrorSubcode,
  RouteRefreshErrorSubcode,
  UpdateErrorSubcode,
  type BgpMessage,
  type DecodeContext,
  type ErrorAction,
  type Prefix,
  type UpdateMessage,
} from '../../agent/src/bgp/codec';

const MARKER = 'ff'.repeat(16);
const FOUR: DecodeContext = { fourOctetAs: true };
const TWO: DecodeContext = { fourOctetAs: false };

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function u16(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** A whole message of `type` around `body` (hex), with a correct length. */
function msg(type: number, body: string): Buffer {
  const b = hex(body);
  return Buffer.concat([hex(`${MARKER}${u16(19 + b.length)}${type.toString(16).padStart(2, '0')}`), b]);
}

/** An UPDATE from hex pieces, lengths computed. */
function update(attrs: string, nlri = '', withdrawn = ''): Buffer {
  const a = hex(attrs);
  const w = hex(withdrawn);
  return msg(2, `${u16(w.length)}${w.toString('hex')}${u16(a.length)}${a.toString('hex')}${hex(nlri).toString('hex')}`);
}

// Well-formed attributes (4-octet AS session).
const ORIGIN = '40010100';
const AS_PATH = '4002060201 0000fde9';
const NEXT_HOP = '4003040a000001';
const BASE = `${ORIGIN}${AS_PATH}${NEXT_HOP}`;
const NLRI = '180a0100'; // 10.1.0.0/24
const P10: Prefix = { afi: 4, addr: '10.1.0.0', len: 24 };

function expectError(result: BgpMessage | BgpDecodeError, code: number, subcode: number, action: ErrorAction, data?: string): BgpDecodeError {
  expect(result, JSON.stringify(result)).to.be.instanceOf(BgpDecodeError);
  const e = result as BgpDecodeError;
  expect({ code: e.code, subcode: e.subcode, action: e.action }, e.message).to.deep.equal({ code, subcode, action });
  if (data !== undefined) expect(e.data.toString('hex')).to.equal(hex(data).toString('hex'));
  return e;
}

function openBody(opts: { version?: number; as?: number; hold?: number; id?: string; params?: string } = {}): string {
  const params = hex(opts.params ?? '');
  return `${(opts.version ?? 4).toString(16).padStart(2, '0')}${u16(opts.as ?? 65001)}${u16(opts.hold ?? 90)}${opts.id ?? '0a000002'}${params.length.toString(16).padStart(2, '0')}${params.toString('hex')}`;
}

describe('bgp codec errors: message header (RFC 4271 §6.1)', () => {
  it('marker not all ones → 1/1 Connection Not Synchronized', () => {
    const b = msg(4, '');
    b[3] = 0;
    expectError(decodeMessage(b, FOUR), ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.CONNECTION_NOT_SYNCHRONIZED, 'session-reset');
  });
  const lengths: Array<[string, string]> = [
    ['length 18', `${MARKER}0012 04`],
    ['length 4097', `${MARKER}1001 02`],
    ['KEEPALIVE of length 20', `${MARKER}0014 04 00`],
    ['OPEN shorter than 29', `${MARKER}001c 01 ${'00'.repeat(9)}`],
    ['UPDATE shorter than 23', `${MARKER}0016 02 000000`],
    ['NOTIFICATION shorter than 21', `${MARKER}0014 03 06`],
  ];
  for (const [name, bytes] of lengths) {
    it(`${name} → 1/2 Bad Message Length with the length as data`, () => {
      const b = hex(bytes);
      expectError(new MessageSplitter().push(b)[0] as BgpDecodeError, 1, 2, 'session-reset', b.subarray(16, 18).toString('hex'));
      // decodeMessage reports the same.
      expectError(decodeMessage(b, FOUR), 1, 2, 'session-reset', b.subarray(16, 18).toString('hex'));
    });
  }
  it('unknown type 7 → 1/3 Bad Message Type with the type as data', () => {
    expectError(decodeMessage(msg(7, ''), FOUR), ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_TYPE, 'session-reset', '07');
  });
  it('a buffer longer than its header says → 1/2', () => {
    expectError(decodeMessage(Buffer.concat([msg(4, ''), hex('00')]), FOUR), 1, 2, 'session-reset', '0013');
  });
  it('ROUTE-REFRESH of the wrong length → 7/1 (RFC 7313)', () => {
    expectError(decodeMessage(msg(5, '0001000100'), FOUR), ErrorCode.ROUTE_REFRESH_MESSAGE, RouteRefreshErrorSubcode.INVALID_MESSAGE_LENGTH, 'session-reset');
  });
});

describe('bgp codec errors: OPEN (RFC 4271 §6.2)', () => {
  it('version 3 → 2/1 with the supported version (4) as data', () => {
    expectError(decodeMessage(msg(1, openBody({ version: 3 })), FOUR), 2, OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER, 'session-reset', '0004');
  });
  it('a peer AS other than the configured one → 2/2 Bad Peer AS', () => {
    expectError(decodeMessage(msg(1, openBody({ as: 65002 })), { ...FOUR, expectedPeerAs: 65003 }), 2, OpenErrorSubcode.BAD_PEER_AS, 'session-reset');
    const ok = decodeMessage(msg(1, openBody({ as: 65002 })), { ...FOUR, expectedPeerAs: 65002 });
    expect(ok).not.to.be.instanceOf(BgpDecodeError);
  });
  it('the 4-octet AS capability decides the peer AS (AS_TRANS in My AS)', () => {
    const open = msg(1, openBody({ as: 23456, params: '0206 4104 fa56ea01' }));
    expect(decodeMessage(open, { ...FOUR, expectedPeerAs: 4200000001 })).to.include({ type: 'open', asn: 4200000001 });
    expectError(decodeMessage(open, { ...FOUR, expectedPeerAs: 23456 }), 2, 2, 'session-reset');
  });
  it('AS 0 → 2/2 (RFC 7607)', () => {
    expectError(decodeMessage(msg(1, openBody({ as: 0 })), FOUR), 2, 2, 'session-reset');
  });
  it('BGP identifier 0.0.0.0 → 2/3 Bad BGP Identifier', () => {
    expectError(decodeMessage(msg(1, openBody({ id: '00000000' })), FOUR), 2, OpenErrorSubcode.BAD_BGP_IDENTIFIER, 'session-reset');
  });
  it('an iBGP peer with our own identifier → 2/3; an eBGP one is fine (RFC 6286)', () => {
    const open = msg(1, openBody({ as: 65001, id: '0a000001' }));
    expectError(decodeMessage(open, { ...FOUR, localBgpId: '10.0.0.1', localAs: 65001 }), 2, 3, 'session-reset');
    expect(decodeMessage(open, { ...FOUR, localBgpId: '10.0.0.1', localAs: 65009 })).not.to.be.instanceOf(BgpDecodeError);
  });
  for (const hold of [1, 2]) {
    it(`hold time ${hold} → 2/6 Unacceptable Hold Time`, () => {
      expectError(decodeMessage(msg(1, openBody({ hold })), FOUR), 2, OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME, 'session-reset');
    });
  }
  for (const hold of [0, 3]) {
    it(`hold time ${hold} is acceptable`, () => {
      expect(decodeMessage(msg(1, openBody({ hold })), FOUR)).to.include({ type: 'open', holdTime: hold });
    });
  }
  it('an optional parameter other than Capabilities (1, authentication) → 2/4 Unsupported Optional Parameter', () => {
    expectError(decodeMessage(msg(1, openBody({ params: '0102 abcd' })), FOUR), 2, OpenErrorSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, 'session-reset');
  });
  it('a capability overrunning its parameter → 2/0', () => {
    expectError(decodeMessage(msg(1, openBody({ params: '0204 4104 0000' })), FOUR), 2, 0, 'session-reset');
  });
  it('optional parameters length disagreeing with the message → 2/0', () => {
    const body = hex(openBody({ params: '0202 0200' }));
    body[9] = 3;
    expectError(decodeMessage(msg(1, body.toString('hex')), FOUR), 2, 0, 'session-reset');
  });
});

describe('bgp codec errors: UPDATE (RFC 4271 §6.3 as revised by RFC 7606)', () => {
  it('withdrawn routes length overrunning the message → 3/1 session reset', () => {
    expectError(decodeMessage(msg(2, '0010 0000'), FOUR), 3, UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST, 'session-reset');
  });
  it('total attribute length overrunning the message → 3/1 session reset', () => {
    expectError(decodeMessage(msg(2, `0000 0020 ${BASE}`), FOUR), 3, 1, 'session-reset');
  });
  it('an attribute overrunning the attribute list → 3/1 treat-as-withdraw, the NLRI still located and withdrawn (RFC 7606 §4)', () => {
    // ORIGIN claims 5 octets but the list ends after 1: the NLRI after the list is still found.
    const e = expectError(decodeMessage(update('400105 00', NLRI, '08 0b'), FOUR), 3, 1, 'treat-as-withdraw');
    expect(e.withdrawn).to.deep.equal([{ afi: 4, addr: '11.0.0.0', len: 8 }, P10]);
  });
  it('fewer than 3 octets left for an attribute → 3/1 treat-as-withdraw', () => {
    expectError(decodeMessage(update(`${BASE} 4001`, NLRI), FOUR), 3, 1, 'treat-as-withdraw');
  });
  it('MP_REACH_NLRI overrunning the list → session reset (its NLRI cannot be located)', () => {
    expectError(decodeMessage(update(`${BASE} 900e 0040 0002 01`, ''), FOUR), 3, 1, 'session-reset');
  });

  const taw: Array<[string, string, number, string?]> = [
    ['ORIGIN of length 2 → 3/5', `400102 0000 ${AS_PATH} ${NEXT_HOP}`, UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, '4001020000'],
    ['ORIGIN value 3 → 3/6', `400101 03 ${AS_PATH} ${NEXT_HOP}`, UpdateErrorSubcode.INVALID_ORIGIN_ATTRIBUTE, '40010103'],
    ['ORIGIN flagged optional → 3/4 Attribute Flags Error', `c00101 00 ${AS_PATH} ${NEXT_HOP}`, UpdateErrorSubcode.ATTRIBUTE_FLAGS_ERROR, 'c0010100'],
    ['AS_PATH segment type 5 → 3/11', `${ORIGIN} 4002060501 0000fde9 ${NEXT_HOP}`, UpdateErrorSubcode.MALFORMED_AS_PATH],
    ['AS_PATH zero-length segment → 3/11', `${ORIGIN} 4002020200 ${NEXT_HOP}`, UpdateErrorSubcode.MALFORMED_AS_PATH],
    ['AS_PATH segment overrunning the attribute → 3/11', `${ORIGIN} 4002060202 0000fde9 ${NEXT_HOP}`, UpdateErrorSubcode.MALFORMED_AS_PATH],
    ['NEXT_HOP of length 5 → 3/5', `${ORIGIN} ${AS_PATH} 4003050a00000100`, UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR],
    ['NEXT_HOP 0.0.0.0 → 3/8', `${ORIGIN} ${AS_PATH} 40030400000000`, UpdateErrorSubcode.INVALID_NEXT_HOP_ATTRIBUTE],
    ['NEXT_HOP multicast 224.0.0.5 → 3/8', `${ORIGIN} ${AS_PATH} 400304e0000005`, UpdateErrorSubcode.INVALID_NEXT_HOP_ATTRIBUTE],
    ['MULTI_EXIT_DISC of length 3 → 3/5', `${BASE} 800403 000001`, UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR],
    ['LOCAL_PREF of length 2 → 3/5', `${BASE} 400502 0064`, UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR],
    ['COMMUNITIES of length 6 → 3/5', `${BASE} c00806 fde900640000`, UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR],
    ['COMMUNITIES of length 0 → 3/5', `${BASE} c00800`, UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR],
    ['missing ORIGIN with NLRI present → 3/3 with the type as data', `${AS_PATH} ${NEXT_HOP}`, UpdateErrorSubcode.MISSING_WELL_KNOWN_ATTRIBUTE, '01'],
    ['missing AS_PATH with NLRI present → 3/3', `${ORIGIN} ${NEXT_HOP}`, UpdateErrorSubcode.MISSING_WELL_KNOWN_ATTRIBUTE, '02'],
    ['missing NEXT_HOP with IPv4 NLRI present → 3/3', `${ORIGIN} ${AS_PATH}`, UpdateErrorSubcode.MISSING_WELL_KNOWN_ATTRIBUTE, '03'],
  ];
  for (const [name, attrs, subcode, data] of taw) {
    it(`${name}, treat-as-withdraw: every prefix of the UPDATE withdrawn`, () => {
      const e = expectError(decodeMessage(update(attrs, NLRI), FOUR), 3, subcode, 'treat-as-withdraw', data);
      expect(e.withdrawn).to.deep.equal([P10]);
    });
  }

  it('RFC 7606 §3(c): MP_REACH_NLRI / MP_UNREACH_NLRI flagged transitive (flags in conflict with the type) → 3/4 treat-as-withdraw of their prefixes, not a reset', () => {
    const reach = expectError(decodeMessage(update(`c00e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8 ${ORIGIN} ${AS_PATH}`), FOUR), 3, 4, 'treat-as-withdraw');
    expect(reach.withdrawn).to.deep.equal([{ afi: 6, addr: '2001:db8::', len: 32 }]);
    const unreach = expectError(decodeMessage(update('c00f 0a 0002 01 30 20010db80009'), FOUR), 3, 4, 'treat-as-withdraw');
    expect(unreach.withdrawn).to.deep.equal([{ afi: 6, addr: '2001:db8:9::', len: 48 }]);
  });

  it('treat-as-withdraw also withdraws the MP_REACH and MP_UNREACH prefixes', () => {
    const mpReach = '900e 001a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
    const mpUnreach = '900f 000a 0002 01 30 20010db80009';
    const e = expectError(decodeMessage(update(`${mpUnreach} ${mpReach} 400101 07 ${AS_PATH}`), FOUR), 3, 6, 'treat-as-withdraw');
    expect(e.withdrawn).to.deep.equal([
      { afi: 6, addr: '2001:db8::', len: 32 },
      { afi: 6, addr: '2001:db8:9::', len: 48 },
    ]);
  });

  it('no mandatory attributes are needed when the UPDATE only withdraws', () => {
    expect(decodeMessage(update('', '', '180a0100'), FOUR)).to.deep.include({ type: 'update', withdrawn: [P10] });
  });
  it('NEXT_HOP is not needed when the routes are in MP_REACH_NLRI only (RFC 4760)', () => {
    const mpReach = '900e 001a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
    expect(decodeMessage(update(`${mpReach} ${ORIGIN} ${AS_PATH}`), FOUR)).to.have.property('type', 'update');
  });

  const discard: Array<[string, string, number]> = [
    ['ATOMIC_AGGREGATE of length 1 → 3/5', `${BASE} 400601 00`, UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR],
    ['AGGREGATOR of length 7 → 3/5', `${BASE} c00707 0000fde90a0000`, UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR],
    ['a duplicate ORIGIN → 3/1, the first one kept', `${BASE} 40010102`, UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST],
  ];
  for (const [name, attrs, subcode] of discard) {
    it(`${name}, attribute-discard: the UPDATE is processed without it`, () => {
      const e = expectError(decodeMessage(update(attrs, NLRI), FOUR), 3, subcode, 'attribute-discard');
      expect(e.update).to.deep.equal({
        type: 'update',
        withdrawn: [],
        attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '10.0.0.1' },
        nlri: [P10],
      } satisfies UpdateMessage);
    });
  }

  it('AGGREGATOR of the right length for 2-octet sessions (6) is fine there', () => {
    const r = decodeMessage(update(`${ORIGIN} 4002040201fde9 ${NEXT_HOP} c00706 fde90a000009`, NLRI), TWO);
    expect(r).to.have.nested.property('attributes.aggregator.asn', 65001);
  });

  const resets: Array<[string, string, string, number, RegExp]> = [
    ['a duplicate MP_REACH_NLRI → 3/1', `${BASE} 800e15 0002 01 10 20010db8000000000000000000000001 00 800e15 0002 01 10 20010db8000000000000000000000001 00`, '', UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST, /duplicate attribute 14/],
    ['MP_REACH_NLRI with a 5-octet IPv6 next hop → 3/9', `800e 0a 0002 01 05 0000000000 00 ${ORIGIN} ${AS_PATH}`, '', UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR, /next hop of 5 octets/],
    ['MP_REACH_NLRI with an IPv6 prefix /129 → 3/9', `900e 0017 0002 01 10 20010db8000000000000000000000001 00 81 ff ${ORIGIN} ${AS_PATH}`, '', UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR, /prefix length 129 > 128/],
    ['MP_UNREACH_NLRI with a prefix overrunning it → 3/9', '800f 05 0002 01 40 20', '', UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR, /overruns its field/],
    ['MP_REACH_NLRI flagged transitive whose value does not parse → 3/4', `c00e 0a 0002 01 05 0000000000 00 ${ORIGIN} ${AS_PATH}`, '', UpdateErrorSubcode.ATTRIBUTE_FLAGS_ERROR, /attribute 14 with flags 0xc0: next hop of 5 octets/],
    ['an IPv4 NLRI prefix /33 → 3/10 Invalid Network Field', BASE, '21 0a010000 00', UpdateErrorSubcode.INVALID_NETWORK_FIELD, /prefix length 33 > 32/],
    ['an NLRI prefix overrunning the message → 3/10', BASE, '18 0a01', UpdateErrorSubcode.INVALID_NETWORK_FIELD, /overruns/],
    ['an unrecognised well-known attribute (type 30, optional bit clear) → 3/2', `${BASE} 401e 01 00`, NLRI, UpdateErrorSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, /unrecognised well-known attribute 30/],
  ];
  for (const [name, attrs, nlri, subcode, reason] of resets) {
    it(`${name}, session reset`, () => {
      expect(expectError(decodeMessage(update(attrs, nlri), FOUR), 3, subcode, 'session-reset').message).to.match(reason);
    });
  }
  it('a withdrawn prefix /40 → 3/10 session reset', () => {
    expectError(decodeMessage(update('', '', '28 0a010000 00'), FOUR), 3, 10, 'session-reset');
  });
  it('unrecognised well-known attribute data is the whole attribute', () => {
    expectError(decodeMessage(update(`${BASE} 401e 01 00`, NLRI), FOUR), 3, 2, 'session-reset', '401e0100');
  });

  it('the strongest action wins and the weaker errors are kept in `others`', () => {
    const e = expectError(decodeMessage(update(`400101 03 ${AS_PATH} ${NEXT_HOP} 400601 00`, NLRI), FOUR), 3, 6, 'treat-as-withdraw');
    expect(e.others.map((o) => [o.subcode, o.action])).to.deep.equal([[5, 'attribute-discard']]);
    expectError(decodeMessage(update(`400101 03 ${AS_PATH} ${NEXT_HOP} 401e0100`, NLRI), FOUR), 3, 2, 'session-reset');
  });

  it('a malformed AS4_PATH on a 2-octet session → attribute-discard, AS_PATH used as is (RFC 6793 §6)', () => {
    const e = expectError(decodeMessage(update(`${ORIGIN} 4002040201fde9 ${NEXT_HOP} c01106 0203 fa56ea01`, NLRI), TWO), 3, 11, 'attribute-discard');
    expect(e.update?.attributes.asPath).to.deep.equal([{ type: 'sequence', asns: [65001] }]);
  });
  it('AS4_PATH from a 4-octet peer is silently dropped (RFC 6793 §3)', () => {
    const r = decodeMessage(update(`${BASE} c01106 0201 fa56ea01`, NLRI), FOUR);
    expect(r).to.deep.include({ attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '10.0.0.1' } });
  });
});

describe('bgp codec errors: the splitter stops at the first bad header', () => {
  it('yields the good messages before it, then only the error', () => {
    const ka = msg(4, '');
    const bad = msg(9, '');
    const s = new MessageSplitter();
    const out = s.push(Buffer.concat([ka, ka, bad, ka]));
    expect(out).to.have.length(3);
    expect((out[0] as Buffer).equals(ka)).to.equal(true);
    expectError(out[2] as BgpDecodeError, 1, 3, 'session-reset', '09');
    expect(s.push(ka)).to.deep.equal([s.error]);
  });
});
