/**
 * ADD / CHECK / DEL through the real `knit` plugin binary against a real
 * knitd in a lab node namespace, for every supported cniVersion. Results are
 * compared with what the kernel holds (ip -j in the node and container
 * namespaces), field by field against each version's result format.
 */
import { expect } from 'chai';
import { containerMac } from '../../agent/src/dataplane/container-mac';
import type { Lab, LabContainer } from '../lab/lab';
import { cniEnv, hostVeths, ipJson, type Knitd, type PluginRun, withOneNodeKnitd } from '../lab/knitd';

interface IpLink { ifname: string; address: string; mtu: number; ifindex: number; master?: string; operstate: string }
interface IpAddr { ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }
interface IpRoute { dst: string; gateway?: string; dev: string }

const VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

function ok(r: PluginRun, what: string): Record<string, unknown> {
  expect(r.code, `${what}: exit code; stdout=${r.stdout} stderr=${r.stderr}`).to.equal(0);
  return r.json ?? {};
}

function failed(r: PluginRun, what: string): { code: number; msg: string; cniVersion: string } {
  expect(r.code, `${what}: exit code; stdout=${r.stdout} stderr=${r.stderr}`).to.equal(1);
  expect(r.json, `${what}: error JSON on stdout`).to.be.an('object');
  return r.json as { code: number; msg: string; cniVersion: string };
}

