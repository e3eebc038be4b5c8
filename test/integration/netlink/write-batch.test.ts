/**
 * Batched writes (agent/src/netlink/write-batch.ts): writes issued together
 * share a datagram and one ack, yet each keeps its own outcome. Against the
 * real kernel: a batch mixing successes and failures settles each request
 * with its own result (the failures named), what the kernel holds afterwards
 * is exactly the successes, a batch larger than one datagram completes, and
 * a closed handle fails queued writes instead of leaving them hanging.
 */
import { expect } from 'chai';
import { NetlinkError, openHandle, RTPROT_KNIT } from '../../../agent/src/netlink';
import type { Handle, Route } from '../../../agent/src/netlink';
import { addNetns, delNetns, netnsPath, nsRun } from '../../lab/netns';

describe('netlink: batched writes', () => {
  let ns: string;
  let h: Handle;
  let index: number;

  const knitRoutes = (): string[] =>
    nsRun(ns, 'ip', ['route', 'show', 'proto', String(RTPROT_KNIT)]).split('\n').filter(Boolean).map((l) => l.split(' ')[0]!).sort();
  const route = (i: number): Route => ({ dst: `10.${100 + (i >> 8)}.${i & 255}.0/24`, gateway: '10.30.0.2', index, protocol: RTPROT_KNIT });

  before(async () => {
    ns = addNetns('wb');
    h = openHandle(netnsPath(ns));
    const dev = await h.vethAdd({ name: 'wb0', peerName: 'wb0p' });
    index = dev.index;
    await h.addrAdd(index, '10.30.0.1/24');
    await h.linkSetUp(index);
    await h.linkSetUp((await h.linkByName('wb0p'))!.index);
  });
  after(() => {
    h?.close();
    delNetns(ns);
  });
  afterEach(() => nsRun(ns, 'ip', ['route', 'flush', 'proto', String(RTPROT_KNIT)]));

  it('a batch of adds where some exist already: each failure is its own EEXIST, the rest land', async () => {
    for (const i of [3, 7]) await h.routeAdd(route(i));
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => h.routeAdd(route(i))));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed).to.deep.equal([3, 7]);
    for (const i of failed) {
      const err = (results[i] as PromiseRejectedResult).reason as NetlinkError;
      expect(err).to.be.instanceOf(NetlinkError);
      expect(err.code).to.equal('EEXIST');
      expect(err.op).to.equal('route add');
      expect(err.object).to.contain(route(i).dst);
    }
    expect(knitRoutes()).to.deep.equal(Array.from({ length: 10 }, (_, i) => route(i).dst).sort());
  });

  it('the last message of a batch failing still settles the others as successes', async () => {
    await h.routeAdd(route(9));
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => h.routeAdd(route(i))));
    expect(results.map((r) => r.status)).to.deep.equal([...Array(9).fill('fulfilled'), 'rejected']);
    expect(knitRoutes()).to.have.length(10);
  });

  it('deletes of absent routes fail alone (ESRCH), between deletes that succeed', async () => {
    await Promise.all([0, 2, 4].map((i) => h.routeAdd(route(i))));
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => h.routeDel(route(i))));
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as NetlinkError).code).to.equal('ESRCH');
    expect(knitRoutes()).to.deep.equal([]);
  });

  it('3000 writes at once (several datagrams, beyond the outstanding cap) all land and all come back out', async () => {
    const all = Array.from({ length: 3000 }, (_, i) => route(i));
    await Promise.all(all.map((r) => h.routeReplace(r)));
    expect(knitRoutes()).to.have.length(3000);
    await Promise.all(all.map((r) => h.routeDel(r)));
    expect(knitRoutes()).to.deep.equal([]);
  });

  it('neighbour writes batch with route writes and keep their own errors (bad device: ENODEV)', async () => {
    const results = await Promise.allSettled([
      h.neighSet({ index, ip: '10.30.0.9', mac: '02:00:00:00:00:09', permanent: true }),
      h.neighSet({ index: 99999, ip: '10.30.0.10', mac: '02:00:00:00:00:0a', permanent: true }),
      h.routeAdd(route(1)),
    ]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as NetlinkError).code).to.equal('ENODEV');
    expect(nsRun(ns, 'ip', ['neigh', 'show', '10.30.0.9'])).to.contain('02:00:00:00:00:09');
    await h.neighDel({ index, ip: '10.30.0.9' });
  });

  it('FDB and neighbour entries (bodies ending in an unpadded 6-byte MAC) batched 200 at a time all land, then all go', async () => {
    const vx = await h.vxlanAdd({ name: 'wbvx0', vni: 42, port: 8472, learning: false });
    try {
      const mac = (i: number): string => `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
      const ids = Array.from({ length: 200 }, (_, i) => i);
      await Promise.all(ids.flatMap((i) => [
        h.fdbSet({ index: vx.index, mac: mac(i), dst: `192.0.2.${(i % 250) + 1}`, permanent: true }),
        h.neighSet({ index: vx.index, ip: `10.31.${i >> 8}.${i & 255}`, mac: mac(i), permanent: true }),
      ]));
      const fdb = nsRun(ns, 'bridge', ['fdb', 'show', 'dev', 'wbvx0']).split('\n').filter((l) => l.includes(' dst '));
      expect(fdb).to.have.length(200);
      expect(fdb.some((l) => l.startsWith(`${mac(199)} dst 192.0.2.200`))).to.equal(true);
      const neigh = nsRun(ns, 'ip', ['neigh', 'show', 'dev', 'wbvx0']).split('\n').filter((l) => l.includes('PERMANENT'));
      expect(neigh).to.have.length(200);
      await Promise.all(ids.flatMap((i) => [
        h.fdbDel({ index: vx.index, mac: mac(i), dst: `192.0.2.${(i % 250) + 1}` }),
        h.neighDel({ index: vx.index, ip: `10.31.${i >> 8}.${i & 255}` }),
      ]));
      expect(nsRun(ns, 'bridge', ['fdb', 'show', 'dev', 'wbvx0']).split('\n').filter((l) => l.includes(' dst '))).to.deep.equal([]);
      expect(nsRun(ns, 'ip', ['neigh', 'show', 'dev', 'wbvx0']).trim()).to.equal('');
    } finally {
      await h.linkDel(vx.index);
    }
  });

  it('a handle closed with writes queued fails them with EBADF instead of leaving them pending', async () => {
    const h2 = openHandle(netnsPath(ns));
    const pending = Promise.allSettled([h2.routeAdd(route(50)), h2.routeAdd(route(51))]);
    h2.close();
    const results = await pending;
    for (const r of results) {
      expect(r.status).to.equal('rejected');
      expect(((r as PromiseRejectedResult).reason as NetlinkError).code).to.equal('EBADF');
    }
    expect(knitRoutes()).to.deep.equal([]);
  });
});
