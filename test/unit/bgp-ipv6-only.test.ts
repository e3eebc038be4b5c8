/**
 * bgp in an IPv6-only cluster, without a kernel or real sockets:
 *   - the BGP Identifier: validation, derivation from the node name, and
 *     which one a node uses (configured, IPv4 publicIp, derived);
 *   - the wire: the OPEN carries the router ID and offers IPv6 unicast only,
 *     the UPDATEs carry the node's IPv6 subnet in MP_REACH_NLRI with its
 *     IPv6 underlay address as next hop and no IPv4 NLRI or NEXT_HOP (checked
 *     on the bytes as sent), a peer that offers only IPv4 is refused (2/7);
 *   - learned IPv6 routes become desired routes, and the node's protections
 *     still hold: a more-specific of its own subnet is refused, and so is a
 *     reflected path carrying its router ID as ORIGINATOR_ID or in the
 *     CLUSTER_LIST.
 */
import { expect } from 'chai';
import { BgpBackend } from '../../agent/src/backend/bgp/bgp-backend';
import { peerSpecs, resolveBgpOptions, resolveRouterId } from '../../agent/src/backend/bgp/options';
import { parseNetwork, type BgpBackendNetlink } from '../../agent/src/backend';
import { MessageSplitter, type NotificationMessage, type OpenMessage, type UpdateMessage } from '../../agent/src/bgp/codec';
import { parsePrefix } from '../../agent/src/bgp/path';
import { silentLogger } from '../../agent/src/log/logger';
import { deriveRouterId, routerIdProblem } from '../../agent/src/net/router-id';
import { routerId as routerIdCheck } from '../../agent/src/config/validators';
import { RTPROT_KNIT_BGP, type Addr, type Link } from '../../agent/src/netlink/types';
import type { Lease } from '../../agent/src/store/lease-codec';
import { FakeClock, FakeConn, FakeDialer, flush, peerOpen } from './bgp-fakes';

describe('BGP router ID (RFC 6286: 32 bits, also IPv6-only)', () => {
  const cases: { id: string; ok: boolean }[] = [
    { id: '10.0.0.1', ok: true },
    { id: '198.51.100.7', ok: true },
    { id: '240.0.0.1', ok: true },
    { id: '0.0.0.0', ok: false },
    { id: '224.0.0.5', ok: false },
    { id: '239.255.255.255', ok: false },
    { id: '255.255.255.255', ok: false },
    { id: '1.2.3', ok: false },
    { id: '010.0.0.1', ok: false },
    { id: 'fd00::1', ok: false },
    { id: '', ok: false },
  ];
  for (const tc of cases) {
    it(`${tc.ok ? 'accepts' : 'refuses'} ${JSON.stringify(tc.id)}`, () => {
      expect(routerIdProblem(tc.id) === undefined).to.equal(tc.ok);
      // knitd's bgp.routerId check is the same rule.
      expect(routerIdCheck(tc.id) === undefined).to.equal(tc.ok);
    });
  }

  it('derives a stable, valid ID from the node name, different per name', () => {
    expect(deriveRouterId('node1')).to.equal(deriveRouterId('node1'));
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = deriveRouterId(`node-${i}`);
      expect(routerIdProblem(id), id).to.equal(undefined);
      const first = Number(id.split('.')[0]);
      expect(first, id).to.be.within(1, 223);
      expect(first, id).to.not.equal(127);
      ids.add(id);
    }
    // 2000 names in 2^32: a collision is possible (documented), but not expected here.
    expect(ids.size).to.equal(2000);
    // Pinned: a change of the derivation would renumber every IPv6-only node's BGP identity.
    expect(deriveRouterId('node1')).to.equal(PINNED_NODE1);
  });

  it('a node uses the configured ID, else its IPv4 publicIp (unchanged), else one derived from its name', () => {
    expect(resolveRouterId({ name: 'node1', publicIp: 'fd77::11', routerId: '10.9.9.9' })).to.deep.equal({ routerId: '10.9.9.9', source: 'config' });
    expect(resolveRouterId({ name: 'node1', publicIp: '192.168.77.11', routerId: '10.9.9.9' })).to.deep.equal({ routerId: '10.9.9.9', source: 'config' });
    expect(resolveRouterId({ name: 'node1', publicIp: '192.168.77.11' })).to.deep.equal({ routerId: '192.168.77.11', source: 'publicIp' });
    expect(resolveRouterId({ name: 'node1', publicIp: 'fd77::11' })).to.deep.equal({ routerId: deriveRouterId('node1'), source: 'derived' });
  });
});

