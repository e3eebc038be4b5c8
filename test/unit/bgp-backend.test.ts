/**
 * The bgp backend without a kernel or real sockets: the network config's
 * BGP section (validation, round trip), the resolved defaults, the peer set
 * (configured peers, reflectors, mesh from leases), and desired routes from
 * learned paths (protocol 90 on the underlay; IPv6 through its own sync).
 */
import { expect } from 'chai';
import { BgpBackend } from '../../agent/src/backend/bgp/bgp-backend';
import { peerSpecs, resolveBgpOptions } from '../../agent/src/backend/bgp/options';
import { backendLeaseData, parseNetwork, type BgpBackendNetlink } from '../../agent/src/backend';
import type { UpdateMessage } from '../../agent/src/bgp/codec';
import { parsePrefix } from '../../agent/src/bgp/path';
import { silentLogger } from '../../agent/src/log/logger';
import { RTPROT_KNIT_BGP, type Addr, type Link, type Route } from '../../agent/src/netlink/types';
import type { Lease } from '../../agent/src/store/lease-codec';
import { formatNetworkConfig, parseNetworkConfigText, NetworkConfigError } from '../../agent/src/store/network-config';
import { FakeClock, FakeConn, FakeDialer, flush, peerOpen } from './bgp-fakes';

const net = (backend: Record<string, unknown>) => parseNetwork({ clusterCidr: '10.244.0.0/16', backend: { type: 'bgp', ...backend } });

function lease(node: string, subnet: string, ip: string, data: Record<string, number> = {}, type: 'bgp' | 'vxlan' = 'bgp'): Lease {
  return { nodeName: node, subnet, publicIp: ip, backend: { type, data }, renewedAt: '2026-01-01T00:00:00Z' };
}

describe('bgp network config', () => {
  it('accepts every BGP option and stores exactly what was written (round trip)', () => {
    const input = {
      type: 'bgp', asn: 65001, nodeAsns: { node2: 65002 },
      peers: [{ address: '192.168.77.1', asn: 65000, port: 1179, passive: false, multihop: true, holdTime: 9 }],
      nodeMesh: false, routeReflectors: [{ address: '192.168.77.100' }],
      listenAddress: '0.0.0.0', listenPort: 1179, holdTime: 0, gracefulRestart: true, restartTime: 60,
      advertiseClusterCidr: true, advertise: ['2001:db8:1::/64'], ipv6NextHop: '2001:db8::11',
    };
    const cfg = net(input);
    expect(cfg.backend).to.deep.equal(input);
    expect(parseNetworkConfigText(formatNetworkConfig(cfg))).to.deep.equal(cfg);
    expect(net({ asn: 65001 }).backend).to.deep.equal({ type: 'bgp', asn: 65001 });
  });

  const bad: { name: string; backend: Record<string, unknown>; field: string }[] = [
    { name: 'hold time 1', backend: { holdTime: 1 }, field: 'backend.holdTime' },
    { name: 'peer hold time 2', backend: { peers: [{ address: '10.0.0.1', asn: 1, holdTime: 2 }] }, field: 'backend.peers.0.holdTime' },
    { name: 'peer without asn', backend: { peers: [{ address: '10.0.0.1' }] }, field: 'backend.peers.0.asn' },
    { name: 'peer with a bad address', backend: { peers: [{ address: '10.0.0.300', asn: 1 }] }, field: 'backend.peers.0.address' },
    { name: 'peer listed twice', backend: { peers: [{ address: '10.0.0.1', asn: 1 }, { address: '10.0.0.1', asn: 2 }] }, field: 'backend.peers.1.address' },
    { name: 'unknown peer field', backend: { peers: [{ address: '10.0.0.1', asn: 1, ttl: 1 }] }, field: 'backend.peers.0.ttl' },
    { name: 'unknown backend field', backend: { mesh: true }, field: 'backend.mesh' },
    { name: 'asn 0', backend: { asn: 0 }, field: 'backend.asn' },
    { name: 'asn above 32 bits', backend: { asn: 4294967296 }, field: 'backend.asn' },
    { name: 'node asn not a number', backend: { nodeAsns: { node1: 'x' } }, field: 'backend.nodeAsns.node1' },
    { name: 'restart time above 4095', backend: { restartTime: 4096 }, field: 'backend.restartTime' },
    { name: 'advertise not CIDRs', backend: { advertise: ['fd00::'] }, field: 'backend.advertise' },
    { name: 'listen port 0', backend: { listenPort: 0 }, field: 'backend.listenPort' },
  ];
  for (const tc of bad) {
    it(`refuses ${tc.name} naming ${tc.field}`, () => {
      try {
        net(tc.backend);
        expect.fail('accepted');
      } catch (err) {
        expect(err).to.be.instanceOf(NetworkConfigError);
        expect((err as NetworkConfigError).field).to.equal(tc.field);
      }
    });
  }
});

