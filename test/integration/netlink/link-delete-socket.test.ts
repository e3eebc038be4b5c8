/**
 * Link deletion on the addon's pool socket, against the kernel. The socket
 * is made inside a test namespace (as knitd makes it in its own) and the
 * pool threads that send on it stay in the root namespace: every deletion
 * below lands in the test namespace all the same, because a netlink socket
 * acts where it was created.
 *
 * Veths are made with their peers in a second namespace, as a container's
 * are, so each deletion carries the kernel's real teardown wait.
 */
import { expect } from 'chai';
import { loadNativeAddon } from '../../../agent/src/base';
import { LinkDeleter, KNIT_DELETE_GROUP } from '../../../agent/src/dataplane/link-deleter';
import { PoolLinkDeleter } from '../../../agent/src/dataplane/link-delete-pool';
import { silentLogger } from '../../../agent/src/log/logger';
import { openHandle, openLinkDeleteSocket, withNetns, NetlinkError, type Handle, type LinkDeleteSocket, type NativeRtnlSocket } from '../../../agent/src/netlink';
import { addNetns, delNetns, netnsPath, nsIpJson, nsRun } from '../../lab/netns';

interface IpLink { ifindex: number; ifname: string; group?: string }

describe('netlink: link deletion on the thread pool (knit_netns rtnlSocket)', function () {
  this.timeout(60_000);
  let ns: string;
  let peerNs: string;
  let h: Handle;
  let sock: LinkDeleteSocket;

  const names = (where: string): string[] => nsIpJson<IpLink[]>(where, ['link', 'show']).map((l) => l.ifname).sort();
  /** `count` veths named PREFIXi in ns, peers PREFIXpi in peerNs, in one `ip -batch`; their indexes by name. */
  async function veths(prefix: string, count: number): Promise<Map<string, number>> {
    const lines = Array.from({ length: count }, (_, i) => `link add ${prefix}${i} type veth peer name ${prefix}p${i} netns ${peerNs}`);
    nsRun(ns, 'ip', ['-batch', '-'], lines.join('\n') + '\n');
    const out = new Map<string, number>();
    for (const l of await h.linkList()) if (l.name.startsWith(prefix)) out.set(l.name, l.index);
    expect(out.size, `${prefix}* made`).to.equal(count);
    return out;
  }

  before(() => {
    ns = addNetns('ld');
    peerNs = addNetns('lp');
    h = openHandle(netnsPath(ns));
    sock = withNetns(netnsPath(ns), () => openLinkDeleteSocket());
  });
  after(() => {
    sock?.close();
    h?.close();
    delNetns(ns);
    delNetns(peerNs);
  });

  it('a single delete: the veth and its peer are gone when the ack arrives', async () => {
    const [index] = [...(await veths('one', 1)).values()];
    await sock.linkDel(index!);
    expect(await h.linkByIndex(index!)).to.equal(undefined);
    expect(names(ns)).to.not.include('one0');
    expect(names(peerNs)).to.not.include('onep0');
  });

  it('deleting an index that is already gone rejects like Handle.linkDel: NetlinkError, code ENODEV', async () => {
    const [index] = [...(await veths('gone', 1)).values()];
    await sock.linkDel(index!);
    const err = await sock.linkDel(index!).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err).to.include({ code: 'ENODEV', errno: 19, op: 'link del', object: `link #${index}` });
    // The same through the package's handle, for comparison.
    const theirs = await h.linkDel(index!).then(() => undefined, (e: unknown) => e);
    expect(theirs).to.include({ code: 'ENODEV', errno: 19, op: 'link del', object: `link #${index}` });
    expect((err as Error).message).to.equal((theirs as Error).message);
  });

  it('20 concurrent deletes: one group request, all gone; a link nobody asked for survives', async () => {
    const doomed = await veths('b', 20);
    const keep = await veths('keep', 1);
    const d = new LinkDeleter(sock);
    const t0 = process.hrtime.bigint();
    await Promise.all([...doomed.values()].map((i) => d.del(i)));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(d.stats, `took ${ms.toFixed(1)} ms`).to.deep.equal({ single: 0, batched: 20, batches: 1 });
    const left = names(ns);
    for (const name of doomed.keys()) expect(left, name).to.not.include(name);
    expect(left).to.include('keep0');
    expect(names(peerNs).filter((n) => n.startsWith('bp'))).to.deep.equal([]);
    // The survivor is not in the deletion group either.
    const [k] = nsIpJson<IpLink[]>(ns, ['link', 'show', 'dev', 'keep0']);
    expect(k!.ifindex).to.equal(keep.get('keep0'));
    expect(k!.group).to.equal('default');
  });

  it('a batch with an index already gone: that one rejects ENODEV, the others are deleted', async () => {
    const live = await veths('m', 3);
    const [gone] = [...(await veths('x', 1)).values()];
    await sock.linkDel(gone!);
    const d = new LinkDeleter(sock);
    const results = await Promise.allSettled([gone!, ...live.values()].map((i) => d.del(i)));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as NetlinkError).code : 'ok'))).to.deep.equal(['ENODEV', 'ok', 'ok', 'ok']);
    expect(d.stats).to.deep.equal({ single: 0, batched: 3, batches: 1 });
    expect(names(ns).filter((n) => /^m\d$/.test(n))).to.deep.equal([]);
    // Nothing was left in the deletion group: every remaining link is in the default group.
    const groups = nsIpJson<IpLink[]>(ns, ['link', 'show']).map((l) => l.group);
    expect(groups).to.not.include(String(KNIT_DELETE_GROUP));
    expect(new Set(groups)).to.deep.equal(new Set(['default']));
  });

  it('knitd\'s deleter (events, batching, pool socket): concurrent deletes end at the links\' events', async () => {
    const doomed = await veths('ev', 10);
    const d = new PoolLinkDeleter(h, () => withNetns(netnsPath(ns), () => openLinkDeleteSocket()), silentLogger());
    try {
      expect(d.onPool).to.equal(true);
      await Promise.all([...doomed.values()].map((i) => d.del(i)));
      const s = d.stats;
      expect(s.atEvent + s.atAck).to.equal(10);
      expect(s.batched + s.single).to.be.at.most(10); // acks may still be on their way
      expect(names(ns).filter((n) => /^ev\d$/.test(n))).to.deep.equal([]);
    } finally {
      d.close();
    }
  });

  it('the main thread keeps running during the kernel\'s teardown waits (a 1 ms timer keeps ticking)', async () => {
    const doomed = [...(await veths('r', 8)).values()];
    // One delete at a time on the main thread (the package's handle) for comparison: each blocks the event loop.
    const blocked = [...(await veths('s', 8)).values()];
    const gaps = async (work: () => Promise<void>): Promise<{ maxGap: number; ms: number }> => {
      let last = performance.now();
      let maxGap = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
      }, 1);
      const t0 = performance.now();
      try {
        await work();
      } finally {
        clearInterval(timer);
      }
      return { maxGap, ms: performance.now() - t0 };
    };
    const pool = await gaps(async () => { for (const i of doomed) await sock.linkDel(i); });
    const main = await gaps(async () => { for (const i of blocked) await h.linkDel(i); });
    const report = `pool: ${pool.ms.toFixed(0)} ms, longest timer gap ${pool.maxGap.toFixed(1)} ms; main thread: ${main.ms.toFixed(0)} ms, longest gap ${main.maxGap.toFixed(1)} ms`;
    // Each veth's teardown takes milliseconds; on the pool none of it stalls the loop.
    expect(pool.ms / doomed.length, report).to.be.above(2);
    expect(pool.maxGap, report).to.be.below(Math.max(8, main.maxGap / 2));
    expect(main.maxGap, `${report}: the comparison shows the wait`).to.be.above(pool.maxGap);
    expect(names(ns).filter((n) => /^[rs]\d$/.test(n))).to.deep.equal([]);
  });

  describe('the native socket itself', () => {
    let raw: NativeRtnlSocket;
    before(() => {
      raw = withNetns(netnsPath(ns), () => loadNativeAddon<{ rtnlSocket(): NativeRtnlSocket }>('knit_netns').rtnlSocket());
    });
    after(() => raw?.close());

    /** RTM_DELLINK for `index`, REQUEST|ACK (as link-delete-messages.ts writes it). */
    const delLink = (index: number, flags = 5): Buffer => {
      const b = Buffer.alloc(32);
      b.writeUInt32LE(32, 0);
      b.writeUInt16LE(17, 4);
      b.writeUInt16LE(flags, 6);
      b.writeInt32LE(index, 20);
      return b;
    };

    it('a second job while one runs is refused (EBUSY): two jobs never share the socket', async () => {
      const [a, b] = [...(await veths('q', 2)).values()];
      const first = raw.transact([delLink(a!)]);
      let busy: unknown;
      try {
        await raw.transact([delLink(b!)]);
      } catch (err) {
        busy = err;
      }
      expect(busy).to.include({ code: 'EBUSY' });
      expect(await first).to.deep.equal([0]);
      expect(await raw.transact([delLink(b!), delLink(b!)]), 'acked, then already gone').to.deep.equal([0, 19]);
    });

    it('refuses what would wait for an ack that never comes: no NLM_F_ACK, a GET (dump), a length that is not the buffer\'s', () => {
      expect(() => raw.transact([delLink(1, 1)])).to.throw(TypeError, /NLM_F_ACK/);
      const dump = delLink(0, 0x305);
      dump.writeUInt16LE(18, 4); // RTM_GETLINK
      expect(() => raw.transact([dump])).to.throw(TypeError, /NEW, DEL or SET/);
      expect(() => raw.transact([Buffer.concat([delLink(1), Buffer.alloc(4)])])).to.throw(TypeError);
      expect(() => raw.transact([Buffer.alloc(8)])).to.throw(TypeError);
      expect(() => raw.transact([])).to.throw(RangeError);
    });

    it('after close: EBADF', () => {
      const s = withNetns(netnsPath(ns), () => loadNativeAddon<{ rtnlSocket(): NativeRtnlSocket }>('knit_netns').rtnlSocket());
      s.close();
      expect(() => s.transact([delLink(1)])).to.throw().with.property('code', 'EBADF');
    });
  });
});
