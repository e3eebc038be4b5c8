/**
 * subscribe(): link, route and neighbour events from the handle's namespace
 * only, typed; an overflowing event queue is reported, never fatal.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { rt } from 'netlink';
import { openHandle } from '../../../agent/src/netlink';
import { createRawSocketIn } from '../../../agent/src/netlink/conn';
import { readHeader } from '../../../agent/src/netlink/decode';
import { netlinkKeepScoped, netlinkKeepTypes, netlinkTune } from '../../../agent/src/netlink/netns';
import type { Handle, NetlinkEvent } from '../../../agent/src/netlink';
import { addNetns, delNetns, netnsPath, nsRun } from '../../lab/netns';
import { waitFor as poll } from '../../support/wait';

/** Resolve with the first collected event matching `pred`, or reject after `ms`. */
async function waitFor(events: NetlinkEvent[], pred: (e: NetlinkEvent) => boolean, ms = 3000): Promise<NetlinkEvent> {
  const hit = await poll('a matching event', () => events.find(pred), ms, () => `saw ${JSON.stringify(events.map((e) => e.type))}`, { intervalMs: 10 });
  return hit.value;
}

const RTM_DELLINK = rt.MessageType.DELLINK;

describe('netlink: subscribe', () => {
  let ns: string;
  let other: string;
  let h: Handle;

  before(() => {
    ns = addNetns('ev');
    other = addNetns('eo');
    h = openHandle(netnsPath(ns));
  });
  after(() => {
    h?.close();
    delNetns(ns);
    delNetns(other);
  });

  it('sees a link appear, change and disappear, a route and a neighbour, and nothing from other namespaces', async () => {
    const events: NetlinkEvent[] = [];
    const sub = h.subscribe((e) => events.push(e));
    try {
      nsRun(other, 'ip', ['link', 'add', 'elsewhere', 'type', 'veth', 'peer', 'name', 'elsewhere2']);
      nsRun(ns, 'ip', ['link', 'add', 'ev0', 'type', 'veth', 'peer', 'name', 'ev0p']);
      const added = await waitFor(events, (e) => e.type === 'link-added' && e.link.name === 'ev0');
      expect(added.type === 'link-added' && added.link.kind).to.equal('veth');

      nsRun(ns, 'ip', ['link', 'set', 'ev0', 'up']);
      await waitFor(events, (e) => e.type === 'link-changed' && e.link.name === 'ev0' && e.link.up);

      nsRun(ns, 'ip', ['route', 'add', '10.60.0.0/24', 'dev', 'ev0', 'proto', '89']);
      const r = await waitFor(events, (e) => e.type === 'route-added' && e.route.dst === '10.60.0.0/24');
      expect(r.type === 'route-added' && r.route.protocol).to.equal(89);

      nsRun(ns, 'ip', ['neigh', 'add', '10.60.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'ev0', 'nud', 'permanent']);
      const n = await waitFor(events, (e) => e.type === 'neigh-added' && e.neighbour.ip === '10.60.0.9');
      expect(n.type === 'neigh-added' && n.neighbour).to.include({ mac: '02:00:00:00:00:09', permanent: true });

      nsRun(ns, 'ip', ['route', 'del', '10.60.0.0/24', 'dev', 'ev0']);
      await waitFor(events, (e) => e.type === 'route-deleted' && e.route.dst === '10.60.0.0/24');

      // (IPv4 routes flushed by a link deletion are not announced by the kernel)
      nsRun(ns, 'ip', ['link', 'del', 'ev0']);
      await waitFor(events, (e) => e.type === 'link-deleted' && e.link.name === 'ev0');

      const names = events.flatMap((e) => ('link' in e ? [e.link.name] : []));
      expect(names).to.not.include('elsewhere');
      expect(names.filter((x) => x === 'ev0p')).to.not.have.length(0);
    } finally {
      sub.close();
    }
    // closed: nothing more arrives
    const count = events.length;
    nsRun(ns, 'ip', ['link', 'add', 'ev1', 'type', 'veth', 'peer', 'name', 'ev1p']);
    await new Promise((r) => setTimeout(r, 100));
    expect(events.length).to.equal(count);
  });

  it("'link-deleted' delivers link deletions only", async () => {
    const events: NetlinkEvent[] = [];
    const errors: Error[] = [];
    const sub = h.subscribe((e) => events.push(e), (err) => errors.push(err), ['link-deleted']);
    try {
      nsRun(ns, 'ip', ['link', 'add', 'del0', 'type', 'veth', 'peer', 'name', 'del0p']);
      nsRun(ns, 'ip', ['link', 'set', 'del0', 'up']);
      nsRun(ns, 'ip', ['link', 'del', 'del0']);
      await waitFor(events, (e) => e.type === 'link-deleted' && e.link.name === 'del0p');
      expect(events.map((e) => e.type)).to.deep.equal(['link-deleted', 'link-deleted']);
      expect(events.map((e) => ('link' in e ? e.link.name : '')).sort()).to.deep.equal(['del0', 'del0p']);
      expect(errors).to.deep.equal([]); // the socket filter was attached
    } finally {
      sub.close();
    }
  });

  it('a type filter works in the kernel: the socket receives nothing but the kept type', async () => {
    const types: number[] = [];
    let fd = -1;
    const sock = createRawSocketIn(netnsPath(ns), (s) => { fd = netlinkTune(s.address().port, 1 << 20); });
    try {
      netlinkKeepTypes(fd, [RTM_DELLINK]);
      sock.addMembership(rt.MulticastGroups.LINK);
      sock.on('message', (buf: Buffer) => {
        for (let off = 0; off < buf.length;) {
          const h = readHeader(buf, off);
          types.push(h.type);
          off += (h.length + 3) & ~3;
        }
      });
      nsRun(ns, 'ip', ['link', 'add', 'bpf0', 'type', 'veth', 'peer', 'name', 'bpf0p']);
      nsRun(ns, 'ip', ['link', 'set', 'bpf0', 'up']);
      nsRun(ns, 'ip', ['link', 'del', 'bpf0']);
      await poll('two deletions', () => (types.length >= 2 ? types : undefined), 3000, () => JSON.stringify(types), { intervalMs: 10 });
      await new Promise((r) => setTimeout(r, 50));
      expect(types).to.deep.equal([RTM_DELLINK, RTM_DELLINK]);
    } finally {
      sock.close();
    }
    expect(() => netlinkKeepTypes(0, [])).to.throw(/1\.\.32/);
    expect(() => netlinkKeepTypes(0, [0x10000])).to.throw(/16 bits/);
  });

  it('narrow(devices): link, neighbour and FDB events of those devices and main-table route events only; nexthop events all', async () => {
    nsRun(ns, 'ip', ['link', 'add', 'keep0', 'type', 'vxlan', 'id', '77', 'dstport', '4789', 'nolearning']);
    nsRun(ns, 'ip', ['link', 'add', 'drop0', 'type', 'veth', 'peer', 'name', 'drop0p']);
    nsRun(ns, 'ip', ['link', 'set', 'drop0p', 'up']);
    nsRun(ns, 'ip', ['link', 'set', 'drop0', 'up']);
    nsRun(ns, 'ip', ['addr', 'add', '10.61.0.1/24', 'dev', 'drop0']);
    const keep = (await h.linkByName('keep0'))!.index;
    const events: NetlinkEvent[] = [];
    const sub = h.subscribe((e) => events.push(e));
    try {
      sub.narrow!([keep]);
      // each pair: something of a device or table the subscriber does not care for, then one it does
      nsRun(ns, 'ip', ['link', 'set', 'drop0', 'mtu', '1400']);
      nsRun(ns, 'ip', ['link', 'set', 'keep0', 'up']);
      nsRun(ns, 'ip', ['neigh', 'add', '10.61.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'drop0', 'nud', 'permanent']);
      nsRun(ns, 'ip', ['neigh', 'add', '10.62.0.0', 'lladdr', '02:00:00:00:00:0a', 'dev', 'keep0', 'nud', 'permanent']);
      nsRun(ns, 'bridge', ['fdb', 'append', '02:00:00:00:00:0a', 'dev', 'keep0', 'dst', '192.0.2.10', 'self', 'permanent']);
      nsRun(ns, 'ip', ['route', 'add', '10.63.0.0/24', 'dev', 'drop0', 'table', '100']);
      nsRun(ns, 'ip', ['route', 'add', '10.64.0.0/24', 'dev', 'drop0', 'proto', '89']);
      nsRun(ns, 'ip', ['nexthop', 'add', 'id', '4242', 'dev', 'drop0']);
      nsRun(ns, 'ip', ['route', 'del', '10.64.0.0/24', 'dev', 'drop0', 'proto', '89']);
      nsRun(ns, 'ip', ['nexthop', 'del', 'id', '4242']);
      nsRun(ns, 'ip', ['link', 'del', 'drop0']);
      nsRun(ns, 'ip', ['link', 'del', 'keep0']);
      await waitFor(events, (e) => e.type === 'link-deleted' && e.link.name === 'keep0');
      await new Promise((r) => setTimeout(r, 50));
      const seen = events.map((e) => {
        switch (e.type) {
          case 'link-added': case 'link-changed': case 'link-deleted': return `${e.type} ${e.link.name}`;
          case 'neigh-added': case 'neigh-deleted': return `${e.type} ${e.neighbour.ip}`;
          case 'fdb-added': case 'fdb-deleted': return `${e.type} ${e.entry.mac} ${e.entry.index === keep ? 'keep0' : e.entry.index}`;
          case 'route-added': case 'route-deleted': return `${e.type} ${e.route.dst} table ${e.route.table ?? 254}`;
          case 'nexthop-added': case 'nexthop-deleted': return `${e.type} ${e.nexthop.id}`;
        }
        return 'other';
      });
      // nothing of drop0 itself, its neighbour, its address's routes (local table) or the table-100 route
      expect(seen.filter((x) => x.includes('drop0') || x.includes('10.61.0.') || x.includes('10.63.0.'))).to.deep.equal([]);
      for (const want of [
        'link-changed keep0', 'neigh-added 10.62.0.0', 'fdb-added 02:00:00:00:00:0a keep0', 'route-added 10.64.0.0/24 table 254', 'nexthop-added 4242',
        'route-deleted 10.64.0.0/24 table 254', 'nexthop-deleted 4242', 'link-deleted keep0',
      ]) {
        expect(seen, want).to.include(want, JSON.stringify(seen));
      }
    } finally {
      sub.close();
    }
  });

  it('narrow() refuses what is not a device index list or table, and a subscription that keeps only some types', () => {
    const sub = h.subscribe(() => undefined, undefined, ['link-deleted']);
    try {
      expect(() => sub.narrow!([1])).to.throw(/only for a subscription without a type filter/);
    } finally {
      sub.close();
    }
    expect(() => netlinkKeepScoped(0, [0], 254)).to.throw(/1\.\.2\^31-1/);
    expect(() => netlinkKeepScoped(0, Array.from({ length: 65 }, (_, i) => i + 1), 254)).to.throw(/at most 64/);
    expect(() => netlinkKeepScoped(0, [1], 256)).to.throw(/1\.\.255/);
  });

  it('a listener that throws does not stop the stream; onError hears it', async () => {
    const events: NetlinkEvent[] = [];
    const errors: Error[] = [];
    let thrown = 0;
    const sub = h.subscribe((e) => {
      events.push(e);
      if (e.type === 'link-added' && e.link.name === 'thr0' && thrown++ === 0) throw new Error('listener bug');
    }, (err) => errors.push(err));
    try {
      nsRun(ns, 'ip', ['link', 'add', 'thr0', 'type', 'veth', 'peer', 'name', 'thr0p']);
      await waitFor(events, (e) => e.type === 'link-added' && e.link.name === 'thr0p');
      nsRun(ns, 'ip', ['link', 'del', 'thr0']);
      await waitFor(events, (e) => e.type === 'link-deleted' && e.link.name === 'thr0');
      expect(errors.map((e) => e.message)).to.deep.equal(['listener bug']);
    } finally {
      sub.close();
    }
  });
});

describe('netlink: subscribe under an event flood', () => {
  let ns: string;
  let h: Handle;
  let dir: string;

  before(() => {
    ns = addNetns('ef');
    h = openHandle(netnsPath(ns));
    dir = mkdtempSync(join(tmpdir(), 'knit-flood-'));
  });
  after(() => {
    h?.close();
    delNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a queue overflow (events arriving while the loop is blocked) is reported as ENOBUFS, the process survives and the stream goes on', async function () {
    this.timeout(60_000);
    nsRun(ns, 'ip', ['link', 'add', 'ef0', 'type', 'veth', 'peer', 'name', 'ef0p']);
    nsRun(ns, 'ip', ['link', 'set', 'ef0', 'up']);
    const routes = 120_000; // ~1 KiB of queue each: well past the 32 MiB receive queue
    const file = join(dir, 'add.batch');
    writeFileSync(file, Array.from({ length: routes }, (_, i) => `route add 10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 dev ef0\n`).join(''));
    const events: NetlinkEvent[] = [];
    const errors: Error[] = [];
    const sub = h.subscribe((e) => events.push(e), (err) => errors.push(err));
    try {
      // execFileSync blocks this thread: every announcement queues in the kernel meanwhile
      execFileSync('ip', ['-n', ns, '-batch', file], { stdio: 'pipe' });
      await poll('an ENOBUFS report', () => errors.find((e) => /ENOBUFS/.test(e.message)), 5000, () => `errors ${errors.map((e) => e.message).join('; ')}, events ${events.length}`);
      expect(events.length).to.be.above(0).and.below(routes);
      // the stream still delivers after the overflow
      nsRun(ns, 'ip', ['link', 'add', 'ef1', 'type', 'veth', 'peer', 'name', 'ef1p']);
      await waitFor(events, (e) => e.type === 'link-added' && e.link.name === 'ef1', 5000);
    } finally {
      sub.close();
    }
  });
});