/** deriveRouterId('node1'), written down once (see the test). */
const PINNED_NODE1 = '208.67.154.200';

const V6NET = (backend: Record<string, unknown>) => parseNetwork({ clusterCidr: 'fd00:10:244::/56', subnetLength: 64, backend: { type: 'bgp', ...backend } });

function lease(node: string, subnet: string, ip: string): Lease {
  return { nodeName: node, subnet, publicIp: ip, backend: { type: 'bgp', data: { bgpAsn: 65002 } }, renewedAt: '2026-01-01T00:00:00Z' };
}

/** Attribute type codes of an UPDATE as sent (RFC 4271 §4.3), and the length of its IPv4 withdrawn routes and NLRI. */
function updateLayout(buf: Buffer): { withdrawnLen: number; attrTypes: number[]; nlriLen: number } {
  let o = 19;
  const withdrawnLen = buf.readUInt16BE(o);
  o += 2 + withdrawnLen;
  const attrLen = buf.readUInt16BE(o);
  o += 2;
  const end = o + attrLen;
  const attrTypes: number[] = [];
  while (o < end) {
    const flags = buf[o]!;
    attrTypes.push(buf[o + 1]!);
    const ext = (flags & 0x10) !== 0;
    const len = ext ? buf.readUInt16BE(o + 2) : buf[o + 2]!;
    o += (ext ? 4 : 3) + len;
  }
  return { withdrawnLen, attrTypes, nlriLen: buf.readUInt16BE(16) - end };
}