describe('bgp backend options and peers', () => {
  it('fills defaults; nodeMesh defaults to on only without peers and reflectors', () => {
    const o = resolveBgpOptions(net({ asn: 64512 }), 'node1');
    expect(o).to.deep.include({ localAsn: 64512, nodeMesh: true, listenAddress: '0.0.0.0', listenPort: 179, holdTime: 90, gracefulRestart: false, restartTime: 120, advertiseClusterCidr: false });
    expect(resolveBgpOptions(net({ asn: 1, peers: [{ address: '10.0.0.1', asn: 2 }] }), 'n').nodeMesh).to.equal(false);
  });

  it('per-node AS numbers win over the cluster AS, and a node without one is refused', () => {
    const cfg = net({ nodeAsns: { node2: 65002 } });
    expect(resolveBgpOptions(cfg, 'node2').localAsn).to.equal(65002);
    expect(() => resolveBgpOptions(cfg, 'node1')).to.throw(/no AS number for node node1/);
    expect(backendLeaseData(net({ asn: 65001, nodeAsns: { node1: 65011 } }), 'node1')).to.deep.equal({ bgpAsn: 65011 });
  });

  it('mesh: one iBGP peer per other bgp lease at its public IP, with its published AS; never ourselves', () => {
    const o = resolveBgpOptions(net({ asn: 65001 }), 'node1');
    const leases = [
      lease('node1', '10.244.1.0/24', '192.168.77.11'),
      lease('node2', '10.244.2.0/24', '192.168.77.12', { bgpAsn: 65001 }),
      lease('node3', '10.244.3.0/24', '192.168.77.13', { bgpAsn: 65003 }),
      lease('node4', '10.244.4.0/24', '192.168.77.14', {}),
      lease('node5', '10.244.5.0/24', '192.168.77.15', {}, 'vxlan'),
    ];
    expect(peerSpecs(o, leases, { publicIp: '192.168.77.11' })).to.deep.equal([
      { address: '192.168.77.12', asn: 65001, port: 179, origin: 'mesh node2', requireLease: true },
      { address: '192.168.77.13', asn: 65003, port: 179, origin: 'mesh node3', requireLease: true },
      { address: '192.168.77.14', asn: 65001, port: 179, origin: 'mesh node4', requireLease: true },
    ]);
  });

  it('configured peers and reflectors (iBGP by default) come first and win over a mesh peer at the same address', () => {
    const o = resolveBgpOptions(net({ asn: 65001, nodeMesh: true, peers: [{ address: '192.168.77.12', asn: 65000, passive: true }], routeReflectors: [{ address: '192.168.77.100' }] }), 'node1');
    const specs = peerSpecs(o, [lease('node2', '10.244.2.0/24', '192.168.77.12')], { publicIp: '192.168.77.11' });
    expect(specs).to.deep.equal([
      { address: '192.168.77.12', asn: 65000, passive: true, origin: 'config' },
      { address: '192.168.77.100', asn: 65001, origin: 'reflector', requireLease: true },
    ]);
  });
});

