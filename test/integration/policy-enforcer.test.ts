/**
 * knitd's policy loop (PolicyEnforcer) against a real etcd and the real
 * kernel: an etcd write is enforced in a router namespace's nft; an endpoint
 * record added after the policy is picked up; a stopped-and-restarted
 * enforcer leaves the table in place throughout (no open window); the time
 * from etcd write to programmed table is measured; a table edited by hand,
 * which makes the next difference fail, is written whole again.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { silentLogger } from '../../agent/src/log/logger';
import { recordingLogger } from '../support/recording-logger';
import { PolicyEnforcer } from '../../agent/src/wiring/policy-enforcer';
import { startEtcd, type EtcdProcess } from '../lab/etcd';
import { addNetns, delNetns, nsRun, uniqueName } from '../lab/netns';
import { waitFor } from '../support/wait';

const SERVER = `require('net').createServer((s) => s.pipe(s)).listen(5432, '0.0.0.0', () => console.log('ready'));`;
const CONNECT = `
const s = require('net').connect({ host: process.argv[1], port: 5432 });
const t = setTimeout(() => { console.log('FAIL'); process.exit(0); }, 700);
s.on('connect', () => s.write('x'));
s.on('data', () => { clearTimeout(t); console.log('OK'); process.exit(0); });
s.on('error', () => { clearTimeout(t); console.log('FAIL'); process.exit(0); });
`;

describe('PolicyEnforcer: etcd to nft (root)', function () {
  this.timeout(120_000);
  let etcd: EtcdProcess;
  let client: Etcd3;
  let router = '';
  const ns: string[] = [];
  const procs: ChildProcess[] = [];
  let applied: Array<{ at: number; changed: boolean }> = [];
  const make = (logger = silentLogger()) => new PolicyEnforcer({
    client, prefix: '/knit/v1', logger, nftCommand: ['ip', 'netns', 'exec', router, 'nft'],
    onApplied: (i) => applied.push({ at: performance.now(), changed: i.changed }),
  });
  const connect = (from: string) => nsRun(from, 'node', ['-e', CONNECT, '10.96.2.2']).trim() === 'OK';
  const waitApplied = async (since: number) => {
    for (let i = 0; i < 400; i++) {
      const hit = applied.find((a) => a.at >= since && a.changed);
      if (hit) return hit.at - since;
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error('policy not programmed within 800 ms');
  };
  const tableExists = () => nsRun(router, 'nft', ['list', 'tables']).includes('knit_policy');

  before(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.endpoints });
    router = addNetns('er');
    nsRun(router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const n of [1, 2]) {
      const c = addNetns(`e${n}`);
      ns.push(c);
      const host = uniqueName('w');
      nsRun(router, 'ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c]);
      nsRun(router, 'ip', ['addr', 'add', `10.96.${n}.1/24`, 'dev', host]);
      nsRun(router, 'ip', ['link', 'set', host, 'up']);
      nsRun(c, 'ip', ['addr', 'add', `10.96.${n}.2/24`, 'dev', 'eth0']);
      nsRun(c, 'ip', ['link', 'set', 'eth0', 'up']);
      nsRun(c, 'ip', ['route', 'add', 'default', 'via', `10.96.${n}.1`]);
    }
    const server = spawn('ip', ['netns', 'exec', ns[1]!, 'node', '-e', SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(server);
    await new Promise<void>((resolve) => server.stdout?.once('data', () => resolve()));
    await client.put('/knit/v1/policy-endpoints/default/db').value(JSON.stringify({ labels: { app: 'db' }, addresses: ['10.96.2.2'] }));
  });
  after(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill();
    for (const n of [...ns, router]) if (n) delNetns(n);
    client?.close();
    await etcd?.stop();
  });

  it('no policy: no table; a policy written to etcd is enforced; an endpoint added later is allowed; restart keeps the table', async () => {
    const e1 = make();
    await e1.start();
    expect(tableExists()).to.equal(false);
    expect(connect(ns[0]!)).to.equal(true);

    let since = performance.now();
    await client.put('/knit/v1/policies/default/db-in').value(JSON.stringify({
      name: 'db-in', network: 'default', selector: { app: 'db' }, ingress: [{ from: [{ selector: { app: 'web' } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
    }));
    await waitApplied(since);
    expect(connect(ns[0]!), 'no web endpoint yet').to.equal(false);

    since = performance.now();
    await client.put('/knit/v1/policy-endpoints/default/web').value(JSON.stringify({ labels: { app: 'web' }, addresses: ['10.96.1.2'] }));
    await waitApplied(since);
    expect(connect(ns[0]!), 'web endpoint added after the policy').to.equal(true);

    // Restart: the table stays while no enforcer runs, and the new one swaps in the same state.
    await e1.stop();
    expect(tableExists()).to.equal(true);
    await client.delete().key('/knit/v1/policy-endpoints/default/web').exec(); // changes while "knitd" is down
    expect(connect(ns[0]!), 'still the old state while down: web allowed').to.equal(true);
    const e2 = make();
    await e2.start();
    expect(connect(ns[0]!), 'new state after restart: web gone, denied').to.equal(false);

    // Latency: etcd write (put resolved) → table programmed, 30 policy changes.
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      applied = [];
      since = performance.now();
      await client.put('/knit/v1/policies/default/db-in').value(JSON.stringify({
        name: 'db-in', network: 'default', selector: { app: 'db' }, ingress: [{ ports: [{ protocol: 'TCP', port: 6000 + i }] }],
      }));
      samples.push(await waitApplied(since));
    }
    samples.sort((a, b) => a - b);
    // eslint-disable-next-line no-console
    console.log(`      etcd write → nft programmed (ms): p50 ${samples[14]!.toFixed(1)} max ${samples[29]!.toFixed(1)}`);
    await client.delete().prefix('/knit/v1/policies/').exec();
    await waitFor('the table to go with the last policy', () => !tableExists(), 5000);
    expect(connect(ns[0]!)).to.equal(true);
    await e2.stop();
  });

  it('a table changed by hand: the next difference is refused, and the whole table is written at once', async () => {
    const rec = recordingLogger();
    const e = make(rec.logger);
    await e.start();
    await client.put('/knit/v1/policy-endpoints/default/web').value(JSON.stringify({ labels: { app: 'web' }, addresses: ['10.96.1.2'] }));
    let since = performance.now();
    await client.put('/knit/v1/policies/default/db-in').value(JSON.stringify({
      name: 'db-in', network: 'default', selector: { app: 'db' }, ingress: [{ from: [{ selector: { app: 'web' } }], ports: [{ protocol: 'TCP', port: 5431 }] }],
    }));
    await waitApplied(since);
    expect(connect(ns[0]!), 'port 5432 not allowed yet').to.equal(false);
    // Someone deletes the rule group that holds the port: the difference of the next change names it.
    const groups = nsRun(router, 'nft', ['list', 'table', 'inet', 'knit_policy']).match(/chain (ingress_rules_[0-9a-f]+)/g) ?? [];
    expect(groups, 'one rule group').to.have.length(1);
    const group = groups[0]!.replace('chain ', '');
    nsRun(router, 'nft', ['-f', '-'], `flush chain inet knit_policy ${group}\ndelete set inet knit_policy ${group}_ports\n`);
    expect(nsRun(router, 'nft', ['list', 'chain', 'inet', 'knit_policy', group])).not.to.include('dport');
    since = performance.now();
    await client.put('/knit/v1/policies/default/db-in').value(JSON.stringify({
      name: 'db-in', network: 'default', selector: { app: 'db' }, ingress: [{ from: [{ selector: { app: 'web' } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
    }));
    await waitApplied(since);
    expect(connect(ns[0]!), 'allowed by the new port after the whole table was written').to.equal(true);
    expect(nsRun(router, 'nft', ['list', 'set', 'inet', 'knit_policy', `${group}_ports`])).to.include('tcp . 5432');
    // In the same run: the refusal is a warning, not a failed run retried later.
    expect(rec.lines.filter((l) => l.message === 'nft refused the policy table update; replacing the whole table')).to.have.length(1);
    expect(rec.lines.filter((l) => l.level === 'error')).to.deep.equal([]);
    // (the start with no policy removes any table; the first policy is a whole table; the repair another)
    expect(rec.lines.filter((l) => l.message === 'network policy programmed').map((l) => l.write)).to.deep.equal(['removal', 'table', 'table']);
    await client.delete().prefix('/knit/v1/policies/').exec();
    await client.delete().key('/knit/v1/policy-endpoints/default/web').exec();
    await waitFor('the table to go with the last policy', () => !tableExists(), 5000);
    await e.stop();
  });
});
