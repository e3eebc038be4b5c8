/**
 * The Reconciler's behaviour on a fake netlink: coalesced runs, zero writes
 * at steady state, stale objects removed, event-driven repair, setup re-run
 * when the device goes away, status per peer, stop.
 */
import { expect } from 'chai';
import { Reconciler, type DataplaneSource, type DesiredDataplane, type SetupResult } from '../../agent/src/dataplane/reconcile';
import { silentLogger } from '../../agent/src/log/logger';
import type { Lease } from '../../agent/src/store/lease-codec';
import { FakeNetlink } from './reconcile-fake-netlink';
import { recordingLogger } from '../support/recording-logger';
import { peerRoutes } from '../../agent/src/backend/nexthop-routes';

const DEV = 7;

/** A backend of one route + one neighbour per peer on device DEV. */
class FakeBackend implements DataplaneSource {
  setups = 0;
  failSetup = false;
  desiredCalls = 0;
  /** route IPv4 peers through nexthop objects, as vxlan/host-gw do on a kernel with them */
  useNexthops = false;
  async setup(): Promise<SetupResult> {
    this.setups++;
    if (this.failSetup) throw new Error('no device for you');
    return { leaseData: {}, mtu: 1450, writes: 0 };
  }
  desired(peers: readonly Lease[]): DesiredDataplane {
    this.desiredCalls++;
    const out: DesiredDataplane = { peers: [], refused: [] };
    for (const l of peers) {
      if (l.nodeName.startsWith('bad')) {
        out.refused.push({ subnet: l.subnet, nodeName: l.nodeName, publicIp: l.publicIp, reason: 'bad name' });
        continue;
      }
      const gw = l.subnet.replace('/24', '');
      out.peers.push({
        subnet: l.subnet, nodeName: l.nodeName, publicIp: l.publicIp, mode: 'vxlan', fdb: [],
        neighbours: [{ index: DEV, ip: gw, mac: '0a:00:00:00:00:01', permanent: true }],
        ...peerRoutes([{ dst: l.subnet, gateway: gw, index: DEV, onlink: true, protocol: 89 }], this.useNexthops),
      });
    }
    return out;
  }
  devices = [DEV];
  ownedDevices(): number[] {
    return this.devices;
  }
}

