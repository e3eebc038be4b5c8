/**
 * The backends' pure planning: peer leases → exact routes, neighbours and FDB
 * entries, and refused peers with their reasons (tables per backend).
 */
import { expect } from 'chai';
import { HostGwPlanCache, planHostGw, planIpip, planVxlan, VxlanPlanCache, vtepMac, type DesiredDataplane, type VxlanPlanEnv } from '../../agent/src/backend';
import { mustParseCidr } from '../../agent/src/net/ipv4';
import { mustParseCidrAny } from '../../agent/src/net/ip';
import type { Lease, LeaseBackendData } from '../../agent/src/store/lease-codec';
import { nexthopIdOf } from '../../agent/src/backend/nexthop-routes';

function lease(subnet: string, nodeName: string, publicIp: string, type: string, data: LeaseBackendData = {}): Lease {
  return { subnet, nodeName, publicIp, backend: { type, data }, renewedAt: '2026-01-01T00:00:00.000Z' };
}

const DEV = 7;
const UL = 2;
const MAC_B = '0a:00:00:00:00:0b';
const MAC_C = '0a:00:00:00:00:0c';
const OWN = '0a:00:00:00:00:0a';
const segment = [mustParseCidr('192.168.77.0/24')];
const vxEnv = (directRouting: boolean): VxlanPlanEnv => ({ deviceIndex: DEV, underlayIndex: UL, underlayPrefixes: segment, directRouting, ownVtepMac: OWN, ipv6: false, underlayPrefixes6: [], nexthops: false });

/** Flattened view so expectations read like `ip` output. */
function flat(d: DesiredDataplane): { routes: unknown[]; neighbours: unknown[]; fdb: unknown[]; modes: string[]; refused: string[] } {
  return {
    routes: d.peers.flatMap((p) => p.routes),
    neighbours: d.peers.flatMap((p) => p.neighbours),
    fdb: d.peers.flatMap((p) => p.fdb),
    modes: d.peers.map((p) => `${p.subnet} ${p.mode}`),
    refused: d.refused.map((r) => `${r.subnet}: ${r.reason}`),
  };
}

