import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { status } from '@grpc/grpc-js';
import type { WatchEvent } from '../../agent/src/api/gen/knit/v1/WatchEvent';
import type { StateChange } from '../../agent/src/api/state-source';
import { WatchHub, type WatchSink } from '../../agent/src/api/watch-hub';

/** A stream that accepts `capacity` writes before reporting back-pressure. */
class FakeSink extends EventEmitter implements WatchSink {
  written: WatchEvent[] = [];
  failed: { code: status; details: string } | undefined;
  inFlight = 0;
  constructor(public capacity = Infinity) {
    super();
  }
  write(ev: WatchEvent): boolean {
    this.written.push(ev);
    this.inFlight += 1;
    return this.inFlight < this.capacity;
  }
  fail(code: status, details: string): void {
    this.failed = { code, details };
  }
  /** The client read everything: the stream drains. */
  drain(): void {
    this.inFlight = 0;
    this.emit('drain');
  }
}

function setup(limit = 4): { hub: WatchHub; emit: (n: number) => void; subscriptions: () => number; observed: { watchers: number[]; dropped: number } } {
  const listeners = new Set<(c: StateChange) => void>();
  let subscribes = 0;
  const observed = { watchers: [] as number[], dropped: 0 };
  const hub = new WatchHub(
    (l) => {
      subscribes += 1;
      listeners.add(l);
      return () => listeners.delete(l);
    },
    (c) => ({ subnet: { change: 'CHANGE_TYPE_ADDED', lease: { subnet: c.kind === 'subnet' ? c.lease.subnet : '' } } }),
    limit,
    { watchers: (n) => observed.watchers.push(n), dropped: () => (observed.dropped += 1) },
    () => new Date('2026-01-01T00:00:00Z'),
  );
  const emit = (n: number): void => {
    for (const l of [...listeners]) {
      l({ kind: 'subnet', change: 'added', lease: { subnet: `10.244.${n}.0/24`, nodeName: 'x', publicIp: '1.1.1.1', backendType: 'vxlan', backendData: {}, own: false } });
    }
  };
  return { hub, emit, subscriptions: () => listeners.size + 0 * subscribes, observed };
}

const subnetOf = (ev: WatchEvent): string | undefined => ev.subnet?.lease?.subnet ?? (ev.snapshot ? 'snapshot' : undefined);

describe('api watch hub', () => {
  it('sends the snapshot first, then what happened while it was read, numbered from 1', () => {
    const { hub, emit } = setup();
    const sink = new FakeSink();
    const c = hub.add(sink);
    emit(1);
    emit(2);
    expect(sink.written).to.have.length(0);
    c.start({ snapshot: {} });
    emit(3);
    expect(sink.written.map(subnetOf)).to.deep.equal(['snapshot', '10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24']);
    expect(sink.written.map((e) => e.sequence)).to.deep.equal([1, 2, 3, 4]);
    expect(sink.written[0].time).to.equal('2026-01-01T00:00:00.000Z');
  });

  it('shares one source subscription among clients and drops it with the last one', () => {
    const { hub, subscriptions, observed } = setup();
    const a = hub.add(new FakeSink());
    const b = hub.add(new FakeSink());
    expect(subscriptions()).to.equal(1);
    hub.remove(a);
    expect(subscriptions()).to.equal(1);
    hub.remove(b);
    hub.remove(b);
    expect(subscriptions()).to.equal(0);
    expect(observed.watchers).to.deep.equal([1, 2, 1, 0]);
  });

  it('stops writing on back-pressure and resumes on drain, in order', () => {
    const { hub, emit } = setup(10);
    const sink = new FakeSink(2);
    const c = hub.add(sink);
    c.start({ snapshot: {} });
    for (let i = 1; i <= 5; i++) emit(i);
    expect(sink.written.map(subnetOf)).to.deep.equal(['snapshot', '10.244.1.0/24']);
    expect(c.queued).to.equal(4);
    sink.drain();
    expect(sink.written.map(subnetOf)).to.deep.equal(['snapshot', '10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24']);
    sink.drain();
    sink.drain();
    expect(sink.written).to.have.length(6);
    expect(c.queued).to.equal(0);
  });

  it('drops a client that falls more than the limit behind with RESOURCE_EXHAUSTED; others keep receiving', () => {
    const { hub, emit, observed } = setup(4);
    const slow = new FakeSink(1);
    const fast = new FakeSink();
    const s = hub.add(slow);
    const f = hub.add(fast);
    s.start({ snapshot: {} });
    f.start({ snapshot: {} });
    for (let i = 1; i <= 4; i++) emit(i);
    expect(slow.failed).to.equal(undefined);
    emit(5);
    expect(slow.failed?.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(slow.failed?.details).to.match(/fell more than 4 events behind.*call Watch again/);
    expect(s.isClosed).to.equal(true);
    expect(s.queued).to.equal(0);
    expect(hub.size).to.equal(1);
    expect(observed.dropped).to.equal(1);
    for (let i = 6; i <= 20; i++) emit(i);
    expect(fast.written).to.have.length(21);
    slow.drain();
    expect(slow.written).to.have.length(1);
  });

  it('counts events held before the snapshot against the limit', () => {
    const { hub, emit } = setup(3);
    const sink = new FakeSink();
    const c = hub.add(sink);
    for (let i = 1; i <= 4; i++) emit(i);
    expect(sink.failed?.code).to.equal(status.RESOURCE_EXHAUSTED);
    c.start({ snapshot: {} });
    expect(sink.written).to.have.length(0);
  });

  it('closeAll ends every stream with the given status', () => {
    const { hub, subscriptions } = setup();
    const a = new FakeSink();
    const b = new FakeSink();
    hub.add(a);
    hub.add(b);
    hub.closeAll(status.UNAVAILABLE, 'shutting down');
    expect([a.failed?.code, b.failed?.code]).to.deep.equal([status.UNAVAILABLE, status.UNAVAILABLE]);
    expect(hub.size).to.equal(0);
    expect(subscriptions()).to.equal(0);
  });
});
