/**
 * dumpMatches (reconcile/dump-match.ts): a resync keeps the kernel view's
 * index when its dump says the same thing, as far as a diff can tell, and
 * indexes the dump anew on any difference the diff could see.
 */
import { expect } from 'chai';
import { diffIndexed, indexCurrent, type CurrentObjects, type DesiredObjects } from '../../agent/src/dataplane/reconcile/diff';
import { dumpMatches, reuseFrom } from '../../agent/src/dataplane/reconcile/dump-match';
import type { FdbEntry, Neighbour, Nexthop, Route } from '../../agent/src/netlink';

const DEV = 7;
const opts = { protocol: 89, ownedDevices: [DEV] };
const mac = (i: number): string => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;

/** A peer's objects as the vxlan backend plans them (no table, metric or scope: the kernel's defaults). */
function desired(n: number): DesiredObjects {
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  return {
    routes: ids.map((i): Route => ({ dst: `10.244.${i}.0/24`, gateway: `10.244.${i}.0`, index: DEV, onlink: true, protocol: 89 })),
    neighbours: ids.map((i): Neighbour => ({ index: DEV, ip: `10.244.${i}.0`, mac: mac(i), permanent: true })),
    fdb: ids.map((i): FdbEntry => ({ index: DEV, mac: mac(i), dst: `192.168.77.${i}`, permanent: true })),
  };
}

/** The same objects as a dump returns them (every field the kernel reports), plus a foreign route and an unowned neighbour. */
function dump(d: DesiredObjects): CurrentObjects {
  return {
    routes: [
      ...d.routes.map((r): Route => ({ ...r, table: 254, scope: 'universe', metric: 0 })),
      { dst: '172.20.0.0/16', index: 2, protocol: 2, table: 254, scope: 'link', metric: 0, src: '172.20.0.11' },
    ],
    neighbours: [...d.neighbours, { index: 2, ip: '172.20.0.1', mac: mac(200), permanent: false }],
    fdb: [...d.fdb, { index: 2, mac: mac(201), permanent: true }],
  };
}

const want = desired(3);
const base = dump(want);
/** The view after a programming run: the desired objects themselves, with the foreign route from a dump. */
const view = (): ReturnType<typeof indexCurrent> => indexCurrent({ routes: [...want.routes, base.routes[3]!], neighbours: want.neighbours, fdb: want.fdb }, opts);

const changes: Array<{ name: string; dumped: CurrentObjects }> = [
  { name: 'a route of ours with another gateway', dumped: { ...base, routes: base.routes.map((r, i) => (i === 1 ? { ...r, gateway: '10.244.9.9' } : r)) } },
  { name: 'a route of ours gone', dumped: { ...base, routes: base.routes.slice(1) } },
  { name: 'a stale route of ours more', dumped: { ...base, routes: [...base.routes, { dst: '10.244.50.0/24', gateway: '10.244.50.0', index: DEV, onlink: true, protocol: 89, table: 254, metric: 0 }] } },
  { name: 'a route of ours now foreign (another protocol)', dumped: { ...base, routes: base.routes.map((r, i) => (i === 0 ? { ...r, protocol: 4 } : r)) } },
  { name: 'a foreign route in a slot of ours', dumped: { ...base, routes: [{ ...base.routes[0]!, protocol: 4 }, ...base.routes.slice(1)] } },
  { name: 'a neighbour with another MAC', dumped: { ...base, neighbours: base.neighbours.map((n, i) => (i === 2 ? { ...n, mac: mac(99) } : n)) } },
  { name: 'a neighbour gone', dumped: { ...base, neighbours: base.neighbours.slice(1) } },
  { name: 'a neighbour no longer permanent', dumped: { ...base, neighbours: base.neighbours.map((n, i) => (i === 0 ? { ...n, permanent: false } : n)) } },
  { name: 'an FDB entry with another VTEP', dumped: { ...base, fdb: base.fdb.map((e, i) => (i === 0 ? { ...e, dst: '192.168.77.99' } : e)) } },
  { name: 'a second remote for a MAC', dumped: { ...base, fdb: [...base.fdb, { ...base.fdb[0]!, dst: '192.168.77.98' }] } },
  { name: 'an FDB entry gone', dumped: { ...base, fdb: base.fdb.slice(0, 2) } },
];