describe('backend: vxlan plan', () => {
  it('per overlay peer: permanent neighbour .0 → VTEP MAC, FDB MAC → public IP, onlink route via .0 proto 89', () => {
    const d = flat(planVxlan([
      lease('10.244.2.0/24', 'b', '192.168.77.12', 'vxlan', { vtepMac: MAC_B }),
      lease('10.244.3.0/26', 'c', '10.9.0.3', 'vxlan', { vtepMac: MAC_C }),
    ], vxEnv(false)));
    expect(d.neighbours).to.deep.equal([
      { index: DEV, ip: '10.244.2.0', mac: MAC_B, permanent: true },
      { index: DEV, ip: '10.244.3.0', mac: MAC_C, permanent: true },
    ]);
    expect(d.fdb).to.deep.equal([
      { index: DEV, mac: MAC_B, dst: '192.168.77.12', permanent: true },
      { index: DEV, mac: MAC_C, dst: '10.9.0.3', permanent: true },
    ]);
    expect(d.routes).to.deep.equal([
      { dst: '10.244.2.0/24', gateway: '10.244.2.0', index: DEV, onlink: true, protocol: 89 },
      { dst: '10.244.3.0/26', gateway: '10.244.3.0', index: DEV, onlink: true, protocol: 89 },
    ]);
    expect(d.modes).to.deep.equal(['10.244.2.0/24 vxlan', '10.244.3.0/26 vxlan']);
    expect(d.refused).to.deep.equal([]);
  });

  it('directRouting: a peer on the underlay segment gets a plain route via its public IP; others stay on the overlay', () => {
    const d = flat(planVxlan([
      lease('10.244.2.0/24', 'b', '192.168.77.12', 'vxlan', { vtepMac: MAC_B }),
      lease('10.244.3.0/24', 'c', '10.9.0.3', 'vxlan', { vtepMac: MAC_C }),
    ], vxEnv(true)));
    expect(d.modes).to.deep.equal(['10.244.2.0/24 direct', '10.244.3.0/24 vxlan']);
    expect(d.routes).to.deep.equal([
      { dst: '10.244.2.0/24', gateway: '192.168.77.12', index: UL, protocol: 89 },
      { dst: '10.244.3.0/24', gateway: '10.244.3.0', index: DEV, onlink: true, protocol: 89 },
    ]);
    expect(d.neighbours).to.have.length(1);
    expect(d.fdb).to.deep.equal([{ index: DEV, mac: MAC_C, dst: '10.9.0.3', permanent: true }]);
  });

  const refusals: Array<{ name: string; peers: Lease[]; refused: string[]; programmed: string[] }> = [
    {
      name: 'another backend type',
      peers: [lease('10.244.2.0/24', 'b', '192.168.77.12', 'host-gw')],
      refused: ['10.244.2.0/24: peer lease uses backend host-gw but this network uses vxlan'],
      programmed: [],
    },
    {
      name: 'no vtepMac',
      peers: [lease('10.244.2.0/24', 'b', '192.168.77.12', 'vxlan')],
      refused: ['10.244.2.0/24: peer lease has no valid backend.data.vtepMac (got undefined)'],
      programmed: [],
    },
    {
      name: 'multicast vtepMac',
      peers: [lease('10.244.2.0/24', 'b', '192.168.77.12', 'vxlan', { vtepMac: '01:00:5e:00:00:01' })],
      refused: ['10.244.2.0/24: peer lease has no valid backend.data.vtepMac (got "01:00:5e:00:00:01")'],
      programmed: [],
    },
    {
      name: 'vtepMac of a number',
      peers: [lease('10.244.2.0/24', 'b', '192.168.77.12', 'vxlan', { vtepMac: 5 })],
      refused: ['10.244.2.0/24: peer lease has no valid backend.data.vtepMac (got 5)'],
      programmed: [],
    },
    {
      name: 'duplicate VTEP MAC: the first (by input order) wins',
      peers: [
        lease('10.244.2.0/24', 'b', '192.168.77.12', 'vxlan', { vtepMac: MAC_B }),
        lease('10.244.3.0/24', 'c', '192.168.77.13', 'vxlan', { vtepMac: MAC_B }),
      ],
      refused: [`10.244.3.0/24: peer VTEP MAC ${MAC_B} is already used by node b (10.244.2.0/24)`],
      programmed: ['10.244.2.0/24 vxlan'],
    },
    {
      name: 'our own VTEP MAC',
      peers: [lease('10.244.2.0/24', 'b', '192.168.77.12', 'vxlan', { vtepMac: OWN })],
      refused: [`10.244.2.0/24: peer VTEP MAC ${OWN} is already used by this node`],
      programmed: [],
    },
  ];
  for (const tc of refusals) {
    it(`refuses: ${tc.name}`, () => {
      const d = flat(planVxlan(tc.peers, vxEnv(false)));
      expect(d.refused).to.deep.equal(tc.refused);
      expect(d.modes).to.deep.equal(tc.programmed);
      expect(d.routes).to.have.length(tc.programmed.length);
    });
  }
});

describe('backend: vxlan plan cache', () => {
  it('plans an unchanged lease object once per environment, and still refuses a MAC two peers claim', () => {
    const cache = new VxlanPlanCache();
    const b = lease('10.244.2.0/24', 'b', '192.168.77.12', 'vxlan', { vtepMac: MAC_B });
    const c = lease('10.244.3.0/24', 'c', '10.9.0.3', 'vxlan', { vtepMac: MAC_C });
    const first = planVxlan([b, c], vxEnv(false), cache);
    const again = planVxlan([b, c], vxEnv(false), cache);
    expect(again.peers[0]).to.equal(first.peers[0]); // the same object: not planned again
    expect(again).to.deep.equal(planVxlan([b, c], vxEnv(false)));
    // a new peer claiming b's MAC: refused although b's plan came from the cache
    const thief = lease('10.244.4.0/24', 'd', '192.168.77.14', 'vxlan', { vtepMac: MAC_B });
    const d = flat(planVxlan([b, c, thief], vxEnv(false), cache));
    expect(d.refused).to.deep.equal([`10.244.4.0/24: peer VTEP MAC ${MAC_B} is already used by node b (10.244.2.0/24)`]);
    // another environment (directRouting on) plans again
    const direct = planVxlan([b, c], vxEnv(true), cache);
    expect(direct.peers.map((p) => p.mode)).to.deep.equal(['direct', 'vxlan']);
    expect(direct.peers[1]).to.not.equal(first.peers[1]);
  });
});

