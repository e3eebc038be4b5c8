import { expect } from 'chai';
import { deleterOverHandle, KNIT_DELETE_GROUP, LinkDeleter, type DeleterHandle } from '../../agent/src/dataplane/link-deleter';
import type { Handle } from '../../agent/src/netlink';

/** Lets the deleter start its pending run (it waits one setImmediate to gather requests). */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A fake kernel: links by index with a group; records every request, and how many ran at once. */
class FakeLinks implements Pick<Handle, 'linkDel' | 'linkSetGroup' | 'linkDelGroup'> {
  readonly links = new Map<number, number>(); // index → group
  readonly calls: string[] = [];
  failGroupDel: Error | undefined;
  /** operations running now, and the most that ever ran at once (a shared socket allows one) */
  running = 0;
  maxRunning = 0;
  private gate: Promise<void> = Promise.resolve();
  private open: (() => void) | undefined;

  constructor(indexes: number[]) {
    for (const i of indexes) this.links.set(i, 0);
  }
  /** Makes the next linkDel wait until release() (a slow kernel teardown). */
  hold(): void {
    this.gate = new Promise((r) => { this.open = r; });
  }
  release(): void {
    this.open?.();
  }
  private gone(index: number): Error {
    return Object.assign(new Error(`link #${index}: ENODEV`), { code: 'ENODEV' });
  }
  /** Runs one operation, counting how many run at once. */
  async op<T>(fn: () => Promise<T>): Promise<T> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await tick(); // takes a while, as a kernel request does
      return await fn();
    } finally {
      this.running--;
    }
  }
  linkDel(index: number): Promise<void> {
    this.calls.push(`del ${index}`);
    return this.op(async () => {
      await this.gate;
      if (!this.links.delete(index)) throw this.gone(index);
    });
  }
  async linkSetGroup(index: number, group: number): Promise<void> {
    this.calls.push(`group ${index}`);
    if (!this.links.has(index)) throw this.gone(index);
    this.links.set(index, group);
  }
  linkDelGroup(group: number): Promise<void> {
    this.calls.push(`del group ${group}`);
    return this.op(async () => {
      if (this.failGroupDel) throw this.failGroupDel;
      const members = [...this.links].filter(([, g]) => g === group).map(([i]) => i);
      if (members.length === 0) throw Object.assign(new Error('group: ENODEV'), { code: 'ENODEV' });
      for (const i of members) this.links.delete(i);
    });
  }
}

/** The deleter's operations over the fake (as knitd's main-thread fallback), the group moves counted as one operation. */
function over(k: FakeLinks): DeleterHandle {
  const h = deleterOverHandle(k);
  return { ...h, linkSetGroups: (indexes, group) => k.op(() => h.linkSetGroups(indexes, group)) };
}


describe('LinkDeleter', () => {
  it('a lone delete is one plain link del', async () => {
    const k = new FakeLinks([5, 6]);
    await new LinkDeleter(over(k)).del(5);
    expect(k.calls).to.deep.equal(['del 5']);
    expect([...k.links.keys()]).to.deep.equal([6]);
  });

  it('deletes requested in the same turn of the event loop go as one group delete', async () => {
    const k = new FakeLinks([1, 2, 3, 9]);
    const d = new LinkDeleter(over(k));
    await Promise.all([d.del(1), d.del(2), d.del(3)]);
    expect(k.calls).to.deep.equal(['group 1', 'group 2', 'group 3', `del group ${KNIT_DELETE_GROUP}`]);
    expect([...k.links.keys()]).to.deep.equal([9]);
  });

  it('deletes requested while one runs go together as one group delete', async () => {
    const k = new FakeLinks([1, 2, 3, 4, 9]);
    const d = new LinkDeleter(over(k));
    k.hold();
    const first = d.del(1);
    await tick();
    const rest = [d.del(2), d.del(3), d.del(4)];
    k.release();
    await Promise.all([first, ...rest]);
    expect(k.calls).to.deep.equal(['del 1', 'group 2', 'group 3', 'group 4', `del group ${KNIT_DELETE_GROUP}`]);
    expect([...k.links.keys()], 'link 9 was never asked for and stays').to.deep.equal([9]);
    expect(d.stats).to.deep.equal({ single: 1, batched: 3, batches: 1 });
  });

  it('a link already gone rejects with ENODEV alone; the rest of its batch is deleted', async () => {
    const k = new FakeLinks([1, 2, 3]);
    const d = new LinkDeleter(over(k));
    k.hold();
    const first = d.del(1);
    await tick();
    const gone = d.del(42);
    const ok = d.del(2);
    k.release();
    await first;
    await ok;
    const err = await gone.then(() => undefined, (e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('ENODEV');
    expect([...k.links.keys()]).to.deep.equal([3]);
  });

  it('a failed group delete rejects every member of the batch and the next batch still runs', async () => {
    const k = new FakeLinks([1, 2, 3, 4]);
    const d = new LinkDeleter(over(k));
    k.failGroupDel = new Error('EOPNOTSUPP');
    k.hold();
    const first = d.del(1);
    await tick();
    const batch = [d.del(2), d.del(3)].map((p) => p.then(() => 'ok', (e: unknown) => (e as Error).message));
    k.release();
    await first;
    expect(await Promise.all(batch)).to.deep.equal(['EOPNOTSUPP', 'EOPNOTSUPP']);
    k.failGroupDel = undefined;
    await d.del(4);
    expect([...k.links.keys()], 'the next (lone) delete ran; 2 and 3 wait in the group for the next batch').to.deep.equal([2, 3]);
  });

  it('never runs two operations at once (one socket serves it), however the requests arrive', async () => {
    const k = new FakeLinks(Array.from({ length: 30 }, (_, i) => i + 1));
    const d = new LinkDeleter(over(k));
    const all: Array<Promise<void>> = [];
    for (let i = 1; i <= 30; i++) {
      all.push(d.del(i));
      if (i % 7 === 0) await tick(); // some arrive while an operation runs
    }
    await Promise.all(all);
    expect(k.links.size).to.equal(0);
    expect(k.maxRunning).to.equal(1);
  });

  it('a group move that throws (instead of reporting per link) rejects every member; nothing hangs', async () => {
    const boom = new Error('socket gone');
    const k = new FakeLinks([1, 2]);
    const d = new LinkDeleter({ ...over(k), linkSetGroups: () => Promise.reject(boom) });
    const r = await Promise.allSettled([d.del(1), d.del(2)]);
    expect(r.map((x) => (x.status === 'rejected' ? x.reason : 'ok'))).to.deep.equal([boom, boom]);
    await d.del(1); // the deleter still works
    expect([...k.links.keys()]).to.deep.equal([2]);
  });
});
