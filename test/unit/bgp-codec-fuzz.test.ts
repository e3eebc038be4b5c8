/**
 * Fuzzing the decoder and the splitter with a seeded PRNG (a failure prints
 * its seed and iteration, so it reproduces): random messages behind valid and
 * invalid headers, and valid messages (BIRD fixtures and hand-built ones)
 * with bytes flipped, lengths rewritten, truncated or extended. Each result
 * must be a message or a BgpDecodeError, never a throw; a decoded message must
 * re-encode, and reach a fixed point after one more round trip.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BgpDecodeError, decodeMessage, encodeMessage, MessageSplitter, type BgpMessage } from '../../agent/src/bgp/codec';
import { sampleMessages } from '../support/bgp-codec-samples';
import { prng } from '../support/prng';

const SEED = 0x6b6e6974; // "knit"
const ITERATIONS = 12000;

function corpus(): Buffer[] {
  const dir = resolve(__dirname, '../../../test/fixtures/bgp');
  const fromFiles = readdirSync(dir)
    .filter((f) => f.endsWith('.hex'))
    .map((f) => Buffer.from(readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join(''), 'hex'));
  const built = sampleMessages().flatMap((s) => [encodeMessage(s.msg, { fourOctetAs: true }), encodeMessage(s.msg, { fourOctetAs: false })]);
  return [...fromFiles, ...built];
}

function mutate(base: Buffer, rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  let buf = Buffer.from(base);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    switch (int(7)) {
      case 0: // flip a byte past the marker
        if (buf.length > 19) buf[19 + int(buf.length - 19)] = int(256);
        break;
      case 1: // flip a bit anywhere
        if (buf.length > 0) buf[int(buf.length)] ^= 1 << int(8);
        break;
      case 2: // truncate, keeping the header's length honest half the time
        buf = buf.subarray(0, Math.max(19, int(buf.length + 1)));
        break;
      case 3: // insert random bytes
        if (buf.length > 19) {
          const at = 19 + int(buf.length - 19);
          const extra = Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256)));
          buf = Buffer.concat([buf.subarray(0, at), extra, buf.subarray(at)]);
        }
        break;
      case 4: // rewrite a 1- or 2-octet length-looking field in the body
        if (buf.length > 21) {
          const at = 19 + int(buf.length - 20);
          if (rnd() < 0.5) buf[at] = int(256);
          else buf.writeUInt16BE(int(0x10000), at);
        }
        break;
      case 5: // small field values: 0, 1, 255
        if (buf.length > 19) buf[19 + int(buf.length - 19)] = [0, 1, 0xff, 0x80, 0x10][int(5)];
        break;
      default:
        break;
    }
  }
  // Usually keep the header length in step with the bytes, so the body parsers get exercised.
  if (buf.length >= 18 && rnd() < 0.8) buf.writeUInt16BE(Math.min(buf.length, 0xffff), 16);
  return buf;
}

function randomMessage(rnd: () => number): Buffer {
  const len = 19 + Math.floor(rnd() * 120);
  const buf = Buffer.alloc(len);
  for (let i = 0; i < len; i++) buf[i] = Math.floor(rnd() * 256);
  if (rnd() < 0.9) buf.fill(0xff, 0, 16);
  if (rnd() < 0.8) buf.writeUInt16BE(len, 16);
  if (rnd() < 0.8) buf[18] = 1 + Math.floor(rnd() * 5);
  return buf;
}

function checkOne(input: Buffer, fourOctetAs: boolean, where: string): 'message' | 'error' {
  let result: BgpMessage | BgpDecodeError;
  try {
    result = decodeMessage(input, { fourOctetAs });
  } catch (err) {
    throw new Error(`${where}: decodeMessage threw on ${input.toString('hex')}`, { cause: err });
  }
  if (result instanceof BgpDecodeError) {
    expect(['session-reset', 'treat-as-withdraw', 'attribute-discard'], where).to.include(result.action);
    if (result.action === 'attribute-discard') expect(result.update, where).not.to.equal(undefined);
    return 'error';
  }
  expect(result.type, where).to.be.a('string');
  // What was decoded can be sent again, and a second round trip changes nothing.
  let once: Buffer;
  try {
    once = encodeMessage(result, { fourOctetAs });
  } catch (err) {
    throw new Error(`${where}: re-encoding the decode of ${input.toString('hex')} threw`, { cause: err });
  }
  const again = decodeMessage(once, { fourOctetAs });
  if (again instanceof BgpDecodeError) throw new Error(`${where}: re-encoded ${once.toString('hex')} does not decode: ${again.message}`);
  expect(encodeMessage(again, { fourOctetAs }).toString('hex'), where).to.equal(once.toString('hex'));
  return 'message';
}

describe('bgp codec: fuzz', function () {
  this.timeout(120000);
  const base = corpus();

  it(`decoder: ${ITERATIONS} random and mutated messages give only messages or BgpDecodeErrors (seed ${SEED})`, () => {
    expect(base.length).to.be.greaterThan(60);
    const rnd = prng(SEED);
    const tally = { message: 0, error: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const input = rnd() < 0.25 ? randomMessage(rnd) : mutate(base[Math.floor(rnd() * base.length)], rnd);
      tally[checkOne(input, rnd() < 0.5, `seed ${SEED} iteration ${i}`)] += 1;
    }
    if (process.env.BGP_FUZZ_VERBOSE) process.stdout.write(`${JSON.stringify(tally)}\n`);
    // Both outcomes must be well represented, or the fuzzer is not reaching the parsers.
    expect(tally.message).to.be.greaterThan(ITERATIONS / 10);
    expect(tally.error).to.be.greaterThan(ITERATIONS / 10);
  });

  it(`splitter: random chunkings of streams of ${ITERATIONS}+ valid and corrupted messages never throw and lose nothing before an error`, () => {
    const rnd = prng(SEED + 1);
    let fed = 0;
    for (let i = 0; fed < ITERATIONS; i++) {
      const msgs = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => base[Math.floor(rnd() * base.length)]);
      fed += msgs.length;
      let stream: Buffer = Buffer.concat(msgs);
      const corrupt = rnd() < 0.3;
      if (corrupt) stream = mutate(stream, rnd);
      const splitter = new MessageSplitter();
      const out: (Buffer | BgpDecodeError)[] = [];
      for (let pos = 0; pos < stream.length; ) {
        const n = 1 + Math.floor(rnd() * 200);
        try {
          out.push(...splitter.push(stream.subarray(pos, pos + n)));
        } catch (err) {
          throw new Error(`seed ${SEED + 1} iteration ${i}: splitter threw`, { cause: err });
        }
        pos += n;
      }
      const errIndex = out.findIndex((x) => x instanceof BgpDecodeError);
      if (errIndex >= 0) {
        expect(corrupt, `iteration ${i}: error on an intact stream`).to.equal(true);
        // After an error every later push repeats it and yields nothing else.
        expect(out.slice(errIndex).every((x) => x instanceof BgpDecodeError)).to.equal(true);
      }
      if (!corrupt) {
        expect(Buffer.concat(out as Buffer[]).equals(stream), `iteration ${i}`).to.equal(true);
        expect(out).to.have.length(msgs.length);
      }
      for (const m of out) if (!(m instanceof BgpDecodeError)) checkOne(m, rnd() < 0.5, `splitter iteration ${i}`);
    }
  });
});
