import { expect } from 'chai';
import type { Lease, LeaseValue } from '../../agent/src/store/lease-codec';
import type { LeaseEvent, LeaseList, LeaseRecord, LeaseWatchHandlers } from '../../agent/src/store/lease-record';
import { PeerTracker, type OwnLeaseConflict } from '../../agent/src/subnet/peer-tracker';
import type { LeaseFeed } from '../../agent/src/subnet/ports';
import { prng } from '../support/prng';

let rev = 10;
function rec(subnet: string, nodeName: string, publicIp: string, extra: Partial<LeaseValue> = {}): LeaseRecord {
  return {
    lease: { subnet, nodeName, publicIp, backend: { type: 'vxlan', data: { vtepMac: '0a:00:00:00:00:09' } }, renewedAt: '2026-01-01T00:00:00.000Z', ...extra },
    modRevision: ++rev,
    etcdLeaseId: '7',
  };
}

class FakeFeed implements LeaseFeed {
  handlers: LeaseWatchHandlers | undefined;
  from = -1;
  closed = false;
  constructor(private readonly list: LeaseList) {}
  async listLeases(): Promise<LeaseList> {
    return this.list;
  }
  watchLeases(fromRevision: number, handlers: LeaseWatchHandlers): { close(): Promise<void> } {
    this.from = fromRevision;
    this.handlers = handlers;
    return { close: async () => void (this.closed = true) };
  }
}

const subnets = (peers: readonly Lease[]): string[] => peers.map((p) => p.subnet);

