/**
 * KernelView (pure): when the reconciler may trust it instead of a dump,
 * and what events and its own acks do to it.
 */
import { expect } from 'chai';
import { KernelView } from '../../agent/src/dataplane/reconcile/kernel-view';
import { indexCurrent, type CurrentObjects } from '../../agent/src/dataplane/reconcile/diff';
import type { FdbEntry, Neighbour, Route } from '../../agent/src/netlink';

const DEV = 7;
const route = (dst: string, protocol = 89): Route => ({ dst, gateway: dst.replace('/24', ''), index: DEV, onlink: true, protocol, table: 254, metric: 0 });
const neigh = (ip: string): Neighbour => ({ index: DEV, ip, mac: '0a:00:00:00:00:01', permanent: true });
const fdb = (mac: string, dst: string): FdbEntry => ({ index: DEV, mac, dst, permanent: true });
const empty = { routes: [], neighbours: [], fdb: [] };
/** A dump as the reconciler hands it to the view: indexed for the diff. */
const dump = (c: CurrentObjects) => indexCurrent(c, { protocol: 89, ownedDevices: [DEV] });

describe('reconcile: KernelView', () => {
  it('is not trusted before a dump, and is after one', () => {
    const v = new KernelView(() => true);
    expect(v.snapshot()).to.equal(undefined);
    v.beginDump();
    v.reset(dump({ routes: [route('10.1.0.0/24')], neighbours: [neigh('10.1.0.0')], fdb: [fdb('0a:00:00:00:00:01', '172.16.0.1')] }), [DEV]);
    expect(v.snapshot()).to.deep.equal({ routes: [route('10.1.0.0/24')], nexthops: [], neighbours: [neigh('10.1.0.0')], fdb: [fdb('0a:00:00:00:00:01', '172.16.0.1')] });
  });

  it('a relevant event while the dump was in flight leaves it untrusted; an irrelevant one does not', () => {
    const v = new KernelView(() => true);
    v.beginDump();
    v.onEvent({ type: 'neigh-added', neighbour: { ...neigh('192.168.0.9'), index: 99 } }); // not an owned device
    v.onEvent({ type: 'route-added', route: { ...route('10.9.0.0/24'), table: 100 } }); // not the main table
    v.reset(dump(empty), [DEV]);
    expect(v.snapshot()).to.deep.equal({ ...empty, nexthops: [] });
    v.beginDump();
    v.onEvent({ type: 'route-deleted', route: route('10.1.0.0/24') });
    v.reset(dump(empty), [DEV]);
    expect(v.snapshot()).to.equal(undefined);
  });

  it('follows events and its own acks; invalidate() and a device change untrust it', () => {
    const v = new KernelView(() => true);
    v.beginDump();
    v.reset(dump(empty), [DEV]);
    v.onEvent({ type: 'route-added', route: route('10.1.0.0/24', 4) }); // a foreign route: kept, the diff needs it for conflicts
    v.applied({ action: 'add', object: { kind: 'route', value: route('10.2.0.0/24') } });
    v.applied({ action: 'add', object: { kind: 'neighbour', value: neigh('10.2.0.0') } });
    v.onEvent({ type: 'route-added', route: route('10.2.0.0/24') }); // the event of our own add, after its ack
    expect(v.snapshot()!.routes.map((r) => r.dst).sort()).to.deep.equal(['10.1.0.0/24', '10.2.0.0/24']);
    v.onEvent({ type: 'neigh-deleted', neighbour: neigh('10.2.0.0') });
    expect(v.snapshot()!.neighbours).to.deep.equal([]);
    v.invalidate();
    expect(v.snapshot()).to.equal(undefined);
    v.beginDump();
    v.reset(dump(empty), [DEV]);
    v.onEvent({ type: 'link-changed', link: { index: DEV, name: 'knit.1', up: false } as never });
    expect(v.snapshot()).to.equal(undefined);
  });

  it('keeps out-of-scope routes of its own protocol out, as the dump filter does', () => {
    const v = new KernelView((r) => r.protocol !== 89 || r.dst.startsWith('10.'));
    v.beginDump();
    v.reset(dump(empty), [DEV]);
    v.onEvent({ type: 'route-added', route: route('192.168.5.0/24') });
    v.onEvent({ type: 'route-added', route: route('10.5.0.0/24') });
    expect(v.snapshot()!.routes.map((r) => r.dst)).to.deep.equal(['10.5.0.0/24']);
  });

  it('FDB: our replace moves the MAC to its new remote; a second remote from outside untrusts it', () => {
    const v = new KernelView(() => true);
    v.beginDump();
    v.reset(dump({ ...empty, fdb: [fdb('0a:00:00:00:00:01', '172.16.0.1')] }), [DEV]);
    v.applied({ action: 'replace', object: { kind: 'fdb', value: fdb('0a:00:00:00:00:01', '172.17.0.1') } });
    v.onEvent({ type: 'fdb-added', entry: fdb('0a:00:00:00:00:01', '172.17.0.1') });
    expect(v.snapshot()!.fdb).to.deep.equal([fdb('0a:00:00:00:00:01', '172.17.0.1')]);
    v.onEvent({ type: 'fdb-added', entry: fdb('0a:00:00:00:00:01', '172.18.0.1') });
    expect(v.snapshot()).to.equal(undefined);
  });

  it('an event confirming what it holds keeps the object it has (the desired one after our ack): no second copy', () => {
    const v = new KernelView(() => true);
    v.beginDump();
    v.reset(dump(empty), [DEV]);
    const r = route('10.2.0.0/24');
    const n = neigh('10.2.0.0');
    const e = fdb('0a:00:00:00:00:02', '172.16.0.2');
    v.applied({ action: 'add', object: { kind: 'route', value: r } });
    v.applied({ action: 'add', object: { kind: 'neighbour', value: n } });
    v.applied({ action: 'add', object: { kind: 'fdb', value: e } });
    v.onEvent({ type: 'route-added', route: { ...r, scope: 'universe' } });
    v.onEvent({ type: 'neigh-added', neighbour: { ...n } });
    v.onEvent({ type: 'fdb-added', entry: { ...e } });
    const s = v.snapshot()!;
    expect(s.routes[0]).to.equal(r);
    expect(s.neighbours[0]).to.equal(n);
    expect(s.fdb[0]).to.equal(e);
    // an event that says something else replaces it
    v.onEvent({ type: 'neigh-added', neighbour: { ...n, mac: '0a:00:00:00:00:09' } });
    expect(v.snapshot()!.neighbours[0]!.mac).to.equal('0a:00:00:00:00:09');
  });

  it('counts changes from outside since the last settle(); the echo of our own write, before or after its ack, is not one', () => {
    const v = new KernelView(() => true);
    v.beginDump();
    v.reset(dump({ routes: [route('10.1.0.0/24')], neighbours: [neigh('10.1.0.0')], fdb: [] }), [DEV]);
    v.settle();
    // our route add: its event after the ack only confirms; before the ack, the ack explains it
    v.applied({ action: 'add', object: { kind: 'route', value: route('10.2.0.0/24') } });
    v.onEvent({ type: 'route-added', route: route('10.2.0.0/24') });
    v.onEvent({ type: 'route-added', route: route('10.3.0.0/24') });
    expect(v.unexplainedChanges).to.equal(1);
    v.applied({ action: 'add', object: { kind: 'route', value: route('10.3.0.0/24') } });
    expect(v.unexplainedChanges).to.equal(0);
    // an echo of our delete before its ack, then the ack
    v.onEvent({ type: 'neigh-deleted', neighbour: neigh('10.1.0.0') });
    v.applied({ action: 'delete', object: { kind: 'neighbour', value: neigh('10.1.0.0') } });
    expect(v.unexplainedChanges).to.equal(0);
    // from outside: a route of ours deleted by hand, a foreign route added, an FDB entry added
    v.onEvent({ type: 'route-deleted', route: route('10.1.0.0/24') });
    v.onEvent({ type: 'route-added', route: route('10.8.0.0/24', 4) });
    v.onEvent({ type: 'fdb-added', entry: fdb('0a:00:00:00:00:02', '172.16.0.2') });
    expect(v.unexplainedChanges).to.equal(3);
    // an event that changes nothing (a deletion of what is not there) is none
    v.onEvent({ type: 'route-deleted', route: route('10.9.0.0/24') });
    expect(v.unexplainedChanges).to.equal(3);
    v.settle();
    expect(v.unexplainedChanges).to.equal(0);
  });
});
