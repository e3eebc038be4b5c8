import { expect } from 'chai';
import { CompileMemo, compileNetwork, parsePolicyFile, parsePortRef, PolicyError, RecordCache, subtractRanges, trace, TraceError, traceConnection } from '../../agent/src/policy';
import type { Policy, PolicyEndpoint } from '../../agent/src/policy';

const eps: PolicyEndpoint[] = [
  { id: 'web1', network: 'default', labels: { app: 'web' }, addresses: ['10.244.1.2', 'fd00:10:244:1::2'] },
  { id: 'web2', network: 'default', labels: { app: 'web' }, addresses: ['10.244.2.2'] },
  { id: 'db', network: 'default', labels: { app: 'db', tier: 'data' }, addresses: ['10.244.1.3', 'fd00:10:244:1::3'] },
  { id: 'other', network: 'default', labels: { app: 'batch' }, addresses: ['10.244.2.9'] },
  { id: 'blue-web', network: 'blue', labels: { app: 'web' }, addresses: ['10.99.0.2'] },
];

function policies(yaml: string): Policy[] {
  return parsePolicyFile(yaml, 'test.yaml');
}

const dbOnlyFromWeb = `
name: db-from-web
network: default
selector: {app: db}
ingress:
  - from: [{selector: {app: web}}]
    ports: [{protocol: TCP, port: 5432}, {protocol: UDP, port: 7000, endPort: 7010}]
`;