describe('subnet: PeerTracker', () => {
  it('lists, emits the full peer set without itself, and watches from the next revision', async () => {
    const feed = new FakeFeed({ leases: [rec('10.244.1.0/24', 'me', '192.168.0.1'), rec('10.244.2.0/24', 'b', '192.168.0.2')], invalid: [], revision: 50 });
    const t = new PeerTracker({ feed, nodeName: 'me', ownSubnet: () => '10.244.1.0/24' });
    const seen: string[][] = [];
    t.on('peers-changed', (p: Lease[]) => seen.push(subnets(p)));
    await t.start();
    expect(seen).to.deep.equal([['10.244.2.0/24']]);
    expect(feed.from).to.equal(51);
    await t.stop();
    expect(feed.closed).to.equal(true);
  });

  it('is level-triggered: join and leave each emit the whole set; no-op batches emit nothing', () => {
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me' });
    const seen: string[][] = [];
    t.on('peers-changed', (p: Lease[]) => seen.push(subnets(p)));
    t.applyReset({ leases: [rec('10.244.2.0/24', 'b', '192.168.0.2')], invalid: [], revision: 5 });
    const c = rec('10.244.10.0/24', 'c', '192.168.0.3');
    t.applyEvents([{ type: 'put', record: c }]);
    t.applyEvents([{ type: 'put', record: { ...c, modRevision: c.modRevision + 1 } }]); // same content
    t.applyEvents([{ type: 'delete', subnet: '10.244.2.0/24', modRevision: 99 }]);
    expect(seen).to.deep.equal([['10.244.2.0/24'], ['10.244.2.0/24', '10.244.10.0/24'], ['10.244.10.0/24']]);
    expect(t.peers().map((p) => p.nodeName)).to.deep.equal(['c']);
  });

  it('emits the first set even when it is empty, then only changes (a renewal is no change)', () => {
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me' });
    const seen: string[][] = [];
    t.on('peers-changed', (p: Lease[]) => seen.push(subnets(p)));
    t.applyReset({ leases: [], invalid: [], revision: 2 });
    t.applyReset({ leases: [], invalid: [], revision: 3 });
    const b = rec('10.244.2.0/24', 'b', '192.168.0.2');
    t.applyEvents([{ type: 'put', record: b }]);
    t.applyEvents([{ type: 'put', record: { ...b, lease: { ...b.lease, renewedAt: '2026-01-02T00:00:00.000Z' }, modRevision: b.modRevision + 1 } }]);
    t.applyEvents([{ type: 'put', record: { ...b, lease: { ...b.lease, publicIp: '192.168.0.9' }, modRevision: b.modRevision + 2 } }]);
    expect(seen).to.deep.equal([[], ['10.244.2.0/24'], ['10.244.2.0/24']]);
    expect(t.peers()[0]!.publicIp).to.equal('192.168.0.9');
  });

  it('orders peers by address, numerically in every octet', () => {
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me' });
    const order = ['10.9.255.0/24', '10.10.0.0/24', '10.10.2.0/24', '10.10.10.0/24', '10.100.0.0/24', '172.16.0.0/24'];
    const shuffled = [order[3]!, order[5]!, order[0]!, order[4]!, order[2]!, order[1]!];
    t.applyReset({ leases: shuffled.map((s, i) => rec(s, `n${i}`, `192.168.0.${i + 1}`)), invalid: [], revision: 5 });
    expect(subnets(t.peers())).to.deep.equal(order);
  });

  it('skips invalid values with one count per bad write, and drops the lease they replace', () => {
    let counted = 0;
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me', invalidCounter: { inc: () => void counted++ } });
    const entry = { keyName: 'junk', reason: 'key is not of the form a.b.c.d-len', modRevision: 3 };
    t.applyReset({ leases: [rec('10.244.2.0/24', 'b', '192.168.0.2')], invalid: [entry], revision: 5 });
    t.applyReset({ leases: [rec('10.244.2.0/24', 'b', '192.168.0.2')], invalid: [entry], revision: 6 }); // same write again after a re-list
    const events: LeaseEvent[] = [{ type: 'invalid', entry: { keyName: '10.244.2.0-24', subnet: '10.244.2.0/24', reason: 'value is not JSON', modRevision: 7 } }];
    t.applyEvents(events);
    expect(counted).to.equal(2);
    expect(t.stats.invalid).to.equal(2);
    expect(t.peers()).to.deep.equal([]);
  });

  it('skips a second node claiming a public IP already in use (older lease wins), and peers claiming ours', () => {
    let dups = 0;
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me', publicIp: '192.168.0.1', duplicateCounter: { inc: () => void dups++ } });
    const first = rec('10.244.5.0/24', 'b', '192.168.0.2');
    const dup = rec('10.244.3.0/24', 'evil', '192.168.0.2');
    const mine = rec('10.244.4.0/24', 'liar', '192.168.0.1');
    t.applyReset({ leases: [dup, mine, first], invalid: [], revision: 9 });
    expect(t.peers().map((p) => p.nodeName)).to.deep.equal(['b']);
    expect(dups).to.equal(2);
    t.applyEvents([{ type: 'put', record: { ...first, modRevision: first.modRevision } }]);
    expect(dups).to.equal(2); // warned once per lease, not per recompute
  });

  it('the older lease by modRevision keeps a public IP: a re-put (newer revision) of the holder hands it to the other, as a sort by revision would', () => {
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me' });
    const a = rec('10.244.5.0/24', 'a', '192.168.0.7');
    const b = rec('10.244.3.0/24', 'b', '192.168.0.7');
    t.applyReset({ leases: [b, a], invalid: [], revision: 9 }); // listed out of revision order
    expect(t.peers().map((p) => p.nodeName)).to.deep.equal(['a']);
    t.applyEvents([{ type: 'put', record: { ...a, modRevision: ++rev } }]);
    expect(t.peers().map((p) => p.nodeName)).to.deep.equal(['b']);
  });

  it('dual-stack: an IPv6 underlay address is unique too, and a peer turning IPv6 on is a change', () => {
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me', publicIp: '192.168.0.1', publicIpv6: 'fd30::1' });
    const seen: string[][] = [];
    t.on('peers-changed', (p: Lease[]) => seen.push(p.map((l) => `${l.nodeName}:${l.ipv6Subnet ?? '-'}`)));
    const b = rec('10.244.2.0/24', 'b', '192.168.0.2');
    t.applyReset({ leases: [b, rec('10.244.3.0/24', 'c', '192.168.0.3', { publicIpv6: 'fd30::1' })], invalid: [], revision: 5 });
    // b restarts dual-stack: same IPv4 subnet, now with its IPv6 subnet and underlay address
    t.applyEvents([{ type: 'put', record: { ...b, lease: { ...b.lease, ipv6Subnet: 'fd00:10:244:2::/64', publicIpv6: 'fd30::2' }, modRevision: 60 } }]);
    t.applyEvents([{ type: 'put', record: { ...rec('10.244.4.0/24', 'd', '192.168.0.4', { publicIpv6: 'fd30::2' }), modRevision: 70 } }]);
    expect(seen).to.deep.equal([['b:-'], ['b:fd00:10:244:2::/64']]);
    expect(t.stats.duplicatePublicIp).to.equal(2);
  });

  it('orders an IPv6-only cluster by address', () => {
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me' });
    t.applyReset({ leases: [rec('fd00:10:244:10::/64', 'b', 'fd30::2'), rec('fd00:10:244:9::/64', 'c', 'fd30::3'), rec('fd00:10:244:a::/64', 'd', 'fd30::4')], invalid: [], revision: 5 });
    expect(subnets(t.peers())).to.deep.equal(['fd00:10:244:9::/64', 'fd00:10:244:a::/64', 'fd00:10:244:10::/64']);
  });

  it('reports leases under its own name on another subnet, and its subnet held by another node', () => {
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me', ownSubnet: () => '10.244.1.0/24' });
    const conflicts: OwnLeaseConflict[] = [];
    t.on('conflict', (c: OwnLeaseConflict) => conflicts.push(c));
    t.applyReset({ leases: [rec('10.244.1.0/24', 'me', '192.168.0.1'), rec('10.244.8.0/24', 'me', '192.168.0.1')], invalid: [], revision: 3 });
    t.applyEvents([{ type: 'put', record: rec('10.244.1.0/24', 'thief', '192.168.0.7') }]);
    expect(conflicts.map((c) => [c.kind, c.lease.subnet, c.lease.nodeName])).to.deep.equal([
      ['own-name-other-subnet', '10.244.8.0/24', 'me'],
      ['own-subnet-other-node', '10.244.1.0/24', 'thief'],
    ]);
    expect(t.peers()).to.deep.equal([]); // neither is programmed
  });

  it('says when no lease names its own subnet any more (the intruder\'s was deleted), once per change', () => {
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me', ownSubnet: () => '10.244.1.0/24' });
    const free: string[] = [];
    t.on('own-subnet-free', (s: string) => free.push(s));
    t.applyReset({ leases: [rec('10.244.1.0/24', 'thief', '192.168.0.7')], invalid: [], revision: 3 });
    t.applyEvents([{ type: 'put', record: rec('10.244.2.0/24', 'peer', '192.168.0.2') }]);
    expect(free).to.deep.equal([]);
    t.applyEvents([{ type: 'delete', subnet: '10.244.1.0/24', modRevision: 9 }]);
    t.applyEvents([{ type: 'delete', subnet: '10.244.2.0/24', modRevision: 9 }]);
    expect(free).to.deep.equal(['10.244.1.0/24']);
    t.applyEvents([{ type: 'put', record: rec('10.244.1.0/24', 'me', '192.168.0.1') }]);
    t.applyEvents([{ type: 'delete', subnet: '10.244.1.0/24', modRevision: 9 }]);
    expect(free).to.deep.equal(['10.244.1.0/24', '10.244.1.0/24']);
  });
});