describe('backend: vxlan VTEP MAC', () => {
  it('is deterministic per (node, VNI), unicast and locally administered, and differs across nodes and VNIs', () => {
    const a = vtepMac('node1', 1);
    expect(a).to.equal(vtepMac('node1', 1));
    expect(a).to.match(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(parseInt(a.slice(0, 2), 16) & 0x03).to.equal(0x02);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const m = vtepMac(`node${i}`, 1);
      expect(parseInt(m.slice(0, 2), 16) & 0x03, m).to.equal(0x02);
      seen.add(m);
    }
    expect(seen.size).to.equal(2000);
    expect(vtepMac('node1', 2)).to.not.equal(a);
  });
  it('is pinned: a change of derivation would change every MAC in a running cluster', () => {
    // sha256("knit-vtep\0node1\0" + "1")[0..6], first byte d6: locally administered bit set, multicast bit clear
    expect(vtepMac('node1', 1)).to.equal('d6:6f:cf:82:44:e8');
  });
});

describe('backend: host-gw plan', () => {
  const env = { underlayIndex: UL, underlayName: 'eth0', underlayPrefixes: segment, underlayPrefixes6: [], ipv6: false, nexthops: false };
  it('one route via the peer public IP on the underlay per peer on the segment', () => {
    const d = flat(planHostGw([
      lease('10.244.2.0/24', 'b', '192.168.77.12', 'host-gw'),
      lease('10.244.4.0/24', 'd', '192.168.77.14', 'host-gw'),
    ], env));
    expect(d.routes).to.deep.equal([
      { dst: '10.244.2.0/24', gateway: '192.168.77.12', index: UL, protocol: 89 },
      { dst: '10.244.4.0/24', gateway: '192.168.77.14', index: UL, protocol: 89 },
    ]);
    expect(d.neighbours).to.deep.equal([]);
    expect(d.fdb).to.deep.equal([]);
  });
  it('refuses a peer off the L2 segment and a peer of another backend, naming why', () => {
    const d = flat(planHostGw([
      lease('10.244.2.0/24', 'b', '192.168.77.12', 'host-gw'),
      lease('10.244.3.0/24', 'c', '10.9.0.3', 'host-gw'),
      lease('10.244.5.0/24', 'e', '192.168.77.15', 'vxlan', { vtepMac: MAC_B }),
    ], env));
    expect(d.modes).to.deep.equal(['10.244.2.0/24 host-gw']);
    expect(d.refused).to.deep.equal([
      '10.244.3.0/24: peer public IP 10.9.0.3 is not on the L2 segment of underlay eth0 (192.168.77.0/24); '
        + 'host-gw needs every node on one segment (use vxlan with directRouting instead)',
      '10.244.5.0/24: peer lease uses backend vxlan but this network uses host-gw',
    ]);
  });
});

describe('backend: host-gw plan cache', () => {
  const env = { underlayIndex: UL, underlayName: 'eth0', underlayPrefixes: segment, underlayPrefixes6: [], ipv6: false, nexthops: false };
  it('plans an unchanged lease object once per environment, with the result of planning without it', () => {
    const cache = new HostGwPlanCache();
    const peers = [
      lease('10.244.2.0/24', 'b', '192.168.77.12', 'host-gw'),
      lease('10.244.3.0/24', 'c', '10.9.0.3', 'host-gw'),
      lease('10.244.5.0/24', 'e', '192.168.77.15', 'vxlan', { vtepMac: MAC_B }),
    ];
    const first = planHostGw(peers, env, cache);
    const again = planHostGw(peers, env, cache);
    expect(again.peers[0]).to.equal(first.peers[0]); // the same object: not planned again
    expect(again).to.deep.equal(planHostGw(peers, env));
    // another environment (the underlay's prefixes changed) plans again: c is on the segment now
    const wider = { ...env, underlayPrefixes: [...segment, mustParseCidr('10.9.0.0/16')] };
    const moved = planHostGw(peers, wider, cache);
    expect(moved).to.deep.equal(planHostGw(peers, wider));
    expect(moved.peers.map((p) => p.subnet)).to.deep.equal(['10.244.2.0/24', '10.244.3.0/24']);
    expect(moved.peers[0]).to.not.equal(first.peers[0]);
  });
});

