/**
 * Dual-stack CNI on one node: a single-node knitd with an IPv4 and an IPv6
 * subnet, the real `knit` plugin, every cniVersion. Each container gets an
 * address of both families; results carry both (with the interface index of
 * the container end and ::/0 via the bridge's IPv6 gateway); the IPv6 address
 * is usable the moment ADD returns (nodad: no tentative period); CHECK
 * verifies both families; DEL releases both; a restart writes nothing.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabContainer } from '../lab/lab';
import { cniEnv, ipJson, type Knitd, type PluginRun, withOneNodeKnitd } from '../lab/knitd';

interface IpAddr { ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number; tentative?: boolean; dadfailed?: boolean }> }
interface IpRoute { dst: string; gateway?: string; dev: string }

const SUBNET6 = 'fd00:10:244:1::/64';
const GW6 = 'fd00:10:244:1::1';
const VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

function ok(r: PluginRun, what: string): Record<string, unknown> {
  expect(r.code, `${what}: exit code; stdout=${r.stdout} stderr=${r.stderr}`).to.equal(0);
  return r.json ?? {};
}

describe('CNI dual-stack: IPv4 + IPv6 per container, real plugin, real knitd', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;
  withOneNodeKnitd((l, k) => { lab = l; knitd = k; }, { args: ['--ipv6-subnet', SUBNET6] });

  const ipam6 = (): Array<{ containerId: string; ip: string }> =>
    (JSON.parse(readFileSync(join(knitd.stateDir, 'ipam6.json'), 'utf8')) as { allocations: Array<{ containerId: string; ip: string }> }).allocations;

  it('the bridge carries both gateways, the IPv6 one not tentative', async () => {
    const [br] = await ipJson<IpAddr[]>(lab.nodes[0]!.ns, ['addr', 'show', 'dev', knitd.bridge]);
    const v6 = br!.addr_info.filter((a) => a.family === 'inet6' && a.local === GW6);
    expect(v6).to.have.length(1);
    expect(v6[0]!.prefixlen).to.equal(64);
    expect(v6[0]!.tentative ?? false).to.equal(false);
  });

  for (const v of VERSIONS) {
    describe(`cniVersion ${v}`, () => {
      let c: LabContainer;
      let result: Record<string, unknown>;
      before(async () => {
        c = lab.addContainer(0, `d${v.replace(/\./g, '')}`);
        result = ok(await knitd.cni('ADD', cniEnv(c), knitd.conf(v)), `ADD ${v}`);
      });
      after(() => lab.removeContainer(c));

      if (v === VERSIONS[0]) {
        it('the first container brings the bridge carrier, and its link-local address is usable at once (no DAD on knit\'s bridge)', async () => {
          // Checked right after the first ADD: with DAD the link-local stays tentative for 1-2 s, and the
          // node cannot resolve its containers' IPv6 neighbours meanwhile.
          const [br] = await ipJson<IpAddr[]>(lab.nodes[0]!.ns, ['addr', 'show', 'dev', knitd.bridge]);
          const ll = br!.addr_info.filter((a) => a.family === 'inet6' && a.local.startsWith('fe80:'));
          expect(ll, JSON.stringify(br)).to.have.length(1);
          expect(ll[0]!.tentative ?? false, JSON.stringify(ll)).to.equal(false);
        });
      }

      it('ips: one per family, both on the container end (interface 1), as the kernel holds them', async () => {
        const ips = result.ips as Array<Record<string, unknown>>;
        expect(ips.map((ip) => ip.interface)).to.deep.equal([1, 1]);
        if (v.startsWith('0.')) expect(ips.map((ip) => ip.version)).to.deep.equal(['4', '6']);
        else expect(ips.every((ip) => ip.version === undefined)).to.equal(true);
        const [a] = await ipJson<IpAddr[]>(c.ns, ['addr', 'show', 'dev', 'eth0']);
        const v6 = a!.addr_info.filter((x) => x.family === 'inet6' && x.local.startsWith('fd00:10:244:1:'));
        expect(v6).to.have.length(1);
        expect(ips[1]).to.include({ address: `${v6[0]!.local}/64`, gateway: GW6 });
        expect(v6[0]!.tentative ?? false, 'nodad: not tentative').to.equal(false);
        expect(ipam6().find((x) => x.containerId === c.containerId)?.ip).to.equal(v6[0]!.local);
      });

      it('routes: 0.0.0.0/0 and ::/0 via the two gateways, present in the container', async () => {
        const routes = result.routes as Array<Record<string, unknown>>;
        expect(routes.map((r) => r.dst)).to.deep.equal(['0.0.0.0/0', '::/0']);
        expect(routes[1]!.gw).to.equal(GW6);
        const kernel = await ipJson<IpRoute[]>(c.ns, ['-6', 'route', 'show', 'default']);
        expect(kernel.map((r) => [r.gateway, r.dev])).to.deep.equal([[GW6, 'eth0']]);
      });

      if (v !== '0.3.0' && v !== '0.3.1') {
        it('CHECK passes, and names the IPv6 address once it is removed by hand', async () => {
          ok(await knitd.cni('CHECK', cniEnv(c), knitd.conf(v, { prevResult: result })), 'CHECK');
          const addr6 = (result.ips as Array<{ address: string }>)[1]!.address;
          await lab.exec(c.ns, 'ip', ['-6', 'addr', 'del', addr6, 'dev', 'eth0']);
          const r = await knitd.cni('CHECK', cniEnv(c), knitd.conf(v, { prevResult: result }));
          expect(r.code).to.equal(1);
          expect(String((r.json as { msg?: string }).msg)).to.contain(`lacks address ${addr6}`);
          await lab.exec(c.ns, 'ip', ['-6', 'addr', 'add', addr6, 'dev', 'eth0', 'nodad']);
          await lab.exec(c.ns, 'ip', ['-6', 'route', 'replace', 'default', 'via', GW6, 'dev', 'eth0']);
        });
      }
    });
  }

  describe('traffic and restart', () => {
    it('two containers reach each other and the gateway over IPv6 right after ADD (no DAD wait); a restart writes nothing; DEL releases both', async () => {
      const a = lab.addContainer(0, 'pa');
      const b = lab.addContainer(0, 'pb');
      try {
        const ra = ok(await knitd.cni('ADD', cniEnv(a), knitd.conf('1.1.0')), 'ADD a');
        // No sleep: a tentative address would make this first ping fail.
        expect((await lab.ping(a.ns, GW6, 1)).received, 'ping gateway at once').to.equal(1);
        const rb = ok(await knitd.cni('ADD', cniEnv(b), knitd.conf('1.1.0')), 'ADD b');
        const ipB = (rb.ips as Array<{ address: string }>)[1]!.address.split('/')[0]!;
        const ipA = (ra.ips as Array<{ address: string }>)[1]!.address.split('/')[0]!;
        expect((await lab.ping(a.ns, ipB, 2)).received).to.equal(2);
        expect((await lab.ping(b.ns, ipA, 2)).received).to.equal(2);

        await knitd.restart();
        const ready = knitd.proc.logTail(1 << 20).split('\n').filter((l) => l.includes('"knitd ready"')).pop()!;
        expect(JSON.parse(ready)).to.include({ netlinkWritesAtStart: 0, ipv6Subnet: SUBNET6 });
        expect((await lab.ping(a.ns, ipB, 2)).received, 'after the restart').to.equal(2);

        ok(await knitd.cni('DEL', cniEnv(b), knitd.conf('1.1.0')), 'DEL b');
        expect(ipam6().some((x) => x.containerId === b.containerId), 'DEL releases the IPv6 address').to.equal(false);
        ok(await knitd.cni('DEL', cniEnv(a), knitd.conf('1.1.0')), 'DEL a');
        expect(ipam6().some((x) => x.containerId === a.containerId)).to.equal(false);
      } finally {
        lab.removeContainer(a);
        lab.removeContainer(b);
      }
    });
  });
});