describe('subnet: PeerTracker in place vs full recompute', () => {
  interface Emission { peers: Lease[]; upserted: string[]; removed: string[] }
  function watch(t: PeerTracker): { emissions: Emission[]; events: string[] } {
    const emissions: Emission[] = [];
    const events: string[] = [];
    // a delta's order is unspecified: compared as sets
    t.on('peers-changed', (peers, delta) => emissions.push({ peers, upserted: subnets(delta.upserted).sort(), removed: subnets(delta.removed).sort() }));
    t.on('conflict', (c) => events.push(`conflict ${c.kind} ${c.lease.subnet}`));
    t.on('own-subnet-free', (s) => events.push(`free ${s}`));
    return { emissions, events };
  }

  // Random joins, leaves, renewals, moves, invalid values, duplicate public IPs,
  // leases under our name and on our subnet, and a few resets: the in-place
  // tracker must emit exactly what the full-recompute tracker emits (the same
  // Lease objects in the same order, the same deltas) and report the same.
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`emits the same sets, deltas and reports (seed ${seed})`, () => {
      const r = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const own = '10.244.1.0/24';
      const opts = { feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me', publicIp: '192.168.0.1', ownSubnet: () => own };
      const inPlace = new PeerTracker(opts);
      const full = new PeerTracker({ ...opts, incremental: false });
      const a = watch(inPlace);
      const b = watch(full);
      const subnetPool = Array.from({ length: 40 }, (_, i) => `10.244.${i}.0/24`);
      // a subnet's own IP mostly; now and then ours or one another lease has (a duplicate)
      let ipSeq = 0;
      const ipFor = (subnet: string): string => {
        const x = r();
        if (x < 0.005) return '192.168.0.1';
        if (x < 0.02 && live.size > 0) return pick([...live.values()]).lease.publicIp;
        return `172.16.${subnetPool.indexOf(subnet)}.${++ipSeq % 250}`;
      };
      const nodes = ['me', ...Array.from({ length: 45 }, (_, i) => `n${i}`)];
      let revision = 100;
      const live = new Map<string, LeaseRecord>();
      const mk = (subnet: string): LeaseRecord => ({
        lease: {
          subnet, nodeName: r() < 0.03 ? 'me' : pick(nodes.slice(1)), publicIp: ipFor(subnet),
          backend: { type: 'vxlan', data: { vtepMac: `0a:00:00:00:00:${Math.floor(r() * 4).toString(16).padStart(2, '0')}` } },
          renewedAt: `2026-01-01T00:00:0${Math.floor(r() * 10)}.000Z`,
        },
        modRevision: ++revision, etcdLeaseId: '7',
      });
      const both = (f: (t: PeerTracker) => void): void => { f(inPlace); f(full); };
      both((t) => t.applyReset({ leases: [], invalid: [], revision: 1 }));
      for (let step = 0; step < 400; step++) {
        if (r() < 0.01) {
          const list: LeaseList = { leases: [...live.values()], invalid: [], revision };
          both((t) => t.applyReset(list));
          continue;
        }
        const batch: LeaseEvent[] = [];
        const n = 1 + Math.floor(r() * (r() < 0.2 ? 6 : 2));
        for (let i = 0; i < n; i++) {
          const subnet = pick(subnetPool);
          const x = r();
          const had = live.get(subnet);
          if (x < 0.45 || !had) {
            const rec2 = mk(subnet);
            live.set(subnet, rec2);
            batch.push({ type: 'put', record: rec2 });
          } else if (x < 0.65) {
            // a renewal: the same lease, a new renewedAt and revision
            const rec2 = { ...had, lease: { ...had.lease, renewedAt: `2026-01-02T00:00:0${step % 10}.000Z` }, modRevision: ++revision };
            live.set(subnet, rec2);
            batch.push({ type: 'put', record: rec2 });
          } else if (x < 0.95) {
            live.delete(subnet);
            batch.push({ type: 'delete', subnet, modRevision: ++revision });
          } else {
            live.delete(subnet);
            batch.push({ type: 'invalid', entry: { keyName: subnet.replace('/', '-'), subnet, reason: 'bad', modRevision: ++revision } });
          }
        }
        both((t) => t.applyEvents(batch));
      }
      expect(a.emissions.length).to.be.greaterThan(50);
      expect(a.emissions.length).to.equal(b.emissions.length);
      for (const [i, e] of a.emissions.entries()) {
        const f = b.emissions[i]!;
        expect(subnets(e.peers), `emission ${i}`).to.deep.equal(subnets(f.peers));
        // the same objects, not only equal ones: downstream caches are keyed by the Lease object
        expect(e.peers.every((l, j) => l === f.peers[j]), `emission ${i}: the same Lease objects`).to.equal(true);
        expect(e.upserted, `emission ${i} upserted`).to.deep.equal(f.upserted);
        expect(e.removed, `emission ${i} removed`).to.deep.equal(f.removed);
      }
      expect(a.events).to.deep.equal(b.events);
      expect(inPlace.stats.duplicatePublicIp).to.equal(full.stats.duplicatePublicIp);
      // the point of it: most batches took the in-place path
      expect(inPlace.stats.fullRecomputes).to.be.lessThan(full.stats.fullRecomputes / 2);
    });
  }

  it('a delta lists exactly the subnets whose Lease object changed, a renewal among them once something else changed too', () => {
    const t = new PeerTracker({ feed: new FakeFeed({ leases: [], invalid: [], revision: 1 }), nodeName: 'me' });
    const { emissions } = watch(t);
    const b = rec('10.244.2.0/24', 'b', '192.168.0.2');
    t.applyReset({ leases: [b], invalid: [], revision: 5 });
    t.applyEvents([{ type: 'put', record: { ...b, lease: { ...b.lease, renewedAt: '2026-01-02T00:00:00.000Z' }, modRevision: b.modRevision + 10 } }]);
    t.applyEvents([{ type: 'put', record: rec('10.244.3.0/24', 'c', '192.168.0.3') }]);
    t.applyEvents([{ type: 'delete', subnet: '10.244.3.0/24', modRevision: 999 }]);
    expect(emissions.map((e) => [e.upserted, e.removed])).to.deep.equal([
      [['10.244.2.0/24'], []],
      [['10.244.2.0/24', '10.244.3.0/24'], []],
      [[], ['10.244.3.0/24']],
    ]);
    expect(t.stats.fullRecomputes).to.equal(1);
  });
});
