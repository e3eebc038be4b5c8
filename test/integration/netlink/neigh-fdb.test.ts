/**
 * Permanent neighbours and bridge FDB entries on a VXLAN device whose
 * underlay is one end of a veth pair with an address — exactly what the
 * VXLAN backend programs per peer — read back through the layer, `ip -j
 * neigh` and `bridge -j fdb`.
 */
import { expect } from 'chai';
import { openHandle } from '../../../agent/src/netlink';
import type { Handle } from '../../../agent/src/netlink';
import { addNetns, delNetns, netnsPath, nsIpJson, nsRun } from '../../lab/netns';

interface IpNeigh { dst: string; dev: string; lladdr: string; state: string[] }
interface BridgeFdb { mac: string; dst?: string; flags: string[]; state: string }

describe('netlink: neighbours and FDB on a vxlan device', () => {
  let ns: string;
  let h: Handle;
  let vx: number;
  const fdb = (): BridgeFdb[] =>
    (JSON.parse(nsRun(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', 'knit.1']) || '[]') as BridgeFdb[]).filter((e) => e.dst);

  before(async () => {
    ns = addNetns('nf');
    h = openHandle(netnsPath(ns));
    const u = await h.vethAdd({ name: 'under0', peerName: 'under0p' });
    await h.addrAdd(u.index, '192.168.80.1/24');
    await h.linkSetUp(u.index);
    const link = await h.vxlanAdd({ name: 'knit.1', vni: 1, port: 8472, local: '192.168.80.1', underlayIndex: u.index, learning: false });
    vx = link.index;
    await h.linkSetUp(vx);
  });
  after(() => {
    h?.close();
    delNetns(ns);
  });

  it('permanent neighbour: set, replace, list, delete (v4 and v6)', async () => {
    await h.neighSet({ index: vx, ip: '10.244.2.0', mac: '02:aa:00:00:00:02', permanent: true });
    await h.neighSet({ index: vx, ip: 'fd44::2', mac: '02:aa:00:00:00:06', permanent: true });
    let ip = nsIpJson<IpNeigh[]>(ns, ['neigh', 'show', 'dev', 'knit.1']);
    expect(ip.find((n) => n.dst === '10.244.2.0')).to.deep.include({ lladdr: '02:aa:00:00:00:02', state: ['PERMANENT'] });
    expect(ip.find((n) => n.dst === 'fd44::2')).to.deep.include({ lladdr: '02:aa:00:00:00:06', state: ['PERMANENT'] });
    expect(await h.neighList({ index: vx, family: 4 })).to.deep.equal([{ index: vx, ip: '10.244.2.0', mac: '02:aa:00:00:00:02', permanent: true }]);
    expect(await h.neighList({ index: vx, family: 6 })).to.deep.include({ index: vx, ip: 'fd44::2', mac: '02:aa:00:00:00:06', permanent: true });

    // replace: same IP, new MAC, no EEXIST
    await h.neighSet({ index: vx, ip: '10.244.2.0', mac: '02:aa:00:00:00:03', permanent: true });
    ip = nsIpJson<IpNeigh[]>(ns, ['neigh', 'show', 'dev', 'knit.1']);
    expect(ip.find((n) => n.dst === '10.244.2.0')?.lladdr).to.equal('02:aa:00:00:00:03');

    await h.neighDel({ index: vx, ip: '10.244.2.0' });
    await h.neighDel({ index: vx, ip: 'fd44::2' });
    expect(nsIpJson<IpNeigh[]>(ns, ['neigh', 'show', 'dev', 'knit.1'])).to.deep.equal([]);
    expect(await h.neighList({ index: vx })).to.deep.equal([]);
    let err: unknown;
    try { await h.neighDel({ index: vx, ip: '10.244.2.0' }); } catch (e) { err = e; }
    expect(err).to.have.property('code', 'ENOENT');
  });

  it('FDB: replace, append a second remote, list, delete one remote', async () => {
    await h.fdbSet({ index: vx, mac: '02:aa:00:00:00:02', dst: '192.168.80.2', permanent: true });
    expect(fdb()).to.deep.equal([{ mac: '02:aa:00:00:00:02', dst: '192.168.80.2', flags: ['self'], state: 'permanent' }]);
    // replace moves the MAC to another VTEP
    await h.fdbSet({ index: vx, mac: '02:aa:00:00:00:02', dst: '192.168.80.3', permanent: true });
    expect(fdb().map((e) => e.dst)).to.deep.equal(['192.168.80.3']);

    // the all-zero MAC with several remotes: flooding to every peer
    await h.fdbAppend({ index: vx, mac: '00:00:00:00:00:00', dst: '192.168.80.4', permanent: true });
    await h.fdbAppend({ index: vx, mac: '00:00:00:00:00:00', dst: '192.168.80.5', permanent: true });
    const zero = (await h.fdbList({ index: vx })).filter((e) => e.mac === '00:00:00:00:00:00');
    expect(zero.map((e) => e.dst).sort()).to.deep.equal(['192.168.80.4', '192.168.80.5']);
    expect(zero.every((e) => e.permanent && e.index === vx)).to.equal(true);

    await h.fdbDel({ index: vx, mac: '00:00:00:00:00:00', dst: '192.168.80.4' });
    await h.fdbDel({ index: vx, mac: '02:aa:00:00:00:02', dst: '192.168.80.3' });
    expect(fdb().map((e) => `${e.mac} ${e.dst}`)).to.deep.equal(['00:00:00:00:00:00 192.168.80.5']);
    expect((await h.fdbList({ index: vx })).filter((e) => e.dst)).to.deep.equal(
      [{ index: vx, mac: '00:00:00:00:00:00', dst: '192.168.80.5', permanent: true }]);
  });
});
