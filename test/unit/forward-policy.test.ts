import { expect } from 'chai';
import { blockingForwardChains, ForwardGuard, FORWARD_RULE_COMMENT } from '../../agent/src/dataplane/forward-policy';
import type { CommandResult } from '../../agent/src/dataplane/nft';
import { recordingLogger } from '../support/recording-logger';

const chain = (family: string, table: string, name: string, policy: string, hook = 'forward') =>
  ({ chain: { family, table, name, handle: 1, type: 'filter', hook, prio: 0, policy } });
const accept = (family: string, table: string, chainName: string, field: 'saddr' | 'daddr', addr: string, len: number, extra: unknown[] = []) =>
  ({ rule: { family, table, chain: chainName, handle: 2, expr: [
    { match: { op: '==', left: { payload: { protocol: 'ip', field } }, right: { prefix: { addr, len } } } }, ...extra, { accept: null },
  ] } });
const ruleset = (...items: unknown[]) => ({ nftables: [{ metainfo: { version: '1.0.6' } }, ...items] });

describe('forward policy: chains that drop cluster traffic (nft -j list ruleset)', () => {
  const CIDR = '10.244.0.0/16';
  const cases: Array<{ name: string; rs: unknown; want: string[] }> = [
    { name: 'no forward chain', rs: ruleset(), want: [] },
    { name: 'accept policy', rs: ruleset(chain('inet', 'filter', 'forward', 'accept')), want: [] },
    { name: 'drop policy on another hook', rs: ruleset(chain('inet', 'filter', 'input', 'drop', 'input')), want: [] },
    { name: 'inet filter forward, policy drop', rs: ruleset(chain('inet', 'filter', 'forward', 'drop')), want: ['inet filter forward 10.244.0.0/16'] },
    { name: 'iptables-nft FORWARD DROP (Docker)', rs: ruleset(chain('ip', 'filter', 'FORWARD', 'drop')), want: ['ip filter FORWARD 10.244.0.0/16'] },
    { name: 'ip6 chain does not drop IPv4', rs: ruleset(chain('ip6', 'filter', 'FORWARD', 'drop')), want: [] },
    {
      name: 'knit\'s iptables accepts in both directions (with comment and counter)',
      rs: ruleset(chain('ip', 'filter', 'FORWARD', 'drop'),
        accept('ip', 'filter', 'FORWARD', 'saddr', '10.244.0.0', 16, [{ xt: { type: 'match', name: 'comment' } }, { counter: { packets: 0, bytes: 0 } }]),
        accept('ip', 'filter', 'FORWARD', 'daddr', '10.244.0.0', 16)),
      want: [],
    },
    { name: 'only the source direction accepted', rs: ruleset(chain('inet', 'filter', 'forward', 'drop'), accept('inet', 'filter', 'forward', 'saddr', '10.244.0.0', 16)), want: ['inet filter forward 10.244.0.0/16'] },
    { name: 'a covering prefix accepted both ways', rs: ruleset(chain('inet', 'filter', 'forward', 'drop'), accept('inet', 'filter', 'forward', 'saddr', '10.0.0.0', 8), accept('inet', 'filter', 'forward', 'daddr', '10.0.0.0', 8)), want: [] },
    { name: 'a narrower prefix is no cover', rs: ruleset(chain('inet', 'filter', 'forward', 'drop'), accept('inet', 'filter', 'forward', 'saddr', '10.244.1.0', 24), accept('inet', 'filter', 'forward', 'daddr', '10.244.1.0', 24)), want: ['inet filter forward 10.244.0.0/16'] },
    {
      name: 'an accept with another condition is no cover',
      rs: ruleset(chain('inet', 'filter', 'forward', 'drop'),
        accept('inet', 'filter', 'forward', 'saddr', '10.244.0.0', 16, [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 80 } }]),
        accept('inet', 'filter', 'forward', 'daddr', '10.244.0.0', 16)),
      want: ['inet filter forward 10.244.0.0/16'],
    },
    { name: 'accepts in another chain do not count', rs: ruleset(chain('inet', 'filter', 'forward', 'drop'), accept('inet', 'filter', 'other', 'saddr', '10.244.0.0', 16), accept('inet', 'filter', 'other', 'daddr', '10.244.0.0', 16)), want: ['inet filter forward 10.244.0.0/16'] },
    { name: 'garbage input', rs: { nftables: [1, null, 'x', { chain: null }] }, want: [] },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      expect(blockingForwardChains(tc.rs, [CIDR]).map((c) => `${c.family} ${c.table} ${c.chain} ${c.cidrs.join(',')}`)).to.deep.equal(tc.want);
    });
  }
  it('an inet chain drops both families of a dual-stack cluster', () => {
    expect(blockingForwardChains(ruleset(chain('inet', 'filter', 'forward', 'drop')), [CIDR, 'fd00:10:244::/56'])[0]?.cidrs).to.deep.equal([CIDR, 'fd00:10:244::/56']);
  });
});

