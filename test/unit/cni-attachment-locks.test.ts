/**
 * KeyedLocks: one holder per key in arrival order, disjoint keys concurrent,
 * several keys taken in sorted order (no deadlock), released on throw.
 */
import { expect } from 'chai';
import { KeyedLocks } from '../../agent/src/cni/attachment-locks';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('cni: KeyedLocks', () => {
  it('serializes work on one key in arrival order', async () => {
    const locks = new KeyedLocks();
    const log: string[] = [];
    const job = (name: string) => locks.run(['k'], async () => {
      log.push(`${name} in`);
      await tick();
      await tick();
      log.push(`${name} out`);
    });
    await Promise.all([job('a'), job('b'), job('c')]);
    expect(log).to.deep.equal(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
    expect(locks.busy('k')).to.equal(false);
  });

  it('runs disjoint keys concurrently and reports busy keys', async () => {
    const locks = new KeyedLocks();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const a = locks.run(['a'], async () => { log.push('a in'); await gate; log.push('a out'); });
    const b = locks.run(['b'], async () => { log.push('b in'); });
    await b;
    expect(log).to.deep.equal(['a in', 'b in']);
    expect(locks.busy('a')).to.equal(true);
    expect(locks.busy('b')).to.equal(false);
    release();
    await a;
    expect(locks.busy('a')).to.equal(false);
  });

  it('takes several keys without deadlock whatever order callers list them in', async () => {
    const locks = new KeyedLocks();
    let inside = 0;
    let most = 0;
    const job = (keys: string[]) => locks.run(keys, async () => {
      inside++;
      most = Math.max(most, inside);
      await tick();
      inside--;
    });
    await Promise.all([job(['x', 'y']), job(['y', 'x']), job(['y', 'x', 'x']), job(['x'])]);
    expect(most).to.equal(1);
  });

  it('releases the keys when the work throws', async () => {
    const locks = new KeyedLocks();
    const err = await locks.run(['k'], () => Promise.reject(new Error('boom'))).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('boom');
    expect(locks.busy('k')).to.equal(false);
    expect(await locks.run(['k'], () => Promise.resolve(7))).to.equal(7);
  });
});
