/**
 * ADDs knitd refuses before creating anything, through the real plugin:
 * knitd's own network namespace given as CNI_NETNS (under any of its
 * names), a second interface on the same network in a namespace that has
 * one, an over-long container ID. Each answer carries the right code and a
 * message that says why, and the node is left exactly as it was: no veth,
 * no allocation, the node's default route unchanged.
 */
import { expect } from 'chai';
import type { Lab } from '../lab/lab';
import { netnsPath } from '../lab/netns';
import { cniEnv, hostVeths, ipJson, type Knitd, withOneNodeKnitd } from '../lab/knitd';

interface IpRoute { dst: string; gateway?: string; dev: string }

describe('CNI: ADDs refused before anything is made', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;
  withOneNodeKnitd((l, k) => { lab = l; knitd = k; });

  async function nodeRoutes(): Promise<IpRoute[]> {
    return ipJson<IpRoute[]>(lab.nodes[0]!.ns, ['route', 'show']);
  }

  it("refuses knitd's own network namespace, whatever path names it (code 4)", async () => {
    const before = await nodeRoutes();
    expect(before.some((r) => r.dst === 'default'), 'the node has a default route to lose').to.equal(true);
    for (const path of [`/proc/${knitd.pid}/ns/net`, netnsPath(lab.nodes[0]!.ns)]) {
      const r = await knitd.cni('ADD', { CNI_CONTAINERID: `${lab.prefix}own`, CNI_NETNS: path, CNI_IFNAME: 'advx0' }, knitd.conf('1.1.0'));
      expect(r.json?.code, `${path}: ${r.stdout}`).to.equal(4);
      expect(String(r.json?.msg)).to.include('is the network namespace knitd itself runs in');
    }
    expect(await nodeRoutes()).to.deep.equal(before);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.deep.equal([]);
    expect(knitd.ipam().allocations).to.deep.equal([]);
    // A path that is no namespace at all is refused too.
    const notNs = await knitd.cni('ADD', { CNI_CONTAINERID: `${lab.prefix}own`, CNI_NETNS: '/etc/hostname', CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0'));
    expect(notNs.json?.code, notNs.stdout).to.equal(4);
    expect(String(notNs.json?.msg)).to.include('is not a network namespace');
  });

  it('refuses a second interface on the same network in one namespace (code 7), keeping the first', async () => {
    const c = lab.addContainer(0, 'two');
    const first = await knitd.cni('ADD', cniEnv(c), knitd.conf('1.1.0'));
    expect(first.code, first.stdout).to.equal(0);
    const routesBefore = await ipJson<IpRoute[]>(c.ns, ['route', 'show']);
    for (const [id, ifname] of [[`${c.containerId}-b`, 'eth1'], [c.containerId, 'eth1']] as const) {
      const second = await knitd.cni('ADD', { CNI_CONTAINERID: id, CNI_NETNS: c.netnsPath, CNI_IFNAME: ifname }, knitd.conf('1.1.0'));
      expect(second.json?.code, second.stdout).to.equal(7);
      expect(String(second.json?.msg)).to.match(/already has interface eth0 with 10\.244\.1\.\d+\/24 on this network/);
      expect(String(second.json?.msg)).to.include('default route');
    }
    expect(await ipJson<IpRoute[]>(c.ns, ['route', 'show'])).to.deep.equal(routesBefore);
    expect(knitd.ipam().allocations).to.have.length(1);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.have.length(1);
    expect((await knitd.cni('DEL', cniEnv(c), knitd.conf('1.1.0'))).code).to.equal(0);
    expect(knitd.ipam().allocations).to.deep.equal([]);
  });

  it('refuses container IDs longer than 256 characters in the plugin and in knitd (code 4)', async () => {
    const c = lab.addContainer(0, 'long');
    const long = `a${'b'.repeat(300)}`;
    const viaPlugin = await knitd.cni('ADD', { ...cniEnv(c), CNI_CONTAINERID: long }, knitd.conf('1.1.0'));
    expect(viaPlugin.json?.code, viaPlugin.stdout).to.equal(4);
    expect(String(viaPlugin.json?.msg)).to.include('CNI_CONTAINERID must be at most 256 characters (got 301)');
    // knitd checks again: its socket is not only reachable through the plugin.
    const direct = await knitd.cniDirect('ADD', { ...cniEnv(c), CNI_CONTAINERID: long }, knitd.conf('1.1.0'));
    expect(direct.json?.code, direct.stdout).to.equal(4);
    const exact = await knitd.cni('ADD', { ...cniEnv(c), CNI_CONTAINERID: 'c'.repeat(256) }, knitd.conf('1.1.0'));
    expect(exact.code, exact.stdout).to.equal(0);
    expect((await knitd.cni('DEL', { ...cniEnv(c), CNI_CONTAINERID: 'c'.repeat(256) }, knitd.conf('1.1.0'))).code).to.equal(0);
    expect(knitd.ipam().allocations).to.deep.equal([]);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.deep.equal([]);
  });
});