describe('policy compiler and trace', () => {
  it('no policy: everything allowed, not isolated', () => {
    const s = compileNetwork('default', [], eps);
    const r = trace(s, { from: '10.244.2.9', to: '10.244.1.3', protocol: 'TCP', port: 5432 });
    expect(r.allowed).to.equal(true);
    expect(r.ingress.reason).to.match(/not isolated/);
  });

  it('selector + ports: the matrix', () => {
    const s = compileNetwork('default', policies(dbOnlyFromWeb), eps);
    const t = (from: string, to: string, protocol: 'TCP' | 'UDP' | 'ICMP', port?: number) => trace(s, { from, to, protocol, port });
    expect(t('10.244.1.2', '10.244.1.3', 'TCP', 5432).allowed, 'web1 → db:5432').to.equal(true);
    expect(t('10.244.2.2', '10.244.1.3', 'TCP', 5432).allowed, 'web2 (other node) → db:5432').to.equal(true);
    expect(t('10.244.1.2', '10.244.1.3', 'TCP', 5433).allowed, 'web1 → db:5433').to.equal(false);
    expect(t('10.244.2.9', '10.244.1.3', 'TCP', 5432).allowed, 'batch → db').to.equal(false);
    expect(t('10.244.1.2', '10.244.1.3', 'UDP', 7000).allowed, 'range start').to.equal(true);
    expect(t('10.244.1.2', '10.244.1.3', 'UDP', 7010).allowed, 'range end').to.equal(true);
    expect(t('10.244.1.2', '10.244.1.3', 'UDP', 7011).allowed, 'past range').to.equal(false);
    expect(t('10.244.1.2', '10.244.1.3', 'TCP', 7005).allowed, 'range is UDP only').to.equal(false);
    expect(t('10.244.1.2', '10.244.1.3', 'ICMP').allowed, 'ICMP not in the port list').to.equal(false);
    expect(t('fd00:10:244:1::2', 'fd00:10:244:1::3', 'TCP', 5432).allowed, 'IPv6 web1 → db').to.equal(true);
    expect(t('10.244.1.3', '10.244.2.9', 'TCP', 80).allowed, 'db egress not isolated').to.equal(true);
    const ok = t('10.244.1.2', '10.244.1.3', 'UDP', 7003);
    expect(ok.ingress.policy).to.equal('db-from-web');
    expect(ok.ingress.rule).to.equal(0);
    const denied = t('10.244.2.9', '10.244.1.3', 'TCP', 5432);
    expect(denied.ingress.reason).to.equal('default deny: ingress of 10.244.1.3 is isolated by db-from-web and no rule allows it');
  });

  it('selectors never reach into another network', () => {
    const s = compileNetwork('default', policies(dbOnlyFromWeb), eps);
    expect(trace(s, { from: '10.99.0.2', to: '10.244.1.3', protocol: 'TCP', port: 5432 }).allowed).to.equal(false);
  });

  it('policies only add: a second policy widens, never narrows', () => {
    const more = `${dbOnlyFromWeb}---
name: db-from-batch
selector: {tier: data}
ingress: [{from: [{selector: {app: batch}}]}]
`;
    const s = compileNetwork('default', policies(more), eps);
    const r = trace(s, { from: '10.244.2.9', to: '10.244.1.3', protocol: 'TCP', port: 9999 });
    expect(r.allowed).to.equal(true);
    expect(r.ingress.policy).to.equal('db-from-batch');
    expect(trace(s, { from: '10.244.1.2', to: '10.244.1.3', protocol: 'TCP', port: 5432 }).allowed).to.equal(true);
    expect(s.isolated.ingress.find((i) => i.address === '10.244.1.3')?.policies).to.deep.equal(['db-from-batch', 'db-from-web']);
  });

  it('empty ingress list denies all ingress; empty selector selects the whole network', () => {
    const s = compileNetwork('default', policies('{"name": "deny-all", "selector": {}, "ingress": []}'), eps);
    for (const e of eps.filter((x) => x.network === 'default')) {
      expect(trace(s, { from: '10.244.1.2', to: e.addresses[0]!, protocol: 'TCP', port: 80 }).allowed, e.id).to.equal(false);
    }
    expect(s.isolated.ingress.map((i) => i.endpoint)).to.include.members(['web1', 'web2', 'db', 'other']);
    expect(s.isolated.ingress.map((i) => i.endpoint)).not.to.include('blue-web');
    expect(s.isolated.egress).to.have.length(0);
  });

  it('egress with CIDR and except', () => {
    const s = compileNetwork('default', policies(`
name: web-out
selector: {app: web}
egress:
  - to: [{cidr: 10.0.0.0/8, except: [10.244.2.0/24, 10.244.1.3/32]}]
    ports: [{port: 443}]
`), eps);
    const t = (to: string, port: number) => trace(s, { from: '10.244.1.2', to, protocol: 'TCP', port }).allowed;
    expect(t('10.1.2.3', 443)).to.equal(true);
    expect(t('10.244.1.4', 443)).to.equal(true);
    expect(t('10.244.1.3', 443), 'excepted host').to.equal(false);
    expect(t('10.244.2.9', 443), 'excepted /24').to.equal(false);
    expect(t('11.0.0.1', 443), 'outside cidr').to.equal(false);
    expect(t('10.1.2.3', 80), 'port').to.equal(false);
    const r = trace(s, { from: '10.244.1.2', to: '10.244.1.3', protocol: 'TCP', port: 443 });
    expect(r.egress.reason).to.match(/^default deny: egress of 10.244.1.2 is isolated by web-out/);
    // The IPv6 address of web1 is isolated for egress too, and the v4 CIDR allows nothing in v6.
    expect(trace(s, { from: 'fd00:10:244:1::2', to: 'fd00:10:244:1::3', protocol: 'TCP', port: 443 }).allowed).to.equal(false);
  });

  it('traffic from the node itself passes ingress isolation', () => {
    const s = compileNetwork('default', policies('{"name": "deny-all", "selector": {}, "ingress": []}'), eps);
    const r = trace(s, { from: '10.244.1.1', to: '10.244.1.3', protocol: 'TCP', port: 80 }, ['10.244.1.1']);
    expect(r.allowed).to.equal(true);
    expect(r.ingress.reason).to.match(/from the node itself/);
  });

  it('endpoints added later are picked up by recompiling (selector, not addresses, is stored)', () => {
    const p = policies(dbOnlyFromWeb);
    const later = [...eps, { id: 'web3', network: 'default', labels: { app: 'web' }, addresses: ['10.244.3.7'] }];
    expect(trace(compileNetwork('default', p, eps), { from: '10.244.3.7', to: '10.244.1.3', protocol: 'TCP', port: 5432 }).allowed).to.equal(false);
    expect(trace(compileNetwork('default', p, later), { from: '10.244.3.7', to: '10.244.1.3', protocol: 'TCP', port: 5432 }).allowed).to.equal(true);
  });

  it('traceConnection: endpoint ids or addresses, egress in the source\'s network and ingress in the destination\'s, clear refusals', () => {
    const p = policies(dbOnlyFromWeb);
    const byId = traceConnection(p, eps, { from: 'web1', to: 'db', port: 'tcp/5432' });
    expect(byId).to.deep.include({ allowed: true, from: '10.244.1.2', to: '10.244.1.3' });
    expect(byId.ingress).to.deep.include({ allowed: true, policy: 'db-from-web', rule: 0 });
    expect(byId.toEndpoint?.id).to.equal('db');
    const byAddress = traceConnection(p, eps, { from: '10.244.2.9', to: '10.244.1.3', port: 'TCP/5432' });
    expect(byAddress.allowed).to.equal(false);
    expect(byAddress.ingress.reason).to.match(/^default deny: ingress of 10.244.1.3 is isolated by db-from-web/);
    // the blue web endpoint is in another network: db's policy does not let it in
    expect(traceConnection(p, eps, { from: 'blue-web', to: 'db', port: 'tcp/5432' }).allowed).to.equal(false);
    expect(traceConnection(p, eps, { from: 'web1', to: 'db', port: 'icmp' }).allowed).to.equal(false);
    expect(() => traceConnection(p, eps, { from: 'web1', to: 'db', port: 'tcp/0' })).to.throw(TraceError, /^port "tcp\/0": expected tcp\/N/);
    expect(() => traceConnection(p, eps, { from: 'nobody', to: 'db', port: 'tcp/1' })).to.throw(TraceError, /^from "nobody" is not an IP address/);
    expect(() => traceConnection(p, eps, { from: '10.244.1.2', to: 'fd00:10:244:1::3', port: 'tcp/1' })).to.throw(TraceError, /different address families/);
    expect(parsePortRef('udp/53')).to.deep.equal({ protocol: 'UDP', port: 53 });
  });

  it('subtractRanges', () => {
    const r = (first: bigint, last: bigint) => ({ family: 4 as const, first, last });
    expect(subtractRanges(r(0n, 99n), [r(10n, 19n), r(15n, 30n), r(90n, 120n)])).to.deep.equal([r(0n, 9n), r(31n, 89n)]);
    expect(subtractRanges(r(0n, 9n), [r(0n, 9n)])).to.deep.equal([]);
    expect(subtractRanges(r(5n, 9n), [])).to.deep.equal([r(5n, 9n)]);
  });
});

