/**
 * PeerLiveness on a fake liveness store and a fake clock: its own key is
 * published and kept alive every TTL/3 (re-published after expiry, revoked on
 * stop); other nodes are alive/down/unknown with the right "since", and every
 * transition reaches subscribers.
 */
import { expect } from 'chai';
import type { AliveList, AliveRecord, AliveValue, AliveWatchHandlers } from '../../agent/src/store/liveness-registry';
import { PeerLiveness, type AgentLiveness, type LivenessStore } from '../../agent/src/subnet/peer-liveness';
import { FakeClock, settle } from '../support/fake-clock';

const self: AliveValue = { nodeName: 'node-a', publicIp: '192.168.0.1', startedAt: '2026-01-01T00:00:00.000Z', version: '1.0.0' };
const rec = (nodeName: string, startedAt = '2025-12-31T23:00:00.000Z'): AliveRecord => ({
  value: { nodeName, publicIp: '192.168.0.9', startedAt, version: '1.0.0' }, createRevision: 1,
});

class FakeLivenessStore implements LivenessStore {
  calls: string[] = [];
  keys: AliveRecord[] = [];
  handlers: AliveWatchHandlers | undefined;
  ttlAnswer = 10;
  failKeepAlive = false;
  failList = false;
  private seq = 0;
  async publish(value: AliveValue, ttl: number): Promise<string> {
    this.calls.push(`publish ${value.nodeName} ttl=${ttl}`);
    return `lease-${++this.seq}`;
  }
  async keepAlive(id: string): Promise<number> {
    this.calls.push(`keepAlive ${id}`);
    if (this.failKeepAlive) throw new Error('etcd away');
    return this.ttlAnswer;
  }
  async revoke(id: string): Promise<void> {
    this.calls.push(`revoke ${id}`);
  }
  async list(): Promise<AliveList> {
    this.calls.push('list');
    if (this.failList) throw new Error('etcd away');
    return { alive: [...this.keys], revision: 41 };
  }
  async watch(from: number, h: AliveWatchHandlers): Promise<{ close(): Promise<void> }> {
    this.calls.push(`watch from ${from}`);
    this.handlers = h;
    return { close: async () => { this.calls.push('watch closed'); } };
  }
}

describe('subnet: PeerLiveness (fake store, fake clock)', () => {
  let store: FakeLivenessStore;
  let clock: FakeClock;
  let pl: PeerLiveness;
  let seen: Array<[string, AgentLiveness]>;
  beforeEach(() => {
    store = new FakeLivenessStore();
    clock = new FakeClock();
    pl = new PeerLiveness({ store, self, ttlSeconds: 9, clock });
    seen = [];
    pl.subscribe((n, l) => seen.push([n, l]));
  });
  afterEach(async () => { await pl.stop(); });

  it('publishes its own key, keeps it alive every TTL/3, re-publishes after expiry and revokes on stop', async () => {
    await pl.start();
    expect(store.calls.slice(0, 3)).to.deep.equal(['publish node-a ttl=9', 'list', 'watch from 42']);
    await clock.advanceSettled(3000);
    expect(store.calls.filter((c) => c.startsWith('keepAlive'))).to.deep.equal(['keepAlive lease-1']);
    expect(pl.lastOwnRenewal).to.equal(clock.wallNow());
    store.ttlAnswer = 0; // etcd says the lease is gone (we were cut off longer than the TTL)
    await clock.advanceSettled(3000);
    expect(store.calls.filter((c) => c.startsWith('publish'))).to.have.length(2);
    store.ttlAnswer = 9;
    await clock.advanceSettled(3000);
    expect(store.calls.at(-1)).to.equal('keepAlive lease-2');
    store.failKeepAlive = true;
    const before = pl.lastOwnRenewal;
    await clock.advanceSettled(3000);
    expect(pl.lastOwnRenewal, 'a failed keep-alive is no renewal').to.equal(before);
    await pl.stop();
    expect(store.calls.slice(-2)).to.deep.equal(['watch closed', 'revoke lease-2']);
    const n = store.calls.length;
    await clock.advanceSettled(10_000);
    expect(store.calls.length, 'nothing after stop').to.equal(n);
  });

  it('alive since the peer\'s start at the first list; down since the moment its key vanished; alive again since it came back', async () => {
    store.keys = [rec('node-b', '2025-12-31T23:00:00.000Z'), rec('node-a', self.startedAt)];
    expect(pl.of('node-b').state, 'before start').to.equal('unknown');
    await pl.start();
    expect(pl.of('node-b')).to.deep.equal({ state: 'alive', since: new Date('2025-12-31T23:00:00.000Z'), version: '1.0.0' });
    expect(pl.of('node-c'), 'never seen: down, since unknown').to.deep.equal({ state: 'down' });
    seen = [];
    await clock.advanceSettled(5000);
    store.handlers!.onGone('node-b');
    const downAt = new Date(clock.wallNow());
    expect(pl.of('node-b')).to.deep.equal({ state: 'down', since: downAt });
    expect(seen).to.deep.equal([['node-b', { state: 'down', since: downAt }]]);
    store.handlers!.onGone('node-b'); // a repeat says nothing
    expect(seen).to.have.length(1);
    await clock.advanceSettled(2000);
    store.handlers!.onAlive(rec('node-b', '2026-01-01T00:00:06.000Z'));
    expect(pl.of('node-b')).to.deep.include({ state: 'alive', since: new Date(clock.wallNow()) });
    expect(seen.map(([n, l]) => `${n} ${l.state}`)).to.deep.equal(['node-b down', 'node-b alive']);
  });

  it('unknown while its watch has lost etcd; a failed watch re-lists with back-off and reports what changed meanwhile', async () => {
    store.keys = [rec('node-b'), rec('node-c')];
    await pl.start();
    store.handlers!.onConnection(false);
    expect(pl.of('node-b').state).to.equal('unknown');
    store.handlers!.onConnection(true);
    expect(pl.of('node-b').state).to.equal('alive');

    store.failList = true;
    store.handlers!.onFailed(new Error('compacted'));
    expect(pl.of('node-b').state).to.equal('unknown');
    await clock.advanceSettled(600); // first re-list (after 500 ms ± 20 %) fails
    expect(store.calls.filter((c) => c === 'list')).to.have.length(2);
    store.failList = false;
    store.keys = [rec('node-b')]; // node-c died meanwhile
    seen = [];
    await clock.advanceSettled(899);
    expect(store.calls.filter((c) => c === 'list'), 'not before the doubled back-off (1 s)').to.have.length(2);
    await clock.advanceSettled(1);
    expect(store.calls.filter((c) => c === 'list')).to.have.length(3);
    expect(pl.of('node-b').state).to.equal('alive');
    expect(pl.of('node-c')).to.deep.equal({ state: 'down', since: new Date(clock.wallNow()) });
    expect(seen.map(([n, l]) => `${n} ${l.state}`)).to.deep.equal(['node-c down']);
    await settle();
  });
});
