import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConflictError, EtcdUnavailableError, LeaseExpiredError } from '../../agent/src/store/errors';
import { encodeLeaseValue, InvalidLeaseError, parseLease, subnetKeyName, type LeaseValue } from '../../agent/src/store/lease-codec';
import type { LeaseList, LeaseRecord } from '../../agent/src/store/lease-record';
import { type NetworkConfig } from '../../agent/src/store/network-config';
import { parseNetwork } from '../../agent/src/backend';
import { SubnetConflictError, SubnetExhaustedError, SubnetOutOfNetworkError } from '../../agent/src/subnet/errors';
import { LeaseManager, type LeaseState } from '../../agent/src/subnet/lease-manager';
import type { LeaseStore } from '../../agent/src/subnet/ports';
import { FakeClock } from '../support/fake-clock';
import { readSubnetState, writeSubnetState } from '../../agent/src/subnet/state-file';

/** In-memory etcd semantics: create-if-absent, CAS on mod revision, etcd leases that can expire. */
class FakeStore implements LeaseStore {
  rev = 1;
  private leaseSeq = 100;
  readonly keys = new Map<string, { raw: string; mod: number; leaseId: string }>();
  readonly live = new Set<string>();
  down = false;
  calls: string[] = [];
  /** Runs before a create is applied: lets a test make another writer win the race. */
  beforeCreate: ((subnet: string) => void) | undefined;

  constructor(private readonly net: NetworkConfig) {}

  private gate(op: string): void {
    this.calls.push(op);
    if (this.down) throw new EtcdUnavailableError(`${op}: etcd unavailable`);
  }
  private put(subnet: string, raw: string): { mod: number; leaseId: string } {
    const leaseId = String(++this.leaseSeq);
    this.live.add(leaseId);
    const e = { raw, mod: ++this.rev, leaseId };
    this.keys.set(subnet, e);
    return e;
  }
  /** Another node (or garbage) written directly. */
  putRaw(subnet: string, raw: string | LeaseValue): void {
    this.put(subnet, typeof raw === 'string' ? raw : encodeLeaseValue(raw));
  }
  /** The etcd lease behind a key expires: key gone. */
  expire(subnet: string): void {
    const e = this.keys.get(subnet);
    if (!e) throw new Error(`no key ${subnet}`);
    this.live.delete(e.leaseId);
    this.keys.delete(subnet);
    this.rev++;
  }
  holder(subnet: string): string | undefined {
    const e = this.keys.get(subnet);
    return e ? (JSON.parse(e.raw) as LeaseValue).nodeName : undefined;
  }
  private rec(subnet: string, value: LeaseValue, e: { mod: number; leaseId: string }): LeaseRecord {
    return { lease: { subnet, ...value }, modRevision: e.mod, etcdLeaseId: e.leaseId };
  }

  async createLease(subnet: string, value: LeaseValue): Promise<LeaseRecord> {
    this.gate(`create ${subnet}`);
    this.beforeCreate?.(subnet);
    const cur = this.keys.get(subnet);
    if (cur) throw new ConflictError(`create ${subnet}: taken`, cur.raw);
    return this.rec(subnet, value, this.put(subnet, encodeLeaseValue(value)));
  }
  async updateLease(held: LeaseRecord, value: LeaseValue): Promise<LeaseRecord> {
    this.gate(`update ${held.lease.subnet}`);
    const cur = this.keys.get(held.lease.subnet);
    if (!cur || cur.mod !== held.modRevision) throw new ConflictError('update: changed', cur?.raw);
    this.live.delete(held.etcdLeaseId);
    return this.rec(held.lease.subnet, value, this.put(held.lease.subnet, encodeLeaseValue(value)));
  }
  async renewLease(held: LeaseRecord): Promise<{ ttlSeconds: number }> {
    this.gate(`renew ${held.lease.subnet}`);
    if (!this.live.has(held.etcdLeaseId)) throw new LeaseExpiredError('renew: etcd lease expired');
    const cur = this.keys.get(held.lease.subnet);
    if (!cur) throw new LeaseExpiredError('renew: key gone');
    if (cur.mod !== held.modRevision) throw new ConflictError('renew: rewritten', cur.raw);
    return { ttlSeconds: 100 };
  }
  async deleteLease(held: LeaseRecord): Promise<void> {
    this.gate(`delete ${held.lease.subnet}`);
    const cur = this.keys.get(held.lease.subnet);
    if (!cur || cur.mod !== held.modRevision) throw new ConflictError('delete: not ours', cur?.raw);
    this.keys.delete(held.lease.subnet);
    this.live.delete(held.etcdLeaseId);
  }
  async listLeases(): Promise<LeaseList> {
    this.gate('list');
    const out: LeaseList = { leases: [], invalid: [], revision: this.rev };
    for (const [subnet, e] of this.keys) {
      try {
        out.leases.push({ lease: parseLease(subnetKeyName(subnet), e.raw, this.net), modRevision: e.mod, etcdLeaseId: e.leaseId });
      } catch (err) {
        if (!(err instanceof InvalidLeaseError)) throw err;
        out.invalid.push({ keyName: subnetKeyName(subnet), subnet, reason: err.message, modRevision: e.mod });
      }
    }
    return out;
  }
}


