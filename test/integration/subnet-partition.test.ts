/**
 * Network partitions between one knitd and etcd, made with a TCP proxy that
 * the test can cut and heal (etcd itself keeps serving everybody else).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startEtcd, type EtcdProcess } from '../lab/etcd';
import { RUN_PREFIX } from '../lab/netns';
import { createEtcdClient, type EtcdClient } from '../../agent/src/store/etcd-client';
import type { LeaseEvent, LeaseList } from '../../agent/src/store/lease-record';
import { parseNetwork } from '../../agent/src/backend';
import { EtcdRegistry } from '../../agent/src/store/registry';
import { SubnetConflictError } from '../../agent/src/subnet/errors';
import { LeaseManager } from '../../agent/src/subnet/lease-manager';
import { sleep, waitFor } from '../support/wait';
import { cleanupAll } from '../lab/cleanup';

/** A loopback TCP proxy to one upstream that can drop every connection and refuse new ones. */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private blocked = false;
  port = 0;
  constructor(private readonly upstream: { host: string; port: number }) {}
  async start(): Promise<void> {
    this.server = createServer((down) => {
      if (this.blocked) {
        down.destroy();
        return;
      }
      const up = connect(this.upstream.port, this.upstream.host);
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      down.pipe(up).pipe(down);
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }
  cut(): void {
    this.blocked = true;
    for (const s of this.sockets) s.destroy();
  }
  heal(): void {
    this.blocked = false;
  }
  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const until = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20000): Promise<void> => {
  await waitFor(what, cond, timeoutMs, undefined, { intervalMs: 50 });
};

describe('subnet: partitions between a node and etcd (TCP proxy)', function () {
  this.timeout(90000);
  let etcd: EtcdProcess;
  let direct: EtcdClient;
  let proxy: CuttableProxy;
  let viaProxy: EtcdClient;
  let dirs: string[] = [];
  let managers: LeaseManager[] = [];
  let seq = 0;
  const net = parseNetwork({ clusterCidr: '10.110.0.0/16', backend: { type: 'vxlan' } });
  const prefix = (): string => `/knit-test/${RUN_PREFIX}-part${++seq}`;
  const dir = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'knit-part-'));
    dirs.push(d);
    return d;
  };

  before(async () => {
    etcd = await startEtcd();
    direct = createEtcdClient({ endpoints: etcd.endpoints });
    const u = new URL(etcd.endpoints[0]);
    proxy = new CuttableProxy({ host: u.hostname, port: Number(u.port) });
    await proxy.start();
    viaProxy = createEtcdClient({ endpoints: [`http://127.0.0.1:${proxy.port}`] });
  });
  afterEach(() => {
    proxy.heal();
    for (const m of managers) m.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    managers = [];
    dirs = [];
  });
  after(async () => {
    await cleanupAll([
      () => viaProxy?.close(),
      () => direct?.close(),
      () => proxy?.stop(),
      () => etcd?.destroy(),
    ]);
  });

  it('flannel #1343: node A back from a partition finds its subnet given to B, refuses and reports; B keeps it', async () => {
    const p = prefix();
    const regA = new EtcdRegistry(viaProxy, { prefix: p, scope: net, callTimeoutMs: 1000 });
    const regB = new EtcdRegistry(direct, { prefix: p, scope: net, callTimeoutMs: 1000 });
    const dirA = dir();
    const a = new LeaseManager({ store: regA, network: net, stateDir: dirA, ttlSeconds: 2, retryMinMs: 200, retryMaxMs: 500 });
    managers.push(a);
    const conflicts: SubnetConflictError[] = [];
    a.on('conflict', (e: SubnetConflictError) => conflicts.push(e));
    const x = (await a.acquire({ nodeName: 'node-a', publicIp: '192.168.60.1', backendData: { vtepMac: '0a:00:00:00:00:0a' } })).subnet;

    proxy.cut();
    await until('A degraded', () => a.health().degraded);
    await until('X to expire in etcd', async () => (await regB.listLeases()).leases.length === 0);
    const b = new LeaseManager({ store: regB, network: net, stateDir: dir(), ttlSeconds: 60 });
    managers.push(b);
    const lb = await b.acquire({ nodeName: 'node-b', publicIp: '192.168.60.2', backendData: { vtepMac: '0a:00:00:00:00:0b' }, previousSubnet: x });
    expect(lb.subnet).to.equal(x);
    const bRecord = (await regB.listLeases()).leases[0];

    proxy.heal();
    await until('A to detect the conflict', () => a.health().state === 'conflict', 30000);
    expect(conflicts).to.have.length(1);
    expect(conflicts[0]).to.include({ subnet: x, nodeName: 'node-a', holder: 'node-b' });
    expect(a.health().healthy).to.equal(false);
    const after = (await regB.listLeases()).leases;
    expect(after).to.have.length(1);
    expect(after[0]).to.deep.equal(bRecord); // not one byte of B's lease changed

    // A restarted with its state file: still refuses, still does not touch B's lease.
    const a2 = new LeaseManager({ store: regA, network: net, stateDir: dirA, ttlSeconds: 2 });
    managers.push(a2);
    let caught: unknown;
    try {
      await a2.acquire({ nodeName: 'node-a', publicIp: '192.168.60.1', backendData: {} });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(SubnetConflictError);
    expect((caught as SubnetConflictError).holder).to.equal('node-b');
    expect((await regB.listLeases()).leases).to.deep.equal([bRecord]);
  });

  it('compaction while the watch is cut off: it re-lists, reports a reset, and keeps watching', async () => {
    const p = prefix();
    const regW = new EtcdRegistry(viaProxy, { prefix: p, scope: net, callTimeoutMs: 1000 });
    const reg = new EtcdRegistry(direct, { prefix: p, scope: net });
    const v = (nodeName: string, publicIp: string) => ({ nodeName, publicIp, backend: { type: 'vxlan' as const, data: {} }, renewedAt: new Date().toISOString() });
    await reg.createLease('10.110.1.0/24', v('n1', '192.168.61.1'), 60);
    const start = await regW.listLeases();
    const events: LeaseEvent[] = [];
    const resets: LeaseList[] = [];
    const errors: Error[] = [];
    const w = regW.watchLeases(start.revision + 1, { onEvents: (b) => events.push(...b), onReset: (l) => resets.push(l), onError: (e) => errors.push(e) });
    try {
      const n2 = await reg.createLease('10.110.2.0/24', v('n2', '192.168.61.2'), 60);
      await until('the first event', () => events.length === 1);
      proxy.cut();
      await until('the watch to notice the cut', () => errors.length > 0);
      // While it is away: n2 leaves, n3 joins, and history is compacted.
      await reg.deleteLease(n2);
      await reg.createLease('10.110.3.0/24', v('n3', '192.168.61.3'), 60);
      const rev = (await reg.listLeases()).revision;
      await direct.kv.compact({ revision: rev, physical: true });
      proxy.heal();
      await until('the reset', () => resets.length === 1, 30000);
      expect(resets[0].leases.map((r) => r.lease.subnet).sort()).to.deep.equal(['10.110.1.0/24', '10.110.3.0/24']);
      await reg.createLease('10.110.4.0/24', v('n4', '192.168.61.4'), 60);
      await until('an event after the reset', () => events.some((e) => e.type === 'put' && e.record.lease.subnet === '10.110.4.0/24'));
    } finally {
      await w.close();
    }
  });
});
