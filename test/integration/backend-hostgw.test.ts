/**
 * The host-gw backend and the reconciler in real node namespaces (no knitd):
 * plain routes via the peer's public IP on the underlay, container ping
 * across nodes, a peer off the L2 segment refused and never routed, and a
 * zero-write resync.
 */
import { expect } from 'chai';
import { nsRun } from '../lab/netns';
import { createOverlayLab, within, type OverlayLab } from './backend-overlay-lab';
import { nexthopIdOf } from '../../agent/src/backend/nexthop-routes';

interface IpRoute { dst: string; gateway?: string; dev: string; protocol?: string; flags: string[] }
const routes = (ns: string): IpRoute[] => (JSON.parse(nsRun(ns, 'ip', ['-j', 'route', 'show']) || '[]') as IpRoute[])
  .filter((r) => r.protocol === '89')
  .map((r) => ({ dst: r.dst, gateway: r.gateway, dev: r.dev, protocol: r.protocol, flags: r.flags }));

describe('backend host-gw: three nodes, real kernel', function () {
  this.timeout(60000);
  let ol: OverlayLab;
  const far = { subnet: '10.244.9.0/24', nodeName: 'far', publicIp: '10.99.0.9', backend: { type: 'host-gw' as const, data: {} }, renewedAt: new Date(0).toISOString() };

  before(async () => {
    ol = await createOverlayLab({ nodes: 3, backend: { type: 'host-gw' } });
    await ol.converge([far]);
  });
  after(async () => { await ol?.teardown(); });

  it('routes every peer subnet via the peer public IP dev eth0 proto 89; container MTU = underlay MTU', () => {
    for (const o of ol.nodes) {
      const others = ol.nodes.filter((p) => p !== o);
      expect(routes(o.node.ns)).to.deep.equal(others.map((p) => ({ dst: p.lease.subnet, gateway: p.node.underlayIp, dev: 'eth0', protocol: '89', flags: [] })));
      expect(o.mtu).to.equal(1500);
      expect(nsRun(o.node.ns, 'ip', ['-o', 'link', 'show', 'type', 'vxlan'])).to.equal('');
    }
  });

  it('a peer off the L2 segment is refused with a reason and gets no route', () => {
    const st = ol.nodes[0]!.reconciler.status();
    const refused = st.peers.find((p) => p.subnet === far.subnet);
    expect(refused).to.deep.include({ mode: 'refused', inSync: false, objects: [] });
    expect(refused!.reason).to.match(/^peer public IP 10\.99\.0\.9 is not on the L2 segment of underlay eth0 \(192\.168\.77\.0\/24\)/);
    expect(routes(ol.nodes[0]!.node.ns).map((r) => r.dst)).to.not.include(far.subnet);
    expect(ol.nodes[0]!.reconciler.stats.refusedPeers).to.equal(1);
  });

  it('every container reaches every other', async () => {
    for (const a of ol.nodes) {
      for (const b of ol.nodes) {
        if (a === b) continue;
        const r = await ol.lab.ping(a.container, b.containerIp, 2);
        expect(r.received, `${a.node.name} → ${b.node.name}`).to.equal(2);
      }
    }
  });

  it('resync makes 0 writes; a hand-deleted route is back within 1 s', async () => {
    const a = ol.nodes[0]!;
    // per peer a route and the nexthop object it goes through
    expect(await a.reconciler.reconcileNow()).to.include({ writes: 0, unchanged: 4 });
    nsRun(a.node.ns, 'ip', ['route', 'del', '10.244.3.0/24']);
    await within(1000, 'host-gw route repaired', () => routes(a.node.ns).some((r) => r.dst === '10.244.3.0/24'));
  });

  it('a hand-deleted nexthop (the kernel takes its route along) is back with its route within 1 s; a hand-changed one at the next run', async () => {
    const a = ol.nodes[0]!;
    const peer = ol.nodes[2]!;
    const id = String(nexthopIdOf(peer.lease.subnet));
    nsRun(a.node.ns, 'ip', ['nexthop', 'del', 'id', id]);
    expect(routes(a.node.ns).map((r) => r.dst)).to.not.include(peer.lease.subnet);
    await within(1000, 'nexthop and route repaired', () => routes(a.node.ns).some((r) => r.dst === peer.lease.subnet));
    expect(nsRun(a.node.ns, 'ip', ['nexthop', 'show', 'id', id])).to.include(`via ${peer.node.underlayIp} dev eth0`);
    nsRun(a.node.ns, 'ip', ['nexthop', 'replace', 'id', id, 'via', '192.168.77.250', 'dev', 'eth0', 'proto', '89']);
    expect(await a.reconciler.reconcileNow()).to.include({ replaced: 1, writes: 1 });
    expect(nsRun(a.node.ns, 'ip', ['nexthop', 'show', 'id', id])).to.include(`via ${peer.node.underlayIp} dev eth0`);
    expect((await ol.lab.ping(a.container, peer.containerIp, 2)).received).to.equal(2);
  });

  it('a peer that leaves: its route is removed from the others', async () => {
    const leaver = ol.nodes[2]!;
    for (const o of ol.nodes.slice(0, 2)) {
      o.reconciler.setPeers(ol.nodes.filter((p) => p !== o && p !== leaver).map((p) => p.lease));
      const s = await o.reconciler.reconcileNow();
      // its route, then its nexthop
      expect(s).to.include({ deleted: 2, writes: 2 });
      expect(routes(o.node.ns).map((r) => r.dst)).to.not.include(leaver.lease.subnet);
    }
  });
});