const NET = parseNetwork({ clusterCidr: '10.244.0.0/16', backend: { type: 'vxlan' } });
const TTL = 100;
const other = (nodeName: string, publicIp: string): LeaseValue => ({
  nodeName,
  publicIp,
  backend: { type: 'vxlan', data: { vtepMac: '0a:00:00:00:00:02' } },
  renewedAt: '2026-01-01T00:00:00.000Z',
});
const req = { nodeName: 'node-a', publicIp: '192.168.0.1', backendData: { vtepMac: '0a:00:00:00:00:01' } };

describe('subnet: LeaseManager rules (fake store, fake clock)', () => {
  let dir: string;
  let store: FakeStore;
  let clock: FakeClock;
  let managers: LeaseManager[];
  const make = (net: NetworkConfig = NET, random: () => number = Math.random, stateDir = dir): LeaseManager => {
    const m = new LeaseManager({ store, network: net, stateDir, ttlSeconds: TTL, clock, random, retryMinMs: 1000, retryMaxMs: 8000 });
    managers.push(m);
    return m;
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'knit-subnet-'));
    store = new FakeStore(NET);
    clock = new FakeClock();
    managers = [];
  });
  afterEach(() => {
    for (const m of managers) m.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acquires a free subnet in range, publishes the value and writes the state file', async () => {
    const m = make();
    const lease = await m.acquire(req);
    expect(lease.subnet).to.match(/^10\.244\.\d+\.0\/24$/);
    expect(store.holder(lease.subnet)).to.equal('node-a');
    expect(lease.backend).to.deep.equal({ type: 'vxlan', data: req.backendData });
    expect(m.health()).to.include({ state: 'held', healthy: true, degraded: false, subnet: lease.subnet });
    expect((await readSubnetState(dir))?.subnet).to.equal(lease.subnet);
  });

  it('re-acquires the SAME subnet held under its name in etcd, with a fresh etcd lease', async () => {
    const first = await make().acquire(req);
    const before = store.keys.get(first.subnet)!;
    rmSync(path.join(dir, 'subnet.json')); // even without the state file
    const again = await make().acquire({ ...req, publicIp: '192.168.0.9' });
    expect(again.subnet).to.equal(first.subnet);
    const after = store.keys.get(first.subnet)!;
    expect(after.leaseId).to.not.equal(before.leaseId);
    expect(store.live.has(before.leaseId)).to.equal(false);
    expect(JSON.parse(after.raw).publicIp).to.equal('192.168.0.9');
    expect(store.keys.size).to.equal(1);
  });

  it('prefers the etcd lease under its name over a disagreeing state file', async () => {
    store.putRaw('10.244.7.0/24', { ...other('node-a', '192.168.0.1') });
    const lease = await make().acquire({ ...req, previousSubnet: '10.244.9.0/24' });
    expect(lease.subnet).to.equal('10.244.7.0/24');
    expect(store.keys.has('10.244.9.0/24')).to.equal(false);
  });

  it('takes the previous subnet from the state file when it is free', async () => {
    await writeSubnetState(dir, { subnet: '10.244.42.0/24', nodeName: 'node-a', writtenAt: '' });
    const lease = await make(NET, () => 0).acquire(req);
    expect(lease.subnet).to.equal('10.244.42.0/24');
  });

  it('refuses when the previous subnet is held by another node (flannel #1343), writing nothing', async () => {
    store.putRaw('10.244.42.0/24', other('node-b', '192.168.0.2'));
    const before = store.keys.get('10.244.42.0/24')!;
    const m = make();
    const conflicts: SubnetConflictError[] = [];
    m.on('conflict', (e: SubnetConflictError) => conflicts.push(e));
    let caught: unknown;
    try {
      await m.acquire({ ...req, previousSubnet: '10.244.42.0/24' });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(SubnetConflictError);
    expect((caught as SubnetConflictError).holder).to.equal('node-b');
    expect((caught as Error).message).to.match(/10\.244\.42\.0\/24 of node node-a is now leased by node node-b/);
    expect(conflicts).to.have.length(1);
    expect(m.health()).to.include({ state: 'conflict', healthy: false });
    expect(store.keys.get('10.244.42.0/24')).to.deep.equal(before);
    expect(store.keys.size).to.equal(1);
    expect(store.calls.filter((c) => !c.startsWith('list'))).to.deep.equal([]);
  });

  it('refuses when the previous subnet holds an unparseable value', async () => {
    store.putRaw('10.244.42.0/24', 'garbage');
    let caught: unknown;
    try {
      await make().acquire({ ...req, previousSubnet: '10.244.42.0/24' });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(SubnetConflictError);
    expect((caught as SubnetConflictError).holder).to.equal(undefined);
    expect(store.keys.get('10.244.42.0/24')!.raw).to.equal('garbage');
  });

  it('refuses a previous subnet the network config cannot hold', async () => {
    let caught: unknown;
    try {
      await make().acquire({ ...req, previousSubnet: '10.99.1.0/24' });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(SubnetOutOfNetworkError);
    expect((caught as Error).message).to.contain('10.99.1.0/24').and.contain('10.244.0.0/16');
  });

  it('gives a clear error when the address space is full', async () => {
    for (let i = 0; i < 256; i++) store.putRaw(`10.244.${i}.0/24`, other(`n${i}`, `192.168.1.${i}`));
    const m = make();
    let caught: unknown;
    try {
      await m.acquire(req);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(SubnetExhaustedError);
    expect((caught as Error).message).to.equal('no free /24 left in 10.244.0.0/16: 256 of 256 leased');
    expect(m.health().healthy).to.equal(false);
  });

  it('counts garbage keys as taken and honours subnetMin/subnetMax', async () => {
    const net = parseNetwork({ clusterCidr: '10.0.0.0/24', subnetLength: 28, subnetMin: '10.0.0.32', subnetMax: '10.0.0.64', backend: { type: 'host-gw' } });
    store = new FakeStore(net);
    store.putRaw('10.0.0.32/28', 'garbage');
    store.putRaw('10.0.0.48/28', other('b', '192.168.0.2'));
    const lease = await make(net).acquire(req);
    expect(lease.subnet).to.equal('10.0.0.64/28');
    let caught: unknown;
    try {
      await make(net, Math.random, path.join(dir, 'node-z')).acquire({ ...req, nodeName: 'node-z' });
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).to.equal('no free /28 left in 10.0.0.0/24 (subnetMin..subnetMax): 3 of 3 leased');
  });

  it('dual-stack: publishes the IPv6 subnet paired with its IPv4 subnet and its IPv6 underlay address', async () => {
    const net = parseNetwork({ clusterCidr: '10.244.0.0/16', ipv6ClusterCidr: 'fd00:10:244::/56', backend: { type: 'vxlan' } });
    store = new FakeStore(net);
    await writeSubnetState(dir, { subnet: '10.244.42.0/24', nodeName: 'node-a', writtenAt: '' });
    const lease = await make(net).acquire({ ...req, publicIpv6: 'fd30::1' });
    expect(lease).to.include({ subnet: '10.244.42.0/24', ipv6Subnet: 'fd00:10:244:2a::/64', publicIpv6: 'fd30::1' });
    expect(JSON.parse(store.keys.get('10.244.42.0/24')!.raw)).to.include({ ipv6Subnet: 'fd00:10:244:2a::/64', publicIpv6: 'fd30::1' });
  });

  it('upgrade to dual-stack: the lease written by an IPv4-only run keeps its IPv4 subnet and gains the paired IPv6 one', async () => {
    store.putRaw('10.244.7.0/24', other('node-a', '192.168.0.1'));
    const net = parseNetwork({ clusterCidr: '10.244.0.0/16', ipv6ClusterCidr: 'fd00:10:244::/56', backend: { type: 'vxlan' } });
    const lease = await make(net).acquire({ ...req, previousSubnet: '10.244.9.0/24' });
    expect(lease.subnet).to.equal('10.244.7.0/24');
    expect(lease.ipv6Subnet).to.equal('fd00:10:244:7::/64');
    expect(store.keys.size).to.equal(1);
  });

  it('IPv6-only: leases an IPv6 subnet keyed by itself, inside subnetMin..subnetMax', async () => {
    const net = parseNetwork({ clusterCidr: 'fd00:10:244::/56', subnetMin: 'fd00:10:244:10::', subnetMax: 'fd00:10:244:11::', backend: { type: 'host-gw' } });
    store = new FakeStore(net);
    store.putRaw('fd00:10:244:10::/64', { ...other('node-b', 'fd30::2'), backend: { type: 'host-gw', data: {} } });
    const lease = await make(net).acquire({ ...req, publicIp: 'fd30::1' });
    expect(lease.subnet).to.equal('fd00:10:244:11::/64');
    expect(lease.ipv6Subnet).to.equal(undefined);
    let caught: unknown;
    try {
      await make(net, Math.random, path.join(dir, 'node-z')).acquire({ ...req, nodeName: 'node-z', publicIp: 'fd30::3' });
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).to.equal('no free /64 left in fd00:10:244::/56 (subnetMin..subnetMax): 2 of 2 leased');
  });

  it('retries on create races and never overwrites the winners', async () => {
    let stolen = 0;
    store.beforeCreate = (subnet) => {
      if (stolen < 3) {
        stolen++;
        store.putRaw(subnet, other(`racer${stolen}`, `192.168.2.${stolen}`));
      }
    };
    const lease = await make().acquire(req);
    expect(stolen).to.equal(3);
    expect(store.keys.size).to.equal(4);
    expect(store.holder(lease.subnet)).to.equal('node-a');
    const racers = [...store.keys.keys()].filter((s) => s !== lease.subnet).map((s) => store.holder(s));
    expect(racers.sort()).to.deep.equal(['racer1', 'racer2', 'racer3']);
  });

  it('timing: the remaining TTL counts down and resets at each renewal; renewedAt moves', async () => {
    const m = make(NET, () => 0.5);
    expect(m.timing()).to.equal(undefined);
    await m.acquire(req);
    const t0 = clock.wallNow();
    expect(m.timing()).to.deep.include({ remainingSeconds: TTL, renewedAt: new Date(t0), expiresAt: new Date(t0 + TTL * 1000) });
    await clock.advanceSettled(30_000);
    expect(m.timing()!.remainingSeconds).to.equal(TTL - 30);
    await clock.advanceSettled(25_000); // past half the TTL: renewed at t0 + 50 s
    expect(store.calls.filter((c) => c.startsWith('renew'))).to.have.length(1);
    const t = m.timing()!;
    expect(t.renewedAt.getTime()).to.equal(t0 + 50_000);
    expect(t.remainingSeconds).to.equal(TTL - 5);
    m.stop();
    expect(m.timing(), 'nothing held after stop').to.equal(undefined);
  });

  it('renews at about half the TTL, not before', async () => {
    const m = make();
    await m.acquire(req);
    await clock.advanceSettled(TTL * 1000 * 0.44);
    expect(store.calls.filter((c) => c.startsWith('renew'))).to.have.length(0);
    await clock.advanceSettled(TTL * 1000 * 0.12);
    expect(store.calls.filter((c) => c.startsWith('renew'))).to.have.length(1);
    expect(m.health().state).to.equal('held');
  });

  it('reports degraded while etcd is away, retries with back-off, recovers when it returns', async () => {
    const m = make(NET, () => 0.5);
    const states: LeaseState[] = [];
    m.on('state', (_from: LeaseState, to: LeaseState) => states.push(to));
    const lease = await m.acquire(req);
    store.down = true;
    await clock.advanceSettled(TTL * 1000 * 0.5);
    // One failed renewal is retried quietly; the second in a row means degraded.
    expect(m.health()).to.include({ state: 'held', degraded: false });
    await clock.advanceSettled(1000);
    expect(m.health()).to.include({ state: 'degraded', healthy: true, degraded: true });
    const renewsAt = (): number => store.calls.filter((c) => c.startsWith('renew')).length;
    await clock.advanceSettled(2000 + 4000);
    expect(renewsAt()).to.equal(4); // 1 + retries after 1 s, 2 s, 4 s
    await clock.advanceSettled(8000);
    expect(renewsAt()).to.equal(5); // capped at 8 s
    store.down = false;
    await clock.advanceSettled(8000);
    expect(m.health()).to.include({ state: 'held', degraded: false, subnet: lease.subnet });
    expect(states).to.deep.equal(['acquiring', 'held', 'degraded', 'held']);
  });

  it('with a check interval, notices etcd leaving and returning within it, long before half the TTL', async () => {
    const m = new LeaseManager({ store, network: NET, stateDir: dir, ttlSeconds: TTL, clock, random: () => 0.5, retryMinMs: 1000, retryMaxMs: 30000, checkIntervalMs: 5000 });
    managers.push(m);
    const states: LeaseState[] = [];
    m.on('state', (from: LeaseState, to: LeaseState) => { if (from !== to) states.push(to); });
    await m.acquire(req);
    const renews = (): number => store.calls.filter((c) => c.startsWith('renew')).length;
    await clock.advanceSettled(4900);
    expect(renews()).to.equal(0);
    await clock.advanceSettled(100);
    expect(renews()).to.equal(1);
    store.down = true;
    await clock.advanceSettled(5000);
    expect(m.health()).to.include({ state: 'held', degraded: false });
    await clock.advanceSettled(1000);
    expect(m.health()).to.include({ state: 'degraded', degraded: true });
    await clock.advanceSettled(2000 + 4000 + 5000 + 5000);
    expect(renews()).to.equal(7); // retries after 1, 2, 4 s, then capped at the check interval
    store.down = false;
    await clock.advanceSettled(5000);
    expect(m.health()).to.include({ state: 'held', degraded: false });
    expect(states).to.deep.equal(['acquiring', 'held', 'degraded', 'held']);
  });

  it('re-creates the same subnet when its etcd lease expired meanwhile and it is still free', async () => {
    const m = make(NET, () => 0.5);
    const lease = await m.acquire(req);
    store.down = true;
    await clock.advanceSettled(TTL * 1000 * 0.5);
    store.expire(lease.subnet);
    store.down = false;
    await clock.advanceSettled(1000);
    expect(m.health()).to.include({ state: 'held', subnet: lease.subnet });
    expect(store.holder(lease.subnet)).to.equal('node-a');
    expect(store.calls).to.include(`create ${lease.subnet}`);
  });

  it('refuses and reports when its subnet expired and was given to another node (flannel #1343)', async () => {
    const m = make(NET, () => 0.5);
    const lease = await m.acquire(req);
    const conflicts: SubnetConflictError[] = [];
    m.on('conflict', (e: SubnetConflictError) => conflicts.push(e));
    store.down = true; // "partitioned"
    await clock.advanceSettled(TTL * 1000 * 0.5);
    store.expire(lease.subnet);
    store.putRaw(lease.subnet, other('node-b', '192.168.0.2'));
    const taken = store.keys.get(lease.subnet)!;
    store.down = false;
    await clock.advanceSettled(1000);
    expect(conflicts).to.have.length(1);
    expect(conflicts[0].holder).to.equal('node-b');
    expect(m.health()).to.include({ state: 'conflict', healthy: false });
    expect(m.lease).to.equal(undefined);
    expect(store.keys.get(lease.subnet)).to.deep.equal(taken);
    const before = store.calls.length;
    await clock.advanceSettled(TTL * 1000 * 2);
    // While the other node holds it, the manager only looks (to recover once it is gone), never writes.
    const later = store.calls.slice(before);
    expect(later.length).to.be.greaterThan(0);
    expect(later.filter((c) => !c.startsWith('list'))).to.deep.equal([]);
    expect(store.keys.get(lease.subnet)).to.deep.equal(taken);
    expect(m.health().state).to.equal('conflict');
  });

  it('recovers from a conflict once the intruder\'s lease is deleted: same subnet, healthy, no restart', async () => {
    const m = make();
    const lease = await m.acquire(req);
    store.putRaw(lease.subnet, other('intruder', '192.168.0.3'));
    await m.verifyNow();
    expect(m.health().state).to.equal('conflict');
    await m.verifyNow(); // still taken: stays in conflict, writes nothing
    expect(m.health().state).to.equal('conflict');
    expect((JSON.parse(store.keys.get(lease.subnet)!.raw) as { nodeName: string }).nodeName).to.equal('intruder');
    store.keys.delete(lease.subnet);
    await m.verifyNow(); // the watch saw the delete
    expect(m.health()).to.include({ state: 'held', healthy: true, subnet: lease.subnet });
    expect(m.health().reason).to.match(/recovered from conflict/);
    expect(m.lease?.subnet).to.equal(lease.subnet);
    expect((JSON.parse(store.keys.get(lease.subnet)!.raw) as { nodeName: string }).nodeName).to.equal('node-a');
  });

  it('recovers from a conflict by the periodic check when no watch event comes', async () => {
    const m = make();
    const lease = await m.acquire(req);
    store.putRaw(lease.subnet, other('intruder', '192.168.0.3'));
    await m.verifyNow();
    expect(m.health().state).to.equal('conflict');
    store.keys.delete(lease.subnet);
    await clock.advanceSettled(TTL * 1000);
    expect(m.health().state).to.equal('held');
    expect((JSON.parse(store.keys.get(lease.subnet)!.raw) as { nodeName: string }).nodeName).to.equal('node-a');
  });

  it('verifyNow detects a takeover at once (watch-driven)', async () => {
    const m = make();
    const lease = await m.acquire(req);
    store.putRaw(lease.subnet, other('intruder', '192.168.0.3')); // overwritten by hand
    await m.verifyNow();
    expect(m.health().state).to.equal('conflict');
    expect(m.health().reason).to.contain('node intruder');
  });

  it('release deletes its own lease, and leaves a lease taken over meanwhile alone', async () => {
    const m1 = make();
    const l1 = await m1.acquire(req);
    await m1.release();
    expect(store.keys.has(l1.subnet)).to.equal(false);
    expect(m1.health().state).to.equal('released');

    const m2 = make();
    const l2 = await m2.acquire({ ...req, nodeName: 'node-c' });
    store.putRaw(l2.subnet, other('node-d', '192.168.0.4'));
    await m2.release();
    expect(store.holder(l2.subnet)).to.equal('node-d');
  });

  it('stop without release says "stopped", never "released", and leaves the key in etcd', async () => {
    const m = make();
    const lease = await m.acquire(req);
    const transitions: string[] = [];
    m.on('state', (from: string, to: string) => transitions.push(`${from} -> ${to}`));
    m.stop();
    expect(transitions).to.deep.equal(['held -> stopped']);
    expect(m.health().state).to.equal('stopped');
    expect(store.holder(lease.subnet)).to.equal('node-a');
    expect(clock.pending(), 'no renewal timer left').to.have.length(0);
  });

  it('drops extra leases under its own name, keeping the previous subnet', async () => {
    store.putRaw('10.244.1.0/24', other('node-a', '192.168.0.1'));
    store.putRaw('10.244.2.0/24', other('node-a', '192.168.0.1'));
    const lease = await make().acquire({ ...req, previousSubnet: '10.244.2.0/24' });
    expect(lease.subnet).to.equal('10.244.2.0/24');
    expect([...store.keys.keys()]).to.deep.equal(['10.244.2.0/24']);
  });

  it('propagates an unreachable etcd at acquire as EtcdUnavailableError and can be retried', async () => {
    const m = make();
    store.down = true;
    let caught: unknown;
    try {
      await m.acquire(req);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(EtcdUnavailableError);
    expect(m.health().state).to.equal('idle');
    store.down = false;
    expect((await m.acquire(req)).subnet).to.match(/^10\.244\./);
  });
});
