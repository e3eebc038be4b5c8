import { expect } from 'chai';
import { RUN_PREFIX, uniqueName } from '../lab/netns';

describe('lab naming', () => {
  it('gives names with the run prefix that fit an interface name', () => {
    const n = uniqueName('x');
    expect(n.startsWith(RUN_PREFIX)).to.equal(true);
    expect(n.length).to.be.at.most(15);
  });
});
