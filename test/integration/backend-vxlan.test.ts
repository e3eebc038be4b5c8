/**
 * The VXLAN backend and the reconciler in real node namespaces (no knitd):
 * the device as specified, per-peer objects as `ip`/`bridge` show them,
 * container-to-container ping across the overlay, a restart that writes
 * nothing, repair of a hand-deleted route and device within a second, and
 * directRouting on one L2 segment.
 */
import { expect } from 'chai';
import { createBackend, vtepMac } from '../../agent/src/backend';
import { nexthopIdOf } from '../../agent/src/backend/nexthop-routes';
import { Reconciler } from '../../agent/src/dataplane/reconcile';
import { detectUnderlay } from '../../agent/src/dataplane/underlay';
import { silentLogger } from '../../agent/src/log/logger';
import { openHandle } from '../../agent/src/netlink';
import { nsIpJson, nsRun } from '../lab/netns';
import { createOverlayLab, within, type OverlayLab } from './backend-overlay-lab';

interface IpLink { ifname: string; mtu: number; address: string; operstate: string; flags: string[]; linkinfo?: { info_kind: string; info_data: Record<string, unknown> } }
interface IpAddr { addr_info: Array<{ family: string; local: string; prefixlen: number }> }
interface IpRoute { dst: string; gateway?: string; dev: string; protocol?: string; flags: string[] }
interface IpNeigh { dst: string; lladdr: string; state: string[] }
interface BridgeFdb { mac: string; dst?: string; flags: string[]; state: string }

/** knit's routes as `ip -j route` shows them (protocol from the full listing: a `proto` filter drops the field). */
const routes = (ns: string): IpRoute[] => (JSON.parse(nsRun(ns, 'ip', ['-j', 'route', 'show']) || '[]') as IpRoute[])
  .filter((r) => r.protocol === '89')
  .map((r) => ({ dst: r.dst, ...(r.gateway ? { gateway: r.gateway } : {}), dev: r.dev, protocol: r.protocol, flags: r.flags }));
