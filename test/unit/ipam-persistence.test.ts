import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { silentLogger } from '../../agent/src/log/logger';
import { Ipam, IpamStateError, nodeStateFs, StateFs } from '../../agent/src/ipam';
import { DurableWrites } from '../../agent/src/persist/durable-writes';

/** The real file system, counting renames and fsyncs; `gate` can hold renames back. */
class SpyFs implements StateFs {
  renames = 0;
  syncs = 0;
  /** Writes between opening a temp file and its rename; must never exceed 1 (an older snapshot could land last). */
  inFlight = 0;
  maxInFlight = 0;
  failNextRename = false;
  gate: Promise<void> | undefined;
  readFile = nodeStateFs.readFile;
  unlink = nodeStateFs.unlink;
  open: StateFs['open'] = async (file, flags, mode) => {
    if (flags === 'w') {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    }
    const handle = await nodeStateFs.open(file, flags, mode);
    return {
      writeFile: (data, encoding) => handle.writeFile(data, encoding),
      sync: () => { this.syncs++; return handle.sync(); },
      close: () => handle.close(),
    };
  };
  rename: StateFs['rename'] = async (from, to) => {
    if (this.gate !== undefined) await this.gate;
    try {
      if (this.failNextRename) {
        this.failNextRename = false;
        throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      }
      this.renames++;
      return await nodeStateFs.rename(from, to);
    } finally {
      this.inFlight--;
    }
  };
}

