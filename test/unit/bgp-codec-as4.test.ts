/**
 * RFC 6793 towards and from 2-octet peers: the AS_PATH/AS4_PATH merge of
 * §4.2.3 and the AGGREGATOR/AS4_AGGREGATOR rules, both on mergeAs4Path
 * directly and through decodeMessage on a 2-octet session.
 */
import { expect } from 'chai';
import {
  asPathLength,
  BgpDecodeError,
  decodeMessage,
  encodeMessage,
  mergeAs4Path,
  type AsPathSegment,
  type UpdateMessage,
} from '../../agent/src/bgp/codec';

const seq = (...asns: number[]): AsPathSegment => ({ type: 'sequence', asns });
const set = (...asns: number[]): AsPathSegment => ({ type: 'set', asns });
const cseq = (...asns: number[]): AsPathSegment => ({ type: 'confed-sequence', asns });
const T = 23456;

describe('bgp codec: AS4_PATH merge (RFC 6793 §4.2.3)', () => {
  const cases: Array<{ name: string; asPath: AsPathSegment[]; as4Path: AsPathSegment[]; want: AsPathSegment[] }> = [
    {
      name: 'a 2-octet AS prepended after the path left 4-octet land is kept in front',
      asPath: [seq(65001, T, T)],
      as4Path: [seq(4200000001, 4200000002)],
      want: [seq(65001, 4200000001, 4200000002)],
    },
    {
      name: 'equal lengths: AS4_PATH replaces AS_PATH entirely',
      asPath: [seq(T, 65002)],
      as4Path: [seq(4200000001, 65002)],
      want: [seq(4200000001, 65002)],
    },
    {
      name: 'AS_PATH shorter than AS4_PATH: AS4_PATH is ignored',
      asPath: [seq(T)],
      as4Path: [seq(4200000001, 4200000002)],
      want: [seq(T)],
    },
    {
      name: 'an AS_SET counts as one on both sides',
      asPath: [seq(65010, T), set(1, 2)],
      as4Path: [seq(4200000001), set(1, 2)],
      want: [seq(65010, 4200000001), set(1, 2)],
    },
    {
      name: 'leading confederation segments count zero and are kept',
      asPath: [cseq(65100), seq(65001, T)],
      as4Path: [seq(4200000001)],
      want: [cseq(65100), seq(65001, 4200000001)],
    },
    {
      name: 'confederation segments inside AS4_PATH are dropped',
      asPath: [seq(T, 65002)],
      as4Path: [cseq(65200), seq(4200000001, 65002)],
      want: [seq(4200000001, 65002)],
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      expect(mergeAs4Path(tc.asPath, tc.as4Path)).to.deep.equal(tc.want);
    });
  }

  it('counts path length as route selection does: set 1, confederation 0', () => {
    expect(asPathLength([cseq(1, 2), seq(3, 4, 5), set(6, 7, 8)])).to.equal(4);
  });
});

describe('bgp codec: AS4 attributes on a 2-octet session', () => {
  const TWO = { fourOctetAs: false };
  const MARKER = 'ff'.repeat(16);
  function update(attrs: string): Buffer {
    const a = Buffer.from(attrs.replace(/\s+/g, ''), 'hex');
    const body = Buffer.concat([Buffer.from([0, 0, a.length >> 8, a.length & 0xff]), a, Buffer.from('180a0100', 'hex')]);
    const head = Buffer.from(MARKER, 'hex');
    return Buffer.concat([head, Buffer.from([(19 + body.length) >> 8, (19 + body.length) & 0xff, 2]), body]);
  }
  const base = '40010100 40020602025ba0fdea 4003040a000001'; // AS_PATH [AS_TRANS, 65002]
  const as4Path = 'c0110a 0202 fa56ea01 0000fdea'; // [4200000001, 65002]

  function attrsOf(buf: Buffer): UpdateMessage['attributes'] {
    const m = decodeMessage(buf, TWO);
    if (m instanceof BgpDecodeError) throw m;
    if (m.type !== 'update') throw new Error(m.type);
    return m.attributes;
  }

  it('AGGREGATOR holding AS_TRANS: AS4_AGGREGATOR gives the aggregator, AS4_PATH the path', () => {
    const a = attrsOf(update(`${base} c00706 5ba0 0a000009 ${as4Path} c01208 fa56ea01 0a000009`));
    expect(a.aggregator).to.deep.equal({ asn: 4200000001, address: '10.0.0.9' });
    expect(a.asPath).to.deep.equal([seq(4200000001, 65002)]);
  });

  it('AGGREGATOR holding a real 2-octet AS: AS4_AGGREGATOR and AS4_PATH are both ignored', () => {
    const a = attrsOf(update(`${base} c00706 fde9 0a000009 ${as4Path} c01208 fa56ea01 0a000009`));
    expect(a.aggregator).to.deep.equal({ asn: 65001, address: '10.0.0.9' });
    expect(a.asPath).to.deep.equal([seq(T, 65002)]);
  });

  it('AS4_PATH without any aggregator is merged', () => {
    expect(attrsOf(update(`${base} ${as4Path}`)).asPath).to.deep.equal([seq(4200000001, 65002)]);
  });

  it('encoding for a 2-octet peer writes AS_TRANS + AS4_PATH/AS4_AGGREGATOR, decoding restores the truth', () => {
    const msg: UpdateMessage = {
      type: 'update',
      withdrawn: [],
      attributes: { origin: 0, asPath: [seq(4200000001, 65002)], nextHop: '10.0.0.1', aggregator: { asn: 4200000001, address: '10.0.0.9' } },
      nlri: [{ afi: 4, addr: '10.1.0.0', len: 24 }],
    };
    const bytes = encodeMessage(msg, TWO);
    expect(bytes.toString('hex')).to.equal(update(`${base} c00706 5ba0 0a000009 ${as4Path} c01208 fa56ea01 0a000009`).toString('hex'));
    expect(decodeMessage(bytes, TWO)).to.deep.equal(msg);
  });

  it('confederation segments never go into AS4_PATH', () => {
    const msg: UpdateMessage = {
      type: 'update',
      withdrawn: [],
      attributes: { origin: 0, asPath: [cseq(65100), seq(4200000001)], nextHop: '10.0.0.1' },
      nlri: [{ afi: 4, addr: '10.1.0.0', len: 24 }],
    };
    const bytes = encodeMessage(msg, TWO);
    // AS_PATH: confed-seq [65100] seq [AS_TRANS]; AS4_PATH: seq [4200000001] only.
    expect(bytes.includes(Buffer.from('40020803 01 fe4c 0201 5ba0'.replace(/\s/g, ''), 'hex'))).to.equal(true);
    expect(bytes.includes(Buffer.from('c01106 0201 fa56ea01'.replace(/\s/g, ''), 'hex'))).to.equal(true);
    expect(decodeMessage(bytes, TWO)).to.deep.equal(msg);
  });
});
