import { expect } from 'chai';
import { withEtcdClient } from '../lab/etcd';
import { RUN_PREFIX } from '../lab/netns';
import type { EtcdClient } from '../../agent/src/store/etcd-client';
import { ConflictError, LeaseExpiredError } from '../../agent/src/store/errors';
import type { LeaseValue } from '../../agent/src/store/lease-codec';
import type { LeaseEvent, LeaseList } from '../../agent/src/store/lease-record';
import { NetworkConfigError, parseNetworkConfig } from '../../agent/src/store/network-config';
import { readNetworkConfig, seedNetworkConfig } from '../../agent/src/store/network-store';
import { EtcdRegistry } from '../../agent/src/store/registry';
import { sleep } from '../support/wait';
import { waitFor } from '../support/wait';

const scope = { clusterCidr: '10.244.0.0/16', subnetLength: 24 };
const val = (nodeName: string, publicIp = '192.168.0.1'): LeaseValue => ({
  nodeName,
  publicIp,
  backend: { type: 'vxlan', data: { vtepMac: '0a:00:00:00:00:01' } },
  renewedAt: new Date().toISOString(),
});
let seq = 0;
const uniquePrefix = (): string => `/knit-test/${RUN_PREFIX}-reg${++seq}`;
const until = async (what: string, cond: () => boolean, timeoutMs = 10000): Promise<void> => {
  await waitFor(what, cond, timeoutMs);
};

