/**
 * The reconciler's pure diff: desired vs dumped → adds, replaces, deletes;
 * objects knit does not own (other protocols, other devices, kernel ARP
 * entries) are never in the ops.
 */
import { expect } from 'chai';
import { diffDataplane, routeKey, type CurrentObjects, type DesiredObjects, type DiffOp } from '../../agent/src/dataplane/reconcile';
import { diffIndexed, indexCurrent } from '../../agent/src/dataplane/reconcile/diff';
import type { FdbEntry, Neighbour, Route } from '../../agent/src/netlink/types';

const DEV = 7;
const OTHER = 3;
const opts = { protocol: 89, ownedDevices: [DEV] };
const M2 = '0a:00:00:00:00:02';
const M3 = '0a:00:00:00:00:03';

const want = (dst: string, gw: string): Route => ({ dst, gateway: gw, index: DEV, onlink: true, protocol: 89 });
/** How a route reads back from a dump: table, scope and metric filled in. */
const dumped = (r: Route): Route => ({ ...r, table: 254, scope: 'universe', metric: 0 });
const neigh = (ip: string, mac: string, index = DEV, permanent = true): Neighbour => ({ index, ip, mac, permanent });
const fdb = (mac: string, dst: string, index = DEV): FdbEntry => ({ index, mac, dst, permanent: true });

const none: DesiredObjects = { routes: [], neighbours: [], fdb: [] };
const empty: CurrentObjects = { routes: [], neighbours: [], fdb: [] };

function show(ops: DiffOp[]): string[] {
  return ops.map((o) => {
    const v = o.object.value as unknown as Record<string, unknown>;
    const id = o.object.kind === 'route' ? `${v.dst} via ${v.gateway}` : o.object.kind === 'neighbour' ? `${v.ip} ${v.mac}` : `${v.mac} ${v.dst}`;
    return `${o.action} ${o.object.kind} ${id}`;
  });
}

interface Case { name: string; desired: DesiredObjects; current: CurrentObjects; ops: string[]; unchanged: number; conflicts?: string[] }

/** An IPv6 route as the kernel dumps it: metric 1024 when none was given. */
const dumped6 = (r: Route): Route => ({ ...r, table: 254, scope: 'universe', metric: 1024 });