describe('bgp backend desired routes', () => {
  const underlay: Link = { index: 2, name: 'eth0', kind: 'veth', mtu: 1500, up: true };
  let backend: BgpBackend;
  let dialer: FakeDialer;
  let clock: FakeClock;

  function handle(): BgpBackendNetlink {
    const addrs: Addr[] = [
      { index: 2, cidr: '192.168.77.11/24', family: 4 },
      { index: 2, cidr: '2001:db8:77::11/64', family: 6 },
      { index: 2, cidr: 'fe80::11/64', family: 6 },
    ];
    return {
      linkByIndex: async () => underlay,
      addrList: async (f) => addrs.filter((a) => !f?.family || a.family === f.family),
      routeList: async () => [],
    };
  }

  beforeEach(() => {
    dialer = new FakeDialer();
    clock = new FakeClock();
    // BIRD's own statics (10.99.0.0/16, 2001:db8:9::/48) are outside the cluster: this peer's import is chosen to be "all".
    const network = net({ asn: 65001, peers: [{ address: '192.168.77.1', asn: 65000, import: 'all' }], listenAddress: '127.0.0.1', listenPort: 17900 + (process.pid % 90), advertise: ['2001:db8:1::/64'] });
    backend = new BgpBackend(
      { nl: handle(), logger: silentLogger(), network, node: { name: 'node1', publicIp: '192.168.77.11', underlay, subnet: '10.244.1.0/24' } },
      { dial: dialer.dial, clock },
    );
  });

  afterEach(async () => {
    await backend.close();
  });

  it('publishes its AS, advertises its subnet and IPv6 prefix, and turns learned paths of both families into protocol-90 routes (desired() writes nothing)', async () => {
    const setup = await backend.setup();
    expect(setup).to.deep.equal({ leaseData: { bgpAsn: 65001 }, mtu: 1500, writes: 0 });
    let changes = 0;
    backend.watch(() => { changes++; });
    const leases = [lease('node2', '10.244.2.0/24', '192.168.77.12')];
    expect(backend.desired(leases)).to.deep.equal({ peers: [], refused: [] });
    await flush();
    // desired() is pure: no session until the wiring hands the peer set over.
    expect(dialer.attempts).to.have.length(0);
    backend.peersChanged(leases);
    await flush();
    expect(dialer.attempts.map((a) => `${a.target.host}:${a.target.port}`)).to.deep.equal(['192.168.77.1:179']);
    const conn = new FakeConn('192.168.77.1', 179, '192.168.77.11');
    dialer.attempts[0].resolve(conn);
    await flush();
    conn.send(peerOpen({ asn: 65000, bgpId: '192.168.77.1' }));
    conn.send({ type: 'keepalive' });
    const sent = conn.received().filter((m): m is UpdateMessage => m.type === 'update');
    expect(sent[0].nlri.map((p) => `${p.addr}/${p.len}`)).to.deep.equal(['10.244.1.0/24']);
    expect(sent[0].attributes.nextHop).to.equal('192.168.77.11');
    expect(sent[1].attributes.mpReach?.nextHop).to.deep.equal({ global: '2001:db8:77::11', linkLocal: 'fe80::11' });

    conn.send({ type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65000, 65002] }], nextHop: '192.168.77.12' }, nlri: [parsePrefix('10.244.2.0/24')!] });
    conn.send({ type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65000] }], nextHop: '192.168.77.11' }, nlri: [parsePrefix('10.99.0.0/16')!] });
    conn.send({
      type: 'update', withdrawn: [], nlri: [],
      attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65000] }], mpReach: { afi: 2, safi: 1, nextHop: { global: '2001:db8:77::1', linkLocal: 'fe80::1' }, nlri: [parsePrefix('2001:db8:9::/48')!] } },
    });
    clock.advance(10);
    expect(changes).to.equal(1);
    const d = backend.desired(leases);
    expect(d.peers).to.deep.equal([{
      subnet: '10.244.2.0/24', nodeName: 'node2', publicIp: '192.168.77.12', mode: 'bgp', neighbours: [], fdb: [], nexthops: [],
      routes: [{ dst: '10.244.2.0/24', gateway: '192.168.77.12', index: 2, protocol: RTPROT_KNIT_BGP }],
    }, {
      subnet: '2001:db8:9::/48', nodeName: 'bgp 192.168.77.1', publicIp: '2001:db8:77::1', mode: 'bgp', neighbours: [], fdb: [], nexthops: [],
      routes: [{ dst: '2001:db8:9::/48', gateway: 'fe80::1', index: 2, protocol: RTPROT_KNIT_BGP, metric: 1024 }],
    }]);
    await flush();
    // The reconciler writes them, not the backend: BgpBackendNetlink has no write verb.
    expect(backend.sessions()[0]).to.deep.include({ peerAddress: '192.168.77.1', state: 'Established', prefixesReceived: 3, prefixesSent: 2 });
    // 10.99.0.0/16 came with our own address as next hop: refused at import (counted, not a route).
    expect(backend.routes().map((r) => `${r.prefix} ${r.installed}`).sort()).to.deep.equal(['10.244.2.0/24 true', '2001:db8:9::/48 true']);
    expect(backend.sessions()[0]).to.deep.include({ prefixesAccepted: 2, prefixesRejected: { 'next-hop': 1 } });
  });
});

