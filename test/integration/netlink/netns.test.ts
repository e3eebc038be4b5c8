/**
 * The netns addon and the namespace binding of handles: entering and
 * restoring, errors naming the path, async bodies refused, and the design's
 * key claim — a socket created between two setns calls keeps talking to the
 * namespace it was created in.
 */
import { expect } from 'chai';
import { statSync } from 'node:fs';
import { currentNetnsInode, openHandle, withNetns, NetlinkError } from '../../../agent/src/netlink';
import type { Handle } from '../../../agent/src/netlink';
import { addNetns, delNetns, netnsPath, nsIpJson, nsRun, run } from '../../lab/netns';

describe('netlink: netns addon and namespace-bound handles', () => {
  let nsA: string;
  let handleA: Handle | undefined;
  let own: Handle | undefined;
  const rootInode = statSync('/proc/self/ns/net').ino;

  before(() => {
    nsA = addNetns('na');
    // a link only namespace A has, made by `ip` so the layer is not grading itself
    nsRun(nsA, 'ip', ['link', 'add', 'onlyina', 'type', 'veth', 'peer', 'name', 'onlyinb']);
  });
  after(() => {
    handleA?.close();
    own?.close();
    delNetns(nsA);
  });

  it('withNetns runs the body inside the namespace and comes back', () => {
    const inside = withNetns(netnsPath(nsA), () => currentNetnsInode());
    expect(inside).to.equal(statSync(netnsPath(nsA)).ino);
    expect(inside).to.not.equal(rootInode);
    expect(currentNetnsInode()).to.equal(rootInode);
  });

  it('withNetns restores the namespace when the body throws', () => {
    expect(() => withNetns(netnsPath(nsA), () => { throw new Error('boom'); })).to.throw('boom');
    expect(currentNetnsInode()).to.equal(rootInode);
  });

  it('withNetns refuses an async body, after restoring', () => {
    // the cast is the point: the type system already rejects this call
    const asyncBody = (async () => 1) as unknown as () => number;
    expect(() => withNetns(netnsPath(nsA), asyncBody)).to.throw(TypeError, /synchronous/);
    expect(currentNetnsInode()).to.equal(rootInode);
  });

  it('withNetns on a missing path throws ENOENT naming the path, and stays home', () => {
    const path = netnsPath(`${nsA}-gone`);
    let err: (Error & { code?: string; errno?: number }) | undefined;
    try { withNetns(path, () => 0); } catch (e) { err = e as Error; }
    expect(err?.code).to.equal('ENOENT');
    expect(err?.errno).to.equal(2);
    expect(err?.message).to.contain(path);
    expect(currentNetnsInode()).to.equal(rootInode);
  });

  it('openHandle on a missing namespace throws NetlinkError ENOENT naming the path', () => {
    const path = netnsPath(`${nsA}-gone`);
    let err: unknown;
    try { openHandle(path); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(NetlinkError);
    const ne = err as NetlinkError;
    expect(ne.code).to.equal('ENOENT');
    expect(ne.op).to.equal('open handle');
    expect(ne.message).to.contain(path);
  });

  it("a handle for namespace A lists A's links while knitd's own handle lists the root's", async () => {
    handleA = openHandle(netnsPath(nsA));
    own = openHandle();
    expect(currentNetnsInode()).to.equal(rootInode);
    // requests run after the switch back: the sockets stay bound to where they were made
    const inA = (await handleA.linkList()).map((l) => l.name).sort();
    const inRoot = (await own.linkList()).map((l) => l.name).sort();
    const ipA = nsIpJson<Array<{ ifname: string }>>(nsA, ['link', 'show']).map((l) => l.ifname).sort();
    const ipRoot = (JSON.parse(run('ip', ['-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname).sort();
    expect(inA).to.deep.equal(ipA);
    expect(inA).to.include('onlyina');
    expect(inRoot).to.deep.equal(ipRoot);
    expect(inRoot).to.not.include('onlyina');
    expect(handleA.netns).to.equal(netnsPath(nsA));
    expect(own.netns).to.equal(null);
  });
});
