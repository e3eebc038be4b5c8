import { expect } from 'chai';
import { UnlistedLinks } from '../../agent/src/dataplane/unlisted-links';
import type { NetlinkEvent, EventGroup } from '../../agent/src/netlink';
import { silentLogger } from '../../agent/src/log/logger';

/** Link events on demand; records the groups asked for. */
class FakeEvents {
  listener: ((ev: NetlinkEvent) => void) | undefined;
  groups: readonly EventGroup[] | undefined;
  closed = false;
  subscribe(listener: (ev: NetlinkEvent) => void, _onError?: (err: Error) => void, groups?: readonly EventGroup[]): { close(): void } {
    this.listener = listener;
    this.groups = groups;
    return { close: () => { this.closed = true; } };
  }
  deleted(index: number): void {
    this.listener?.({ type: 'link-deleted', link: { index, name: `l${index}`, up: false } as never });
  }
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: unknown): void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const quiet = silentLogger();

describe('UnlistedLinks: a deleted link counts as gone at its RTM_DELLINK or its ack, whichever is first', () => {
  it('subscribes to link deletions only (the kernel filters out every other link message)', () => {
    const ev = new FakeEvents();
    new UnlistedLinks(ev, quiet);
    expect(ev.groups).to.deep.equal(['link-deleted']);
  });

  it('resolves at the event while the ack is still outstanding', async () => {
    const ev = new FakeEvents();
    const u = new UnlistedLinks(ev, quiet);
    const ack = deferred();
    let done = false;
    const p = u.delete(7, () => ack.promise).then(() => { done = true; });
    await tick();
    expect(done).to.equal(false);
    ev.deleted(8); // another link: not ours
    await tick();
    expect(done).to.equal(false);
    ev.deleted(7);
    await p;
    expect(u.stats).to.deep.equal({ atEvent: 1, atAck: 0 });
    ack.resolve(); // the late ack changes nothing
    await tick();
    expect(u.stats).to.deep.equal({ atEvent: 1, atAck: 0 });
  });

  it('resolves at the ack when no event comes (events lost)', async () => {
    const u = new UnlistedLinks(new FakeEvents(), quiet);
    await u.delete(3, async () => undefined);
    expect(u.stats).to.deep.equal({ atEvent: 0, atAck: 1 });
  });

  it('rejects with the deletion\'s error while the link is still listed, and forgets the waiter', async () => {
    const ev = new FakeEvents();
    const u = new UnlistedLinks(ev, quiet);
    const err = Object.assign(new Error('link #4: EPERM'), { code: 'EPERM' });
    let caught: unknown;
    await u.delete(4, async () => { throw err; }).catch((e: unknown) => { caught = e; });
    expect(caught).to.equal(err);
    // A later event for that index (a new link that reused it) settles nothing of the old request.
    const ack = deferred();
    let done = false;
    const p = u.delete(4, () => ack.promise).then(() => { done = true; });
    ev.deleted(4);
    await p;
    expect(done).to.equal(true);
    expect(u.stats).to.deep.equal({ atEvent: 1, atAck: 0 });
  });

  it('an error after the event does not reject (someone else finished the deletion)', async () => {
    const ev = new FakeEvents();
    const u = new UnlistedLinks(ev, quiet);
    const ack = deferred();
    const p = u.delete(5, () => ack.promise);
    ev.deleted(5);
    await p;
    ack.reject(Object.assign(new Error('ENODEV'), { code: 'ENODEV' }));
    await tick();
    expect(u.stats.atEvent).to.equal(1);
  });

  it('two deletions of the same index both end at its event', async () => {
    const ev = new FakeEvents();
    const u = new UnlistedLinks(ev, quiet);
    const a = deferred();
    const b = deferred();
    const both = Promise.all([u.delete(9, () => a.promise), u.delete(9, () => b.promise)]);
    ev.deleted(9);
    await both;
    expect(u.stats).to.deep.equal({ atEvent: 2, atAck: 0 });
  });

  it('without events it is the plain deletion', async () => {
    const broken = { subscribe(): never { throw new Error('no netlink'); } };
    const u = new UnlistedLinks(broken, quiet);
    await u.delete(1, async () => undefined);
    expect(u.stats).to.deep.equal({ atEvent: 0, atAck: 0 });
  });
});
