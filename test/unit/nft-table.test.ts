import { expect } from 'chai';
import {
  NftTable, NftValidationError, renderRemove, renderRuleset,
  type CommandResult, type NftDesiredState, type PortMapping, type RouteLocalnetAccess,
} from '../../agent/src/dataplane/nft';
import { silentLogger } from '../../agent/src/log/logger';

interface Call { argv: string[]; input?: string }

/** A fake nft/conntrack: records calls; each answer may be held until released. */
class FakeRunner {
  calls: Call[] = [];
  hold = false;
  private held: Array<() => void> = [];
  answer: (argv: string[]) => CommandResult = () => ({ code: 0, stdout: '', stderr: '' });

  run = (argv: string[], input?: string): Promise<CommandResult> => {
    this.calls.push({ argv, input });
    const result = this.answer(argv);
    if (!this.hold) return Promise.resolve(result);
    return new Promise((resolve) => this.held.push(() => resolve(result)));
  };

  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }

  nftCalls(): Call[] {
    return this.calls.filter((c) => c.argv.includes('nft'));
  }

  conntrackCalls(): string[] {
    return this.calls.filter((c) => c.argv[0] === 'conntrack').map((c) => c.argv.join(' '));
  }
}

class FakeSysctl implements RouteLocalnetAccess {
  values = new Map<string, string>();
  log: string[] = [];
  constructor(private readonly events: string[]) {}
  async read(ifname: string): Promise<string> {
    return this.values.get(ifname) ?? '0';
  }
  async write(ifname: string, value: '0' | '1'): Promise<void> {
    this.values.set(ifname, value);
    this.events.push(`sysctl ${ifname}=${value}`);
  }
}

const web: PortMapping = { id: 'c1/eth0', containerIp: '10.244.1.2', hostPort: 8080, containerPort: 80, protocol: 'tcp' };
const dns: PortMapping = { id: 'c2/eth0', containerIp: '10.244.1.3', hostPort: 5353, containerPort: 53, protocol: 'udp' };
const state = (...portMappings: PortMapping[]): NftDesiredState => ({ portMappings });

