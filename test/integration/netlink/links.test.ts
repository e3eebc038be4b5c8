/**
 * Links through the layer, each read back both through the layer and
 * through `ip -j -d`: bridge, veth with its peer created inside a second
 * namespace, vxlan over a veth underlay, ipip; then changed (up/down, MTU,
 * MAC, master/nomaster, hairpin, rename) and deleted.
 */
import { expect } from 'chai';
import { openHandle } from '../../../agent/src/netlink';
import type { Handle, Link } from '../../../agent/src/netlink';
import { addNetns, delNetns, netnsPath, nsIpJson, nsRun } from '../../lab/netns';

interface IpLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  address?: string;
  flags: string[];
  master?: string;
  link_netnsid?: number;
  linkinfo?: {
    info_kind?: string;
    info_data?: { id?: number; port?: number; local?: string; link?: string; learning?: boolean; ttl?: number };
    info_slave_kind?: string;
    info_slave_data?: { hairpin?: boolean };
  };
}

describe('netlink: links', () => {
  let ns: string;
  let peerNs: string;
  let h: Handle;
  const ipLink = (name: string, where = ns): IpLink => nsIpJson<IpLink[]>(where, ['link', 'show', 'dev', name])[0];
  const ipNames = (where: string): string[] => nsIpJson<IpLink[]>(where, ['link', 'show']).map((l) => l.ifname).sort();

  before(() => {
    ns = addNetns('lk');
    peerNs = addNetns('lp');
    h = openHandle(netnsPath(ns));
  });
  after(() => {
    h?.close();
    delNetns(ns);
    delNetns(peerNs);
  });

  it('bridge: create, read back, MTU, MAC, up/down, delete', async () => {
    const br = await h.bridgeAdd({ name: 'br0', mtu: 1400, mac: '02:00:00:00:0b:01' });
    expect(br).to.include({ name: 'br0', kind: 'bridge', mtu: 1400, mac: '02:00:00:00:0b:01', up: false });
    expect(await h.linkByName('br0')).to.deep.equal(br);
    expect(await h.linkByIndex(br.index)).to.deep.equal(br);
    let ip = ipLink('br0');
    expect(ip).to.include({ ifindex: br.index, mtu: 1400, address: '02:00:00:00:0b:01' });
    expect(ip.linkinfo?.info_kind).to.equal('bridge');

    await h.linkSetMtu(br.index, 1300);
    await h.linkSetMac(br.index, '02:00:00:00:0b:02');
    await h.linkSetUp(br.index);
    ip = ipLink('br0');
    expect(ip).to.include({ mtu: 1300, address: '02:00:00:00:0b:02' });
    expect(ip.flags).to.include('UP');
    expect(await h.linkByIndex(br.index)).to.include({ mtu: 1300, mac: '02:00:00:00:0b:02', up: true });

    await h.linkSetDown(br.index);
    expect(ipLink('br0').flags).to.not.include('UP');
    expect((await h.linkByIndex(br.index))?.up).to.equal(false);

    await h.linkDel(br.index);
    expect(await h.linkByName('br0')).to.equal(undefined);
    expect(ipNames(ns)).to.not.include('br0');
  });

  it('veth: the peer is created inside another namespace under its final name', async () => {
    const v = await h.vethAdd({ name: 'h0', peerName: 'eth0', peerNetns: netnsPath(peerNs), mtu: 1450, peerMac: '02:00:00:00:0c:01' });
    expect(v).to.include({ name: 'h0', kind: 'veth', mtu: 1450 });
    expect(v.peerIndex).to.be.a('number');
    const peer = ipLink('eth0', peerNs);
    expect(peer).to.include({ ifindex: v.peerIndex, mtu: 1450, address: '02:00:00:00:0c:01' });
    expect(peer.linkinfo?.info_kind).to.equal('veth');
    expect(ipNames(ns)).to.not.include('eth0');
    expect(ipLink('h0').link_netnsid).to.be.a('number'); // its peer lives in another namespace

    // the peer namespace seen through its own handle
    const hp = openHandle(netnsPath(peerNs));
    try {
      expect(await hp.linkByName('eth0')).to.include({ index: v.peerIndex, kind: 'veth', mac: '02:00:00:00:0c:01' });
    } finally {
      hp.close();
    }
    await h.linkDel(v.index);
    expect(ipNames(ns)).to.not.include('h0');
    expect(ipNames(peerNs)).to.not.include('eth0'); // deleting one end removes both
  });

  it('veth without peerNetns puts both ends here', async () => {
    const v = await h.vethAdd({ name: 'pa0', peerName: 'pb0' });
    const b = await h.linkByName('pb0');
    expect(b?.index).to.equal(v.peerIndex);
    expect(b?.peerIndex).to.equal(v.index);
    await h.linkDel(v.index);
    expect(await h.linkByName('pb0')).to.equal(undefined);
  });

  it('veth with masterIndex and up: the local end is on the bridge and up in the one request, the peer stays down', async () => {
    const br = await h.bridgeAdd({ name: 'br2' });
    const v = await h.vethAdd({ name: 'h2', peerName: 'eth2', peerNetns: netnsPath(peerNs), masterIndex: br.index, up: true });
    expect(v).to.include({ masterIndex: br.index, up: true });
    expect(ipLink('h2').master).to.equal('br2');
    expect(ipLink('h2').flags).to.include('UP');
    // The kernel configures the peer before the pair is linked, so it cannot be created up.
    expect(ipLink('eth2', peerNs).flags).to.not.include('UP');
    expect(ipLink('eth2', peerNs).ifindex).to.equal(v.peerIndex);
    await h.linkDel(v.index);
    await h.linkDel(br.index);
  });

  it('veth with a masterIndex that is no link: refused, neither end is left', async () => {
    const err = await h.vethAdd({ name: 'h3', peerName: 'eth3', peerNetns: netnsPath(peerNs), masterIndex: 999_999, up: true }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.an('error');
    expect(ipNames(ns)).to.not.include('h3');
    expect(ipNames(peerNs)).to.not.include('eth3');
  });

  it('bridge port: master, hairpin on/off, nomaster', async () => {
    const br = await h.bridgeAdd({ name: 'br1' });
    const v = await h.vethAdd({ name: 'port0', peerName: 'port0p' });
    await h.linkSetMaster(v.index, br.index);
    expect(ipLink('port0').master).to.equal('br1');
    expect((await h.linkByIndex(v.index))?.masterIndex).to.equal(br.index);

    await h.linkSetHairpin(v.index, true);
    expect(ipLink('port0').linkinfo?.info_slave_data?.hairpin).to.equal(true);
    expect((await h.linkByIndex(v.index))?.hairpin).to.equal(true);
    await h.linkSetHairpin(v.index, false);
    expect(ipLink('port0').linkinfo?.info_slave_data?.hairpin).to.equal(false);
    expect((await h.linkByIndex(v.index))?.hairpin).to.equal(false);

    await h.linkSetMaster(v.index, 0);
    expect(ipLink('port0').master).to.equal(undefined);
    const after = await h.linkByIndex(v.index);
    expect(after?.masterIndex).to.equal(undefined);
    expect(after?.hairpin).to.equal(undefined);
    await h.linkDel(v.index);
    await h.linkDel(br.index);
  });

  it('rename a down link; a taken name is EEXIST', async () => {
    // (whether an UP link may be renamed depends on the kernel version; knit renames down links)
    const v = await h.vethAdd({ name: 'old0', peerName: 'old0p' });
    let err: unknown;
    try { await h.linkRename(v.index, 'old0p'); } catch (e) { err = e; }
    expect(err).to.have.property('code', 'EEXIST');
    await h.linkRename(v.index, 'new0');
    expect(ipLink('new0').ifindex).to.equal(v.index);
    expect(await h.linkByName('old0')).to.equal(undefined);
    expect((await h.linkByName('new0'))?.index).to.equal(v.index);
    await h.linkDel(v.index);
  });

  it('vxlan: VNI, port, local, underlay dev and nolearning, read back and deleted', async () => {
    const u = await h.vethAdd({ name: 'under0', peerName: 'under0p' });
    await h.addrAdd(u.index, '192.168.77.1/24');
    await h.linkSetUp(u.index);
    const vx = await h.vxlanAdd({ name: 'knit.1', vni: 4097, port: 8472, local: '192.168.77.1', underlayIndex: u.index, learning: false, mtu: 1450 });
    expect(vx).to.include({ name: 'knit.1', kind: 'vxlan', mtu: 1450 });
    expect(vx.vxlan).to.deep.equal({ vni: 4097, port: 8472, local: '192.168.77.1', underlayIndex: u.index, learning: false });
    const data = ipLink('knit.1').linkinfo?.info_data;
    expect(data).to.include({ id: 4097, port: 8472, local: '192.168.77.1', link: 'under0', learning: false });

    await h.linkDel(vx.index);
    await h.linkDel(u.index);
    expect(ipNames(ns)).to.not.include('knit.1');
  });

  it('ipip: local, remote, ttl, underlay (skipped where the kernel has no ipip)', async function () {
    try {
      nsRun(ns, 'ip', ['link', 'add', 'probe0', 'type', 'ipip']);
      nsRun(ns, 'ip', ['link', 'del', 'probe0']);
    } catch {
      this.skip(); // `ip` itself cannot create ipip here: the kernel lacks the module
    }
    const u = await h.vethAdd({ name: 'under1', peerName: 'under1p' });
    const tun = await h.ipipAdd({ name: 'tun0', local: '192.168.78.1', remote: '192.168.78.2', ttl: 64, underlayIndex: u.index });
    expect(tun.kind).to.equal('ipip');
    expect(tun.mac).to.equal(undefined);
    expect(tun.ipip).to.deep.equal({ local: '192.168.78.1', remote: '192.168.78.2', ttl: 64, underlayIndex: u.index });
    expect(ipLink('tun0').linkinfo?.info_data).to.include({ local: '192.168.78.1', remote: '192.168.78.2', ttl: 64 });
    await h.linkDel(tun.index);
    await h.linkDel(u.index);
  });

  it('linkList matches ip link show, and lo has no MAC', async () => {
    const v = await h.vethAdd({ name: 'lst0', peerName: 'lst0p' });
    const mine: Link[] = await h.linkList();
    expect(mine.map((l) => l.name).sort()).to.deep.equal(ipNames(ns));
    const lo = mine.find((l) => l.name === 'lo');
    expect(lo).to.include({ kind: 'device', index: 1 });
    expect(lo?.mac).to.equal(undefined);
    await h.linkDel(v.index);
  });
});