const fdb = (ns: string): BridgeFdb[] => (JSON.parse(nsRun(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', 'knit.1']) || '[]') as BridgeFdb[]).filter((e) => e.dst);

describe('backend vxlan: two nodes, real kernel', function () {
  this.timeout(60000);
  let ol: OverlayLab;

  before(async () => {
    ol = await createOverlayLab({ nodes: 2, backend: { type: 'vxlan' } });
    await ol.converge();
  });
  after(async () => { await ol?.teardown(); });

  it('device knit.1: vxlan id 1 dstport 8472 local <public IP> dev eth0 nolearning, stable MAC, <subnet .0>/32, MTU underlay − 50, up', () => {
    for (const o of ol.nodes) {
      const [link] = nsIpJson<IpLink[]>(o.node.ns, ['link', 'show', 'knit.1']);
      expect(link!.linkinfo!.info_kind).to.equal('vxlan');
      expect(link!.linkinfo!.info_data).to.include({ id: 1, port: 8472, local: o.node.underlayIp, link: 'eth0', learning: false });
      expect(link!.address).to.equal(vtepMac(o.node.name, 1));
      expect(link!.mtu).to.equal(1450);
      expect(link!.flags).to.include('UP');
      const [addr] = nsIpJson<IpAddr[]>(o.node.ns, ['-4', 'addr', 'show', 'dev', 'knit.1']);
      expect(addr!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).to.deep.equal([o.lease.subnet.replace('/24', '/32')]);
      expect(o.mtu).to.equal(1450);
      expect(o.lease.backend.data).to.deep.equal({ vtepMac: link!.address });
    }
  });

  it('per peer: permanent neighbour, FDB entry, onlink route proto 89', () => {
    const [a, b] = ol.nodes as [typeof ol.nodes[0], typeof ol.nodes[0]];
    expect(routes(a.node.ns)).to.deep.equal([{ dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'knit.1', protocol: '89', flags: ['onlink'] }]);
    const neigh = nsIpJson<IpNeigh[]>(a.node.ns, ['neigh', 'show', 'dev', 'knit.1']);
    expect(neigh.map((n) => ({ dst: n.dst, lladdr: n.lladdr, state: n.state }))).to.deep.equal([{ dst: '10.244.2.0', lladdr: vtepMac(b.node.name, 1), state: ['PERMANENT'] }]);
    expect(fdb(a.node.ns)).to.deep.equal([{ mac: vtepMac(b.node.name, 1), dst: b.node.underlayIp, flags: ['self'], state: 'permanent' }]);
  });

  it('containers reach each other across the overlay (both directions)', async () => {
    const [a, b] = ol.nodes as [typeof ol.nodes[0], typeof ol.nodes[0]];
    expect((await ol.lab.ping(a.container, b.containerIp, 3)).received).to.equal(3);
    expect((await ol.lab.ping(b.container, a.containerIp, 3)).received).to.equal(3);
    // a full-MTU packet (1450 − 28 bytes of ICMP payload headroom) crosses without fragmentation
    const big = await ol.lab.exec(a.container, 'ping', ['-n', '-c', '1', '-W', '2', '-M', 'do', '-s', '1422', b.containerIp]);
    expect(big).to.match(/1 received/);
  });

  it('steady-state resync makes 0 writes; a restarted backend + reconciler on a fresh handle makes 0 writes', async () => {
    const a = ol.nodes[0]!;
    const s = await a.reconciler.reconcileNow();
    // neighbour, FDB entry, nexthop and route
    expect(s).to.include({ writes: 0, unchanged: 4, failed: 0 });
    const nl = openHandle(a.node.netnsPath);
    try {
      const underlay = await detectUnderlay(nl);
      const backend = createBackend({ nl, logger: silentLogger(), network: ol.network, node: { name: a.node.name, publicIp: underlay.ip, underlay: underlay.link, subnet: a.lease.subnet } });
      const rec = new Reconciler({ nl, logger: silentLogger(), backend });
      rec.setPeers([ol.nodes[1]!.lease]);
      const r = await rec.reconcileNow();
      expect(r).to.include({ setupRan: true, writes: 0, unchanged: 4 });
      await rec.stop();
    } finally {
      nl.close();
    }
  });

  it('a knit route deleted by hand is back within 1 s', async () => {
    const a = ol.nodes[0]!;
    nsRun(a.node.ns, 'ip', ['route', 'del', '10.244.2.0/24', 'proto', '89']);
    expect(routes(a.node.ns)).to.deep.equal([]);
    const ms = await within(1000, 'route repaired', () => routes(a.node.ns).length === 1);
    expect(routes(a.node.ns)[0]).to.include({ dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'knit.1' });
    expect(ms).to.be.lessThan(1000);
  });

  it('a knit nexthop deleted by hand (its route goes with it, told by no route event) is back with its route within 1 s', async () => {
    const [a, b] = ol.nodes as [typeof ol.nodes[0], typeof ol.nodes[0]];
    const id = String(nexthopIdOf('10.244.2.0/24'));
    nsRun(a.node.ns, 'ip', ['nexthop', 'del', 'id', id]);
    expect(routes(a.node.ns)).to.deep.equal([]);
    const ms = await within(1000, 'nexthop and route repaired', () => routes(a.node.ns).length === 1);
    expect(ms).to.be.lessThan(1000);
    expect(nsRun(a.node.ns, 'ip', ['nexthop', 'show', 'id', id])).to.match(/via 10\.244\.2\.0 dev knit\.1 .*onlink/);
    expect(nsRun(a.node.ns, 'ip', ['route', 'show', '10.244.2.0/24'])).to.include(`nhid ${id}`);
    expect((await ol.lab.ping(a.container, b.containerIp, 2)).received).to.equal(2);
  });

  it('a knit nexthop changed by hand is rewritten by the next run (the route through it is left alone)', async () => {
    const a = ol.nodes[0]!;
    const id = String(nexthopIdOf('10.244.2.0/24'));
    nsRun(a.node.ns, 'ip', ['nexthop', 'replace', 'id', id, 'via', '10.244.2.9', 'dev', 'knit.1', 'onlink', 'proto', '89']);
    expect(await a.reconciler.reconcileNow()).to.include({ replaced: 1, writes: 1 });
    expect(nsRun(a.node.ns, 'ip', ['nexthop', 'show', 'id', id])).to.match(/via 10\.244\.2\.0 dev knit\.1/);
  });

  it('a knit neighbour or FDB entry deleted by hand is back within 1 s', async () => {
    const a = ol.nodes[0]!;
    const neigh = (): IpNeigh[] => nsIpJson<IpNeigh[]>(a.node.ns, ['neigh', 'show', 'dev', 'knit.1']).filter((n) => n.lladdr);
    const mac = fdb(a.node.ns)[0]!.mac;
    const peerIp = ol.nodes[1]!.node.underlayIp;
    nsRun(a.node.ns, 'ip', ['neigh', 'del', '10.244.2.0', 'dev', 'knit.1']);
    await within(1000, 'neighbour back', () => neigh().length === 1);
    expect(neigh().map((n) => `${n.dst} ${n.lladdr} ${n.state.join()}`)).to.deep.equal([`10.244.2.0 ${mac} PERMANENT`]);
    nsRun(a.node.ns, 'bridge', ['fdb', 'del', mac, 'dev', 'knit.1', 'dst', peerIp, 'self']);
    await within(1000, 'FDB entry back', () => fdb(a.node.ns).length === 1);
    expect(fdb(a.node.ns).map((e) => `${e.mac} ${e.dst}`)).to.deep.equal([`${mac} ${peerIp}`]);
  });

  it('the vxlan device deleted by hand is recreated (with its peers) within 1 s, and traffic flows again', async () => {
    const [a, b] = ol.nodes as [typeof ol.nodes[0], typeof ol.nodes[0]];
    const setupsBefore = a.reconciler.stats.setups;
    nsRun(a.node.ns, 'ip', ['link', 'del', 'knit.1']);
    await within(1000, 'device, neighbour, FDB and route back', () => {
      const link = nsIpJson<IpLink[]>(a.node.ns, ['link', 'show']).find((l) => l.ifname === 'knit.1');
      return link !== undefined && link.flags.includes('UP') && routes(a.node.ns).length === 1 && fdb(a.node.ns).length === 1
        && nsIpJson<IpNeigh[]>(a.node.ns, ['neigh', 'show', 'dev', 'knit.1']).length === 1;
    });
    expect(a.reconciler.stats.setups).to.be.greaterThan(setupsBefore);
    const [link] = nsIpJson<IpLink[]>(a.node.ns, ['link', 'show', 'knit.1']);
    expect(link!.address).to.equal(vtepMac(a.node.name, 1));
    expect((await ol.lab.ping(a.container, b.containerIp, 3)).received).to.equal(3);
  });

  it('the device set down by hand is set up again within 1 s', async () => {
    const a = ol.nodes[0]!;
    nsRun(a.node.ns, 'ip', ['link', 'set', 'knit.1', 'down']);
    await within(1000, 'device up again', () => nsIpJson<IpLink[]>(a.node.ns, ['link', 'show', 'knit.1'])[0]!.flags.includes('UP'));
    await within(1000, 'route back', () => routes(a.node.ns).length === 1);
  });
});

describe('backend vxlan: directRouting', function () {
  this.timeout(60000);
  let ol: OverlayLab;
  before(async () => {
    ol = await createOverlayLab({ nodes: 2, backend: { type: 'vxlan', directRouting: true } });
  });
  after(async () => { await ol?.teardown(); });

  it('a peer on the same segment gets a plain route via its public IP on eth0; one elsewhere stays on the overlay', async () => {
    const far = { subnet: '10.244.9.0/24', nodeName: 'far', publicIp: '10.99.0.9', backend: { type: 'vxlan' as const, data: { vtepMac: '0a:00:00:00:00:09' } }, renewedAt: new Date(0).toISOString() };
    await ol.converge([far]);
    const [a, b] = ol.nodes as [typeof ol.nodes[0], typeof ol.nodes[0]];
    expect(routes(a.node.ns)).to.deep.equal([
      { dst: '10.244.2.0/24', gateway: b.node.underlayIp, dev: 'eth0', protocol: '89', flags: [] },
      { dst: '10.244.9.0/24', gateway: '10.244.9.0', dev: 'knit.1', protocol: '89', flags: ['onlink'] },
    ]);
    expect(fdb(a.node.ns).map((e) => e.dst)).to.deep.equal(['10.99.0.9']);
    expect((await ol.lab.ping(a.container, b.containerIp, 3)).received).to.equal(3);
    expect(a.reconciler.status().peers.map((p) => `${p.subnet} ${p.mode} ${p.inSync}`)).to.deep.equal([
      '10.244.2.0/24 direct true', '10.244.9.0/24 vxlan true',
    ]);
  });
});
