import { expect } from 'chai';
import { eventNeedsRun, type WantedObjects } from '../../agent/src/dataplane/reconcile/event-filter';
import { diffDataplane } from '../../agent/src/dataplane/reconcile';
import { LogOnChange } from '../../agent/src/dataplane/reconcile/log-dedupe';
import type { FdbEntry, Link, NetlinkEvent, Neighbour, Route } from '../../agent/src/netlink/types';

const route: Route = { dst: '10.244.2.0/24', gateway: '10.244.2.0', index: 7, onlink: true, protocol: 89 };
const neigh: Neighbour = { index: 7, ip: '10.244.2.0', mac: '02:00:00:00:00:02', permanent: true };
const fdb: FdbEntry = { index: 7, mac: '02:00:00:00:00:02', dst: '192.168.1.2', permanent: true };
const link = (up: boolean, index = 7): Link => ({ index, name: 'knit.1', kind: 'vxlan', mtu: 1450, up });

// what a run wanting these objects leaves the reconciler with (the diff's wanted index)
const wanted: WantedObjects = {
  protocol: 89, owned: [7],
  ...diffDataplane({ routes: [route], neighbours: [neigh], fdb: [fdb] }, { routes: [], neighbours: [], fdb: [] }, { protocol: 89, ownedDevices: [7] }).wanted,
};

describe('reconcile: which netlink events need a run', () => {
  const cases: Array<{ name: string; ev: NetlinkEvent; run: boolean; setup?: boolean }> = [
    { name: 'a wanted knit route deleted', ev: { type: 'route-deleted', route }, run: true, setup: false },
    { name: 'a route of another protocol deleted', ev: { type: 'route-deleted', route: { ...route, protocol: 4 } }, run: false },
    { name: 'a knit route that is not wanted (our own delete)', ev: { type: 'route-deleted', route: { ...route, dst: '10.244.9.0/24' } }, run: false },
    { name: 'a wanted neighbour deleted', ev: { type: 'neigh-deleted', neighbour: neigh }, run: true, setup: false },
    { name: 'a neighbour on a foreign device', ev: { type: 'neigh-deleted', neighbour: { ...neigh, index: 3 } }, run: false },
    { name: 'a neighbour on our device that is not wanted (our own delete)', ev: { type: 'neigh-deleted', neighbour: { ...neigh, ip: '10.244.9.0' } }, run: false },
    { name: 'an FDB entry on our device that is not wanted', ev: { type: 'fdb-deleted', entry: { ...fdb, mac: '02:00:00:00:00:09' } }, run: false },
    { name: 'a wanted FDB entry deleted', ev: { type: 'fdb-deleted', entry: fdb }, run: true, setup: false },
    { name: 'a backend device deleted', ev: { type: 'link-deleted', link: link(true) }, run: true, setup: true },
    { name: 'a backend device set down', ev: { type: 'link-changed', link: link(false) }, run: true, setup: true },
    { name: 'a backend device still up', ev: { type: 'link-changed', link: link(true) }, run: false },
    { name: 'a foreign device deleted', ev: { type: 'link-deleted', link: link(true, 3) }, run: false },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const v = eventNeedsRun(tc.ev, wanted);
      expect(v !== undefined, 'needs a run').to.equal(tc.run);
      if (v !== undefined) expect(v.setup).to.equal(tc.setup);
    });
  }
});

describe('reconcile: LogOnChange', () => {
  it('logs a condition when it appears or changes, once, and again after it went away and came back', () => {
    const seen: string[] = [];
    const l = new LogOnChange<string>();
    const update = (items: Array<[string, string]>): void => l.update(items, (i) => i[0], (i) => i[1], (i) => seen.push(i.join('=')));
    update([['a', 'x'], ['b', 'y']]);
    update([['a', 'x'], ['b', 'y']]);
    update([['a', 'z']]);
    update([['a', 'z'], ['b', 'y']]);
    expect(seen).to.deep.equal(['a=x', 'b=y', 'a=z', 'b=y']);
  });
});