const cases: Case[] = [
  {
    name: 'both families in one diff: IPv4 and IPv6 routes and neighbours, each family in its own slots',
    desired: {
      routes: [want('10.244.2.0/24', '10.244.2.0'), want('fd00:10:244:2::/64', 'fd00:10:244:2::')],
      neighbours: [neigh('10.244.2.0', M2), neigh('fd00:10:244:2::', M2)], fdb: [fdb(M2, '192.168.77.12')],
    },
    current: empty,
    ops: [
      'add neighbour 10.244.2.0 0a:00:00:00:00:02', 'add neighbour fd00:10:244:2:: 0a:00:00:00:00:02', 'add fdb 0a:00:00:00:00:02 192.168.77.12',
      'add route 10.244.2.0/24 via 10.244.2.0', 'add route fd00:10:244:2::/64 via fd00:10:244:2::',
    ],
    unchanged: 0,
  },
  {
    name: 'IPv6 steady state: a desired route without a metric matches the kernel\'s 1024 (no rewrite every run)',
    desired: { routes: [want('fd00:10:244:2::/64', 'fd00:10:244:2::')], neighbours: [neigh('fd00:10:244:2::', M2)], fdb: [] },
    current: { routes: [dumped6(want('fd00:10:244:2::/64', 'fd00:10:244:2::'))], neighbours: [neigh('fd00:10:244:2::', M2)], fdb: [] },
    ops: [],
    unchanged: 2,
  },
  {
    name: 'IPv6: a stale route of ours is deleted, a foreign one in a wanted slot is a conflict',
    desired: { routes: [want('2001:db8:9::/48', 'fe80::1')], neighbours: [], fdb: [] },
    current: {
      routes: [dumped6({ ...want('2001:db8:9::/48', 'fe80::99'), protocol: 3 }), dumped6(want('2001:db8:old::/48', 'fe80::1'))],
      neighbours: [], fdb: [],
    },
    ops: ['delete route 2001:db8:old::/48 via fe80::1'],
    unchanged: 0,
    conflicts: ['2001:db8:9::/48 held by proto 3'],
  },
  {
    name: 'empty kernel: everything added, neighbours and FDB before routes',
    desired: { routes: [want('10.244.2.0/24', '10.244.2.0')], neighbours: [neigh('10.244.2.0', M2)], fdb: [fdb(M2, '192.168.77.12')] },
    current: empty,
    ops: ['add neighbour 10.244.2.0 0a:00:00:00:00:02', 'add fdb 0a:00:00:00:00:02 192.168.77.12', 'add route 10.244.2.0/24 via 10.244.2.0'],
    unchanged: 0,
  },
  {
    name: 'steady state: nothing to do',
    desired: { routes: [want('10.244.2.0/24', '10.244.2.0')], neighbours: [neigh('10.244.2.0', M2)], fdb: [fdb(M2, '192.168.77.12')] },
    current: { routes: [dumped(want('10.244.2.0/24', '10.244.2.0'))], neighbours: [neigh('10.244.2.0', M2)], fdb: [fdb(M2, '192.168.77.12')] },
    ops: [],
    unchanged: 3,
  },
  {
    name: 'changed: new gateway, new MAC, new VTEP IP → replaces',
    desired: { routes: [want('10.244.2.0/24', '10.244.2.0')], neighbours: [neigh('10.244.2.0', M3)], fdb: [fdb(M3, '192.168.77.13')] },
    current: {
      routes: [dumped({ ...want('10.244.2.0/24', '10.244.9.9') })],
      neighbours: [neigh('10.244.2.0', M2)],
      fdb: [fdb(M3, '192.168.77.12')],
    },
    ops: ['replace neighbour 10.244.2.0 0a:00:00:00:00:03', 'replace fdb 0a:00:00:00:00:03 192.168.77.13', 'replace route 10.244.2.0/24 via 10.244.2.0'],
    unchanged: 0,
  },
  {
    name: 'a route that lost its onlink flag or moved device is replaced',
    desired: { routes: [want('10.244.2.0/24', '10.244.2.0'), want('10.244.3.0/24', '10.244.3.0')], neighbours: [], fdb: [] },
    current: { routes: [dumped({ ...want('10.244.2.0/24', '10.244.2.0'), onlink: undefined }), dumped({ ...want('10.244.3.0/24', '10.244.3.0'), index: OTHER })], neighbours: [], fdb: [] },
    ops: ['replace route 10.244.2.0/24 via 10.244.2.0', 'replace route 10.244.3.0/24 via 10.244.3.0'],
    unchanged: 0,
  },
  {
    name: 'extras of ours (a vanished peer) are deleted, routes first',
    desired: none,
    current: { routes: [dumped(want('10.244.5.0/24', '10.244.5.0'))], neighbours: [neigh('10.244.5.0', M2)], fdb: [fdb(M2, '192.168.77.15')] },
    ops: ['delete route 10.244.5.0/24 via 10.244.5.0', 'delete neighbour 10.244.5.0 0a:00:00:00:00:02', 'delete fdb 0a:00:00:00:00:02 192.168.77.15'],
    unchanged: 0,
  },
  {
    name: 'foreign objects are untouched: other protocols, other devices, kernel (non-permanent) neighbours',
    desired: none,
    current: {
      routes: [
        dumped({ dst: '10.244.6.0/24', gateway: '192.168.77.1', index: 2, protocol: 4 }), // static
        dumped({ dst: '10.244.7.0/24', gateway: '192.168.77.1', index: 2, protocol: 3 }), // boot
        dumped({ dst: '10.244.8.0/24', gateway: '192.168.77.1', index: 2, protocol: 90 }), // knit BGP
        { dst: '192.168.77.0/24', index: 2, protocol: 2, scope: 'link', table: 254, metric: 0 }, // kernel
      ],
      neighbours: [neigh('192.168.77.1', M2, OTHER), neigh('10.244.9.0', M3, DEV, false)],
      fdb: [fdb(M2, '192.168.77.1', OTHER), { index: OTHER, mac: M3, permanent: false }],
    },
    ops: [],
    unchanged: 0,
  },
  {
    name: 'a foreign route in the slot of a desired one is a conflict, not a write',
    desired: { routes: [want('10.244.2.0/24', '10.244.2.0')], neighbours: [], fdb: [] },
    current: { routes: [dumped({ dst: '10.244.2.0/24', gateway: '192.168.77.1', index: 2, protocol: 4 })], neighbours: [], fdb: [] },
    ops: [],
    unchanged: 0,
    conflicts: ['10.244.2.0/24 held by proto 4'],
  },
  {
    name: 'a foreign route with another metric does not block ours',
    desired: { routes: [want('10.244.2.0/24', '10.244.2.0')], neighbours: [], fdb: [] },
    current: { routes: [{ ...dumped({ dst: '10.244.2.0/24', gateway: '192.168.77.1', index: 2, protocol: 4 }), metric: 100 }], neighbours: [], fdb: [] },
    ops: ['add route 10.244.2.0/24 via 10.244.2.0'],
    unchanged: 0,
  },
  {
    name: 'a wanted MAC with two remotes: the matching one kept, the other deleted',
    desired: { routes: [], neighbours: [], fdb: [fdb(M2, '192.168.77.12')] },
    current: { routes: [], neighbours: [], fdb: [fdb(M2, '192.168.77.99'), fdb(M2, '192.168.77.12')] },
    ops: ['delete fdb 0a:00:00:00:00:02 192.168.77.99'],
    unchanged: 1,
  },
  {
    name: 'a kernel neighbour in a desired slot is replaced by the permanent one',
    desired: { routes: [], neighbours: [neigh('10.244.2.0', M2)], fdb: [] },
    current: { routes: [], neighbours: [neigh('10.244.2.0', M2, DEV, false)], fdb: [] },
    ops: ['replace neighbour 10.244.2.0 0a:00:00:00:00:02'],
    unchanged: 0,
  },
];

