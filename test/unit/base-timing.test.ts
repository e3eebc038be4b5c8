import { expect } from 'chai';
import { Backoff, backoffDelay, jittered, Ticker, Timer } from '../../agent/src/base';
import { FakeClock } from '../support/fake-clock';

describe('base: Timer and Ticker on the FakeClock', () => {
  it('a Timer fires once at its deadline; re-arming replaces the deadline; cancel stops it', () => {
    const clock = new FakeClock();
    let fired = 0;
    const t = new Timer(clock, () => fired++);
    t.arm(100);
    clock.advance(50);
    t.arm(100); // now due at 150
    clock.advance(99);
    expect(fired).to.equal(0);
    expect(t.armed).to.equal(true);
    clock.advance(1);
    expect(fired).to.equal(1);
    expect(t.armed).to.equal(false);
    t.arm(10);
    t.cancel();
    clock.advance(1000);
    expect(fired).to.equal(1);
  });

  it('armIfIdle keeps a pending deadline', () => {
    const clock = new FakeClock();
    let firedAt = -1;
    const t = new Timer(clock, () => { firedAt = clock.now(); });
    t.armIfIdle(100);
    clock.advance(60);
    t.armIfIdle(100);
    clock.advance(1000);
    expect(firedAt).to.equal(100);
  });

  it('a Ticker fires every interval until stopped', () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const tick = new Ticker(clock, 30, () => at.push(clock.now()));
    tick.start();
    clock.advance(100);
    expect(at).to.deep.equal([30, 60, 90]);
    tick.stop();
    clock.advance(100);
    expect(at).to.have.length(3);
  });

  it('the FakeClock fires timers in deadline order, ties in the order they were set, and keeps wall time apart', () => {
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const order: string[] = [];
    clock.setTimeout(() => order.push('b'), 20);
    clock.setTimeout(() => order.push('a'), 10);
    clock.setTimeout(() => order.push('c'), 20);
    expect(clock.pending()).to.deep.equal([10, 20, 20]);
    clock.advance(20);
    expect(order).to.deep.equal(['a', 'b', 'c']);
    expect(clock.now()).to.equal(20);
    expect(new Date(clock.wallNow()).toISOString()).to.equal('2026-01-01T00:00:00.020Z');
  });
});

describe('base: back-off with jitter', () => {
  it('jittered spreads a delay over ±jitter', () => {
    expect(jittered(1000, 0.2, 0)).to.equal(800);
    expect(jittered(1000, 0.2, 0.5)).to.equal(1000);
    expect(jittered(1000, 0.2, 0.999999)).to.equal(1200);
    expect(jittered(8000, 0.25, 0)).to.equal(6000);
  });

  it('Backoff doubles from min to max, jitters each delay, and reset() starts over', () => {
    const rolls = [0, 1 - 1e-9, 0.5, 0.5, 0.5];
    const b = new Backoff({ minMs: 100, maxMs: 500, jitter: 0.2, random: () => rolls.shift()! });
    expect(b.currentMs).to.equal(100);
    expect(b.next()).to.equal(80);
    expect(b.next()).to.equal(240);
    expect(b.next()).to.equal(400);
    expect(b.next()).to.equal(500); // capped
    b.reset();
    expect(b.next()).to.equal(100);
  });

  it('Backoff without jitter never draws a random number', () => {
    const b = new Backoff({ minMs: 500, maxMs: 5000, random: () => { throw new Error('drawn'); } });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).to.deep.equal([500, 1000, 2000, 4000, 5000]);
  });

  it('backoffDelay is the stateless form (BGP connect retry: ±25 %)', () => {
    expect(backoffDelay(0, 1000, 120_000, 0.25, 0.5)).to.equal(1000);
    expect(backoffDelay(3, 1000, 120_000, 0.25, 0)).to.equal(6000);
    expect(backoffDelay(40, 1000, 120_000, 0, 0.9)).to.equal(120_000);
  });
});
