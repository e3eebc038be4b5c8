/**
 * Why NftTable flushes UDP conntrack entries: a client that kept sending to a
 * host port before the mapping existed owns a conntrack entry without NAT, and
 * its later datagrams follow that entry (never the new DNAT) until it idles
 * out. First shown with the flush disabled, then fixed by it.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { NftTable, type NftDesiredState } from '../../agent/src/dataplane/nft';
import { silentLogger } from '../../agent/src/log/logger';
import { addNetns, delNetns, nsRun, uniqueName } from '../lab/netns';

/** UDP server: answers each datagram with the sender's address. */
const UDP_SERVER = `
const s = require('dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(r.address + '\\n', r.port, r.address));
s.bind(Number(process.argv[1]), '0.0.0.0', () => console.log('ready'));
`;

/** Sends from a fixed source port every 100 ms; prints the first answer or TIMEOUT. */
const UDP_CLIENT = `
const [host, port, srcPort, ms] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const s = require('dgram').createSocket('udp4');
s.on('message', (m) => { console.log(String(m).trim()); process.exit(0); });
s.bind(srcPort, () => {
  const tick = () => s.send('hi', port, host);
  tick();
  setInterval(tick, 100);
  setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, ms);
});
`;

describe('nft UDP port mapping and stale conntrack entries (root)', function () {
  this.timeout(60000);
  let node: string;
  let outside: string;
  let c1: string;
  const procs: ChildProcess[] = [];
  let noFlush: NftTable;

  const desired: NftDesiredState = {
    portMappings: [{ id: 'c1/eth0', containerIp: '10.98.1.2', hostPort: 5353, containerPort: 53, protocol: 'udp' }],
  };
  const send = (ms: number): string => nsRun(outside, 'node', ['-e', UDP_CLIENT, '192.168.78.1', '5353', '40000', String(ms)]).trim();
  const tableWith = (conntrack: string[] | null): NftTable => new NftTable({
    nftCommand: ['ip', 'netns', 'exec', node, 'nft'],
    conntrackCommand: conntrack,
    logger: silentLogger(),
  });

  before(async () => {
    node = addNetns('nd');
    outside = addNetns('out');
    c1 = addNetns('ca');
    noFlush = tableWith(null);
    nsRun(node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    nsRun(node, 'ip', ['link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside]);
    nsRun(node, 'ip', ['addr', 'add', '192.168.78.1/24', 'dev', 'up0']);
    nsRun(node, 'ip', ['link', 'set', 'up0', 'up']);
    nsRun(outside, 'ip', ['addr', 'add', '192.168.78.2/24', 'dev', 'eth0']);
    nsRun(outside, 'ip', ['link', 'set', 'eth0', 'up']);
    const br = uniqueName('br');
    nsRun(node, 'ip', ['link', 'add', br, 'type', 'bridge']);
    nsRun(node, 'ip', ['addr', 'add', '10.98.1.1/24', 'dev', br]);
    nsRun(node, 'ip', ['link', 'set', br, 'up']);
    const host = uniqueName('h');
    nsRun(node, 'ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c1]);
    nsRun(node, 'ip', ['link', 'set', host, 'master', br, 'up']);
    nsRun(c1, 'ip', ['addr', 'add', '10.98.1.2/24', 'dev', 'eth0']);
    nsRun(c1, 'ip', ['link', 'set', 'eth0', 'up']);
    nsRun(c1, 'ip', ['route', 'add', 'default', 'via', '10.98.1.1']);
    const server = spawn('ip', ['netns', 'exec', c1, 'node', '-e', UDP_SERVER, '53'], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(server);
    await new Promise<void>((resolve, reject) => {
      server.stdout?.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`udp server exited ${code}`)));
    });
  });

  after(() => {
    for (const p of procs) if (p.exitCode === null && p.pid !== undefined) process.kill(p.pid);
    for (const ns of [c1, outside, node]) if (ns) delNetns(ns);
  });

  it('a client sending before the mapping exists creates a conntrack entry', async () => {
    // knit's table (even empty) has nat chains, so conntrack tracks this namespace from now on.
    await noFlush.apply({ portMappings: [] });
    expect(send(400)).to.equal('TIMEOUT');
    expect(nsRun(node, 'conntrack', ['-L', '-p', 'udp', '--orig-port-dst', '5353'])).to.contain('dport=5353');
  });

  it('without the flush, the stale entry keeps that client away from the new mapping', async () => {
    await noFlush.apply(desired);
    expect(send(800)).to.equal('TIMEOUT');
  });

  it('with the flush, the same client reaches the container', async () => {
    await tableWith(['ip', 'netns', 'exec', node, 'conntrack']).apply(desired);
    expect(send(1500)).to.equal('192.168.78.2');
  });
});