/** What nft prints for `-j list chains` (the chains) and `-j list chain F T N` (that chain and its rules), out of a whole ruleset. */
function nftAnswer(argv: string[], whole: unknown): unknown {
  const items = (whole as { nftables: Array<Record<string, { family?: string; table?: string; name?: string; chain?: string }>> }).nftables;
  const words = argv.slice(2).join(' ');
  if (words === 'list chains') return { nftables: items.filter((it) => 'metainfo' in it || 'chain' in it) };
  const m = /^list chain (\S+) (\S+) (\S+)$/.exec(words);
  if (m === null) throw new Error(`unexpected nft command: ${argv.join(' ')}`);
  const [, family, table, name] = m;
  return { nftables: items.filter((it) => 'metainfo' in it
    || (it.chain !== undefined && it.chain.family === family && it.chain.table === table && it.chain.name === name)
    || (it.rule !== undefined && it.rule.family === family && it.rule.table === table && it.rule.chain === name)) };
}

describe('ForwardGuard (fake command runner)', () => {
  function fake(forward: string, nftJson: unknown) {
    const calls: string[] = [];
    const present = new Set<string>();
    const run = (argv: string[]): Promise<CommandResult> => {
      calls.push(argv.join(' '));
      const ok = (stdout = ''): Promise<CommandResult> => Promise.resolve({ code: 0, stdout, stderr: '' });
      if (argv[0] === 'nft') return ok(JSON.stringify(nftAnswer(argv, nftJson)));
      const op = argv[3];
      const spec = argv.slice(4).join(' ');
      if (op === '-S') return ok(forward);
      if (op === '-C') return Promise.resolve({ code: present.has(spec) ? 0 : 1, stdout: '', stderr: '' });
      if (op === '-A') { present.add(spec); return ok(); }
      return Promise.resolve({ code: 2, stdout: '', stderr: 'unexpected' });
    };
    return { calls, run };
  }

  it('appends the two ACCEPT rules once when the iptables FORWARD policy is DROP', async () => {
    const f = fake('-P FORWARD DROP\n-A FORWARD -j DOCKER-USER\n', ruleset());
    const g = new ForwardGuard({ cidrs: ['10.244.0.0/16'], logger: recordingLogger().logger, intervalMs: 60_000, run: f.run });
    await g.check();
    await g.check();
    const adds = f.calls.filter((c) => c.includes(' -A '));
    expect(adds).to.deep.equal([
      `iptables -w 5 -A FORWARD -s 10.244.0.0/16 -m comment --comment ${FORWARD_RULE_COMMENT} -j ACCEPT`,
      `iptables -w 5 -A FORWARD -d 10.244.0.0/16 -m comment --comment ${FORWARD_RULE_COMMENT} -j ACCEPT`,
    ]);
    expect(g.problems()).to.deep.equal([]);
  });

  it('with iptables-nft, reads the FORWARD policy from nft\'s chains and starts iptables only when it drops', async () => {
    const calls: string[] = [];
    let rs: unknown = ruleset();
    const present = new Set<string>();
    const run = (argv: string[]): Promise<CommandResult> => {
      calls.push(argv.join(' '));
      const ok = (stdout = ''): Promise<CommandResult> => Promise.resolve({ code: 0, stdout, stderr: '' });
      if (argv[0] === 'nft') return ok(JSON.stringify(nftAnswer(argv, rs)));
      if (argv[1] === '-V') return ok('iptables v1.8.9 (nf_tables)\n');
      const spec = argv.slice(4).join(' ');
      if (argv[3] === '-S') return ok('-P FORWARD DROP\n');
      if (argv[3] === '-C') return Promise.resolve({ code: present.has(spec) ? 0 : 1, stdout: '', stderr: '' });
      if (argv[3] === '-A') { present.add(spec); return ok(); }
      return Promise.resolve({ code: 2, stdout: '', stderr: 'unexpected' });
    };
    const g = new ForwardGuard({ cidrs: ['10.244.0.0/16'], logger: recordingLogger().logger, intervalMs: 60_000, run });
    await g.check();
    await g.check();
    // asked which iptables once; no FORWARD drop in nft: no iptables run at all after that
    expect(calls.filter((c) => c.startsWith('iptables'))).to.deep.equal(['iptables -V']);
    rs = ruleset(chain('ip', 'filter', 'FORWARD', 'drop'));
    await g.check();
    expect(calls.filter((c) => c.includes(' -A '))).to.deep.equal([
      `iptables -w 5 -A FORWARD -s 10.244.0.0/16 -m comment --comment ${FORWARD_RULE_COMMENT} -j ACCEPT`,
      `iptables -w 5 -A FORWARD -d 10.244.0.0/16 -m comment --comment ${FORWARD_RULE_COMMENT} -j ACCEPT`,
    ]);
    expect(calls.filter((c) => c === 'iptables -V')).to.have.length(1);
  });

  it('touches nothing when the policy is ACCEPT', async () => {
    const f = fake('-P FORWARD ACCEPT\n', ruleset());
    const g = new ForwardGuard({ cidrs: ['10.244.0.0/16'], logger: recordingLogger().logger, intervalMs: 60_000, run: f.run });
    await g.check();
    expect(f.calls.filter((c) => c.includes(' -A ') || c.includes(' -C '))).to.deep.equal([]);
  });

  it('reports a chain of another table it cannot override, logs it once at error level naming table and chain, and clears it', async () => {
    let rs: unknown = ruleset(chain('inet', 'filter', 'forward', 'drop'));
    const rec = recordingLogger();
    const run = (argv: string[]): Promise<CommandResult> =>
      Promise.resolve(argv[0] === 'nft' ? { code: 0, stdout: JSON.stringify(nftAnswer(argv, rs)), stderr: '' } : { code: 0, stdout: '-P FORWARD ACCEPT\n', stderr: '' });
    const g = new ForwardGuard({ cidrs: ['10.244.0.0/16'], logger: rec.logger, intervalMs: 60_000, run });
    await g.check();
    await g.check();
    expect(g.problems()).to.have.length(1);
    expect(g.problems()[0]).to.match(/^forward chain "inet filter forward" has policy drop and no accept rule for 10\.244\.0\.0\/16/);
    const errors = rec.lines.filter((r) => r.level === 'error');
    expect(errors.map((r) => [r.message, r.table, r.chain])).to.deep.equal([
      ['a forward chain drops cluster traffic and knit cannot override it', 'inet filter', 'forward'],
    ]);
    rs = ruleset();
    await g.check();
    expect(g.problems()).to.deep.equal([]);
    expect(rec.lines.some((r) => r.message === 'forward chain no longer drops cluster traffic')).to.equal(true);
  });
});