describe('reconcile: a resync dump against the kept view (dumpMatches)', () => {
  it('the dump of what the view holds matches it, though the view holds the desired objects (no table, metric, scope)', () => {
    expect(dumpMatches(view(), base, opts)).to.equal(true);
  });

  it('foreign routes sharing a slot (fe80::/64 on two links) match the one the index holds', () => {
    const ll = (index: number): Route => ({ dst: 'fe80::/64', index, protocol: 2, table: 254, metric: 256 });
    const v = indexCurrent({ routes: [...want.routes, base.routes[3]!, ll(4)], neighbours: want.neighbours, fdb: want.fdb }, opts);
    expect(dumpMatches(v, { ...base, routes: [...base.routes, ll(2), ll(4)] }, opts)).to.equal(true);
    expect(dumpMatches(v, { ...base, routes: [...base.routes, { ...ll(2), protocol: 3 }, ll(4)] }, opts)).to.equal(false);
    expect(dumpMatches(v, base, opts)).to.equal(false); // the slot is free now
  });

  it('objects on devices knit does not own are not compared', () => {
    const noise = { ...base, neighbours: [...base.neighbours, { index: 3, ip: '10.9.9.9', mac: mac(77), permanent: true }] };
    expect(dumpMatches(view(), noise, opts)).to.equal(true);
  });

  for (const c of changes) {
    it(`${c.name}: no match, and the diff over the dump does differ from the diff over the view`, () => {
      expect(dumpMatches(view(), c.dumped, opts)).to.equal(false);
      const show = (d: ReturnType<typeof diffIndexed>): string[] => d.ops.map((o) => `${o.action} ${o.object.kind} ${JSON.stringify(o.object.value)}`).concat(d.conflicts.map((x) => `conflict ${x.slot}`));
      const overView = show(diffIndexed([want], view(), opts));
      const overDump = show(diffIndexed([want], indexCurrent(c.dumped, opts), opts));
      expect(overDump).to.not.deep.equal(overView);
    });
  }

  it('reuse lists the held object for what matches, the decoded one for the rest; a dump so listed still matches', () => {
    const v = view();
    const reuse = reuseFrom(v, opts);
    const routes = base.routes.map(reuse.route);
    const neighbours = base.neighbours.map(reuse.neighbour);
    const fdb = base.fdb.map(reuse.fdb);
    expect(routes.slice(0, 3)).to.deep.equal(want.routes); // the held (desired) objects, not the dumped copies
    expect(routes[0]).to.equal(v.ours.get('10.244.1.0/24'));
    expect(neighbours[0]).to.equal(v.neighbours.get(DEV)!.get('10.244.1.0'));
    expect(fdb[0]).to.equal(v.fdb.get(DEV)!.get(mac(1))![0]);
    expect(neighbours[3]).to.equal(base.neighbours[3]); // not on an owned device: as decoded
    expect(dumpMatches(v, { routes, neighbours, fdb }, opts)).to.equal(true);
    const moved = { ...base.routes[1]!, gateway: '10.244.9.9' };
    expect(reuse.route(moved)).to.equal(moved);
    const otherMac = { ...base.neighbours[0]!, mac: mac(99) };
    expect(reuse.neighbour(otherMac)).to.equal(otherMac);
    const otherVtep = { ...base.fdb[0]!, dst: '192.168.77.99' };
    expect(reuse.fdb(otherVtep)).to.equal(otherVtep);
  });

  it('judged by the tally the reuse kept while listing the dump: the same verdict as object by object, for every case', () => {
    const cases = [{ name: 'the steady state', dumped: base }, ...changes];
    const ll = (index: number): Route => ({ dst: 'fe80::/64', index, protocol: 2, table: 254, metric: 256 });
    cases.push({ name: 'two foreign routes in one slot', dumped: { ...base, routes: [...base.routes, ll(2), ll(4)] } });
    for (const c of cases) {
      const v = view();
      const reuse = reuseFrom(v, opts);
      const listed: CurrentObjects = { routes: c.dumped.routes.map(reuse.route), neighbours: c.dumped.neighbours.map(reuse.neighbour), fdb: c.dumped.fdb.map(reuse.fdb) };
      expect(dumpMatches(v, listed, opts, reuse.tally), c.name).to.equal(dumpMatches(view(), c.dumped, opts));
    }
    // a true verdict is reachable through the tally (the first case), and so is a false one
    const v = view();
    const reuse = reuseFrom(v, opts);
    const gone = changes[1]!.dumped;
    expect(dumpMatches(v, { routes: gone.routes.map(reuse.route), neighbours: gone.neighbours.map(reuse.neighbour), fdb: gone.fdb.map(reuse.fdb) }, opts, reuse.tally)).to.equal(false);
  });

  it('a tally that did not see the dump (a netlink implementation that ignores reuse) is not trusted', () => {
    const empty = indexCurrent({ routes: [], neighbours: [], fdb: [] }, opts);
    const unseen = reuseFrom(empty, opts).tally; // nothing counted
    expect(dumpMatches(empty, base, opts, unseen)).to.equal(false);
    expect(dumpMatches(view(), base, opts, reuseFrom(view(), opts).tally)).to.equal(true); // object by object, as without one
  });

  it('a route of ours outside the caller\'s scope (another network\'s) is no miss; one inside it is', () => {
    const other: Route = { dst: '10.99.1.0/24', gateway: '10.99.1.0', index: 9, onlink: true, protocol: 89, table: 254, metric: 0 };
    const inScope = (r: Route): boolean => r.dst.startsWith('10.244.');
    const v = view();
    const reuse = reuseFrom(v, opts, inScope);
    const routes = [...base.routes, other].map(reuse.route).filter((r) => r.protocol !== 89 || inScope(r));
    expect(dumpMatches(v, { routes, neighbours: base.neighbours.map(reuse.neighbour), fdb: base.fdb.map(reuse.fdb) }, opts, reuse.tally)).to.equal(true);
    const everything = reuseFrom(v, opts);
    const all = [...base.routes, other].map(everything.route);
    expect(dumpMatches(v, { routes: all, neighbours: base.neighbours.map(everything.neighbour), fdb: base.fdb.map(everything.fdb) }, opts, everything.tally)).to.equal(false);
  });

  it('when it matches, a diff over the view makes the ops a diff over the dump makes (none, for the steady state)', () => {
    const overView = diffIndexed([want], view(), opts);
    const overDump = diffIndexed([want], indexCurrent(base, opts), opts);
    expect(overView.ops).to.deep.equal([]);
    expect(overDump.ops).to.deep.equal([]);
    expect(overView.unchanged).to.equal(overDump.unchanged);
  });
});

