import { expect } from 'chai';
import { classElements, disjointRects, mergeRanges } from '../../agent/src/dataplane/nft/render-policy';
import { policyRuleset, renderPolicyTable, renderPolicyUpdate } from '../../agent/src/dataplane/nft';
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
    // db is isolated by a and b: one class, whose peers do not repeat per local address.
    expect(state.classes.ingress.map((c) => [c.policies, c.addresses])).to.deep.equal([[['a', 'b'], ['10.1.0.3', 'fd00::3']]]);
    const cls = state.classes.ingress[0]!;
    expect(classElements(cls, 4)).to.deep.equal({
      any: ['10.1.0.2-10.1.0.2'],
      ports: [
        '0.0.0.0-9.255.255.255 . tcp . 85-85',
        '10.0.0.0-10.255.255.255 . tcp . 80-90',
        '11.0.0.0-255.255.255.255 . tcp . 85-85',
      ],
    });
    expect(classElements(cls, 6)).to.deep.equal({ any: ['fd00::2-fd00::2'], ports: ['::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff . tcp . 85-85'] });
    const text = renderPolicyTable([state]);
    expect(text.startsWith('add table inet knit_policy\ndelete table inet knit_policy\ntable inet knit_policy {')).to.equal(true);
    const chain4 = /10\.1\.0\.3 : jump (ingress4_[0-9a-f]{12})/.exec(text)?.[1];
    expect(chain4, text).to.be.a('string');
    expect(text).to.match(/fd00::3 : jump ingress6_[0-9a-f]{12}/);
    expect(text).to.contain(`chain ${chain4!} {\n    comment "a, b"\n    ip saddr @${chain4!}_any accept\n`);
    expect(text).to.contain('ip daddr vmap @ingress_class4');
    expect(text).to.contain('ip6 daddr vmap @ingress_class6');
    // No egress section anywhere: the egress maps are empty.
    expect(text).to.contain('map egress_class4 {\n    type ipv4_addr : verdict;\n  }');
    expect(text).to.contain('ct state established,related accept');
  });

  it('a change is only its difference: a class keeps its chain name, elements come and go, gone classes go last', () => {
    const eps = [
      { id: 'db', network: 'default', labels: { app: 'db' }, addresses: ['10.1.0.3'] },
      { id: 'web', network: 'default', labels: { app: 'web' }, addresses: ['10.1.0.2'] },
      { id: 'batch', network: 'default', labels: { app: 'batch' }, addresses: ['10.1.0.4'] },
    ];
    const doc = (port: number, extra = '') => `
name: db-in
selector: {app: db}
ingress: [{from: [{selector: {app: web}}], ports: [{port: ${port}}]}]
${extra}`;
    const v1 = policyRuleset([compileNetwork('default', parsePolicyFile(doc(80)), eps)]);
    expect(renderPolicyUpdate(v1, policyRuleset([compileNetwork('default', parsePolicyFile(doc(80)), eps)]))).to.equal('');
    const v2 = policyRuleset([compileNetwork('default', parsePolicyFile(doc(81)), eps)]);
    const chain = [...v1.chains.keys()][0]!;
    expect([...v2.chains.keys()]).to.deep.equal([chain]);
    expect(renderPolicyUpdate(v1, v2)).to.equal(
      `delete element inet knit_policy ${chain}_ports { 10.1.0.2-10.1.0.2 . tcp . 80-80 }\n`
      + `add element inet knit_policy ${chain}_ports { 10.1.0.2-10.1.0.2 . tcp . 81-81 }\n`);
    // A second policy selecting db moves it to a new class (new chain first, the map element re-pointed, the old chain gone after).
    const v3 = policyRuleset([compileNetwork('default', parsePolicyFile(doc(81, '---\nname: db-batch\nselector: {app: db}\ningress: [{from: [{selector: {app: batch}}]}]')), eps)]);
    const chain3 = [...v3.chains.keys()][0]!;
    expect(chain3).not.to.equal(chain);
    const update = renderPolicyUpdate(v2, v3).split('\n');
    const at = (re: RegExp) => update.findIndex((l) => re.test(l));
    expect(at(new RegExp(`^  chain ${chain3} \\{`))).to.be.greaterThan(-1);
    expect(at(/^delete element inet knit_policy ingress_class4 \{ 10\.1\.0\.3 \}/)).to.be.greaterThan(at(new RegExp(`^  chain ${chain3}`)));
    expect(at(new RegExp(`^add element inet knit_policy ingress_class4 \\{ 10\\.1\\.0\\.3 : jump ${chain3} \\}`))).to.be.greaterThan(at(/^delete element inet knit_policy ingress_class4/));
    expect(at(new RegExp(`^delete chain inet knit_policy ${chain}$`))).to.be.greaterThan(at(/^add element inet knit_policy ingress_class4/));
    expect(at(new RegExp(`^delete set inet knit_policy ${chain}_ports$`))).to.be.greaterThan(at(new RegExp(`^delete chain inet knit_policy ${chain}$`)));
  });
});
