import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import { silentLogger } from '../../agent/src/log/logger';
import { Ipam, PoolExhaustedError } from '../../agent/src/ipam';

describe('ipam allocator', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'knit-ipam-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));

  const open = (subnet: string, now?: () => Date) =>
    Ipam.open({ subnet, stateFile: path.join(dir, 'ipam.json'), logger: silentLogger(), now });

  it('exposes subnet, gateway and prefix length', async () => {
    const ipam = await open('10.244.1.0/24');
    expect(ipam.subnet).to.equal('10.244.1.0/24');
    expect(ipam.gateway).to.equal('10.244.1.1');
    expect(ipam.prefixLength).to.equal(24);
    expect(ipam.stats()).to.deep.equal({ size: 253, used: 0, free: 253 });
  });

  it('rejects a non-canonical or out-of-range subnet', async () => {
    for (const subnet of ['10.244.1.5/24', '10.244.1.0/31', '10.0.0.0/7', 'nonsense']) {
      let error: unknown;
      await open(subnet).catch((e: unknown) => { error = e; });
      expect(error, subnet).to.be.instanceOf(RangeError);
    }
  });

  it('exhausts a /29 after five addresses, never handing out network, gateway or broadcast', async () => {
    const ipam = await open('192.168.7.8/29');
    const ips: string[] = [];
    for (let i = 0; i < 5; i++) ips.push((await ipam.allocate(`c${i}`, 'eth0')).ip);
    expect(ips).to.deep.equal(['192.168.7.10', '192.168.7.11', '192.168.7.12', '192.168.7.13', '192.168.7.14']);
    let error: unknown;
    await ipam.allocate('c5', 'eth0').catch((e: unknown) => { error = e; });
    expect(error).to.be.instanceOf(PoolExhaustedError);
    expect((error as PoolExhaustedError).subnet).to.equal('192.168.7.8/29');
    expect(ipam.stats()).to.deep.equal({ size: 5, used: 5, free: 0 });
  });

  it('continues round-robin after the last allocation instead of reusing a just-released IP', async () => {
    const ipam = await open('192.168.7.8/29');
    await ipam.allocate('a', 'eth0'); // .10
    await ipam.allocate('b', 'eth0'); // .11
    await ipam.release('a', 'eth0');
    expect((await ipam.allocate('c', 'eth0')).ip).to.equal('192.168.7.12');
    await ipam.release('c', 'eth0');
    expect((await ipam.allocate('d', 'eth0')).ip).to.equal('192.168.7.13');
    expect((await ipam.allocate('e', 'eth0')).ip).to.equal('192.168.7.14');
    // Wraps to the start of the range, skipping the still-held .11.
    expect((await ipam.allocate('f', 'eth0')).ip).to.equal('192.168.7.10');
    expect((await ipam.allocate('g', 'eth0')).ip).to.equal('192.168.7.12');
  });

  it('is idempotent per (containerId, ifname) and distinguishes interfaces', async () => {
    let t = 0;
    const ipam = await open('10.244.1.0/24', () => new Date(Date.UTC(2026, 0, 1, 0, 0, t++)));
    const first = await ipam.allocate('c1', 'eth0');
    const again = await ipam.allocate('c1', 'eth0');
    expect(again).to.deep.equal(first);
    const second = await ipam.allocate('c1', 'net1');
    expect(second.ip).to.not.equal(first.ip);
    expect(ipam.stats().used).to.equal(2);
  });

  it('release is idempotent and returns what it released', async () => {
    const ipam = await open('10.244.1.0/24');
    const allocation = await ipam.allocate('c1', 'eth0');
    expect(await ipam.release('c1', 'eth0')).to.deep.equal(allocation);
    expect(await ipam.release('c1', 'eth0')).to.equal(undefined);
    expect(await ipam.release('never', 'eth0')).to.equal(undefined);
    expect(ipam.get('c1', 'eth0')).to.equal(undefined);
    expect(ipam.byIp(allocation.ip)).to.equal(undefined);
  });

  it('get, byIp and list agree', async () => {
    const ipam = await open('10.244.1.0/24');
    const x = await ipam.allocate('x', 'eth0');
    const y = await ipam.allocate('y', 'eth0');
    expect(ipam.get('x', 'eth0')).to.deep.equal(x);
    expect(ipam.byIp(y.ip)).to.deep.equal(y);
    expect(ipam.byIp('10.244.1.1')).to.equal(undefined);
    expect(ipam.byIp('garbage')).to.equal(undefined);
    expect(ipam.list()).to.deep.equal([x, y]);
  });

  it('returned allocations are copies: mutating them does not change the state', async () => {
    const ipam = await open('10.244.1.0/24');
    const x = await ipam.allocate('x', 'eth0');
    x.ip = '10.244.1.200';
    expect(ipam.get('x', 'eth0')!.ip).to.equal('10.244.1.2');
  });

  it('releaseAllExcept releases exactly the keys not kept', async () => {
    const ipam = await open('10.244.1.0/24');
    await ipam.allocate('keep', 'eth0');
    const gone1 = await ipam.allocate('keep', 'net1');
    const gone2 = await ipam.allocate('stale', 'eth0');
    const released = await ipam.releaseAllExcept([{ containerId: 'keep', ifname: 'eth0' }, { containerId: 'unknown', ifname: 'eth0' }]);
    expect(released.map((a) => a.ip).sort()).to.deep.equal([gone1.ip, gone2.ip].sort());
    expect(ipam.list().map((a) => `${a.containerId}/${a.ifname}`)).to.deep.equal(['keep/eth0']);
    expect(await ipam.releaseAllExcept([{ containerId: 'keep', ifname: 'eth0' }])).to.deep.equal([]);
  });

  it('rejects empty keys', async () => {
    const ipam = await open('10.244.1.0/24');
    let error: unknown;
    await ipam.allocate('', 'eth0').catch((e: unknown) => { error = e; });
    expect(error).to.be.instanceOf(TypeError);
  });

  it('gives 200 concurrent allocations 200 distinct addresses', async () => {
    const ipam = await open('10.244.1.0/24');
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => ipam.allocate(`c${i}`, 'eth0')));
    const ips = new Set(all.map((a) => a.ip));
    expect(ips.size).to.equal(200);
    expect(ips.has('10.244.1.0')).to.equal(false);
    expect(ips.has('10.244.1.1')).to.equal(false);
    expect(ipam.stats()).to.deep.equal({ size: 253, used: 200, free: 53 });
  });
});