describe('reconcile: a resync dump against the kept view, with nexthop objects (dumpMatches)', () => {
  const id = (i: number): number => (10 << 24) + (244 << 16) + (i << 8);
  const nhWant: DesiredObjects = {
    ...desired(3),
    routes: [1, 2, 3].map((i): Route => ({ dst: `10.244.${i}.0/24`, nhid: id(i), protocol: 89 })),
    nexthops: [1, 2, 3].map((i): Nexthop => ({ id: id(i), gateway: `10.244.${i}.0`, index: DEV, onlink: true, protocol: 89 })),
  };
  const foreignNh: Nexthop = { id: 5, gateway: '172.20.0.1', index: 2, protocol: 0 };
  const nhBase: CurrentObjects = { ...dump(nhWant), nexthops: [...nhWant.nexthops!, foreignNh] };
  const nhView = (): ReturnType<typeof indexCurrent> => indexCurrent({
    routes: [...nhWant.routes, nhBase.routes[3]!], neighbours: nhWant.neighbours, fdb: nhWant.fdb, nexthops: [...nhWant.nexthops!, foreignNh],
  }, opts);
  const nhChanges: Array<{ name: string; dumped: CurrentObjects }> = [
    { name: 'a nexthop of ours with another gateway', dumped: { ...nhBase, nexthops: nhBase.nexthops!.map((n, i) => (i === 0 ? { ...n, gateway: '10.244.9.9' } : n)) } },
    { name: 'a nexthop of ours gone', dumped: { ...nhBase, nexthops: nhBase.nexthops!.slice(1) } },
    { name: 'a stale nexthop of ours more', dumped: { ...nhBase, nexthops: [...nhBase.nexthops!, { id: 77, gateway: '10.244.77.0', index: DEV, onlink: true, protocol: 89 }] } },
    { name: 'a foreign nexthop in an id of ours', dumped: { ...nhBase, nexthops: nhBase.nexthops!.map((n, i) => (i === 1 ? { ...n, protocol: 4 } : n)) } },
    { name: 'a route of ours through another nexthop', dumped: { ...nhBase, routes: nhBase.routes.map((r, i) => (i === 2 ? { ...r, nhid: 5 } : r)) } },
    { name: 'a route of ours naming its gateway instead', dumped: { ...nhBase, routes: nhBase.routes.map((r, i) => (i === 0 ? { dst: r.dst, gateway: '10.244.1.0', index: DEV, onlink: true, protocol: 89, table: 254, metric: 0 } : r)) } },
  ];
  const list = (v: ReturnType<typeof indexCurrent>, d: CurrentObjects): { listed: CurrentObjects; tally: ReturnType<typeof reuseFrom>['tally'] } => {
    const reuse = reuseFrom(v, opts);
    return {
      listed: { routes: d.routes.map(reuse.route), neighbours: d.neighbours.map(reuse.neighbour), fdb: d.fdb.map(reuse.fdb), nexthops: (d.nexthops ?? []).map(reuse.nexthop) },
      tally: reuse.tally,
    };
  };

  it('the dump of what the view holds matches it, object by object and by the tally; the held nexthops are listed', () => {
    expect(dumpMatches(nhView(), nhBase, opts)).to.equal(true);
    const v = nhView();
    const { listed, tally } = list(v, nhBase);
    expect(listed.nexthops![0]).to.equal(v.nexthops.get(id(1)));
    expect(dumpMatches(v, listed, opts, tally)).to.equal(true);
  });

  for (const c of nhChanges) {
    it(`${c.name}: no match (both ways), and the diff over the dump differs from the diff over the view`, () => {
      expect(dumpMatches(nhView(), c.dumped, opts)).to.equal(false);
      const v = nhView();
      const { listed, tally } = list(v, c.dumped);
      expect(dumpMatches(v, listed, opts, tally)).to.equal(false);
      const show = (d: ReturnType<typeof diffIndexed>): string[] => d.ops.map((o) => `${o.action} ${o.object.kind} ${JSON.stringify(o.object.value)}`).concat(d.conflicts.map((x) => `conflict ${x.slot}`));
      expect(show(diffIndexed([nhWant], indexCurrent(c.dumped, opts), opts))).to.not.deep.equal(show(diffIndexed([nhWant], nhView(), opts)));
    });
  }

  it('another network\'s nexthop of knit\'s protocol (outside the caller\'s scope) is no miss', () => {
    const v = nhView();
    const reuse = reuseFrom(v, opts, () => true, (nh) => nh.id !== 99);
    reuse.nexthop({ id: 99, gateway: '10.250.0.0', index: DEV, protocol: 89 });
    expect(reuse.tally.nexthopsMissed).to.equal(0);
    reuse.nexthop({ id: 98, gateway: '10.250.0.0', index: DEV, protocol: 89 });
    expect(reuse.tally.nexthopsMissed).to.equal(1);
  });
});
