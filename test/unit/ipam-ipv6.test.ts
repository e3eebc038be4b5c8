import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { silentLogger } from '../../agent/src/log/logger';
import { Ipam, PoolExhaustedError } from '../../agent/src/ipam';

describe('ipam allocator, IPv6 pool', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'knit-ipam6-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));
  const file = (): string => path.join(dir, 'ipam6.json');
  const open = (subnet: string) => Ipam.open({ subnet, stateFile: file(), logger: silentLogger() });

  it('a /64: gateway ::1, first container ::2, size rounds to 2^64', async () => {
    const ipam = await open('fd00:10:244:3::/64');
    expect([ipam.family, ipam.gateway, ipam.prefixLength]).to.deep.equal([6, 'fd00:10:244:3::1', 64]);
    expect((await ipam.allocate('a', 'eth0')).ip).to.equal('fd00:10:244:3::2');
    expect(ipam.stats().size).to.equal(2 ** 64);
  });

  it('a /125 hands out ::2 … ::7 (no broadcast in IPv6), then is exhausted', async () => {
    const ipam = await open('fd00::/125');
    const ips: string[] = [];
    for (let i = 0; i < 6; i++) ips.push((await ipam.allocate(`c${i}`, 'eth0')).ip);
    expect(ips).to.deep.equal(['fd00::2', 'fd00::3', 'fd00::4', 'fd00::5', 'fd00::6', 'fd00::7']);
    let error: unknown;
    await ipam.allocate('c6', 'eth0').catch((e: unknown) => { error = e; });
    expect(error).to.be.instanceOf(PoolExhaustedError);
    expect(ipam.stats()).to.deep.equal({ size: 6, used: 6, free: 0 });
  });

  it('persists, reloads, and reads a hand-written non-canonical spelling as the canonical address', async () => {
    const ipam = await open('fd00::/120');
    await ipam.allocate('a', 'eth0');
    await ipam.allocate('b', 'eth0');
    const again = await open('fd00::/120');
    expect(again.list().map((x) => x.ip)).to.deep.equal(['fd00::2', 'fd00::3']);
    expect((await again.allocate('c', 'eth0')).ip).to.equal('fd00::4');
    const doc = JSON.parse(readFileSync(file(), 'utf8')) as { allocations: Array<{ ip: string }> };
    doc.allocations[0]!.ip = 'FD00:0:0::0002';
    writeFileSync(file(), JSON.stringify(doc));
    const third = await open('fd00::/120');
    expect(third.byIp('fd00::2')?.containerId).to.equal('a');
    expect(third.get('a', 'eth0')?.ip).to.equal('fd00::2');
  });

  it('refuses an IPv4 state file for an IPv6 subnet and IPv4 addresses inside it', async () => {
    writeFileSync(file(), JSON.stringify({ version: 1, subnet: '10.0.0.0/24', allocations: [] }));
    let error: unknown;
    await open('fd00::/120').catch((e: unknown) => { error = e; });
    expect((error as Error).message).to.match(/is not an IPv6 CIDR/);
  });

  it('refuses a prefix outside 64..126', async () => {
    for (const subnet of ['fd00::/48', 'fd00::/127']) {
      let error: unknown;
      await open(subnet).catch((e: unknown) => { error = e; });
      expect(error, subnet).to.be.instanceOf(RangeError);
    }
  });
});