describe('CNI round trip: real plugin, real knitd, every cniVersion', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;

  withOneNodeKnitd((l, k) => { lab = l; knitd = k; }, { mtu: 1400 });

  const env = cniEnv;

  async function gatewayOfBridge(): Promise<string> {
    const [br] = await ipJson<IpAddr[]>(lab.nodes[0]!.ns, ['addr', 'show', 'dev', knitd.bridge]);
    const v4 = br!.addr_info.filter((a) => a.family === 'inet');
    expect(v4, 'bridge has exactly one IPv4 address').to.have.length(1);
    return v4[0]!.local;
  }

  for (const v of VERSIONS) {
    describe(`cniVersion ${v}`, () => {
      let c: LabContainer;
      let result: Record<string, unknown>;

      before(async () => {
        c = lab.addContainer(0, `v${v.replace(/\./g, '')}`);
        result = ok(await knitd.cni('ADD', env(c), knitd.conf(v)), `ADD ${v}`);
      });
      after(() => lab.removeContainer(c));

      it('prints exactly the top-level fields of the version', () => {
        // dns is omitted: the config has none and the spec makes it optional.
        expect(Object.keys(result)).to.have.members(['cniVersion', 'interfaces', 'ips', 'routes']);
        expect(result.cniVersion).to.equal(v);
      });

      it('interfaces match the kernel: host veth on the bridge, container end in the sandbox', async () => {
        const ifaces = result.interfaces as Array<Record<string, unknown>>;
        expect(ifaces).to.have.length(2);
        const [host, cont] = ifaces as [Record<string, unknown>, Record<string, unknown>];
        const want11 = v === '1.1.0';
        expect(Object.keys(host)).to.have.members(want11 ? ['name', 'mac', 'mtu'] : ['name', 'mac']);
        expect(Object.keys(cont)).to.have.members(want11 ? ['name', 'mac', 'mtu', 'sandbox'] : ['name', 'mac', 'sandbox']);

        const [hl] = await ipJson<IpLink[]>(lab.nodes[0]!.ns, ['link', 'show', 'dev', String(host.name)]);
        expect(hl, `host veth ${String(host.name)} exists in the node namespace`).to.not.equal(undefined);
        expect(host.mac).to.equal(hl!.address);
        expect(hl!.master).to.equal(knitd.bridge);
        expect(await hostVeths(lab.nodes[0]!.ns)).to.include(host.name);

        expect(cont.name).to.equal('eth0');
        expect(cont.sandbox).to.equal(c.netnsPath);
        const [cl] = await ipJson<IpLink[]>(c.ns, ['link', 'show', 'dev', 'eth0']);
        expect(cont.mac).to.equal(cl!.address);
        // Derived from the address (0a:58 + its bytes), not the kernel's random one.
        const ip = (result.ips as Array<{ address: string }>)[0]!.address.split('/')[0]!;
        expect(cont.mac).to.equal(containerMac(ip));
        expect(cl!.mtu).to.equal(1400);
        expect(hl!.mtu).to.equal(1400);
        if (want11) {
          expect(host.mtu).to.equal(hl!.mtu);
          expect(cont.mtu).to.equal(cl!.mtu);
        }
      });

      it('ips: the container address as the kernel holds it, gateway = bridge address, interface index of the container end', async () => {
        const ips = result.ips as Array<Record<string, unknown>>;
        expect(ips).to.have.length(1);
        const ip = ips[0]!;
        expect(Object.keys(ip)).to.have.members(v.startsWith('0.') ? ['version', 'address', 'gateway', 'interface'] : ['address', 'gateway', 'interface']);
        if (v.startsWith('0.')) expect(ip.version).to.equal('4');
        expect(ip.interface).to.equal(1);
        expect((result.interfaces as Array<Record<string, unknown>>)[ip.interface as number]!.sandbox).to.equal(c.netnsPath);
        expect(ip.gateway).to.equal(await gatewayOfBridge());
        const [a] = await ipJson<IpAddr[]>(c.ns, ['addr', 'show', 'dev', 'eth0']);
        const v4 = a!.addr_info.filter((x) => x.family === 'inet');
        expect(v4).to.have.length(1);
        expect(ip.address).to.equal(`${v4[0]!.local}/${v4[0]!.prefixlen}`);
        expect(knitd.ipam().allocations.find((x) => x.containerId === c.containerId)?.ip).to.equal(v4[0]!.local);
      });

      it('routes: the default route via the gateway, present in the container', async () => {
        const routes = result.routes as Array<Record<string, unknown>>;
        const gw = await gatewayOfBridge();
        expect(routes).to.deep.equal([{ dst: '0.0.0.0/0', gw }]);
        const kernel = await ipJson<IpRoute[]>(c.ns, ['route', 'show', 'default']);
        expect(kernel.map((r) => [r.dst, r.gateway, r.dev])).to.deep.equal([['default', gw, 'eth0']]);
      });

      if (v === '0.3.0' || v === '0.3.1') {
        it('CHECK is refused for a version that predates it (code 1)', async () => {
          const e = failed(await knitd.cni('CHECK', env(c), knitd.conf(v, { prevResult: result })), 'CHECK');
          expect(e.code).to.equal(1);
        });
      } else {
        it('CHECK after ADD passes', async () => {
          const r = await knitd.cni('CHECK', env(c), knitd.conf(v, { prevResult: result }));
          ok(r, 'CHECK');
          expect(r.stdout).to.equal('');
        });
      }

      it('DEL succeeds twice and leaves no veth and no allocation', async () => {
        const hostName = String((result.interfaces as Array<Record<string, unknown>>)[0]!.name);
        ok(await knitd.cni('DEL', env(c), knitd.conf(v, { prevResult: result })), 'DEL 1');
        expect(await hostVeths(lab.nodes[0]!.ns)).to.not.include(hostName);
        expect(await ipJson<IpLink[]>(c.ns, ['link', 'show', 'type', 'veth'])).to.deep.equal([]);
        expect(knitd.ipam().allocations.map((x) => x.containerId)).to.not.include(c.containerId);
        ok(await knitd.cni('DEL', env(c), knitd.conf(v)), 'DEL 2');
      });
    });
  }

  describe('CHECK finds what someone broke', () => {
    let c: LabContainer;
    let result: Record<string, unknown>;
    beforeEach(async () => {
      c = lab.addContainer(0, 'chk');
      result = ok(await knitd.cni('ADD', env(c), knitd.conf('1.1.0')), 'ADD');
      ok(await knitd.cni('CHECK', env(c), knitd.conf('1.1.0', { prevResult: result })), 'CHECK before breaking');
    });
    afterEach(async () => {
      ok(await knitd.cni('DEL', env(c), knitd.conf('1.1.0')), 'DEL');
      lab.removeContainer(c);
    });

    it('a deleted default route', async () => {
      await lab.exec(c, 'ip', ['route', 'del', 'default']);
      const e = failed(await knitd.cni('CHECK', env(c), knitd.conf('1.1.0', { prevResult: result })), 'CHECK');
      expect(e.msg).to.match(/default route via 10\.244\.1\.1 on eth0 is missing/);
    });

    it('a deleted address', async () => {
      const address = String((result.ips as Array<Record<string, unknown>>)[0]!.address);
      await lab.exec(c, 'ip', ['addr', 'del', address, 'dev', 'eth0']);
      const e = failed(await knitd.cni('CHECK', env(c), knitd.conf('1.1.0', { prevResult: result })), 'CHECK');
      expect(e.msg).to.include(`lacks address ${address}`);
    });

    it('a changed MTU', async () => {
      await lab.exec(c, 'ip', ['link', 'set', 'eth0', 'mtu', '1300']);
      const e = failed(await knitd.cni('CHECK', env(c), knitd.conf('1.1.0', { prevResult: result })), 'CHECK');
      expect(e.msg).to.include('MTU 1300, want 1400');
    });

    it('a host veth taken off the bridge', async () => {
      const host = String((result.interfaces as Array<Record<string, unknown>>)[0]!.name);
      await lab.exec(lab.nodes[0]!, 'ip', ['link', 'set', host, 'nomaster']);
      const e = failed(await knitd.cni('CHECK', env(c), knitd.conf('1.1.0', { prevResult: result })), 'CHECK');
      expect(e.msg).to.include(`host veth ${host} is not on the bridge`);
    });
  });

  it('DEL after the namespace is gone succeeds and frees the address', async () => {
    const c = lab.addContainer(0, 'gone');
    const result = ok(await knitd.cni('ADD', env(c), knitd.conf('1.0.0')), 'ADD');
    const ip = String((result.ips as Array<Record<string, unknown>>)[0]!.address).split('/')[0];
    expect(knitd.ipam().allocations.find((a) => a.ip === ip)?.containerId).to.equal(c.containerId);
    lab.removeContainer(c);
    ok(await knitd.cni('DEL', env(c), knitd.conf('1.0.0')), 'DEL with a vanished netns path');
    ok(await knitd.cni('DEL', { ...env(c), CNI_NETNS: '' }, knitd.conf('1.0.0')), 'DEL without CNI_NETNS');
    expect(knitd.ipam().allocations.filter((a) => a.ip === ip || a.containerId === c.containerId)).to.deep.equal([]);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.deep.equal([]);
  });

  it('two containers on one node ping each other and the gateway', async () => {
    const a = lab.addContainer(0, 'pa');
    const b = lab.addContainer(0, 'pb');
    try {
      const ra = ok(await knitd.cni('ADD', env(a), knitd.conf('1.1.0')), 'ADD a');
      const rb = ok(await knitd.cni('ADD', env(b), knitd.conf('1.1.0')), 'ADD b');
      const ipA = String((ra.ips as Array<Record<string, unknown>>)[0]!.address).split('/')[0]!;
      const ipB = String((rb.ips as Array<Record<string, unknown>>)[0]!.address).split('/')[0]!;
      expect(ipA).to.not.equal(ipB);
      for (const [from, to] of [[a, ipB], [b, ipA], [a, '10.244.1.1'], [b, '10.244.1.1']] as const) {
        const p = await lab.ping(from, to, 3);
        expect(p.received, `${from.ns} → ${to}: ${p.output}`).to.equal(3);
      }
    } finally {
      ok(await knitd.cni('DEL', env(a), knitd.conf('1.1.0')), 'DEL a');
      ok(await knitd.cni('DEL', env(b), knitd.conf('1.1.0')), 'DEL b');
      lab.removeContainer(a);
      lab.removeContainer(b);
    }
  });
});
