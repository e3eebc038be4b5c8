import { expect } from 'chai';
import { SerialRunner } from '../../agent/src/base';

/** A job whose runs the test finishes by hand. */
function manualJob(): { job: () => Promise<void>; runs: number; finish: () => void } {
  const state = {
    runs: 0,
    release: [] as Array<() => void>,
    job: (): Promise<void> => {
      state.runs++;
      return new Promise<void>((resolve) => state.release.push(resolve));
    },
    finish: (): void => {
      const r = state.release.shift();
      if (r === undefined) throw new Error('no run in flight');
      r();
    },
  };
  return state;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('base: SerialRunner', () => {
  it('runs one at a time and coalesces every request during a run into exactly one more run', async () => {
    const m = manualJob();
    const r = new SerialRunner(m.job);
    r.request();
    expect(m.runs).to.equal(1);
    r.request();
    r.request();
    r.request();
    expect(m.runs).to.equal(1);
    expect(r.pending).to.equal(true);
    m.finish();
    await tick();
    expect(m.runs).to.equal(2);
    m.finish();
    await r.idle();
    expect(m.runs).to.equal(2);
    expect(r.busy).to.equal(false);
  });

  it('deferStart puts every request of one tick into one run', async () => {
    let runs = 0;
    const r = new SerialRunner(async () => { runs++; }, { deferStart: true });
    r.request();
    r.request();
    expect(runs).to.equal(0);
    await r.idle();
    expect(runs).to.equal(1);
  });

  it('ready() holds requests back until it is true', async () => {
    let ready = false;
    let runs = 0;
    const r = new SerialRunner(async () => { runs++; }, { ready: () => ready });
    r.request();
    await r.idle();
    expect(runs).to.equal(0);
    expect(r.pending).to.equal(true);
    ready = true;
    r.request();
    await r.idle();
    expect(runs).to.equal(1);
  });

  it('join() waits for the run in flight without causing another', async () => {
    const m = manualJob();
    const r = new SerialRunner(m.job);
    const first = r.join();
    const second = r.join();
    expect(m.runs).to.equal(1);
    m.finish();
    await Promise.all([first, second]);
    expect(m.runs).to.equal(1);
  });

  it('a job that throws is reported and the loop goes on; stop() waits and refuses new runs', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const r = new SerialRunner(async () => {
      runs++;
      if (runs === 1) throw new Error('boom');
    }, { onError: (e) => errors.push(e) });
    r.request();
    await r.idle();
    r.request();
    await r.stop();
    r.request();
    await r.idle();
    expect(runs).to.equal(2);
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['boom']);
  });
});