describe('NftTable (fake nft)', () => {
  let fake: FakeRunner;
  let events: string[];
  let sysctl: FakeSysctl;
  let table: NftTable;

  beforeEach(() => {
    fake = new FakeRunner();
    events = [];
    sysctl = new FakeSysctl(events);
    const run = fake.run;
    fake.run = (argv, input) => {
      events.push(argv[0] === 'conntrack' ? 'conntrack' : 'nft');
      return run(argv, input);
    };
    table = new NftTable({ nftCommand: ['ip', 'netns', 'exec', 'n1', 'nft'], routeLocalnet: sysctl, run: fake.run, logger: silentLogger() });
  });

  it('pipes the rendered script into the given nft command', async () => {
    await table.apply(state(web));
    expect(fake.nftCalls()).to.deep.equal([{ argv: ['ip', 'netns', 'exec', 'n1', 'nft', '-f', '-'], input: renderRuleset(state(web)) }]);
  });

  it('skips an apply whose text equals the last one, unless forced', async () => {
    await table.apply(state(web));
    await table.apply(state({ ...web }));
    expect(fake.nftCalls()).to.have.length(1);
    await table.apply(state(web), { force: true });
    expect(fake.nftCalls()).to.have.length(2);
  });

  it('coalesces applies made while one runs into one run of the latest state', async () => {
    fake.hold = true;
    const first = table.apply(state());
    const settled: string[] = [];
    const second = table.apply(state(web)).then(() => settled.push('second'));
    const third = table.apply(state(web, dns)).then(() => settled.push('third'));
    await new Promise((r) => setImmediate(r));
    expect(fake.nftCalls()).to.have.length(1);
    fake.release();
    await Promise.all([first, second, third]);
    const nft = fake.nftCalls();
    expect(nft).to.have.length(2);
    expect(nft[1].input).to.equal(renderRuleset(state(web, dns)));
    expect(settled).to.deep.equal(['second', 'third']);
  });

  it('rejects an invalid state at once, without running nft or disturbing the queue', async () => {
    const bad = table.apply(state(web, { ...web, id: 'c9/eth0' }));
    let caught: unknown;
    try { await bad; } catch (err) { caught = err; }
    expect(caught).to.be.instanceOf(NftValidationError);
    expect((caught as Error).message).to.contain('claimed by both c1/eth0 and c9/eth0');
    expect(fake.calls).to.have.length(0);
  });

  it('names the command and nft\'s stderr on failure, and retries the same state next time', async () => {
    fake.answer = () => ({ code: 1, stdout: '', stderr: 'Error: Could not process rule: Operation not permitted\n' });
    let caught: unknown;
    try { await table.apply(state(web)); } catch (err) { caught = err; }
    expect((caught as Error).message).to.equal(
      'apply nft table ip knit: ip netns exec n1 nft exited 1: Error: Could not process rule: Operation not permitted',
    );
    fake.answer = () => ({ code: 0, stdout: '', stderr: '' });
    await table.apply(state(web));
    expect(fake.nftCalls()).to.have.length(2);
  });

  it('every coalesced caller sees the failure of the run that carried its state', async () => {
    fake.hold = true;
    const first = table.apply(state());
    fake.answer = () => ({ code: 1, stdout: '', stderr: 'boom' });
    const a = table.apply(state(web)).catch((e: Error) => e.message);
    const b = table.apply(state(dns)).catch((e: Error) => e.message);
    fake.release();
    await first.catch(() => undefined);
    expect(await a).to.contain('boom');
    expect(await b).to.contain('boom');
  });

  it('remove() runs the tolerant delete and forgets the last text', async () => {
    await table.apply(state(web));
    await table.remove();
    expect(fake.nftCalls()[1].input).to.equal(renderRemove());
    await table.apply(state(web));
    expect(fake.nftCalls()).to.have.length(3);
  });

  it('list() returns null for an absent table and drops metainfo otherwise', async () => {
    fake.answer = () => ({ code: 1, stdout: '', stderr: 'Error: No such file or directory\nlist table ip knit\n' });
    expect(await table.list()).to.equal(null);
    expect(fake.calls[0].argv).to.deep.equal(['ip', 'netns', 'exec', 'n1', 'nft', '-j', 'list', 'table', 'ip', 'knit']);
    fake.answer = () => ({
      code: 0,
      stderr: '',
      stdout: JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6' } }, { table: { family: 'ip', name: 'knit' } }] }),
    });
    expect(await table.list()).to.deep.equal([{ table: { family: 'ip', name: 'knit' } }]);
  });

  describe('route_localnet', () => {
    const GUARD = 'ip daddr 127.0.0.0/8 iifname != "lo" ct state != { established, related } drop';

    it('is turned on only after the 127.0.0.0/8 guard is in, and off before it goes', async () => {
      await table.apply({ bridge: 'knit0', portMappings: [web] });
      await table.apply({ bridge: 'knit0', portMappings: [] });
      expect(events).to.deep.equal(['nft', 'sysctl knit0=1', 'sysctl knit0=0', 'nft']);
      const [on, off] = fake.nftCalls();
      expect(on!.input).to.include(GUARD);
      expect(off!.input).to.not.include(GUARD);
      expect(off!.input).to.not.include('chain input');
    });

    it('leaves the guard and the input chain out while nothing needs route_localnet', async () => {
      await table.apply({ bridge: 'knit0', masquerade: { clusterCidr: '10.244.0.0/16' }, portMappings: [{ ...web, hostIp: '192.168.0.10' }] });
      expect(fake.nftCalls()[0]!.input).to.not.include('chain input');
    });

    it('keeps the guard while route_localnet is on by someone else (e.g. the knitd before a restart)', async () => {
      sysctl.values.set('knit0', '1');
      await table.apply({ bridge: 'knit0', portMappings: [] });
      expect(fake.nftCalls()[0]!.input).to.include(GUARD);
      expect(events).to.deep.equal(['nft']);
    });

    it('keeps the guard while route_localnet is on for all interfaces (the kernel ORs `all` in)', async () => {
      sysctl.values.set('all', '1');
      await table.apply({ bridge: 'knit0', portMappings: [] });
      expect(fake.nftCalls()[0]!.input).to.include(GUARD);
      expect(events).to.deep.equal(['nft']);
    });

    it('keeps the guard when route_localnet cannot be read', async () => {
      sysctl.read = async () => { throw new Error('ENOENT'); };
      await table.apply({ bridge: 'knit0', portMappings: [] });
      expect(fake.nftCalls()[0]!.input).to.include(GUARD);
    });

    it('is turned off before the table goes at removal', async () => {
      await table.apply({ bridge: 'knit0', portMappings: [web] });
      await table.remove();
      expect(events).to.deep.equal(['nft', 'sysctl knit0=1', 'sysctl knit0=0', 'nft']);
      expect(fake.nftCalls()[1]!.input).to.equal(renderRemove());
    });

    it('is not needed for mappings bound to a non-loopback hostIp', async () => {
      await table.apply({ bridge: 'knit0', portMappings: [{ ...web, hostIp: '192.168.0.10' }] });
      expect(events).to.deep.equal(['nft']);
    });

    it('is needed for a loopback hostIp', async () => {
      await table.apply({ bridge: 'knit0', portMappings: [{ ...web, hostIp: '127.0.0.1' }] });
      expect(events).to.deep.equal(['nft', 'sysctl knit0=1']);
    });

    it('is left alone when someone else had already turned it on', async () => {
      sysctl.values.set('knit0', '1');
      await table.apply({ bridge: 'knit0', portMappings: [web] });
      await table.remove();
      expect(events).to.deep.equal(['nft', 'nft']);
    });

    it('a failure to set it fails the apply, with the guard already in', async () => {
      sysctl.read = async () => { throw new Error('ENOENT: no such bridge'); };
      let caught: unknown;
      try { await table.apply({ bridge: 'knit0', portMappings: [web] }); } catch (err) { caught = err; }
      expect((caught as Error).message).to.equal('set net.ipv4.conf.knit0.route_localnet=1 (needed for 127.0.0.1 port mappings)');
      expect(fake.nftCalls()).to.have.length(1);
      expect(fake.nftCalls()[0]!.input).to.include(GUARD);
    });
  });

  describe('UDP conntrack flush', () => {
    const cases: Array<{ name: string; before: PortMapping[]; after: PortMapping[]; flushed: string[] }> = [
      { name: 'a new UDP mapping', before: [], after: [dns], flushed: ['conntrack -D -p udp --orig-port-dst 5353'] },
      { name: 'a removed UDP mapping', before: [dns], after: [], flushed: ['conntrack -D -p udp --orig-port-dst 5353'] },
      { name: 'a UDP mapping moved to another container', before: [dns], after: [{ ...dns, containerIp: '10.244.1.9' }], flushed: ['conntrack -D -p udp --orig-port-dst 5353'] },
      { name: 'a UDP mapping bound to a hostIp', before: [], after: [{ ...dns, hostIp: '192.168.0.10' }], flushed: ['conntrack -D -p udp --orig-port-dst 5353 --orig-dst 192.168.0.10'] },
      { name: 'an unchanged UDP mapping next to a new TCP one', before: [dns], after: [dns, web], flushed: [] },
      { name: 'TCP mappings only', before: [web], after: [], flushed: [] },
    ];
    for (const tc of cases) {
      it(`${tc.name}: flushes ${tc.flushed.length > 0 ? 'its host port' : 'nothing'}`, async () => {
        await table.apply(state(...tc.before));
        fake.calls = [];
        await table.apply(state(...tc.after));
        expect(fake.conntrackCalls()).to.deep.equal(tc.flushed);
      });
    }

    it('a failing conntrack does not fail the apply', async () => {
      fake.answer = (argv) => (argv[0] === 'conntrack' ? { code: 1, stdout: '', stderr: 'conntrack v1.4.7: Operation failed' } : { code: 0, stdout: '', stderr: '' });
      await table.apply(state(dns));
      expect(fake.conntrackCalls()).to.have.length(1);
    });
  });
});