describe('ipam persistence', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'knit-ipam-'));
    file = path.join(dir, 'ipam.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));

  const open = (subnet: string, fs?: StateFs, logger = silentLogger()) => Ipam.open({ subnet, stateFile: file, logger, fs });

  it('creates the state file on open, mode 0600, leaving no temporary file', async () => {
    await open('10.244.1.0/24');
    expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.equal({ version: 1, subnet: '10.244.1.0/24', allocations: [] });
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(readdirSync(dir)).to.deep.equal(['ipam.json']);
  });

  it('every resolved change is already in the file', async () => {
    const ipam = await open('10.244.1.0/24');
    const a = await ipam.allocate('c1', 'eth0');
    expect(JSON.parse(readFileSync(file, 'utf8')).allocations).to.deep.equal([a]);
    await ipam.release('c1', 'eth0');
    expect(JSON.parse(readFileSync(file, 'utf8')).allocations).to.deep.equal([]);
  });

  it('reopening restores allocations and the round-robin position exactly', async () => {
    const first = await open('192.168.7.8/29');
    await first.allocate('a', 'eth0'); // .10
    await first.allocate('b', 'eth0'); // .11
    await first.allocate('c', 'net1'); // .12
    await first.release('c', 'net1');
    const second = await open('192.168.7.8/29');
    expect(second.list()).to.deep.equal(first.list());
    expect(second.stats()).to.deep.equal(first.stats());
    // .12 was released just before the "restart": the next one is .13, as it would have been.
    expect((await second.allocate('d', 'eth0')).ip).to.equal('192.168.7.13');
  });

  it('a corrupt file is an error naming it and is left untouched', async () => {
    writeFileSync(file, '{"version": 1, "subn');
    let error: unknown;
    await open('10.244.1.0/24').catch((e: unknown) => { error = e; });
    expect(error).to.be.instanceOf(IpamStateError);
    expect((error as Error).message).to.contain(file);
    expect(readFileSync(file, 'utf8')).to.equal('{"version": 1, "subn');
  });

  it('a file for another subnet is an error naming both subnets', async () => {
    await open('10.244.1.0/24');
    const before = readFileSync(file, 'utf8');
    let error: unknown;
    await open('10.244.2.0/24').catch((e: unknown) => { error = e; });
    expect(error).to.be.instanceOf(IpamStateError);
    expect((error as Error).message).to.contain('10.244.1.0/24').and.to.contain('10.244.2.0/24');
    expect(readFileSync(file, 'utf8')).to.equal(before);
  });

  it('drops bad entries with one warning each and keeps the rest', async () => {
    const entry = (containerId: string, ip: string) => ({ containerId, ifname: 'eth0', ip, createdAt: '2026-01-01T00:00:00.000Z' });
    writeFileSync(file, JSON.stringify({
      version: 1,
      subnet: '10.244.1.0/24',
      allocations: [entry('good', '10.244.1.7'), entry('out', '10.9.9.9'), entry('gw', '10.244.1.1'), entry('dup', '10.244.1.7')],
    }));
    const warnings: string[] = [];
    const logger = silentLogger();
    logger.warn = ((message: string) => { warnings.push(message); return logger; }) as typeof logger.warn;
    const ipam = await open('10.244.1.0/24', undefined, logger);
    expect(ipam.list()).to.deep.equal([entry('good', '10.244.1.7')]);
    expect(warnings).to.have.length(3);
  });

  it('coalesces 200 concurrent allocations into at most two writes', async () => {
    const fs = new SpyFs();
    const ipam = await open('10.244.1.0/24', fs);
    const before = fs.renames;
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => ipam.allocate(`c${i}`, 'eth0')));
    expect(new Set(all.map((a) => a.ip)).size).to.equal(200);
    const writes = fs.renames - before;
    expect(writes).to.be.at.least(1).and.at.most(2);
    expect(fs.maxInFlight).to.equal(1);
    expect(JSON.parse(readFileSync(file, 'utf8')).allocations).to.have.length(200);
  });

  it('changes made while a write is in flight share the next write, and resolve only after it', async () => {
    const fs = new SpyFs();
    const ipam = await open('10.244.1.0/24', fs);
    let release!: () => void;
    fs.gate = new Promise<void>((resolve) => { release = resolve; });
    const settled: string[] = [];
    const first = ipam.allocate('first', 'eth0').then((a) => { settled.push('first'); return a; });
    await new Promise((resolve) => setImmediate(resolve)); // the first write is now waiting at rename
    const later = Array.from({ length: 50 }, (_, i) => ipam.allocate(`later${i}`, 'eth0').then((a) => { settled.push('later'); return a; }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).to.deep.equal([]);
    const renamesBefore = fs.renames;
    release();
    fs.gate = undefined;
    await first;
    await Promise.all(later);
    expect(fs.renames - renamesBefore).to.equal(2);
    expect(fs.maxInFlight).to.equal(1);
    expect(settled[0]).to.equal('first');
    expect(JSON.parse(readFileSync(file, 'utf8')).allocations).to.have.length(51);
  });

  it('a failed write rejects its callers, keeps the old file, and a repeated call makes it durable', async () => {
    const fs = new SpyFs();
    const ipam = await open('10.244.1.0/24', fs);
    fs.failNextRename = true;
    let error: unknown;
    await ipam.allocate('c1', 'eth0').catch((e: unknown) => { error = e; });
    expect((error as Error).message).to.contain(file);
    expect(JSON.parse(readFileSync(file, 'utf8')).allocations).to.deep.equal([]);
    expect(readdirSync(dir)).to.deep.equal(['ipam.json']);
    const again = await ipam.allocate('c1', 'eth0');
    expect(JSON.parse(readFileSync(file, 'utf8')).allocations).to.deep.equal([again]);
  });

  it('reserve takes the address at once (no second caller gets it) and says when it is durable', async () => {
    const fs = new SpyFs();
    const ipam = await open('10.244.1.0/24', fs);
    let release!: () => void;
    fs.gate = new Promise<void>((resolve) => { release = resolve; });
    const a = ipam.reserve('a', 'eth0');
    const b = ipam.reserve('b', 'eth0');
    expect(a.allocation.ip).not.to.equal(b.allocation.ip);
    let durable = false;
    const done = Promise.all([a.durable, b.durable]).then(() => { durable = true; });
    await new Promise((resolve) => setImmediate(resolve));
    expect(durable, 'not durable while the write waits at rename').to.equal(false);
    release();
    fs.gate = undefined;
    await done;
    expect(JSON.parse(readFileSync(file, 'utf8')).allocations.map((x: { ip: string }) => x.ip).sort()).to.deep.equal([a.allocation.ip, b.allocation.ip].sort());
    // The same key again: the same address, durable at once.
    const again = ipam.reserve('a', 'eth0');
    expect(again.allocation.ip).to.equal(a.allocation.ip);
    await again.durable;
  });
});

describe('DurableWrites', () => {
  it('all() waits for every write and throws the first failure only after all settled; settled() never throws', async () => {
    let finish!: () => void;
    const slow = new Promise<void>((resolve) => { finish = resolve; });
    const w = new DurableWrites();
    w.add(Promise.reject(new Error('disk full')));
    w.add(slow);
    let outcome: unknown;
    const all = w.all().then(() => { outcome = 'ok'; }, (e: unknown) => { outcome = e; });
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcome, 'still waiting for the slow write').to.equal(undefined);
    finish();
    await all;
    expect((outcome as Error).message).to.equal('disk full');
    await w.settled();
    const ok = new DurableWrites();
    ok.add(Promise.resolve());
    await ok.all();
  });
});