describe('policy file parsing', () => {
  it('accepts JSON, a list, and several YAML documents', () => {
    expect(parsePolicyFile('[{"name":"a","selector":{},"ingress":[]},{"name":"b","selector":{},"egress":[]}]')).to.have.length(2);
    const [p] = policies(dbOnlyFromWeb);
    expect(p).to.deep.equal({
      name: 'db-from-web', network: 'default', selector: { app: 'db' },
      ingress: [{ peers: [{ selector: { app: 'web' } }], ports: [{ protocol: 'TCP', port: 5432 }, { protocol: 'UDP', port: 7000, endPort: 7010 }] }],
    });
  });

  const bad: Array<[string, RegExp]> = [
    ['', /holds no policy/],
    ['name: [', /not YAML or JSON|test.yaml:/],
    ['{"name": "A", "selector": {}, "ingress": []}', /test.yaml.name: must be lowercase/],
    ['{"name": "a", "selector": {}}', /needs an ingress or an egress section/],
    ['{"name": "a", "ingress": []}', /selector: is required/],
    ['{"name": "a", "selector": {}, "ingress": [], "extra": 1}', /unknown field "extra"/],
    ['{"name": "a", "selector": {"app": 5}, "ingress": []}', /selector.app: label value/],
    ['{"name": "a", "selector": {}, "ingress": [{"from": [{"cidr": "10.0.0.1/8"}]}]}', /ingress\[0\].from\[0\].cidr: .*host bits/],
    ['{"name": "a", "selector": {}, "ingress": [{"from": [{"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}]}]}', /except\[0\]: 11.0.0.0\/16 is not inside/],
    ['{"name": "a", "selector": {}, "ingress": [{"ports": [{"protocol": "ICMP"}]}]}', /protocol: must be TCP, UDP or SCTP/],
    ['{"name": "a", "selector": {}, "ingress": [{"ports": [{"port": 0}]}]}', /port: must be an integer 1..65535/],
    ['{"name": "a", "selector": {}, "ingress": [{"ports": [{"port": "http"}]}]}', /named ports are not supported/],
    ['{"name": "a", "selector": {}, "ingress": [{"ports": [{"port": 90, "endPort": 80}]}]}', /endPort: must be >= port/],
    ['{"name": "a", "selector": {}, "ingress": [{"to": []}]}', /unknown field "to"/],
    ['{"name": "a", "selector": {}, "ingress": []}\n---\n{"name": "a", "selector": {}, "egress": []}', /appears twice/],
    ['{name: a, selector: &s {}, ingress: [], egress: *s}', /not YAML or JSON|alias/i],
    ['{"name": "a", "name": "b", "selector": {}, "ingress": []}', /test.yaml/],
  ];
  for (const [text, want] of bad) {
    it(`rejects ${JSON.stringify(text).slice(0, 70)}`, () => {
      expect(() => parsePolicyFile(text, 'test.yaml')).to.throw(PolicyError, want);
    });
  }

  it('fuzz: random mutations of a valid file either parse to a valid policy or throw PolicyError', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const base = JSON.stringify({ name: 'p', network: 'default', selector: { app: 'db' }, ingress: [{ from: [{ cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }, { selector: { app: 'web' } }], ports: [{ protocol: 'TCP', port: 80, endPort: 90 }] }] });
    const alphabet = '{}[]":,-0123456789abcxyz/. \n';
    let parsed = 0;
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const chars = base.split('');
      const n = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < n; k++) chars[Math.floor(rnd() * chars.length)] = alphabet[Math.floor(rnd() * alphabet.length)]!;
      const text = chars.join('');
      try {
        const ps = parsePolicyFile(text);
        for (const p of ps) compileNetwork(p.network, [p], eps);
        parsed += 1;
      } catch (err) {
        expect(err, text).to.be.instanceOf(PolicyError);
        rejected += 1;
      }
    }
    expect(rejected).to.be.greaterThan(100);
    expect(parsed + rejected).to.equal(2000);
  });

  it('a memo across compiles gives what a fresh compile gives, and hands back an unchanged class as the same object', () => {
    let seed = 5;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    const apps = ['web', 'db', 'batch'];
    // sel: the app the policy selects (changed now and then); an odd port drops the egress section.
    const doc = (i: number, port: number, sel = apps[i % 3]!) => `name: p${i}\nselector: {app: ${sel}}\ningress: [{from: [{selector: {app: ${apps[(i + 1) % 3]!}}}], ports: [{port: ${port}}]}]`
      + (port % 2 === 0 ? `\negress: [{to: [{cidr: 10.${i}.0.0/16}]}]` : '');
    const memo = new CompileMemo();
    let docs = [doc(0, 80), doc(1, 81), doc(2, 82)];
    let parsed = docs.map((d) => parsePolicyFile(d)[0]!);
    let endpoints: PolicyEndpoint[] = eps.slice(0, 4);
    let reused = 0;
    for (let step = 0; step < 60; step++) {
      const what = rnd(4);
      if (what === 3) {
        // one policy selects other endpoints: the grouping of isolated addresses changes
        const i = rnd(3);
        docs = docs.map((d, j) => (j === i ? doc(i, 80 + rnd(5), apps[rnd(3)]) : d));
        parsed = parsed.map((p, j) => (j === i ? parsePolicyFile(docs[i]!)[0]! : p));
      } else if (what === 0) {
        // one policy changes: only it is parsed again (as knitd's RecordCache does)
        const i = rnd(3);
        docs = docs.map((d, j) => (j === i ? doc(i, 80 + rnd(5)) : d));
        parsed = parsed.map((p, j) => (j === i ? parsePolicyFile(docs[i]!)[0]! : p));
      } else if (what === 1) {
        endpoints = [...endpoints, { id: `e${step}`, network: 'default', labels: { app: apps[rnd(3)]! }, addresses: [`10.244.9.${step + 2}`] }];
      } else if (endpoints.length > 1) {
        endpoints = endpoints.filter((_, j) => j !== rnd(endpoints.length));
      }
      const before = compileNetwork('default', parsed, endpoints, memo);
      const fresh = compileNetwork('default', parsed, endpoints);
      expect(before, `step ${step}`).to.deep.equal(fresh);
      const again = compileNetwork('default', parsed, endpoints, memo);
      for (const d of ['ingress', 'egress'] as const) {
        again.classes[d].forEach((c, k) => { expect(c, `step ${step} ${d} class ${k}`).to.equal(before.classes[d][k]); reused++; });
      }
    }
    expect(reused).to.be.greaterThan(60);
  });

  it('RecordCache parses a record once per value and reports a bad value once', () => {
    let parses = 0;
    const bad: string[] = [];
    const cache = new RecordCache((key, value) => {
      parses++;
      const n = Number(value);
      if (!Number.isInteger(n)) throw new Error(`${key}: not a number`);
      return { key, n };
    }, (key, error) => bad.push(`${key} ${error}`));
    const records = new Map([['a', '1'], ['b', 'x'], ['c', '3']]);
    const first = cache.valid(records);
    expect(first.map((r) => r.n)).to.deep.equal([1, 3]);
    const second = cache.valid(new Map(records));
    expect(second[0]).to.equal(first[0]);
    expect(parses).to.equal(3);
    expect(bad).to.deep.equal(['b b: not a number']);
    records.set('a', '2');
    records.delete('c');
    expect(cache.valid(records).map((r) => r.n)).to.deep.equal([2]);
    expect(parses).to.equal(4);
    records.set('c', '3');
    cache.valid(records);
    expect(parses, 'a record deleted and written again is parsed again').to.equal(5);
  });
});
