import { expect } from 'chai';
import { mergeRanges, peerSegments, renderClassPeers } from '../../agent/src/dataplane/nft/render-policy';
import { policyRuleset, renderPolicyTable, renderPolicyUpdate } from '../../agent/src/dataplane/nft';
import { compileNetwork, parsePolicyFile } from '../../agent/src/policy';

describe('nft policy renderer', () => {
  it('mergeRanges joins overlapping and adjacent ranges', () => {
    expect(mergeRanges([[5, 9], [1, 3], [4, 4], [20, 30], [25, 26]])).to.deep.equal([[1, 9], [20, 30]]);
    expect(mergeRanges([[5n, 9n], [11n, 12n]])).to.deep.equal([[5n, 9n], [11n, 12n]]);
  });

  it('peerSegments gives each address exactly the rules whose peers hold it, in disjoint ranges (random property check)', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    for (let round = 0; round < 150; round++) {
      const rules = Array.from({ length: 1 + rnd(4) }, (_, k) => ({
        policy: 'p', rule: k, ports: [{ protocol: 'TCP' as const, portFirst: 80, portLast: 80 }],
        peers: Array.from({ length: 1 + rnd(3) }, () => {
          const f = BigInt(rnd(20));
          return { family: 4 as const, first: f, last: f + BigInt(rnd(8)) };
        }),
      }));
      const segs = peerSegments({ direction: 'ingress', policies: ['p'], rules, addresses: ['10.0.0.1'] }, 4);
      for (let i = 1; i < segs.length; i++) expect(segs[i]!.first > segs[i - 1]!.last, `round ${round}: sorted and disjoint`).to.equal(true);
      for (let a = 0n; a < 30n; a++) {
        const want = rules.filter((r) => r.peers.some((p) => a >= p.first && a <= p.last)).map((r) => r.rule);
        const hits = segs.filter((s) => a >= s.first && a <= s.last);
        expect(hits.length, `round ${round} address ${a}`).to.equal(want.length > 0 ? 1 : 0);
        if (hits.length === 1) expect(hits[0]!.rules.map((r) => r.rule), `round ${round} address ${a}`).to.deep.equal(want);
      }
    }
  });

  it('renderClassPeers: a host lookup, then a range lookup, gives each address the verdict of exactly the rules that hold it (random property check)', () => {
    let seed = 11;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    const parse = (a: string) => BigInt(a.split('.').reduce((v, o) => v * 256 + Number(o), 0));
    for (let round = 0; round < 150; round++) {
      const rules = Array.from({ length: 1 + rnd(4) }, (_, k) => ({
        policy: 'p', rule: k,
        ports: rnd(3) === 0 ? [{ protocol: 'any' as const, portFirst: 0, portLast: 65535 }] : [{ protocol: 'TCP' as const, portFirst: 80 + 2 * k, portLast: 80 + 2 * k }],
        // single addresses (endpoints) and ranges (CIDRs), overlapping at random
        peers: Array.from({ length: 1 + rnd(4) }, () => {
          const f = BigInt(rnd(20));
          return { family: 4 as const, first: f, last: rnd(2) === 0 ? f : f + BigInt(rnd(8)) };
        }),
      }));
      const cls = { direction: 'ingress' as const, policies: ['p'], rules, addresses: ['10.0.0.1'] };
      const { hosts, nets, groups } = renderClassPeers('ingress', 4, 'default', cls);
      const hostMap = new Map(hosts.map((e) => { const [a, v] = e.split(' : '); return [parse(a!), v!] as const; }));
      // Ranges are keyed by address . protocol, every protocol in each element.
      for (const e of nets) expect(e, `round ${round}`).to.match(/^\S+-\S+ \. 0-255 : /);
      const netList = nets.map((e) => { const [r, v] = e.split(' : '); const [f, l] = r!.replace(/ \. 0-255$/, '').split('-'); return { first: parse(f!), last: parse(l!), verdict: v! }; });
      for (let a = 0n; a < 30n; a++) {
        const holding = rules.filter((r) => r.peers.some((p) => a >= p.first && a <= p.last));
        const verdict = hostMap.get(a) ?? netList.find((n) => a >= n.first && a <= n.last)?.verdict;
        if (holding.length === 0) {
          expect(verdict, `round ${round} address ${a}`).to.equal(undefined);
        } else if (holding.some((r) => r.ports[0]!.protocol === 'any')) {
          expect(verdict, `round ${round} address ${a}`).to.equal('accept');
        } else {
          const group = groups.find((gr) => verdict === `goto ${gr.name}`);
          expect(group, `round ${round} address ${a}: ${verdict}`).not.to.equal(undefined);
          expect(group!.ports, `round ${round} address ${a}`).to.deep.equal(holding.map((r) => `tcp . ${80 + 2 * r.rule}-${80 + 2 * r.rule}`));
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
    // 10.1.0.2 (web) is allowed on any port by b, looked up exactly; 10/8 only by a's ports, everything else only by a's second rule.
    const v4 = renderClassPeers('ingress', 4, 'default', cls);
    const g = (p: string) => p.replace(/ingress_rules_[0-9a-f]{12}/, 'G');
    expect(v4.hosts.map(g)).to.deep.equal(['10.1.0.2 : accept']);
    expect(v4.nets.map(g)).to.deep.equal([
      '0.0.0.0-9.255.255.255 . 0-255 : goto G',
      '10.0.0.0-10.255.255.255 . 0-255 : goto G',
      '11.0.0.0-255.255.255.255 . 0-255 : goto G',
    ]);
    // Two groups: a's second rule alone (85), and both of a's rules (80-90 and 85 merged).
    const group = (peer: string) => v4.groups.find((gr) => v4.nets.find((p) => p.startsWith(peer))!.endsWith(gr.name))!;
    expect(group('0.0.0.0').ports).to.deep.equal(['tcp . 85-85']);
    expect(group('10.0.0.0').ports).to.deep.equal(['tcp . 80-90']);
    expect(group('11.0.0.0')).to.equal(group('0.0.0.0'));
    expect(v4.groups.length).to.equal(2);
    const v6 = renderClassPeers('ingress', 6, 'default', cls);
    expect(v6.hosts.map(g)).to.deep.equal(['fd00::2 : accept']);
    expect(v6.nets.map(g)).to.deep.equal(['::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff . 0-255 : goto G']);
    const text = renderPolicyTable([state]);
    expect(text.startsWith('add table inet knit_policy\ndelete table inet knit_policy\ntable inet knit_policy {')).to.equal(true);
    const chain4 = /10\.1\.0\.3 : jump (ingress4_[0-9a-f]{12})/.exec(text)?.[1];
    expect(chain4, text).to.be.a('string');
    expect(text).to.match(/fd00::3 : jump ingress6_[0-9a-f]{12}/);
    expect(text).to.contain(`chain ${chain4!} {\n    comment "a, b"\n    ip saddr vmap @${chain4!}_hosts\n    ip saddr . meta l4proto vmap @${chain4!}_nets\n    counter drop comment "default deny ingress"\n  }`);
    // Single addresses in a hash map, ranges in an interval map (nft rereads interval maps' elements on every write).
    expect(text).to.contain(`map ${chain4!}_hosts {\n    type ipv4_addr : verdict;\n    elements = { 10.1.0.2 : accept }`);
    expect(text).to.contain(`map ${chain4!}_nets {\n    type ipv4_addr . inet_proto : verdict; flags interval;`);
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
    // The port lives in the rule group, apart from the peers: one element out, one in.
    const group = [...v1.groups.keys()][0]!;
    expect([...v2.groups.keys()]).to.deep.equal([group]);
    expect(renderPolicyUpdate(v1, v2)).to.equal(
      `delete element inet knit_policy ${group}_ports { tcp . 80-80 }\n`
      + `add element inet knit_policy ${group}_ports { tcp . 81-81 }\n`);
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
    expect(at(new RegExp(`^delete map inet knit_policy ${chain}_hosts$`))).to.be.greaterThan(at(new RegExp(`^delete chain inet knit_policy ${chain}$`)));
    // web's rule group is the same rules in the new class: kept, not rewritten.
    expect(update.filter((l) => /^(delete (chain|set) inet knit_policy |  (chain|set) )\S*_rules_/.test(l))).to.deep.equal([]);
  });
});
