/**
 * Shared by the BGP fuzzers (test/integration/bgp-live-session.test.ts over
 * loopback, test/e2e/bgp-network-fuzz.test.ts against a running knitd) and
 * the hostile-peer tests: the message mutator and a strict prefix parser.
 */
import type { Prefix } from '../../agent/src/bgp/codec';
import { parsePrefix } from '../../agent/src/bgp/path';

/** "10.0.0.0/8" → Prefix; throws on a typo in a test table instead of testing nothing. */
export function mustPrefix(text: string): Prefix {
  const p = parsePrefix(text);
  if (!p) throw new Error(`bad prefix ${text}`);
  return p;
}

/**
 * A generator of random and mutated BGP messages from `corpus` (encoded
 * messages), driven by `rnd` (a seeded PRNG): 10 % random bodies behind a
 * valid marker, otherwise a corpus message with 1–4 bytes changed (mostly
 * after the header), sometimes truncated or extended, usually with an
 * honest length field. `unmutatedShare` of the picks are sent as they are.
 */
export function bgpMutator(rnd: () => number, corpus: readonly Buffer[], opts: { unmutatedShare?: number } = {}): () => Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  const unmutated = opts.unmutatedShare ?? 0;
  return () => {
    if (rnd() < 0.1) {
      const body = Buffer.from(Array.from({ length: int(60) }, () => int(256)));
      const b = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 0, 1 + int(6)]), body]);
      b.writeUInt16BE(b.length, 16);
      return b;
    }
    let b = Buffer.from(corpus[int(corpus.length)]!);
    if (unmutated > 0 && rnd() < unmutated) return b;
    const flips = 1 + int(4);
    for (let i = 0; i < flips; i++) {
      const at = rnd() < 0.8 ? 19 + int(Math.max(1, b.length - 19)) : int(b.length);
      if (at < b.length) b[at] = int(256);
    }
    if (rnd() < 0.15) b = b.subarray(0, Math.max(19, b.length - 1 - int(8)));
    if (rnd() < 0.1) b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256)))]);
    if (rnd() < 0.7 && b.length >= 19 && b.length <= 0xffff) b.writeUInt16BE(b.length, 16); // usually keep the header honest
    return b;
  };
}
