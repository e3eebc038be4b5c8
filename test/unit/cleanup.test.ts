import { expect } from 'chai';
import { cleanupAll } from '../lab/cleanup';

describe('cleanupAll (test lab after-hooks)', () => {
  it('runs every step in order when all succeed', async () => {
    const ran: string[] = [];
    await cleanupAll([() => { ran.push('a'); }, async () => { ran.push('b'); }, () => { ran.push('c'); }]);
    expect(ran).to.deep.equal(['a', 'b', 'c']);
  });

  it('runs the later steps after a step throws or rejects, then throws the first failure', async () => {
    const ran: string[] = [];
    const first = new Error('knitd destroy failed');
    let caught: unknown;
    try {
      await cleanupAll([
        () => { ran.push('knitd'); throw first; },
        async () => { ran.push('bird'); throw new Error('bird destroy failed'); },
        async () => { await new Promise((r) => setTimeout(r, 5)); ran.push('teardown'); },
      ]);
    } catch (err) {
      caught = err;
    }
    expect(ran).to.deep.equal(['knitd', 'bird', 'teardown']);
    expect(caught).to.equal(first);
  });

  it('awaits each step before the next starts', async () => {
    const ran: string[] = [];
    await cleanupAll([
      async () => { await new Promise((r) => setTimeout(r, 20)); ran.push('slow'); },
      () => { ran.push('next'); },
    ]);
    expect(ran).to.deep.equal(['slow', 'next']);
  });
});