describe('store: EtcdRegistry against a real etcd', function () {
  this.timeout(30000);
  let client: EtcdClient;
  withEtcdClient((c) => { client = c; });

  it('seeds the network config only when absent, and reads it back validated', async () => {
    const prefix = uniquePrefix();
    expect(await readNetworkConfig(client, prefix)).to.equal(undefined);
    const a = parseNetworkConfig({ clusterCidr: '10.244.0.0/16', backend: { type: 'vxlan' } });
    const b = parseNetworkConfig({ clusterCidr: '10.99.0.0/16', backend: { type: 'host-gw' } });
    expect(await seedNetworkConfig(client, a, prefix)).to.deep.equal({ created: true, config: a });
    expect(await seedNetworkConfig(client, b, prefix)).to.deep.equal({ created: false, config: a });
    expect(await readNetworkConfig(client, prefix)).to.deep.equal(a);
    await client.put(`${prefix}/network`).value('{"clusterCidr":"10.0.0.0/31","backend":{"type":"vxlan"}}');
    let caught: unknown;
    try {
      await readNetworkConfig(client, prefix);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(NetworkConfigError);
    expect((caught as NetworkConfigError).field).to.equal('clusterCidr');
  });

  it('create is create-if-absent; update and delete only while the mod revision is ours', async () => {
    const reg = new EtcdRegistry(client, { prefix: uniquePrefix(), scope });
    const a = await reg.createLease('10.244.1.0/24', val('a'), 60);
    expect(a.lease).to.include({ subnet: '10.244.1.0/24', nodeName: 'a' });
    let caught: unknown;
    try {
      await reg.createLease('10.244.1.0/24', val('b'), 60);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConflictError);
    expect(JSON.parse((caught as ConflictError).currentValue as string).nodeName).to.equal('a');

    const a2 = await reg.updateLease(a, val('a', '192.168.0.9'), 60);
    expect(a2.modRevision).to.be.greaterThan(a.modRevision);
    expect(a2.etcdLeaseId).to.not.equal(a.etcdLeaseId);
    // The stale record (old revision) can no longer update or delete.
    try {
      await reg.updateLease(a, val('a'), 60);
      expect.fail('stale update succeeded');
    } catch (err) {
      expect(err).to.be.instanceOf(ConflictError);
    }
    try {
      await reg.deleteLease(a);
      expect.fail('stale delete succeeded');
    } catch (err) {
      expect(err).to.be.instanceOf(ConflictError);
    }
    const list = await reg.listLeases();
    expect(list.leases.map((r) => [r.lease.subnet, r.lease.publicIp])).to.deep.equal([['10.244.1.0/24', '192.168.0.9']]);
    expect((await reg.renewLease(a2)).ttlSeconds).to.be.within(59, 60);
    await reg.deleteLease(a2);
    expect((await reg.listLeases()).leases).to.deep.equal([]);
  });

  it('renew reports an expired etcd lease, and a key rewritten by someone else', async () => {
    const reg = new EtcdRegistry(client, { prefix: uniquePrefix(), scope });
    const short = await reg.createLease('10.244.2.0/24', val('a'), 2);
    // etcd deletes the key with its 2 s lease (its expiry check runs every ~0.5 s).
    await waitFor('etcd to expire the 2 s lease and its key', async () => (await reg.listLeases()).leases.length === 0, 8000, undefined, { intervalMs: 100 });
    try {
      await reg.renewLease(short);
      expect.fail('renewed an expired lease');
    } catch (err) {
      expect(err).to.be.instanceOf(LeaseExpiredError);
    }
    const mine = await reg.createLease('10.244.3.0/24', val('a'), 60);
    await client.put(reg.keyOf('10.244.3.0/24')).value(JSON.stringify(val('intruder')));
    try {
      await reg.renewLease(mine);
      expect.fail('renew missed the rewrite');
    } catch (err) {
      expect(err).to.be.instanceOf(ConflictError);
      expect((err as ConflictError).currentValue).to.contain('intruder');
    }
  });

  it('lists garbage, foreign-CIDR and wrong-length keys as invalid, never as leases', async () => {
    const reg = new EtcdRegistry(client, { prefix: uniquePrefix(), scope });
    await reg.createLease('10.244.4.0/24', val('a'), 60);
    await client.put(reg.subnetsPrefix + '10.244.5.0-24').value('garbage{');
    await client.put(reg.subnetsPrefix + '10.99.0.0-24').value(JSON.stringify(val('x')));
    await client.put(reg.subnetsPrefix + '10.244.6.0-25').value(JSON.stringify(val('y')));
    await client.put(reg.subnetsPrefix + 'nonsense').value('{}');
    const list = await reg.listLeases();
    expect(list.leases.map((r) => r.lease.subnet)).to.deep.equal(['10.244.4.0/24']);
    expect(list.invalid.map((e) => [e.keyName, e.subnet])).to.have.deep.members([
      ['10.244.5.0-24', '10.244.5.0/24'],
      ['10.99.0.0-24', undefined],
      ['10.244.6.0-25', undefined],
      ['nonsense', undefined],
    ]);
  });

  it('watch sees joins and leaves from a revision, batching bursts', async () => {
    const reg = new EtcdRegistry(client, { prefix: uniquePrefix(), scope, batchWindowMs: 20 });
    const first = await reg.createLease('10.244.1.0/24', val('a'), 60);
    const list = await reg.listLeases();
    const batches: LeaseEvent[][] = [];
    const w = reg.watchLeases(list.revision + 1, { onEvents: (b) => batches.push(b), onReset: () => expect.fail('unexpected reset') });
    try {
      const n = 40;
      await Promise.all(Array.from({ length: n }, (_, i) => reg.createLease(`10.244.${10 + i}.0/24`, val(`n${i}`, `192.168.1.${i}`), 60)));
      await reg.deleteLease(first);
      await until('all events', () => batches.flat().length === n + 1);
      const events = batches.flat();
      expect(events.filter((e) => e.type === 'put')).to.have.length(n);
      expect(events[events.length - 1]).to.deep.include({ type: 'delete', subnet: '10.244.1.0/24' });
      expect(batches.length).to.be.lessThan(n / 2); // bursts arrive as few batches, not one call per event
    } finally {
      await w.close();
    }
  });

  it('watch: a lone event is delivered at once (leading edge); what follows within the window waits for one trailing batch', async () => {
    // A long window makes the two behaviours unmistakable: delivery long
    // before it ends (the leading edge), then nothing until it has passed.
    const windowMs = 2000;
    const reg = new EtcdRegistry(client, { prefix: uniquePrefix(), scope, batchWindowMs: windowMs });
    const list = await reg.listLeases();
    const batches: Array<{ at: number; events: LeaseEvent[] }> = [];
    const t0 = Date.now();
    const w = reg.watchLeases(list.revision + 1, { onEvents: (b) => batches.push({ at: Date.now() - t0, events: b }), onReset: () => expect.fail('unexpected reset') });
    try {
      await reg.createLease('10.244.1.0/24', val('a'), 60);
      await until('the first event', () => batches.length === 1);
      expect(batches[0]!.at).to.be.below(windowMs / 2);
      await Promise.all([2, 3, 4].map((i) => reg.createLease(`10.244.${i}.0/24`, val(`n${i}`, `192.168.1.${i}`), 60)));
      await sleep(windowMs / 4);
      expect(batches).to.have.length(1); // the burst inside the window is held back...
      await until('the trailing batch', () => batches.length === 2, windowMs * 2);
      expect(batches[1]!.events.map((e) => e.type)).to.deep.equal(['put', 'put', 'put']); // ...and arrives as one batch
      expect(batches[1]!.at - batches[0]!.at).to.be.at.least(windowMs - 50);
    } finally {
      await w.close();
    }
  });

  it('a watch started below the compacted revision re-lists and reports a reset', async () => {
    const reg = new EtcdRegistry(client, { prefix: uniquePrefix(), scope });
    const start = (await reg.listLeases()).revision;
    await reg.createLease('10.244.1.0/24', val('a'), 60);
    const b = await reg.createLease('10.244.2.0/24', val('b', '192.168.0.2'), 60);
    await reg.deleteLease(b);
    const now = (await reg.listLeases()).revision;
    await client.kv.compact({ revision: now, physical: true });
    const resets: LeaseList[] = [];
    const events: LeaseEvent[] = [];
    const w = reg.watchLeases(start + 1, { onEvents: (e) => events.push(...e), onReset: (l) => resets.push(l) });
    try {
      await until('the reset', () => resets.length === 1);
      expect(resets[0].leases.map((r) => r.lease.subnet)).to.deep.equal(['10.244.1.0/24']);
      // and it keeps watching after the reset
      await reg.createLease('10.244.3.0/24', val('c', '192.168.0.3'), 60);
      await until('the event after the reset', () => events.some((e) => e.type === 'put' && e.record.lease.subnet === '10.244.3.0/24'));
    } finally {
      await w.close();
    }
  });
  it('a watch from a revision etcd has not reached (restored etcd) re-lists instead of waiting', async () => {
    const reg = new EtcdRegistry(client, { prefix: uniquePrefix(), scope });
    await reg.createLease('10.244.1.0/24', val('a'), 60);
    const now = (await reg.listLeases()).revision;
    const resets: LeaseList[] = [];
    const w = reg.watchLeases(now + 1000, { onEvents: () => undefined, onReset: (l) => resets.push(l) });
    try {
      await until('the reset', () => resets.length === 1);
      expect(resets[0].leases.map((r) => r.lease.nodeName)).to.deep.equal(['a']);
    } finally {
      await w.close();
    }
  });
});