function peer(i: number, name = `n${i}`): Lease {
  return { subnet: `10.244.${i}.0/24`, nodeName: name, publicIp: `192.168.77.${10 + i}`, backend: { type: 'vxlan', data: {} }, renewedAt: '2026-01-01T00:00:00Z' };
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('reconcile: Reconciler (fake netlink)', () => {
  let nl: FakeNetlink;
  let be: FakeBackend;
  let rec: Reconciler;
  beforeEach(() => {
    nl = new FakeNetlink();
    be = new FakeBackend();
    rec = new Reconciler({ nl: nl.asHandle(), logger: silentLogger(), backend: be, resyncIntervalMs: 3600_000, retryDelayMs: 20 });
  });
  afterEach(async () => { await rec.stop(); });

  it('programs peers, then a second run makes zero writes', async () => {
    rec.setPeers([peer(2), peer(3)]);
    const first = await rec.reconcileNow();
    expect(first).to.include({ added: 4, writes: 4, deleted: 0, failed: 0, setupRan: true });
    expect([...nl.routes.keys()].sort()).to.deep.equal(['10.244.2.0/24', '10.244.3.0/24']);
    const second = await rec.reconcileNow();
    expect(second).to.include({ writes: 0, unchanged: 4, setupRan: false });
    expect(rec.stats).to.include({ runs: 2, writes: 4, lastWrites: 0, peers: 2 });
  });

  it('writes are issued deletes first, then neighbours, then routes (one socket applies them in that order)', async () => {
    rec.setPeers([peer(2), peer(3)]);
    await rec.reconcileNow();
    nl.writeOrder.length = 0;
    rec.setPeers([peer(3), peer(4), peer(5)]);
    const s = await rec.reconcileNow();
    expect(s).to.include({ deleted: 2, added: 4, failed: 0 });
    const kinds = nl.writeOrder.map((w) => (w.includes(' del ') ? 'delete' : w.startsWith('route') ? 'route' : 'neighbour'));
    expect(kinds).to.deep.equal(['delete', 'delete', 'neighbour', 'neighbour', 'route', 'route']);
    expect(nl.writeOrder.filter((w) => w.startsWith('route replace'))).to.deep.equal(['route replace 10.244.4.0/24', 'route replace 10.244.5.0/24']);
  });

  it('no run (so no delete of existing knit objects) before the first setPeers; then one run', async () => {
    nl.seedRoute({ dst: '10.244.9.0/24', gateway: '10.244.9.0', index: DEV, onlink: true, protocol: 89 });
    rec.start();
    const pending = rec.reconcileNow();
    nl.emit({ type: 'link-deleted', link: { index: DEV, name: 'knit.1', kind: 'vxlan', mtu: 1450, up: false } });
    await tick(30);
    expect(rec.stats.runs).to.equal(0);
    expect(be.setups).to.equal(0);
    expect(nl.writes).to.equal(0);
    rec.setPeers([peer(9)]);
    // the seeded route is kept (unchanged), only the neighbour is added
    expect(await pending).to.include({ writes: 1, added: 1, unchanged: 1, deleted: 0 });
    expect(rec.stats.runs).to.equal(1);
  });

  it('a burst of setPeers in one tick is one run, with the last peer set', async () => {
    rec.start();
    for (let i = 2; i < 50; i++) rec.setPeers([peer(i)]);
    await tick(20);
    expect(rec.stats.runs).to.equal(1);
    expect([...nl.routes.values()].map((r) => r.dst)).to.deep.equal(['10.244.49.0/24']);
  });

  it('requests during a run cause exactly one more run', async () => {
    nl.dumpDelayMs = 30;
    rec.setPeers([peer(2)]);
    const first = rec.reconcileNow();
    await tick(10); // first run is dumping
    rec.setPeers([peer(3)]);
    rec.setPeers([peer(4)]);
    const second = rec.reconcileNow();
    await first;
    const s2 = await second;
    expect(rec.stats.runs).to.equal(2);
    expect(s2).to.include({ added: 2, deleted: 2 });
    expect([...nl.routes.values()].map((r) => r.dst)).to.deep.equal(['10.244.4.0/24']);
  });

  it('deletes stale knit objects of vanished peers and leaves foreign routes alone', async () => {
    nl.seedRoute({ dst: '10.244.9.0/24', gateway: '10.244.9.0', index: DEV, onlink: true, protocol: 89 });
    nl.seedRoute({ dst: '10.244.8.0/24', gateway: '192.168.77.1', index: 2, protocol: 4 });
    nl.neighbours.set(`${DEV}|10.244.9.0`, { index: DEV, ip: '10.244.9.0', mac: '0a:00:00:00:00:09', permanent: true });
    rec.setPeers([peer(2)]);
    const s = await rec.reconcileNow();
    expect(s).to.include({ deleted: 2, added: 2 });
    expect([...nl.routes.values()].map((r) => `${r.dst} ${r.protocol}`).sort()).to.deep.equal(['10.244.2.0/24 89', '10.244.8.0/24 4']);
  });

  it('a deleted wanted route (event) is repaired; a deleted unwanted one is ignored', async () => {
    rec.start();
    rec.setPeers([peer(2)]);
    await rec.reconcileNow();
    const runs = rec.stats.runs;
    nl.emit({ type: 'route-deleted', route: { dst: '10.244.77.0/24', protocol: 89, table: 254, metric: 0 } });
    nl.emit({ type: 'route-deleted', route: { dst: '10.244.2.0/24', protocol: 4, table: 254, metric: 0 } });
    await tick(20);
    expect(rec.stats.runs).to.equal(runs);
    const r = nl.routes.get('10.244.2.0/24')!;
    nl.routes.delete('10.244.2.0/24');
    nl.emit({ type: 'route-deleted', route: r });
    await tick(20);
    expect(rec.stats.runs).to.equal(runs + 1);
    expect(nl.routes.has('10.244.2.0/24')).to.equal(true);
  });

  it('its own deletes (a peer left) are not logged as "deleted from outside" and cause no repair run', async () => {
    const { logger, lines } = recordingLogger();
    const r2 = new Reconciler({ nl: nl.asHandle(), logger, backend: be, resyncIntervalMs: 3600_000, retryDelayMs: 20 });
    nl.announceDeletes = true;
    r2.start();
    r2.setPeers([peer(2), peer(3)]);
    await r2.reconcileNow();
    r2.setPeers([peer(2)]);
    const s = await r2.reconcileNow();
    expect(s).to.include({ deleted: 2 });
    await tick(20);
    const runs = r2.stats.runs;
    await tick(20);
    expect(r2.stats.runs, 'no repair run after our own deletes').to.equal(runs);
    const msgs = lines.map((l) => String(l.message));
    expect(msgs.filter((m) => m.includes('from outside')), msgs.join(' | ')).to.deep.equal([]);
    // an outside delete of a still-wanted route is still reported
    nl.routes.delete('10.244.2.0/24');
    nl.emit({ type: 'route-deleted', route: { dst: '10.244.2.0/24', protocol: 89, table: 254, metric: 0 } });
    await tick(20);
    expect(lines.map((l) => String(l.message))).to.include('knit route deleted from outside; repairing');
    await r2.stop();
  });

  it('our device deleted or set down → setup() runs again', async () => {
    rec.start();
    rec.setPeers([]);
    await rec.reconcileNow();
    expect(be.setups).to.equal(1);
    nl.emit({ type: 'link-deleted', link: { index: DEV, name: 'knit.1', kind: 'vxlan', mtu: 1450, up: false } });
    await tick(20);
    expect(be.setups).to.equal(2);
    nl.emit({ type: 'link-changed', link: { index: DEV, name: 'knit.1', kind: 'vxlan', mtu: 1450, up: false } });
    await tick(20);
    expect(be.setups).to.equal(3);
    nl.emit({ type: 'link-changed', link: { index: 99, name: 'eth9', kind: 'veth', mtu: 1500, up: false } });
    await tick(20);
    expect(be.setups).to.equal(3);
  });

  it('narrows its events to the backend devices after a setup, again only when they changed; a kernel without the filter is logged once', async () => {
    rec.start();
    rec.setPeers([peer(2)]);
    await rec.reconcileNow();
    expect(nl.narrowed).to.deep.equal([[DEV]]);
    await rec.reconcileNow(); // no setup: nothing to narrow
    nl.emit({ type: 'link-deleted', link: { index: DEV, name: 'knit.1', kind: 'vxlan', mtu: 1450, up: false } });
    await tick(20);
    expect(be.setups).to.equal(2);
    expect(nl.narrowed, 'same devices after the second setup').to.deep.equal([[DEV]]);
    be.devices = [DEV, 8];
    nl.emit({ type: 'link-deleted', link: { index: DEV, name: 'knit.1', kind: 'vxlan', mtu: 1450, up: false } });
    await tick(20);
    expect(nl.narrowed).to.deep.equal([[DEV], [DEV, 8]]);

    const { logger, lines } = recordingLogger();
    const nl2 = new FakeNetlink();
    nl2.narrowFails = true;
    const rec2 = new Reconciler({ nl: nl2.asHandle(), logger, backend: new FakeBackend(), resyncIntervalMs: 3600_000, retryDelayMs: 20 });
    try {
      rec2.start();
      rec2.setPeers([peer(2)]);
      expect(await rec2.reconcileNow()).to.include({ setupRan: true, failed: 0 });
      nl2.emit({ type: 'link-deleted', link: { index: DEV, name: 'knit.1', kind: 'vxlan', mtu: 1450, up: false } });
      await tick(20);
      expect(lines.filter((r) => String(r.message).includes('cannot be narrowed'))).to.have.length(1);
    } finally {
      await rec2.stop();
    }
  });

  it('a failed setup rejects reconcileNow, is retried, and the retry recovers', async () => {
    be.failSetup = true;
    rec.setPeers([peer(2)]);
    let err: Error | undefined;
    try { await rec.reconcileNow(); } catch (e) { err = e as Error; }
    expect(err?.message).to.equal('backend setup');
    expect(rec.stats.lastError).to.equal('backend setup');
    be.failSetup = false;
    await tick(80); // retry after 20 ms
    expect(be.setups).to.be.greaterThan(1);
    expect(rec.stats.lastError).to.equal(undefined);
    expect(nl.routes.size).to.equal(1);
  });

  it('periodic resync re-checks the device and writes nothing at steady state', async () => {
    await rec.stop();
    rec = new Reconciler({ nl: nl.asHandle(), logger: silentLogger(), backend: be, resyncIntervalMs: 25 });
    rec.setPeers([peer(2), peer(3)]);
    rec.start();
    await tick(200);
    expect(rec.stats.runs).to.be.at.least(3);
    expect(be.setups).to.equal(rec.stats.runs);
    expect(rec.stats.writes).to.equal(4);
    expect(rec.stats.lastWrites).to.equal(0);
  });

  it('status: per peer objects and match; refused peers with reason', async () => {
    rec.setPeers([peer(2), peer(3, 'bad3')]);
    await rec.reconcileNow();
    let st = rec.status();
    expect(st.peers.map((p) => [p.subnet, p.mode, p.inSync, p.objects.map((o) => o.state).join(',')])).to.deep.equal([
      ['10.244.2.0/24', 'vxlan', true, 'programmed,programmed'],
      ['10.244.3.0/24', 'refused', false, ''],
    ]);
    expect(st.peers[1]!.reason).to.equal('bad name');
    expect(st.peers[0]!.objects[1]!.description).to.equal('10.244.2.0/24 via 10.244.2.0 dev #7 onlink proto 89');
    await rec.reconcileNow();
    st = rec.status();
    expect(st.peers[0]!.objects.map((o) => o.state)).to.deep.equal(['ok', 'ok']);
    expect(st.pending).to.equal(false);
  });

  it('inSync() is status()\'s verdict per subnet, including a failed write and a refused peer', async () => {
    nl.failRouteDst = peer(4).subnet;
    rec.setPeers([peer(2), peer(3, 'bad3'), peer(4)]);
    expect(await rec.reconcileNow()).to.include({ failed: 1 });
    expect(Object.fromEntries(rec.inSync())).to.deep.equal({ '10.244.2.0/24': true, '10.244.3.0/24': false, '10.244.4.0/24': false });
    expect([...rec.inSync()].sort()).to.deep.equal(rec.status().peers.map((p) => [p.subnet, p.inSync]).sort());
  });

  it('stop: no more runs, reconcileNow rejects', async () => {
    rec.start();
    rec.setPeers([]);
    await rec.reconcileNow();
    await rec.stop();
    const runs = rec.stats.runs;
    rec.setPeers([peer(5)]);
    await tick(20);
    expect(rec.stats.runs).to.equal(runs);
    let err: Error | undefined;
    try { await rec.reconcileNow(); } catch (e) { err = e as Error; }
    expect(err?.message).to.equal('reconciler stopped');
  });
});

describe('reconcile: Reconciler with nexthop objects (fake netlink)', () => {
  let nl: FakeNetlink;
  let be: FakeBackend;
  let rec: Reconciler;
  const id = (i: number): number => (10 << 24) + (244 << 16) + (i << 8);
  beforeEach(() => {
    nl = new FakeNetlink();
    be = new FakeBackend();
    be.useNexthops = true;
    rec = new Reconciler({ nl: nl.asHandle(), logger: silentLogger(), backend: be, resyncIntervalMs: 3600_000, retryDelayMs: 20 });
  });
  afterEach(async () => { await rec.stop(); });

  it('writes each nexthop before its route, deletes it after; a second run writes nothing', async () => {
    rec.setPeers([peer(2), peer(3)]);
    const first = await rec.reconcileNow();
    expect(first).to.include({ added: 6, failed: 0 });
    expect(nl.routes.get('10.244.2.0/24')).to.include({ nhid: id(2), protocol: 89 });
    expect(nl.nexthops.get(id(2))).to.deep.equal({ id: id(2), gateway: '10.244.2.0', index: DEV, onlink: true, protocol: 89 });
    expect(await rec.reconcileNow()).to.include({ writes: 0, unchanged: 6 });
    nl.writeOrder.length = 0;
    rec.setPeers([peer(3), peer(4)]);
    expect(await rec.reconcileNow()).to.include({ deleted: 3, added: 3, failed: 0 });
    expect(nl.writeOrder).to.deep.equal([
      'route del 10.244.2.0/24', 'neigh del 10.244.2.0', 'neigh set 10.244.4.0', `nexthop replace ${id(4)}`, 'route replace 10.244.4.0/24', `nexthop del ${id(2)}`,
    ]);
    expect([...nl.nexthops.keys()].sort()).to.deep.equal([id(3), id(4)]);
  });

  it('a nexthop deleted by hand (the kernel takes its route along, telling only of the nexthop) is repaired with its route, from the view', async () => {
    rec.start();
    rec.setPeers([peer(2), peer(3)]);
    await rec.reconcileNow();
    const runs = rec.stats.runs;
    const viewRuns = rec.stats.viewRuns;
    nl.deleteNexthop(id(2));
    expect(nl.routes.has('10.244.2.0/24')).to.equal(false);
    await tick(20);
    expect(rec.stats.runs).to.equal(runs + 1);
    expect(rec.stats.viewRuns, 'the repair diffed the kernel view, no dump').to.equal(viewRuns + 1);
    expect(nl.nexthops.get(id(2))).to.include({ gateway: '10.244.2.0' });
    expect(nl.routes.get('10.244.2.0/24')).to.include({ nhid: id(2) });
    expect(await rec.reconcileNow()).to.include({ writes: 0 });
  });

  it('upgrade: gateway routes of knit become nhid routes by replace, never deleted', async () => {
    nl.seedRoute({ dst: '10.244.2.0/24', gateway: '10.244.2.0', index: DEV, onlink: true, protocol: 89 });
    nl.neighbours.set(`${DEV}|10.244.2.0`, { index: DEV, ip: '10.244.2.0', mac: '0a:00:00:00:00:01', permanent: true });
    rec.setPeers([peer(2)]);
    const s = await rec.reconcileNow();
    expect(s).to.include({ deleted: 0, added: 1, replaced: 1, unchanged: 1 });
    expect(nl.writeOrder).to.deep.equal([`nexthop replace ${id(2)}`, 'route replace 10.244.2.0/24']);
    expect(nl.routes.get('10.244.2.0/24')).to.include({ nhid: id(2) }).and.not.have.property('gateway');
  });

  it('another network\'s nexthops (outside nexthopScope) are neither stale nor in view', async () => {
    const other = new Reconciler({
      nl: nl.asHandle(), logger: silentLogger(), backend: be, resyncIntervalMs: 3600_000,
      routeScope: (dst) => dst.startsWith('10.244.'), nexthopScope: (nhid) => (nhid >>> 16) === ((10 << 8) | 244),
    });
    try {
      const theirs = (10 << 24) + (245 << 16) + (9 << 8);
      nl.nexthops.set(theirs, { id: theirs, gateway: '10.245.9.0', index: DEV, onlink: true, protocol: 89 });
      nl.seedRoute({ dst: '10.245.9.0/24', nhid: theirs, protocol: 89 });
      other.setPeers([peer(2)]);
      expect(await other.reconcileNow()).to.include({ deleted: 0, failed: 0 });
      expect(nl.nexthops.has(theirs)).to.equal(true);
      expect(nl.routes.has('10.245.9.0/24')).to.equal(true);
      expect(await other.reconcileNow()).to.include({ writes: 0 });
    } finally {
      await other.stop();
    }
  });

  it('a foreign nexthop holding a wanted id is a conflict: neither it nor the route through it is written', async () => {
    nl.nexthops.set(id(2), { id: id(2), gateway: '192.168.77.1', index: 2, protocol: 4 });
    rec.setPeers([peer(2), peer(3)]);
    const s = await rec.reconcileNow();
    expect(s.conflicts).to.equal(2);
    expect(nl.nexthops.get(id(2))).to.include({ protocol: 4, gateway: '192.168.77.1' });
    expect(nl.routes.has('10.244.2.0/24')).to.equal(false);
    expect(nl.routes.get('10.244.3.0/24')).to.include({ nhid: id(3) });
    const p2 = rec.status().peers.find((p) => p.subnet === '10.244.2.0/24')!;
    expect(p2.inSync).to.equal(false);
    expect(p2.objects.filter((o) => o.state === 'conflict').map((o) => o.kind).sort()).to.deep.equal(['nexthop', 'route']);
  });
});
