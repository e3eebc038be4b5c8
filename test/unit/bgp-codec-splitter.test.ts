/**
 * MessageSplitter: whole messages out of arbitrary TCP chunking.
 */
import { expect } from 'chai';
import { BgpDecodeError, encodeMessage, MessageSplitter } from '../../agent/src/bgp/codec';
import { sampleMessages } from '../support/bgp-codec-samples';

const ctx = { fourOctetAs: true };
const messages = sampleMessages().map((s) => encodeMessage(s.msg, ctx));
const stream = Buffer.concat(messages);

function splitAll(chunkSizes: (i: number) => number): Buffer[] {
  const s = new MessageSplitter();
  const out: Buffer[] = [];
  for (let pos = 0, i = 0; pos < stream.length; i++) {
    const n = chunkSizes(i);
    for (const m of s.push(stream.subarray(pos, pos + n))) {
      if (m instanceof BgpDecodeError) throw m;
      out.push(m);
    }
    pos += n;
  }
  expect(s.buffered).to.equal(0);
  return out;
}

describe('bgp codec: MessageSplitter', () => {
  it(`has a stream of ${messages.length} messages to split`, () => {
    expect(messages.length).to.be.greaterThan(10);
  });
  const chunkings: Array<[string, (i: number) => number]> = [
    ['one chunk', () => stream.length],
    ['one octet at a time', () => 1],
    ['18-octet chunks (headers split across pushes)', () => 18],
    ['chunks of 1, 2, 3 … 40 octets', (i) => 1 + (i % 40)],
    ['chunks of 1000 octets', () => 1000],
  ];
  for (const [name, sizes] of chunkings) {
    it(`${name}: the same messages, in order, byte for byte`, () => {
      const out = splitAll(sizes);
      expect(out.map((b) => b.toString('hex'))).to.deep.equal(messages.map((b) => b.toString('hex')));
    });
  }
  it('holds a partial message until it is complete', () => {
    const s = new MessageSplitter();
    const ka = messages[0];
    expect(s.push(ka.subarray(0, 10))).to.deep.equal([]);
    expect(s.buffered).to.equal(10);
    expect(s.push(Buffer.alloc(0))).to.deep.equal([]);
    const out = s.push(ka.subarray(10));
    expect(out).to.have.length(1);
    expect((out[0] as Buffer).equals(ka)).to.equal(true);
    expect(s.error).to.equal(undefined);
  });
  it('reports a bad header as soon as its 19 octets are in, without waiting for the body', () => {
    const s = new MessageSplitter();
    const head = Buffer.alloc(19, 0xff);
    head.writeUInt16BE(5000, 16);
    head[18] = 2;
    const out = s.push(head);
    expect(out).to.have.length(1);
    expect(out[0]).to.be.instanceOf(BgpDecodeError);
    expect((out[0] as BgpDecodeError).subcode).to.equal(2);
  });
});