describe('reconcile: diffDataplane', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const d = diffDataplane(tc.desired, tc.current, opts);
      expect(show(d.ops)).to.deep.equal(tc.ops);
      expect(d.unchanged).to.equal(tc.unchanged);
      expect(d.conflicts.map((c) => `${c.slot} held by proto ${c.foreign.protocol}`)).to.deep.equal(tc.conflicts ?? []);
    });
  }

  it('deletes carry the dumped object (exact gateway/device/protocol), adds carry the desired one', () => {
    const stale = dumped(want('10.244.5.0/24', '10.244.5.0'));
    const d = diffDataplane({ routes: [want('10.244.2.0/24', '10.244.2.0')], neighbours: [], fdb: [] }, { routes: [stale], neighbours: [], fdb: [] }, opts);
    expect(d.ops).to.deep.equal([
      { action: 'delete', object: { kind: 'route', value: stale } },
      { action: 'add', object: { kind: 'route', value: want('10.244.2.0/24', '10.244.2.0') } },
    ]);
  });

  it('is pure: inputs are not modified', () => {
    const desired: DesiredObjects = { routes: [want('10.244.2.0/24', '10.244.2.0')], neighbours: [neigh('10.244.2.0', M2)], fdb: [fdb(M2, '192.168.77.12')] };
    const current: CurrentObjects = { routes: [dumped(want('10.244.5.0/24', '10.244.5.0'))], neighbours: [neigh('10.244.5.0', M3)], fdb: [] };
    const before = JSON.stringify({ desired, current });
    diffDataplane(desired, current, opts);
    expect(JSON.stringify({ desired, current })).to.equal(before);
  });

  it('routeKey: two routes share a key exactly when table, dst and effective metric are equal', () => {
    const routes: Route[] = [
      { dst: '10.1.0.0/24' }, { dst: '10.1.0.0/24', table: 254, metric: 0 }, { dst: '10.1.0.0/24', metric: 5 }, { dst: '10.1.0.0/24', table: 100 },
      { dst: '10.1.0.0/24', table: 100, metric: 0 }, { dst: 'fd00::/64' }, { dst: 'fd00::/64', metric: 1024 }, { dst: 'fd00::/64', metric: 0 },
      { dst: 'fd00::/64', table: 254, metric: 1024 }, { dst: 'fd00::/64', table: 7, metric: 1024 }, { dst: '0.0.0.0/0' }, { dst: '0.0.0.0/0', metric: 100 },
    ];
    const slot = (r: Route): string => `${r.table ?? 254} ${r.dst} ${r.metric ?? (r.dst.includes(':') ? 1024 : 0)}`;
    for (const a of routes) {
      for (const b of routes) expect(routeKey(a) === routeKey(b), `${slot(a)} vs ${slot(b)}`).to.equal(slot(a) === slot(b));
    }
    // the common slot is keyed by the dst string itself: nothing allocated per route
    expect(routeKey(routes[0]!)).to.equal('10.1.0.0/24');
  });

  // the periodic resync when no plan changed: the wanted sets of an earlier diff of the same desired objects stand
  for (const tc of cases) {
    it(`with known wanted sets (a resync over unchanged plans), the same ops and sets: ${tc.name}`, () => {
      const empty: CurrentObjects = { routes: [], neighbours: [], fdb: [] };
      const earlier = diffIndexed([tc.desired], indexCurrent(empty, opts), opts);
      if (earlier.duplicates > 0) return; // the reconciler keeps no sets from a diff with duplicates
      const fresh = diffIndexed([tc.desired], indexCurrent(tc.current, opts), opts);
      const reused = diffIndexed([tc.desired], indexCurrent(tc.current, opts), opts, earlier.wanted);
      expect(show(reused.ops)).to.deep.equal(show(fresh.ops));
      expect(reused.unchanged).to.equal(fresh.unchanged);
      expect(reused.conflicts).to.deep.equal(fresh.conflicts);
      expect(reused.wanted).to.equal(earlier.wanted);
      expect(reused.wanted).to.deep.equal(fresh.wanted);
    });
  }

  it('diffIndexed over parts makes the ops diffDataplane makes over the parts joined', () => {
    const parts: DesiredObjects[] = [
      { routes: [want('10.244.2.0/24', '10.244.2.0')], neighbours: [neigh('10.244.2.0', M2)], fdb: [fdb(M2, '192.168.77.12')] },
      { routes: [want('10.244.3.0/24', '10.244.3.0')], neighbours: [neigh('10.244.3.0', M3)], fdb: [fdb(M3, '192.168.77.13')] },
    ];
    const current: CurrentObjects = {
      routes: [dumped(want('10.244.5.0/24', '10.244.5.0')), dumped(want('10.244.3.0/24', '10.244.9.0'))],
      neighbours: [neigh('10.244.5.0', M3), neigh('10.244.2.0', M2)], fdb: [fdb(M3, '192.168.77.99'), fdb(M3, '192.168.77.13')],
    };
    const joined: DesiredObjects = { routes: parts.flatMap((p) => p.routes), neighbours: parts.flatMap((p) => p.neighbours), fdb: parts.flatMap((p) => p.fdb) };
    const a = diffIndexed(parts, indexCurrent(current, opts), opts);
    const b = diffDataplane(joined, current, opts);
    expect(show(a.ops)).to.deep.equal(show(b.ops));
    expect(a.ops.length).to.be.greaterThan(3);
    expect(a.unchanged).to.equal(b.unchanged);
  });
});
