/**
 * Failures: inputs refused before the kernel sees them (naming the field),
 * kernel errors typed as NetlinkError (code, op, object), and a failed
 * creation leaving nothing behind in either namespace.
 */
import { expect } from 'chai';
import { NetlinkError, NetlinkInputError, openHandle } from '../../../agent/src/netlink';
import type { Handle } from '../../../agent/src/netlink';
import { addNetns, delNetns, netnsPath, nsIpJson, nsRun } from '../../lab/netns';

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('netlink: errors and input validation', () => {
  let ns: string;
  let peerNs: string;
  let h: Handle;
  const names = (where: string): string[] => nsIpJson<Array<{ ifname: string }>>(where, ['link', 'show']).map((l) => l.ifname).sort();

  before(() => {
    ns = addNetns('er');
    peerNs = addNetns('ep');
    h = openHandle(netnsPath(ns));
    nsRun(ns, 'ip', ['link', 'add', 'taken0', 'type', 'veth', 'peer', 'name', 'taken0p']);
    nsRun(peerNs, 'ip', ['link', 'add', 'ptaken', 'type', 'veth', 'peer', 'name', 'ptakenp']);
  });
  after(() => {
    h?.close();
    delNetns(ns);
    delNetns(peerNs);
  });

  const badInputs: Array<{ name: string; field: string; call: (h: Handle) => Promise<unknown> }> = [
    { name: 'a 16-char interface name', field: 'name', call: (x) => x.bridgeAdd({ name: 'abcdefghijklmnop' }) },
    { name: 'an empty interface name', field: 'name', call: (x) => x.bridgeAdd({ name: '' }) },
    { name: "a name with '/'", field: 'name', call: (x) => x.bridgeAdd({ name: 'a/b' }) },
    { name: 'a name with whitespace', field: 'name', call: (x) => x.bridgeAdd({ name: 'a b' }) },
    { name: "the name '..'", field: 'name', call: (x) => x.bridgeAdd({ name: '..' }) },
    { name: 'a 16-char veth peer name', field: 'peerName', call: (x) => x.vethAdd({ name: 'ok0', peerName: 'abcdefghijklmnop' }) },
    { name: 'a bad MAC', field: 'mac', call: (x) => x.bridgeAdd({ name: 'ok0', mac: '02:00:00:00:00' }) },
    { name: 'a bad peer MAC', field: 'peerMac', call: (x) => x.vethAdd({ name: 'ok0', peerName: 'ok1', peerMac: 'zz:00:00:00:00:00' }) },
    { name: 'an MTU below 68', field: 'mtu', call: (x) => x.bridgeAdd({ name: 'ok0', mtu: 10 }) },
    { name: 'a VNI above 2^24', field: 'vni', call: (x) => x.vxlanAdd({ name: 'ok0', vni: 1 << 24, port: 8472, learning: false }) },
    { name: 'a bad vxlan local', field: 'local', call: (x) => x.vxlanAdd({ name: 'ok0', vni: 1, port: 8472, learning: false, local: '10.0.0' }) },
    { name: 'a CIDR without a prefix', field: 'cidr', call: (x) => x.addrAdd(1, '10.0.0.1') },
    { name: 'a prefix length of 33', field: 'cidr', call: (x) => x.addrAdd(1, '10.0.0.1/33') },
    { name: 'a route dst with host bits', field: 'dst', call: (x) => x.routeAdd({ dst: '10.1.2.3/24', index: 1 }) },
    { name: 'a v6 gateway for a v4 route', field: 'gateway', call: (x) => x.routeAdd({ dst: '10.1.2.0/24', gateway: 'fd00::1' }) },
    { name: 'onlink without a device', field: 'index', call: (x) => x.routeAdd({ dst: '10.1.2.0/24', gateway: '10.9.9.9', onlink: true }) },
    { name: 'a bad neighbour MAC', field: 'mac', call: (x) => x.neighSet({ index: 1, ip: '10.0.0.9', mac: 'nope', permanent: true }) },
    { name: 'a bad FDB dst', field: 'dst', call: (x) => x.fdbSet({ index: 1, mac: '02:00:00:00:00:01', dst: 'host', permanent: true }) },
    { name: 'ifindex 0', field: 'index', call: (x) => x.linkSetUp(0) },
  ];
  for (const tc of badInputs) {
    it(`refuses ${tc.name}, naming the field, and changes nothing`, async () => {
      const before = names(ns);
      const err = await failure(tc.call(h));
      expect(err).to.be.instanceOf(NetlinkInputError);
      expect((err as NetlinkInputError).field).to.equal(tc.field);
      expect(err.message).to.contain(tc.field);
      expect(names(ns)).to.deep.equal(before);
    });
  }

  it('an existing name is EEXIST naming the link, and nothing is left', async () => {
    const before = names(ns);
    const err = await failure(h.bridgeAdd({ name: 'taken0' }));
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err).to.include({ code: 'EEXIST', errno: 17, op: 'link add', object: 'bridge taken0' });
    expect(err.message).to.contain('taken0');
    expect(names(ns)).to.deep.equal(before);
  });

  it('an unknown link kind is EOPNOTSUPP naming the kind, and nothing is left', async () => {
    const before = names(ns);
    const err = await failure(h.linkAdd({ name: 'odd0', kind: 'knitnosuch' }));
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err).to.have.property('code', 'EOPNOTSUPP');
    expect(err.message).to.contain("link kind 'knitnosuch'");
    expect(names(ns)).to.deep.equal(before);
  });

  it('a veth whose peer namespace is missing is ENOENT naming the path, and nothing is left', async () => {
    const before = names(ns);
    const missing = netnsPath(`${ns}-x`);
    const err = await failure(h.vethAdd({ name: 'half0', peerName: 'eth0', peerNetns: missing }));
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err).to.have.property('code', 'ENOENT');
    expect(err.message).to.contain(missing);
    expect(names(ns)).to.deep.equal(before);
  });

  it('a veth whose peer name is taken in the peer namespace is EEXIST naming the peer, and neither end exists', async () => {
    const before = names(ns);
    const beforePeer = names(peerNs);
    const err = await failure(h.vethAdd({ name: 'half1', peerName: 'ptaken', peerNetns: netnsPath(peerNs) }));
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err).to.have.property('code', 'EEXIST');
    expect(err.message).to.contain('ptaken').and.contain('is taken');
    expect(names(ns)).to.deep.equal(before);
    expect(names(peerNs)).to.deep.equal(beforePeer);
  });

  it('a veth whose local name is taken is EEXIST naming it, and the peer namespace is untouched', async () => {
    const beforePeer = names(peerNs);
    const err = await failure(h.vethAdd({ name: 'taken0', peerName: 'fresh0', peerNetns: netnsPath(peerNs) }));
    expect(err).to.have.property('code', 'EEXIST');
    expect(err.message).to.contain('link taken0 exists');
    expect(names(peerNs)).to.deep.equal(beforePeer);
  });

  it('deleting a missing link is ENODEV with op and object', async () => {
    const err = await failure(h.linkDel(9999));
    expect(err).to.include({ code: 'ENODEV', op: 'link del', object: 'link #9999' });
  });

  it('lookups of missing links are undefined, not errors', async () => {
    expect(await h.linkByName('nosuch0')).to.equal(undefined);
    expect(await h.linkByIndex(9999)).to.equal(undefined);
  });

  it('a closed handle refuses requests with EBADF', async () => {
    const h2 = openHandle(netnsPath(ns));
    h2.close();
    const err = await failure(h2.linkList());
    expect(err).to.have.property('code', 'EBADF');
  });
});