describe('bgp backend in an IPv6-only cluster', () => {
  const underlay: Link = { index: 2, name: 'eth0', kind: 'veth', mtu: 1500, up: true };
  const addrs: Addr[] = [
    { index: 2, cidr: 'fd77::11/64', family: 6 },
    { index: 2, cidr: 'fe80::11/64', family: 6 },
  ];
  const nl: BgpBackendNetlink = {
    linkByIndex: async () => underlay,
    addrList: async (f) => addrs.filter((a) => !f?.family || a.family === f.family),
    routeList: async () => [],
  };
  const node = { name: 'node1', publicIp: 'fd77::11', underlay, subnet: 'fd00:10:244:1::/64' };
  let dialer: FakeDialer;
  let clock: FakeClock;
  let port = 18100 + (process.pid % 50);
  const backends: BgpBackend[] = [];

  beforeEach(() => {
    dialer = new FakeDialer();
    clock = new FakeClock();
  });
  afterEach(async () => {
    for (const b of backends.splice(0)) await b.close();
  });

  function make(backend: Record<string, unknown>, extra: { routerId?: string } = {}): BgpBackend {
    const b = new BgpBackend(
      { nl, logger: silentLogger(), network: V6NET({ listenAddress: '::1', listenPort: port++, ...backend }), node: { ...node, ...extra } },
      { dial: dialer.dial, clock },
    );
    backends.push(b);
    return b;
  }

  /** setup(), the peer set, and the first dial answered by `conn`; returns what knitd sent first (its OPEN), raw. */
  async function connect(b: BgpBackend, conn: FakeConn, leases: Lease[] = []): Promise<Buffer> {
    await b.setup();
    b.peersChanged(leases);
    await flush();
    expect(dialer.attempts.map((a) => a.target.host), 'dials the peer over IPv6').to.deep.equal([conn.remoteAddress]);
    dialer.attempts[0]!.resolve(conn);
    await flush();
    return conn.written[0]!;
  }

  it('the mesh peers with the other bgp leases at their IPv6 publicIp', () => {
    const o = resolveBgpOptions(V6NET({ asn: 64512 }), 'node1');
    const specs = peerSpecs(o, [lease('node1', 'fd00:10:244:1::/64', 'fd77::11'), lease('node2', 'fd00:10:244:2::/64', 'fd77::12')], { publicIp: 'fd77::11' });
    expect(specs).to.deep.equal([{ address: 'fd77::12', asn: 65002, port: 179, origin: 'mesh node2', requireLease: true }]);
  });

  it('defaults: sessions over IPv6, listening on ::', () => {
    const o = resolveBgpOptions(V6NET({ asn: 65001 }), 'node1');
    expect(o.sessionFamily).to.equal(6);
    expect(o.listenAddress).to.equal('::');
    const dual = resolveBgpOptions(parseNetwork({ clusterCidr: '10.244.0.0/16', ipv6ClusterCidr: 'fd00:10:244::/56', backend: { type: 'bgp', asn: 65001 } }), 'node1');
    expect(dual.sessionFamily, 'dual-stack keeps IPv4 sessions').to.equal(4);
    expect(dual.listenAddress).to.equal('0.0.0.0');
  });

  it('OPEN: the derived router ID, IPv6 unicast only; UPDATE: its IPv6 subnet in MP_REACH_NLRI via its IPv6 underlay address, nothing IPv4', async () => {
    const b = make({ nodeAsns: { node1: 65001 }, peers: [{ address: 'fd77::1', asn: 65000 }] });
    const conn = new FakeConn('fd77::1', 179, 'fd77::11');
    const openBytes = await connect(b, conn);
    const id = deriveRouterId('node1');
    // OPEN as sent: BGP Identifier at octets 24..27 (header 19, version 1, AS 2, hold time 2).
    expect([...openBytes.subarray(24, 28)].join('.')).to.equal(id);
    const open = conn.received()[0] as OpenMessage;
    expect(open.type).to.equal('open');
    expect(open.bgpId).to.equal(id);
    const mp = open.capabilityParams.flat().filter((c) => c.kind === 'multiprotocol');
    expect(mp).to.deep.equal([{ kind: 'multiprotocol', afi: 2, safi: 1 }]);
    // Capability bytes: MP (code 1, length 4) for AFI 2 SAFI 1 present, for AFI 1 absent.
    expect(openBytes.includes(Buffer.from([1, 4, 0, 2, 0, 1]))).to.equal(true);
    expect(openBytes.includes(Buffer.from([1, 4, 0, 1, 0, 1]))).to.equal(false);

    const from = conn.written.length;
    conn.send(peerOpen({ asn: 65000, bgpId: '192.0.2.1' })); // BIRD offers both families; only IPv6 is negotiated
    conn.send({ type: 'keepalive' });
    clock.advance(20);
    const splitter = new MessageSplitter();
    const updates = conn.written.slice(from).flatMap((buf) => splitter.push(buf)).filter((m): m is Buffer => Buffer.isBuffer(m) && m[18] === 2);
    expect(updates.length, 'one UPDATE and the End-of-RIB').to.be.greaterThan(0);
    const msgs = conn.received().filter((m): m is UpdateMessage => m.type === 'update');
    const announced = msgs.filter((m) => m.attributes.mpReach);
    expect(announced).to.have.length(1);
    expect(announced[0]!.attributes.mpReach).to.deep.include({ afi: 2, safi: 1, nextHop: { global: 'fd77::11', linkLocal: 'fe80::11' } });
    expect(announced[0]!.attributes.mpReach!.nlri.map((p) => `${p.addr}/${p.len}`)).to.deep.equal(['fd00:10:244:1::/64']);
    for (const buf of updates) {
      const l = updateLayout(buf);
      expect(l.withdrawnLen, 'no IPv4 withdrawn routes').to.equal(0);
      expect(l.nlriLen, 'no IPv4 NLRI').to.equal(0);
      expect(l.attrTypes, 'no NEXT_HOP attribute').to.not.include(3);
    }
    // End-of-RIB for IPv6 only (RFC 4724: an UPDATE with an empty MP_UNREACH_NLRI), never the IPv4 one (an empty UPDATE).
    expect(msgs.filter((m) => m.attributes.mpUnreach).map((m) => m.attributes.mpUnreach!.afi)).to.deep.equal([2]);
    expect(msgs.some((m) => Object.keys(m.attributes).length === 0 && m.nlri.length === 0 && m.withdrawn.length === 0)).to.equal(false);
    expect(b.sessions()[0]).to.deep.include({ peerAddress: 'fd77::1', state: 'Established' });
  });

  it('the configured router ID goes into the OPEN', async () => {
    const b = make({ asn: 65001, peers: [{ address: 'fd77::1', asn: 65000 }] }, { routerId: '10.77.0.11' });
    const conn = new FakeConn('fd77::1', 179, 'fd77::11');
    const openBytes = await connect(b, conn);
    expect([...openBytes.subarray(24, 28)].join('.')).to.equal('10.77.0.11');
  });

  it('a peer that offers IPv4 unicast only is refused with 2/7 naming IPv6 unicast', async () => {
    const b = make({ asn: 65001, peers: [{ address: 'fd77::1', asn: 65000 }] });
    const conn = new FakeConn('fd77::1', 179, 'fd77::11');
    await connect(b, conn);
    conn.received();
    conn.send(peerOpen({ asn: 65000, bgpId: '192.0.2.1' }, [[{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'four-octet-as', asn: 65000 }]]));
    const n = conn.received().find((m): m is NotificationMessage => m.type === 'notification');
    expect(n).to.deep.include({ code: 2, subcode: 7 });
    expect([...n!.data]).to.deep.equal([1, 4, 0, 2, 0, 1]);
  });

  it('learned IPv6 routes become desired routes; a more-specific of the own subnet is refused', async () => {
    const b = make({ asn: 65001, peers: [{ address: 'fd77::1', asn: 65000 }] });
    const conn = new FakeConn('fd77::1', 179, 'fd77::11');
    const leases = [lease('node2', 'fd00:10:244:2::/64', 'fd77::12')];
    await connect(b, conn, leases);
    conn.send(peerOpen({ asn: 65000, bgpId: '192.0.2.1' }));
    conn.send({ type: 'keepalive' });
    const reach = (nlri: string[], global: string, linkLocal: string): UpdateMessage => ({
      type: 'update', withdrawn: [], nlri: [],
      attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65000, 65002] }], mpReach: { afi: 2, safi: 1, nextHop: { global, linkLocal }, nlri: nlri.map((p) => parsePrefix(p)!) } },
    });
    conn.send(reach(['fd00:10:244:2::/64'], 'fd77::12', 'fe80::12'));
    conn.send(reach(['fd00:10:244:1::/80'], 'fd77::12', 'fe80::12'));
    clock.advance(20);
    const d = b.desired(leases);
    expect(d.peers).to.deep.equal([{
      subnet: 'fd00:10:244:2::/64', nodeName: 'node2', publicIp: 'fd77::12', mode: 'bgp', neighbours: [], fdb: [], nexthops: [],
      routes: [{ dst: 'fd00:10:244:2::/64', gateway: 'fe80::12', index: 2, protocol: RTPROT_KNIT_BGP, metric: 1024 }],
    }]);
    expect(b.sessions()[0]).to.deep.include({ prefixesAccepted: 1, prefixesRejected: { 'own-subnet': 1 } });
  });

  it('as a reflector client: paths with its router ID as ORIGINATOR_ID or in the CLUSTER_LIST are refused (rr-loop)', async () => {
    const b = make({ asn: 65001, routeReflectors: [{ address: 'fd77::1' }] }, { routerId: '10.77.0.11' });
    const conn = new FakeConn('fd77::1', 179, 'fd77::11');
    const leases = [lease('node2', 'fd00:10:244:2::/64', 'fd77::12'), lease('node3', 'fd00:10:244:3::/64', 'fd77::13'), lease('node4', 'fd00:10:244:4::/64', 'fd77::14')];
    await connect(b, conn, leases);
    conn.send(peerOpen({ asn: 65001, bgpId: '192.0.2.1' }));
    conn.send({ type: 'keepalive' });
    const reflected = (prefix: string, nh: string, extra: Pick<UpdateMessage['attributes'], 'originatorId' | 'clusterList'>): UpdateMessage => ({
      type: 'update', withdrawn: [], nlri: [],
      attributes: { origin: 0, asPath: [], localPref: 100, ...extra, mpReach: { afi: 2, safi: 1, nextHop: { global: nh }, nlri: [parsePrefix(prefix)!] } },
    });
    conn.send(reflected('fd00:10:244:2::/64', 'fd77::12', { originatorId: '10.77.0.12', clusterList: ['192.0.2.1'] }));
    conn.send(reflected('fd00:10:244:3::/64', 'fd77::13', { originatorId: '10.77.0.11' }));
    conn.send(reflected('fd00:10:244:4::/64', 'fd77::14', { originatorId: '10.77.0.14', clusterList: ['10.77.0.11'] }));
    clock.advance(20);
    expect(b.desired(leases).peers.map((p) => `${p.subnet} via ${p.routes[0]!.gateway}`)).to.deep.equal(['fd00:10:244:2::/64 via fd77::12']);
    expect(b.sessions()[0]).to.deep.include({ prefixesAccepted: 1, prefixesRejected: { 'rr-loop': 2 } });
  });

  it('setup refuses an IPv4 publicIp in an IPv6-only cluster', async () => {
    const bad = new BgpBackend({ nl, logger: silentLogger(), network: V6NET({ asn: 65001, listenAddress: '::1', listenPort: port++ }), node: { ...node, publicIp: '192.168.77.11' } }, { dial: dialer.dial, clock });
    let caught: unknown;
    try {
      await bad.setup();
    } catch (err) {
      caught = err;
    }
    expect(String(caught)).to.match(/IPv6-only cluster needs an IPv6 publicIp/);
  });
});