describe('bgp backend kernel ownership and graceful restart', () => {
  const underlay: Link = { index: 2, name: 'eth0', kind: 'veth', mtu: 1500, up: true };

  /** A kernel with some routes. The backend's netlink type has no write verb: it cannot write (the reconciler does). */
  function kernel(initial: Route[]): { handle: BgpBackendNetlink } {
    const state = { routes: initial.map((r): Route => ({ table: 254, metric: 0, ...r })) };
    const h: BgpBackendNetlink = {
      linkByIndex: async () => underlay,
      addrList: async (f) => (f?.family === 6 ? [{ index: 2, cidr: '2001:db8:77::11/64', family: 6 }] : [{ index: 2, cidr: '192.168.77.11/24', family: 4 }]),
      routeList: async (f) => state.routes.filter((r) => (f?.family === undefined || (f.family === 6) === r.dst.includes(':')) && (f?.protocol === undefined || r.protocol === f.protocol)).map((r) => ({ ...r })),
    };
    return { handle: h };
  }

  let dialer: FakeDialer;
  let clock: FakeClock;
  beforeEach(() => {
    dialer = new FakeDialer();
    clock = new FakeClock();
  });

  /** setup(), the (empty) peer set, and one Established session with the router 192.168.77.1 (AS 65000). */
  async function establishedWithRouter(b: BgpBackend): Promise<FakeConn> {
    await b.setup();
    b.peersChanged([]);
    await flush();
    const conn = new FakeConn('192.168.77.1', 179, '192.168.77.11');
    dialer.attempts[0]!.resolve(conn);
    await flush();
    conn.send(peerOpen({ asn: 65000, bgpId: '192.168.77.1' }));
    conn.send({ type: 'keepalive' });
    return conn;
  }

  it('a dual-stack node advertises its own IPv6 pod subnet next to its IPv4 one', async () => {
    const k = kernel([]);
    const b = new BgpBackend({ nl: k.handle, logger: silentLogger(), network: net({ asn: 65001, peers: [{ address: '192.168.77.1', asn: 65000 }], listenAddress: '127.0.0.1', listenPort: 17960 + (process.pid % 9) }), node: { name: 'node1', publicIp: '192.168.77.11', underlay, subnet: '10.244.1.0/24', subnet6: 'fd00:10:244:1::/64' } }, { dial: dialer.dial, clock });
    try {
      const conn = await establishedWithRouter(b);
      const sent = conn.received().filter((m): m is UpdateMessage => m.type === 'update');
      const v6 = sent.flatMap((u) => u.attributes.mpReach?.nlri ?? []).map((p) => `${p.addr}/${p.len}`);
      expect(sent.flatMap((u) => u.nlri).map((p) => `${p.addr}/${p.len}`)).to.deep.equal(['10.244.1.0/24']);
      expect(v6).to.deep.equal(['fd00:10:244:1::/64']);
    } finally {
      await b.close();
    }
  });

  it('IPv6: learned routes are desired routes (metric 1024, proto 90); desired() itself writes nothing', async () => {
    const k = kernel([
      { dst: '2001:db8:9::/48', gateway: 'fe80::99', index: 2, protocol: 3, metric: 1024 },
      { dst: '2001:db8:old::/48', gateway: 'fe80::1', index: 2, protocol: RTPROT_KNIT_BGP, metric: 1024 },
    ]);
    const b = new BgpBackend({ nl: k.handle, logger: silentLogger(), network: net({ asn: 65001, peers: [{ address: '192.168.77.1', asn: 65000, import: 'all' }], listenAddress: '127.0.0.1', listenPort: 17990 + (process.pid % 9) }), node: { name: 'node1', publicIp: '192.168.77.11', underlay, subnet: '10.244.1.0/24' } }, { dial: dialer.dial, clock });
    try {
      const conn = await establishedWithRouter(b);
      conn.send({ type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65000] }], mpReach: { afi: 2, safi: 1, nextHop: { global: '2001:db8:77::1', linkLocal: 'fe80::1' }, nlri: [parsePrefix('2001:db8:9::/48')!, parsePrefix('2001:db8:a::/48')!] } } });
      clock.advance(10);
      const routes = b.desired([]).peers.flatMap((p) => p.routes);
      for (let i = 0; i < 5; i++) await flush();
      expect(routes.map((r) => `${r.dst} ${r.gateway} ${r.metric} ${r.protocol}`).sort()).to.deep.equal([
        `2001:db8:9::/48 fe80::1 1024 ${RTPROT_KNIT_BGP}`, `2001:db8:a::/48 fe80::1 1024 ${RTPROT_KNIT_BGP}`,
      ]);
      // The foreign route in the slot and our stale one are the reconciler's business (reconcile-diff tests).
    } finally {
      await b.close();
    }
  });

  it('graceful restart: last run\'s BGP routes stay desired until every peer sent End-of-RIB, then only learned ones remain', async () => {
    const k = kernel([
      { dst: '10.244.2.0/24', gateway: '192.168.77.12', index: 2, protocol: RTPROT_KNIT_BGP },
      { dst: '10.244.3.0/24', gateway: '192.168.77.13', index: 2, protocol: RTPROT_KNIT_BGP },
    ]);
    const dialer = new FakeDialer();
    const clock = new FakeClock();
    const b = new BgpBackend({ nl: k.handle, logger: silentLogger(), network: net({ asn: 65001, gracefulRestart: true, restartTime: 30, peers: [{ address: '192.168.77.1', asn: 65000 }], listenAddress: '127.0.0.1', listenPort: 17980 + (process.pid % 9) }), node: { name: 'node1', publicIp: '192.168.77.11', underlay, subnet: '10.244.1.0/24' } }, { dial: dialer.dial, clock });
    try {
      await b.setup();
      let changes = 0;
      b.watch(() => { changes++; });
      // The local prefixes' batch fires before the speaker knows any peer: that is not convergence.
      clock.advance(10);
      const dsts = (): string[] => b.desired([]).peers.map((p) => p.subnet).sort();
      expect(dsts()).to.deep.equal(['10.244.2.0/24', '10.244.3.0/24']);
      b.peersChanged([]);
      expect(dsts(), 'a peer set alone is not convergence').to.deep.equal(['10.244.2.0/24', '10.244.3.0/24']);
      await flush();
      const conn = new FakeConn('192.168.77.1', 179, '192.168.77.11');
      dialer.attempts[0]!.resolve(conn);
      await flush();
      // Our OPEN says we restarted (R bit) with forwarding state kept.
      const open = conn.received()[0] as Extract<import('../../agent/src/bgp/codec').BgpMessage, { type: 'open' }>;
      expect(open.capabilityParams.flat().find((c) => c.kind === 'graceful-restart')).to.deep.include({ restarting: true, restartTime: 30 });
      conn.send(peerOpen({ asn: 65000, bgpId: '192.168.77.1' }, [[{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'four-octet-as', asn: 65000 }]]));
      conn.send({ type: 'keepalive' });
      conn.send({ type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65000, 65002] }], nextHop: '192.168.77.12' }, nlri: [parsePrefix('10.244.2.0/24')!] });
      clock.advance(10);
      expect(dsts(), 'not converged yet: 10.244.3.0/24 still preserved').to.deep.equal(['10.244.2.0/24', '10.244.3.0/24']);
      conn.send({ type: 'update', withdrawn: [], attributes: {}, nlri: [] }); // End-of-RIB
      clock.advance(10);
      expect(dsts()).to.deep.equal(['10.244.2.0/24']);
      expect(changes).to.be.greaterThan(1);
    } finally {
      await b.close();
    }
  });

  it('graceful restart: without End-of-RIB the preserved routes go when the restart time passes', async () => {
    const k = kernel([{ dst: '10.244.3.0/24', gateway: '192.168.77.13', index: 2, protocol: RTPROT_KNIT_BGP }]);
    const clock = new FakeClock();
    const b = new BgpBackend({ nl: k.handle, logger: silentLogger(), network: net({ asn: 65001, gracefulRestart: true, restartTime: 30, peers: [{ address: '192.168.77.1', asn: 65000 }], listenAddress: '127.0.0.1', listenPort: 17970 + (process.pid % 9) }), node: { name: 'node1', publicIp: '192.168.77.11', underlay, subnet: '10.244.1.0/24' } }, { dial: new FakeDialer().dial, clock });
    try {
      await b.setup();
      expect(b.desired([]).peers.map((p) => p.subnet)).to.deep.equal(['10.244.3.0/24']);
      clock.advance(29_000);
      expect(b.desired([]).peers).to.have.length(1);
      clock.advance(1_000);
      expect(b.desired([]).peers).to.deep.equal([]);
    } finally {
      await b.close();
    }
  });
});
