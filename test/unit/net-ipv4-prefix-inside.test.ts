/**
 * ipv4PrefixInside (net/ipv4.ts), the in-place check the reconciler's route
 * scope runs over every dumped route: for any text it answers what
 * parseCidr + cidrCovers answer, and undefined exactly where parseCidr
 * rejects the text.
 */
import { expect } from 'chai';
import { cidrCovers, ipv4PrefixInside, parseCidr, type Ipv4Cidr } from '../../agent/src/net/ipv4';

const outer: Ipv4Cidr = parseCidr('10.0.0.0/8')!;

function reference(text: string, o: Ipv4Cidr): boolean | undefined {
  const c = parseCidr(text);
  return c === undefined ? undefined : cidrCovers(o, c);
}

describe('ipv4PrefixInside: parseCidr + cidrCovers without the allocations', () => {
  const cases = [
    '10.100.3.0/24', '10.0.0.0/8', '10.0.0.0/7', '11.0.0.0/8', '10.255.255.255/32', '0.0.0.0/0', '9.255.255.0/24',
    '10.0.0.1/24', '10.00.0.0/16', '010.0.0.0/8', '10.0.0/8', '10.0.0.0.0/8', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '10.0.0.0',
    '10.0.0.256/32', '10.0.0.0/324', '1000.0.0.0/8', 'fd00::/8', '', '/', '10.0.0.0/ 8', '10.0.0.0/8 ', 'a.b.c.d/8', '10..0.0/8',
  ];
  for (const text of cases) {
    it(`${JSON.stringify(text)}: ${String(reference(text, outer))}`, () => {
      expect(ipv4PrefixInside(text, outer)).to.equal(reference(text, outer));
    });
  }

  it('agrees on 20 000 random near-prefixes, inside a /16 and a /0 too', () => {
    let seed = 17;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    const pieces = ['0', '1', '10', '100', '255', '256', '01', '.', '/', '24', '8', '32', '33', '9'];
    const outers = [outer, parseCidr('10.100.0.0/16')!, parseCidr('0.0.0.0/0')!];
    let defined = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = rnd(2) === 0
        ? `${rnd(12)}.${rnd(300)}.${rnd(256)}.${rnd(4) * 64}/${rnd(34)}`
        : Array.from({ length: 1 + rnd(9) }, () => pieces[rnd(pieces.length)]).join('');
      const o = outers[rnd(outers.length)]!;
      const want = reference(text, o);
      if (want !== undefined) defined++;
      expect(ipv4PrefixInside(text, o), text).to.equal(want);
    }
    expect(defined).to.be.greaterThan(1000); // the generator hits real prefixes, not only junk
  });
});