describe('backend: IPv6-only and dual-stack plans', () => {
  const segment6 = [mustParseCidrAny('fd00:77::/64')];
  it('vxlan, IPv6-only: neighbour <subnet ::>, FDB to the IPv6 public IP, onlink route; directRouting on the IPv6 segment', () => {
    const env: VxlanPlanEnv = { ...vxEnv(true), underlayPrefixes6: segment6 };
    const d = flat(planVxlan([
      lease('fd00:10:244:2::/64', 'b', 'fd00:99::12', 'vxlan', { vtepMac: MAC_B }),
      lease('fd00:10:244:3::/64', 'c', 'fd00:77::13', 'vxlan', { vtepMac: MAC_C }),
    ], env));
    expect(d.modes).to.deep.equal(['fd00:10:244:2::/64 vxlan', 'fd00:10:244:3::/64 direct']);
    expect(d.neighbours).to.deep.equal([{ index: DEV, ip: 'fd00:10:244:2::', mac: MAC_B, permanent: true }]);
    expect(d.fdb).to.deep.equal([{ index: DEV, mac: MAC_B, dst: 'fd00:99::12', permanent: true }]);
    expect(d.routes).to.deep.equal([
      { dst: 'fd00:10:244:2::/64', gateway: 'fd00:10:244:2::', index: DEV, onlink: true, protocol: 89 },
      { dst: 'fd00:10:244:3::/64', gateway: 'fd00:77::13', index: UL, protocol: 89 },
    ]);
  });
  it('host-gw, IPv6-only: a route via the peer IPv6 address on the segment; a peer off it is refused naming both families\' prefixes', () => {
    const d = flat(planHostGw([
      lease('fd00:10:244:2::/64', 'b', 'fd00:77::12', 'host-gw'),
      lease('fd00:10:244:3::/64', 'c', 'fd00:99::13', 'host-gw'),
    ], { underlayIndex: UL, underlayName: 'eth0', underlayPrefixes: segment, underlayPrefixes6: segment6, ipv6: false, nexthops: false }));
    expect(d.routes).to.deep.equal([{ dst: 'fd00:10:244:2::/64', gateway: 'fd00:77::12', index: UL, protocol: 89 }]);
    expect(d.refused).to.deep.equal([
      'fd00:10:244:3::/64: peer public IP fd00:99::13 is not on the L2 segment of underlay eth0 (192.168.77.0/24, fd00:77::/64); '
        + 'host-gw needs every node on one segment (use vxlan with directRouting instead)',
    ]);
  });
  it('host-gw refuses a peer whose public IP is not of its subnet\'s family (a dual-stack node on an IPv6 underlay)', () => {
    const d = flat(planHostGw([lease('10.244.2.0/24', 'b', 'fd00:77::12', 'host-gw')],
      { underlayIndex: UL, underlayName: 'eth0', underlayPrefixes: segment, underlayPrefixes6: segment6, ipv6: true, nexthops: false }));
    expect(d.routes).to.deep.equal([]);
    expect(d.refused).to.deep.equal(['10.244.2.0/24: peer public IP fd00:77::12 is not of its subnet\'s family; host-gw routes a subnet via a next hop of the same family (give that node a publicIp of it, or use vxlan)']);
  });
  it('host-gw, dual-stack: the IPv6 subnet via publicIpv6; a peer without one keeps its IPv4 route and has its IPv6 subnet refused', () => {
    const withV6 = { ...lease('10.244.2.0/24', 'b', '192.168.77.12', 'host-gw'), ipv6Subnet: 'fd00:10:244:2::/64', publicIpv6: 'fd00:77::12' };
    const noV6 = { ...lease('10.244.3.0/24', 'c', '192.168.77.13', 'host-gw'), ipv6Subnet: 'fd00:10:244:3::/64' };
    const d = flat(planHostGw([withV6, noV6], { underlayIndex: UL, underlayName: 'eth0', underlayPrefixes: segment, underlayPrefixes6: segment6, ipv6: true, nexthops: false }));
    expect(d.routes).to.deep.equal([
      { dst: '10.244.2.0/24', gateway: '192.168.77.12', index: UL, protocol: 89 },
      { dst: 'fd00:10:244:2::/64', gateway: 'fd00:77::12', index: UL, protocol: 89 },
      { dst: '10.244.3.0/24', gateway: '192.168.77.13', index: UL, protocol: 89 },
    ]);
    expect(d.refused).to.deep.equal([
      'fd00:10:244:3::/64: peer lease has no IPv6 underlay address (publicIpv6): its IPv6 subnet cannot be routed by host-gw',
    ]);
  });
});

