import { expect } from 'chai';
import { UsageError, parseArgs, timeoutMs } from '../../agent/src/cli/args';
import { COMMANDS } from '../../agent/src/cli/commands';
import { EXIT_OK, EXIT_USAGE, runKnitctl } from '../../agent/src/cli/main';

function capture(): { io: Parameters<typeof runKnitctl>[1]; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {} },
    out: () => out,
    err: () => err,
  };
}

describe('knitctl argument parsing', () => {
  const ok: Array<{ argv: string[]; command: string; positionals?: string[]; flags?: Record<string, string | true> }> = [
    { argv: ['status'], command: 'status' },
    { argv: ['-o', 'json', 'subnets'], command: 'subnets', flags: { output: 'json' } },
    { argv: ['subnets', '--output=json', '--subnet', '10.244.1.0/24'], command: 'subnets', flags: { output: 'json', subnet: '10.244.1.0/24' } },
    { argv: ['endpoints', '--container', 'abc', '--socket', '/tmp/x.sock'], command: 'endpoints', flags: { container: 'abc', socket: '/tmp/x.sock' } },
    { argv: ['--container', 'abc', 'endpoints'], command: 'endpoints', flags: { container: 'abc' } },
    { argv: ['bgp', 'routes'], command: 'bgp', positionals: ['routes'] },
    { argv: ['watch', '--count', '3', '--insecure', '--address', '10.0.0.1:9655'], command: 'watch', flags: { count: '3', insecure: true, address: '10.0.0.1:9655' } },
    { argv: ['network', 'show', '--etcd-endpoints', 'http://127.0.0.1:2379'], command: 'network show', flags: { 'etcd-endpoints': 'http://127.0.0.1:2379' } },
    { argv: ['network', 'init', '-'], command: 'network init', positionals: ['-'] },
    { argv: ['network', 'init', '--', '-weird-file'], command: 'network init', positionals: ['-weird-file'] },
  ];
  for (const tc of ok) {
    it(`parses ${tc.argv.join(' ')}`, () => {
      const a = parseArgs(tc.argv);
      expect(a.command?.name).to.equal(tc.command);
      expect(a.positionals).to.deep.equal(tc.positionals ?? []);
      expect(Object.fromEntries(a.flags)).to.deep.equal(tc.flags ?? {});
      expect(a.help).to.equal(false);
    });
  }

  const bad: Array<{ argv: string[]; message: RegExp }> = [
    { argv: ['frobnicate'], message: /unknown command "frobnicate"; commands: status, subnets/ },
    { argv: ['status', '--bogus'], message: /unknown flag --bogus/ },
    { argv: ['status', 'extra'], message: /status takes no arguments, got "extra"/ },
    { argv: ['subnets', '--subnet'], message: /flag --subnet needs a value \(CIDR\)/ },
    { argv: ['status', '-o', 'yaml'], message: /--output must be table or json, got "yaml"/ },
    { argv: ['network'], message: /"network" needs a subcommand: show, init/ },
    { argv: ['network', 'init'], message: /network init takes FILE\|-, got none/ },
    { argv: ['bgp', 'a', 'b'], message: /bgp takes \[sessions\|routes\], got "a b"/ },
    { argv: ['status', '--insecure=maybe'], message: /flag --insecure takes no value/ },
    { argv: ['endpoints', '--subnet', 'x'], message: /unknown flag --subnet/ },
    // did you mean: transposed letters, a missing letter, a flag one edit off, a subcommand
    { argv: ['statsu'], message: /^unknown command "statsu" \(did you mean "status"\?\); commands: status, / },
    { argv: ['peer'], message: /^unknown command "peer" \(did you mean "peers"\?\)/ },
    { argv: ['status', '--adress', 'x'], message: /^unknown flag --adress \(did you mean --address\?\)$/ },
    { argv: ['network', 'shwo'], message: /^unknown subcommand "network shwo" \(did you mean "network show"\?\); "network" takes show, init, / },
    { argv: ['help', 'wtach'], message: /^unknown command "wtach" \(did you mean "watch"\?\)$/ },
  ];
  for (const tc of bad) {
    it(`refuses ${tc.argv.join(' ')}`, () => {
      expect(() => parseArgs(tc.argv)).to.throw(UsageError).with.property('message').that.matches(tc.message);
    });
  }

  it('reads --timeout in seconds and refuses nonsense', () => {
    expect(timeoutMs(new Map())).to.equal(5000);
    expect(timeoutMs(new Map([['timeout', '0.25']]))).to.equal(250);
    expect(timeoutMs(new Map([['timeout', '0']])), '0 = no timeout').to.equal(0);
    for (const v of ['-1', 'x', '99999', '', ' ']) {
      expect(() => timeoutMs(new Map([['timeout', v]]))).to.throw(UsageError, /^--timeout must be a number of seconds from 0 \(no timeout\) to 3600, got /);
    }
  });
});

describe('knitctl exit codes without a server', () => {
  it('prints the command list for --help (exit 0) and for no command (exit 2)', async () => {
    const h = capture();
    expect(await runKnitctl(['--help'], h.io)).to.equal(EXIT_OK);
    for (const c of ['status', 'subnets', 'peers', 'routes', 'endpoints', 'bgp', 'watch', 'network show', 'network init']) {
      expect(h.out()).to.include(`  ${c} `);
    }
    const n = capture();
    expect(await runKnitctl([], n.io)).to.equal(EXIT_USAGE);
    expect(n.out()).to.include('Usage: knitctl');
  });

  for (const c of COMMANDS) {
    it(`knitctl ${c.name} --help describes its usage and flags (exit 0)`, async () => {
      const h = capture();
      expect(await runKnitctl([...c.name.split(' '), '--help'], h.io)).to.equal(EXIT_OK);
      expect(h.out()).to.include(`Usage: knitctl ${c.name}`);
      for (const f of c.flags) expect(h.out()).to.include(`--${f.name}`);
      expect(h.out()).to.include('--socket');
      expect(h.err()).to.equal('');
    });
  }

  it('knitctl help endpoints equals knitctl endpoints --help', async () => {
    const a = capture();
    const b = capture();
    await runKnitctl(['help', 'endpoints'], a.io);
    await runKnitctl(['endpoints', '--help'], b.io);
    expect(a.out()).to.equal(b.out());
  });

  it('usage errors exit 2 and point at --help', async () => {
    const h = capture();
    expect(await runKnitctl(['peers', '--nod', 'x'], h.io)).to.equal(EXIT_USAGE);
    expect(h.err()).to.equal('knitctl: unknown flag --nod (did you mean --node?)\nRun "knitctl peers --help" for usage.\n');
  });

  it('watch --count 0, bgp foo and TCP without TLS or --insecure are usage errors', async () => {
    for (const argv of [['watch', '--count', '0'], ['bgp', 'foo'], ['status', '--address', '127.0.0.1:1']]) {
      const h = capture();
      expect(await runKnitctl(argv, h.io), argv.join(' ')).to.equal(EXIT_USAGE);
      expect(h.err()).to.match(/^knitctl: (--count|bgp takes|--address needs)/);
    }
  });

  it('network commands without etcd endpoints are a usage error', async () => {
    const h = capture();
    expect(await runKnitctl(['network', 'show'], h.io)).to.equal(EXIT_USAGE);
    expect(h.err()).to.include('--etcd-endpoints');
  });
});
