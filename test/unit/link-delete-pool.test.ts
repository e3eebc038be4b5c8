/**
 * PoolLinkDeleter's choice of socket: the pool socket when it opens, the
 * main thread's netlink handle (said once in the log) when it does not; the
 * link's event or the ack ends a deletion either way.
 */
import { expect } from 'chai';
import { PoolLinkDeleter, type PoolDeleteSocket } from '../../agent/src/dataplane/link-delete-pool';
import { createLogger } from '../../agent/src/log/logger';
import type { EventGroup, NetlinkEvent } from '../../agent/src/netlink';

/** The main thread's handle: deletes recorded, link events on demand. */
class FakeNl {
  readonly calls: string[] = [];
  listener: ((ev: NetlinkEvent) => void) | undefined;
  unsubscribed = false;
  async linkDel(index: number): Promise<void> {
    this.calls.push(`nl del ${index}`);
  }
  async linkSetGroup(index: number): Promise<void> {
    this.calls.push(`nl group ${index}`);
  }
  async linkDelGroup(): Promise<void> {
    this.calls.push('nl del group');
  }
  subscribe(listener: (ev: NetlinkEvent) => void, _onError?: (err: Error) => void, _groups?: readonly EventGroup[]): { close(): void } {
    this.listener = listener;
    return { close: () => { this.unsubscribed = true; } };
  }
}

/** A pool socket whose acks never come: only the link's event can end a deletion. */
class SilentSocket implements PoolDeleteSocket {
  readonly calls: string[] = [];
  closed = false;
  linkDel(index: number): Promise<void> {
    this.calls.push(`pool del ${index}`);
    return new Promise(() => undefined);
  }
  async linkSetGroups(indexes: readonly number[]): Promise<Array<PromiseSettledResult<void>>> {
    this.calls.push(`pool group ${indexes.join(',')}`);
    return indexes.map(() => ({ status: 'fulfilled', value: undefined }));
  }
  linkDelGroup(): Promise<void> {
    this.calls.push('pool del group');
    return new Promise(() => undefined);
  }
  close(): void {
    this.closed = true;
  }
}

function logLines(): { lines: Array<Record<string, unknown>>; log: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLogger('debug', 'json', (l) => lines.push(JSON.parse(l) as Record<string, unknown>)) };
}

describe('PoolLinkDeleter: the pool socket, or the main thread when it cannot be opened', () => {
  it('deletes through the pool socket; the link\'s event ends the deletion; close closes socket and subscription', async () => {
    const nl = new FakeNl();
    const sock = new SilentSocket();
    const { lines, log } = logLines();
    const d = new PoolLinkDeleter(nl, () => sock, log);
    expect(d.onPool).to.equal(true);
    const p = d.del(7);
    await new Promise((r) => setImmediate(r)); // the deleter gathers for one turn
    expect(sock.calls).to.deep.equal(['pool del 7']);
    nl.listener?.({ type: 'link-deleted', link: { index: 7, name: 'v7', up: false } as never });
    await p;
    expect(d.stats).to.include({ atEvent: 1, atAck: 0 });
    expect(nl.calls).to.deep.equal([]);
    expect(lines.filter((l) => l.level === 'warn')).to.deep.equal([]);
    d.close();
    expect(sock.closed && nl.unsubscribed).to.equal(true);
  });

  it('when the socket cannot be opened: one warning naming why, and the deletions go through the main thread\'s handle', async () => {
    const nl = new FakeNl();
    const { lines, log } = logLines();
    const d = new PoolLinkDeleter(nl, () => { throw new Error('native addon knit_netns not loadable'); }, log);
    expect(d.onPool).to.equal(false);
    await Promise.all([d.del(3), d.del(4)]);
    await d.del(5);
    expect(nl.calls).to.deep.equal(['nl group 3', 'nl group 4', 'nl del group', 'nl del 5']);
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).to.have.length(1);
    expect(String(warns[0]!.error)).to.include('knit_netns');
    d.close();
  });
});
