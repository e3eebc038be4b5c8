import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startEtcd, type EtcdProcess } from '../lab/etcd';
import { RUN_PREFIX } from '../lab/netns';
import { cidrCoversAny, mustParseCidrAny } from '../../agent/src/net/ip';
import { createEtcdClient, type EtcdClient } from '../../agent/src/store/etcd-client';
import type { Lease } from '../../agent/src/store/lease-codec';
import { type NetworkConfig } from '../../agent/src/store/network-config';
import { parseNetwork } from '../../agent/src/backend';
import { EtcdRegistry } from '../../agent/src/store/registry';
import { SubnetExhaustedError } from '../../agent/src/subnet/errors';
import { LeaseManager, type LeaseState } from '../../agent/src/subnet/lease-manager';
import { PeerTracker } from '../../agent/src/subnet/peer-tracker';
import { sleep, waitFor } from '../support/wait';
import { cleanupAll } from '../lab/cleanup';

let seq = 0;
const until = async (what: string, cond: () => boolean, timeoutMs = 15000): Promise<void> => {
  await waitFor(what, cond, timeoutMs);
};

describe('subnet: LeaseManager and PeerTracker against a real etcd', function () {
  this.timeout(60000);
  let etcd: EtcdProcess;
  let client: EtcdClient;
  let dirs: string[];
  let managers: LeaseManager[];
  let trackers: PeerTracker[];

  const net = (cidr: string): NetworkConfig => parseNetwork({ clusterCidr: cidr, backend: { type: 'vxlan' } });
  const registry = (n: NetworkConfig, prefix: string): EtcdRegistry =>
    new EtcdRegistry(client, { prefix, scope: n, callTimeoutMs: 1000 });
  const stateDir = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'knit-subnet-it-'));
    dirs.push(d);
    return d;
  };
  const manager = (reg: EtcdRegistry, n: NetworkConfig, dir: string, ttlSeconds = 60): LeaseManager => {
    const m = new LeaseManager({ store: reg, network: n, stateDir: dir, ttlSeconds, retryMinMs: 200, retryMaxMs: 1000 });
    managers.push(m);
    return m;
  };
  const node = (i: number): { nodeName: string; publicIp: string; backendData: { vtepMac: string } } => ({
    nodeName: `node-${i}`,
    publicIp: `192.168.50.${i}`,
    backendData: { vtepMac: `0a:00:00:00:00:${i.toString(16).padStart(2, '0')}` },
  });

  before(async () => {
    etcd = await startEtcd();
    client = createEtcdClient({ endpoints: etcd.endpoints });
  });
  beforeEach(() => {
    dirs = [];
    managers = [];
    trackers = [];
  });
  afterEach(async () => {
    for (const t of trackers) await t.stop();
    for (const m of managers) m.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  after(async () => {
    await cleanupAll([
      () => client?.close(),
      () => etcd?.destroy(),
    ]);
  });
  const prefix = (): string => `/knit-test/${RUN_PREFIX}-mgr${++seq}`;

  it('20 managers acquiring at the same time get 20 distinct subnets', async () => {
    const n = net('10.50.0.0/19'); // 32 subnets for 20 nodes: plenty of races
    const reg = registry(n, prefix());
    const leases = await Promise.all(Array.from({ length: 20 }, (_, i) => manager(reg, n, stateDir()).acquire(node(i + 1))));
    expect(new Set(leases.map((l) => l.subnet)).size).to.equal(20);
    const list = await reg.listLeases();
    expect(list.leases).to.have.length(20);
    expect(new Set(list.leases.map((r) => r.lease.nodeName)).size).to.equal(20);
  });

  it('dual-stack: 20 concurrent joiners get 20 distinct IPv4 and 20 distinct IPv6 subnets; IPv6-only keys by IPv6 subnet', async () => {
    const n = parseNetwork({ clusterCidr: '10.51.0.0/19', ipv6ClusterCidr: 'fd00:51::/59', backend: { type: 'vxlan' } });
    const reg = registry(n, prefix());
    const leases = await Promise.all(Array.from({ length: 20 }, (_, i) => manager(reg, n, stateDir()).acquire({ ...node(i + 1), publicIpv6: `fd50::${i + 1}` })));
    expect(new Set(leases.map((l) => l.subnet)).size).to.equal(20);
    expect(new Set(leases.map((l) => l.ipv6Subnet)).size).to.equal(20);
    const list = await reg.listLeases();
    expect(list.invalid).to.deep.equal([]);
    const c6 = mustParseCidrAny('fd00:51::/59');
    expect(list.leases.filter((r) => r.lease.ipv6Subnet !== undefined && cidrCoversAny(c6, mustParseCidrAny(r.lease.ipv6Subnet)))).to.have.length(20);

    const n6 = parseNetwork({ clusterCidr: 'fd00:52::/60', backend: { type: 'host-gw' } });
    const p6 = prefix();
    const reg6 = registry(n6, p6);
    const v6 = await Promise.all(Array.from({ length: 5 }, (_, i) => manager(reg6, n6, stateDir()).acquire({ ...node(i + 1), publicIp: `fd50::${i + 1}` })));
    expect(new Set(v6.map((l) => l.subnet)).size).to.equal(5);
    const keys = (await client.getAll().prefix(`${p6}/subnets/`).keys()).map((k) => k.slice(p6.length + '/subnets/'.length)).sort();
    expect(keys).to.deep.equal(v6.map((l) => l.subnet.replace('/', '-')).sort());
  });

  it('a full address space gives a clear error', async () => {
    const n = net('10.60.0.0/22');
    const reg = registry(n, prefix());
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => manager(reg, n, stateDir()).acquire(node(i + 1))));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).to.have.length(4);
    expect(failed).to.have.length(1);
    expect(failed[0].reason).to.be.instanceOf(SubnetExhaustedError);
    expect((failed[0].reason as Error).message).to.equal('no free /24 left in 10.60.0.0/22: 4 of 4 leased');
  });

  it('a restart (new manager, same node name and state dir) gets the same subnet, even if etcd lost the lease', async () => {
    const n = net('10.70.0.0/16');
    const reg = registry(n, prefix());
    const dir = stateDir();
    const first = await manager(reg, n, dir).acquire(node(1));
    // Others join meanwhile.
    await Promise.all([2, 3, 4].map((i) => manager(reg, n, stateDir()).acquire(node(i))));
    const again = await manager(reg, n, dir).acquire(node(1)); // restart: etcd has our lease by name
    expect(again.subnet).to.equal(first.subnet);
    // etcd loses it (e.g. expired while knitd was down): the state file brings it back.
    const cur = (await reg.listLeases()).leases.find((r) => r.lease.nodeName === 'node-1')!;
    await reg.deleteLease(cur);
    const third = await manager(reg, n, dir).acquire(node(1));
    expect(third.subnet).to.equal(first.subnet);
    expect((await reg.listLeases()).leases.filter((r) => r.lease.nodeName === 'node-1')).to.have.length(1);
  });

  it('peers see a node join and leave, through list + watch', async () => {
    const n = net('10.80.0.0/16');
    const p = prefix();
    const a = manager(registry(n, p), n, stateDir());
    const la = await a.acquire(node(1));
    const t = new PeerTracker({ feed: registry(n, p), nodeName: 'node-1', publicIp: node(1).publicIp, ownSubnet: () => a.lease?.subnet });
    trackers.push(t);
    const sets: string[][] = [];
    t.on('peers-changed', (peers: Lease[]) => sets.push(peers.map((x) => x.nodeName)));
    await t.start();
    expect(sets).to.deep.equal([[]]);
    const b = manager(registry(n, p), n, stateDir());
    const lb = await b.acquire(node(2));
    await until('node-2 to appear', () => t.peers().some((x) => x.nodeName === 'node-2'));
    expect(t.peers().map((x) => [x.subnet, x.publicIp, x.backend.data.vtepMac])).to.deep.equal([[lb.subnet, '192.168.50.2', '0a:00:00:00:00:02']]);
    expect(t.peers().some((x) => x.subnet === la.subnet)).to.equal(false);
    await b.release();
    await until('node-2 to leave', () => t.peers().length === 0);
    expect(sets).to.deep.equal([[], ['node-2'], []]);
  });

  it('garbage, a foreign-CIDR lease and a duplicate public IP written by hand are skipped and counted', async () => {
    const n = net('10.90.0.0/16');
    const p = prefix();
    const reg = registry(n, p);
    await manager(reg, n, stateDir()).acquire(node(2));
    let invalid = 0;
    let dups = 0;
    const t = new PeerTracker({
      feed: reg,
      nodeName: 'node-1',
      invalidCounter: { inc: () => void invalid++ },
      duplicateCounter: { inc: () => void dups++ },
    });
    trackers.push(t);
    await t.start();
    expect(t.peers().map((x) => x.nodeName)).to.deep.equal(['node-2']);
    const lease = (nodeName: string, publicIp: string): string =>
      JSON.stringify({ nodeName, publicIp, backend: { type: 'vxlan', data: {} }, renewedAt: new Date().toISOString() });
    await client.put(`${reg.subnetsPrefix}10.90.77.0-24`).value('garbage');
    await client.put(`${reg.subnetsPrefix}10.1.0.0-24`).value(lease('outsider', '192.168.50.66'));
    await client.put(`${reg.subnetsPrefix}10.90.78.0-24`).value(lease('copycat', '192.168.50.2'));
    // On a timeout, say what was seen (a CI run once timed out here; not reproduced in 6 runs since).
    await waitFor('the three bad writes to be seen', () => invalid === 2 && dups === 1, 15_000,
      () => `invalid=${invalid} duplicates=${dups} peers=${JSON.stringify(t.peers().map((x) => [x.subnet, x.nodeName, x.publicIp]))}`);
    expect(t.peers().map((x) => x.nodeName)).to.deep.equal(['node-2']);
    // A new manager does not take the subnet under the garbage either.
    const taken = await manager(reg, n, stateDir()).acquire({ ...node(3), previousSubnet: '10.90.77.0/24' }).catch((e: Error) => e);
    expect(taken).to.be.instanceOf(Error);
    expect((taken as Error).message).to.contain('unparseable');
  });

  it('etcd paused then resumed: the manager reports degraded, then renews (or re-creates) the same subnet', async () => {
    const n = net('10.100.0.0/16');
    const p = prefix();
    const reg = registry(n, p);
    const m = manager(reg, n, stateDir(), 3); // renews every ~1.5 s
    const states: LeaseState[] = [];
    m.on('state', (_f: LeaseState, to: LeaseState) => states.push(to));
    const lease = await m.acquire(node(1));
    etcd.pause();
    try {
      await until('degraded', () => m.health().degraded, 20000);
      expect(m.health().healthy).to.equal(true); // degraded is not failed: traffic keeps flowing
    } finally {
      etcd.resume();
    }
    await until('held again', () => m.health().state === 'held', 20000);
    expect(m.health().subnet).to.equal(lease.subnet);
    const list = await reg.listLeases();
    expect(list.leases.map((r) => [r.lease.subnet, r.lease.nodeName])).to.deep.equal([[lease.subnet, 'node-1']]);
    expect(states.slice(0, 3)).to.deep.equal(['acquiring', 'held', 'degraded']);
    // and keeps renewing afterwards
    await sleep(3500);
    expect(m.health().state).to.equal('held');
    expect((await reg.listLeases()).leases).to.have.length(1);
  });
});