describe('backend: ipip plan', () => {
  it('one onlink route via the peer public IP through the tunnel device, any segment', () => {
    const d = flat(planIpip([
      lease('10.244.2.0/24', 'b', '192.168.77.12', 'ipip'),
      lease('10.244.3.0/24', 'c', '10.9.0.3', 'ipip'),
      lease('10.244.4.0/24', 'd', '10.9.0.4', 'vxlan', { vtepMac: MAC_C }),
    ], { deviceIndex: DEV }));
    expect(d.routes).to.deep.equal([
      { dst: '10.244.2.0/24', gateway: '192.168.77.12', index: DEV, onlink: true, protocol: 89 },
      { dst: '10.244.3.0/24', gateway: '10.9.0.3', index: DEV, onlink: true, protocol: 89 },
    ]);
    expect(d.refused).to.deep.equal(['10.244.4.0/24: peer lease uses backend vxlan but this network uses ipip']);
  });
});

describe('backend: IPv4 peer routes through nexthop objects (kernel with them)', () => {
  const id = (a: number, b: number, c: number, d: number): number => ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;

  it('the id is the subnet network address as a u32; IPv6 and 0.0.0.0 have none', () => {
    expect(nexthopIdOf('10.244.3.0/24')).to.equal(0x0af40300);
    expect(nexthopIdOf('255.255.255.0/24')).to.equal(0xffffff00);
    expect(nexthopIdOf('0.0.0.0/0')).to.equal(undefined);
    expect(nexthopIdOf('fd00::/64')).to.equal(undefined);
  });

  it('vxlan: nexthop via .0 onlink on knit.N and a route nhid N; directRouting: nexthop via the public IP on the underlay', () => {
    const env = { ...vxEnv(true), nexthops: true };
    const d = planVxlan([
      lease('10.244.2.0/24', 'b', '192.168.77.12', 'vxlan', { vtepMac: MAC_B }),
      lease('10.244.3.0/26', 'c', '10.9.0.3', 'vxlan', { vtepMac: MAC_C }),
    ], env);
    expect(d.peers.map((p) => p.nexthops)).to.deep.equal([
      [{ id: id(10, 244, 2, 0), gateway: '192.168.77.12', index: UL, protocol: 89 }],
      [{ id: id(10, 244, 3, 0), gateway: '10.244.3.0', index: DEV, onlink: true, protocol: 89 }],
    ]);
    expect(d.peers.map((p) => p.routes)).to.deep.equal([
      [{ dst: '10.244.2.0/24', nhid: id(10, 244, 2, 0), protocol: 89 }],
      [{ dst: '10.244.3.0/26', nhid: id(10, 244, 3, 0), protocol: 89 }],
    ]);
    // the neighbour and FDB entry are as without nexthops
    expect(d.peers[1]!.neighbours).to.deep.equal([{ index: DEV, ip: '10.244.3.0', mac: MAC_C, permanent: true }]);
  });

  it('host-gw: nexthop via the public IP on the underlay; an IPv6 route keeps its gateway', () => {
    const v6 = { ...lease('10.244.2.0/24', 'b', '192.168.77.12', 'host-gw'), ipv6Subnet: 'fd00:10:244:2::/64', publicIpv6: 'fd77::12' };
    const d = planHostGw([v6], {
      underlayIndex: UL, underlayName: 'eth0', underlayPrefixes: segment, underlayPrefixes6: [mustParseCidrAny('fd77::/64')], ipv6: true, nexthops: true,
    });
    expect(d.peers[0]!.nexthops).to.deep.equal([{ id: id(10, 244, 2, 0), gateway: '192.168.77.12', index: UL, protocol: 89 }]);
    expect(d.peers[0]!.routes).to.deep.equal([
      { dst: '10.244.2.0/24', nhid: id(10, 244, 2, 0), protocol: 89 },
      { dst: 'fd00:10:244:2::/64', gateway: 'fd77::12', index: UL, protocol: 89 },
    ]);
  });

  it('without nexthop objects (an old kernel): the gateway routes of before, no nexthops', () => {
    const d = planHostGw([lease('10.244.2.0/24', 'b', '192.168.77.12', 'host-gw')], {
      underlayIndex: UL, underlayName: 'eth0', underlayPrefixes: segment, underlayPrefixes6: [], ipv6: false, nexthops: false,
    });
    expect(d.peers[0]!.nexthops).to.deep.equal([]);
    expect(d.peers[0]!.routes).to.deep.equal([{ dst: '10.244.2.0/24', gateway: '192.168.77.12', index: UL, protocol: 89 }]);
  });
});
