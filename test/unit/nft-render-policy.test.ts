import { expect } from 'chai';
import { disjointRects, mergeRanges, policyElements } from '../../agent/src/dataplane/nft/render-policy';
import { renderPolicyTable } from '../../agent/src/dataplane/nft';
import { compileNetwork, parsePolicyFile } from '../../agent/src/policy';

describe('nft policy renderer', () => {
  it('mergeRanges joins overlapping and adjacent ranges', () => {
    expect(mergeRanges([[5, 9], [1, 3], [4, 4], [20, 30], [25, 26]])).to.deep.equal([[1, 9], [20, 30]]);
    expect(mergeRanges([[5n, 9n], [11n, 12n]])).to.deep.equal([[5n, 9n], [11n, 12n]]);
  });

  it('disjointRects covers exactly the same points with no overlap (random property check)', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let round = 0; round < 150; round++) {
      const rects = Array.from({ length: 1 + rnd(6) }, () => {
        const f = BigInt(rnd(20));
        const p = rnd(20);
        return { first: f, last: f + BigInt(rnd(8)), pFirst: p, pLast: p + rnd(8) };
      });
      const out = disjointRects(rects);
      for (let a = 0n; a < 30n; a++) {
        for (let p = 0; p < 30; p++) {
          const inIn = rects.some((r) => a >= r.first && a <= r.last && p >= r.pFirst && p <= r.pLast);
          const hits = out.filter((r) => a >= r.first && a <= r.last && p >= r.pFirst && p <= r.pLast).length;
          expect(hits, `round ${round} point ${a},${p} of ${JSON.stringify(rects, (k, v) => (typeof v === 'bigint' ? Number(v) : v))}`).to.equal(inIn ? 1 : 0);
        }
      }
    }
  });

  it('renders overlapping policies into disjoint elements, both families, one transaction', () => {
    const policies = parsePolicyFile(`
name: a
selector: {app: db}
ingress: [{from: [{cidr: 10.0.0.0/8}], ports: [{port: 80, endPort: 90}]}, {ports: [{port: 85}]}]
---
name: b
selector: {app: db}
ingress: [{from: [{selector: {app: web}}]}]
`);
    const eps = [
      { id: 'db', network: 'default', labels: { app: 'db' }, addresses: ['10.1.0.3', 'fd00::3'] },
      { id: 'web', network: 'default', labels: { app: 'web' }, addresses: ['10.1.0.2', 'fd00::2'] },
    ];
    const state = compileNetwork('default', policies, eps);
    expect(policyElements(state.allow, 'ingress', 4)).to.deep.equal({
      any: ['10.1.0.3 . 10.1.0.2-10.1.0.2'],
      ports: [
        '10.1.0.3 . 0.0.0.0-9.255.255.255 . tcp . 85-85',
        '10.1.0.3 . 10.0.0.0-10.255.255.255 . tcp . 80-90',
        '10.1.0.3 . 11.0.0.0-255.255.255.255 . tcp . 85-85',
      ],
    });
    expect(policyElements(state.allow, 'ingress', 6).ports).to.deep.equal(['fd00::3 . ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff . tcp . 85-85']);
    const text = renderPolicyTable([state]);
    expect(text.startsWith('add table inet knit_policy\ndelete table inet knit_policy\ntable inet knit_policy {')).to.equal(true);
    expect(text).to.contain('ip daddr @ingress_isolated4 jump ingress4');
    expect(text).to.contain('ip6 daddr @ingress_isolated6 jump ingress6');
    expect(text).to.contain('ct state established,related accept');
  });
});
