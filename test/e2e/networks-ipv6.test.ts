/**
 * Named networks with IPv6, end to end: 3 real knitds on a real etcd on a
 * dual-stack underlay (the lab's `ipv6: true`), the default network left
 * IPv4-only VXLAN, and named networks made with the real knitctl:
 *   dual   dual-stack, vxlan          (2 containers per node)
 *   six    IPv6-only, vxlan, ipv6Masquerade (2 containers per node)
 *   gw     dual-stack, host-gw        (1 container per node)
 * Proves: every container gets the addresses of its network's families
 * through the real plugin; the ping matrix in both families (same network
 * reachable on one node and across nodes, every other network's containers
 * unreachable in every family they share, both directions); a container
 * cannot reach the node through another network's IPv6 gateway; a container
 * on `dual` and `six` keeps one default route per family; an internal
 * IPv6-only network reaches only itself; `six`'s ipv6Masquerade lets it out
 * to the underlay router; an IPv6 CIDR overlapping another network is
 * refused; rm tears the IPv6 routes down; the default network keeps working.
 */
import { expect } from 'chai';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { ipJson, type Knitd } from '../lab/knitd';
import { addToNetwork, startClusterKnitd, waitFor } from './cluster-lab';
import { apiCall, apiClient, callStatus, knitctlResult } from './api-lab';
import type { Network__Output } from '../../agent/src/api/gen/knit/v1/Network';
import { networkBridgeName } from '../../agent/src/store/named-networks';
import { cleanupAll } from '../lab/cleanup';

interface Member { c: LabContainer; ip4?: string; ip6?: string; gw4?: string; gw6?: string; node: number; network: string }

const UNDERLAY_ROUTER6 = 'fd77::1';

describe('named networks with IPv6: dual-stack, IPv6-only (vxlan) and dual-stack host-gw on 3 nodes, isolation in both families', function () {
  this.timeout(180_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  const members: Member[] = [];

  const knitctl = (args: string[]) => knitctlResult(lab, args);

  async function add(node: number, tag: string, network?: string, ifname = 'eth0', c = lab.addContainer(node, tag)): Promise<Member> {
    const ips = await addToNetwork(knitds[node]!, c, `${tag} on node ${node}`, { ...(network ? { network } : {}), ifname, cniVersion: '1.1.0' });
    const v4 = ips.find((i) => !i.address.includes(':'));
    const v6 = ips.find((i) => i.address.includes(':'));
    return {
      c, node, network: network ?? 'default',
      ...(v4 ? { ip4: v4.address.split('/')[0]!, gw4: v4.gateway } : {}),
      ...(v6 ? { ip6: v6.address.split('/')[0]!, gw6: v6.gateway } : {}),
    };
  }

  async function del(m: Member, ifname = 'eth0'): Promise<void> {
    const r = await knitds[m.node]!.cni('DEL', { CNI_CONTAINERID: m.c.containerId, CNI_NETNS: m.c.netnsPath, CNI_IFNAME: ifname },
      knitds[m.node]!.conf('1.1.0', m.network === 'default' ? {} : { network: m.network }));
    expect(r.code, r.stderr).to.equal(0);
  }

  async function linksOf(node: number): Promise<string[]> {
    return (await ipJson<Array<{ ifname: string }>>(lab.nodes[node]!.ns, ['link', 'show'])).map((l) => l.ifname);
  }

  /** Pings in batches (the lab machine has few cores); a pair with no reply is retried once with 3 pings. */
  async function pingAll(pairs: Array<{ from: Member; to: string; label: string }>): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    for (let i = 0; i < pairs.length; i += 48) {
      await Promise.all(pairs.slice(i, i + 48).map(async (p) => {
        out.set(p.label, (await lab.ping(p.from.c, p.to, 1)).received > 0);
      }));
    }
    return out;
  }

  before(async () => {
    lab = await createLab({ nodes: 3, etcd: true, ipv6: true });
    for (const node of lab.nodes) knitds.push(await startClusterKnitd(lab, node));
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('knitctl network create: dual-stack (--ipv6-cidr) and IPv6-only (--cidr IPv6); ls and inspect show the IPv6 CIDR and every node\'s IPv6 subnet', async () => {
    const dual = await knitctl(['network', 'create', 'dual', '--cidr', '10.80.0.0/16', '--ipv6-cidr', 'fd00:80::/56']);
    expect(dual.code, dual.err).to.equal(0);
    expect(dual.out).to.include('network dual created: 10.80.0.0/16, /24 per node, IPv6 fd00:80::/56, /64 per node, backend vxlan (VNI 2)');
    const six = await knitctl(['network', 'create', 'six', '--cidr', 'fd00:90::/56', '--ipv6-masquerade']);
    expect(six.code, six.err).to.equal(0);
    expect(six.out).to.include('network six created: fd00:90::/56, /64 per node, backend vxlan (VNI 3)');
    const gw = await knitctl(['network', 'create', 'gw', '--cidr', '10.81.0.0/16', '--ipv6-cidr', 'fd00:81::/56', '--ipv6-subnet-length', '80', '--backend', 'host-gw']);
    expect(gw.code, gw.err).to.equal(0);
    // Overlaps are checked per family, against every network.
    const clash = await knitctl(['network', 'create', 'clash', '--cidr', '10.82.0.0/16', '--ipv6-cidr', 'fd00:90::/48']);
    expect(clash.code).to.equal(1);
    expect(clash.err).to.include('CIDR fd00:90::/48 overlaps network six (fd00:90::/56)');
    const clash6 = await knitctl(['network', 'create', 'clash', '--cidr', 'fd00:80::/48']);
    expect(clash6.err).to.include('overlaps network dual (fd00:80::/56)');

    const ls = await knitctl(['network', 'ls']);
    expect(ls.out).to.match(/dual\s+10\.80\.0\.0\/16,fd00:80::\/56\s+\/24,\/64/);
    expect(ls.out).to.match(/six\s+fd00:90::\/56\s+\/64/);
    const { ms } = await waitFor('dual, six and gw on every node (bridges, VXLAN devices, 3 leases each)', async () => {
      for (let n = 0; n < 3; n++) {
        const links = await linksOf(n);
        if (!['knit.2', 'knit.3', networkBridgeName('dual'), networkBridgeName('six'), networkBridgeName('gw')].every((l) => links.includes(l))) return false;
      }
      for (const name of ['dual', 'six', 'gw']) {
        const d = JSON.parse((await knitctl(['network', 'inspect', name, '-o', 'json'])).out) as { subnets: unknown[] };
        if (d.subnets.length !== 3) return false;
      }
      return true;
    }, 20_000);
    console.log(`      (3 IPv6 networks up on all 3 nodes: ${ms} ms)`);
    const d = JSON.parse((await knitctl(['network', 'inspect', 'dual', '-o', 'json'])).out) as { subnets: Array<{ subnet: string; ipv6Subnet?: string; publicIpv6?: string }> };
    for (const s of d.subnets) {
      expect(s.subnet).to.match(/^10\.80\.\d+\.0\/24$/);
      expect(s.ipv6Subnet).to.match(/^fd00:80:0:[0-9a-f]+::\/64$/);
      expect(s.publicIpv6, 'the node\'s IPv6 underlay address in the lease').to.match(/^fd77::/);
    }
    const s6 = JSON.parse((await knitctl(['network', 'inspect', 'six', '-o', 'json'])).out) as { subnets: Array<{ subnet: string; publicIp: string }> };
    for (const s of s6.subnets) {
      expect(s.subnet).to.match(/^fd00:90:0:[0-9a-f]+::\/64$/);
      expect(s.publicIp, 'an IPv6-only network leases with the IPv6 underlay address').to.match(/^fd77::/);
    }
    const inspect = await knitctl(['network', 'inspect', 'gw']);
    expect(inspect.out).to.include('CIDR:        10.81.0.0/16 (/24 per node), fd00:81::/56 (/80 per node)');
    // The bridges carry the gateway of each family.
    const [bridge] = await ipJson<Array<{ addr_info: Array<{ family: string; local: string }> }>>(lab.nodes[0]!.ns, ['addr', 'show', 'dev', networkBridgeName('dual')]);
    expect(bridge!.addr_info.filter((a) => a.family === 'inet6' && !a.local.startsWith('fe80')).map((a) => a.local)[0]).to.match(/^fd00:80:0:[0-9a-f]+::1$/);
  });

  it('attaches containers through the real plugin: dual gets both families, six IPv6 only, default stays IPv4 only', async () => {
    for (let n = 0; n < 3; n++) {
      members.push(await add(n, 'd'));
      members.push(await add(n, 'g', 'gw'));
      for (let i = 0; i < 2; i++) {
        members.push(await add(n, `x${i}`, 'dual'));
        members.push(await add(n, `s${i}`, 'six'));
      }
    }
    const of = (net: string): Member[] => members.filter((m) => m.network === net);
    expect(of('default').every((m) => m.ip4?.startsWith('10.244.') && m.ip6 === undefined)).to.equal(true);
    expect(of('dual').every((m) => m.ip4?.startsWith('10.80.') && m.ip6?.startsWith('fd00:80:'))).to.equal(true);
    expect(of('gw').every((m) => m.ip4?.startsWith('10.81.') && m.ip6?.startsWith('fd00:81:'))).to.equal(true);
    expect(of('six').every((m) => m.ip4 === undefined && m.ip6?.startsWith('fd00:90:'))).to.equal(true);
    const x = of('dual')[0]!;
    const routes6 = await ipJson<Array<{ dst: string; gateway?: string }>>(x.c.ns, ['-6', 'route', 'show']);
    expect(routes6.some((r) => r.dst === 'default' && r.gateway === x.gw6), JSON.stringify(routes6)).to.equal(true);
  });

  it('ping matrix in both families: same network reachable on one node and across nodes; other networks unreachable, both ways', async () => {
    const pairs: Array<{ from: Member; to: string; label: string; same: boolean }> = [];
    for (const from of members) {
      for (const to of members) {
        if (to === from) continue;
        for (const fam of ['ip4', 'ip6'] as const) {
          if (from[fam] === undefined || to[fam] === undefined) continue;
          pairs.push({
            from, to: to[fam]!, same: from.network === to.network,
            label: `${fam} ${from.network}@node${from.node + 1}/${from[fam]} -> ${to.network}@node${to.node + 1}/${to[fam]}`,
          });
        }
      }
    }
    const result = await pingAll(pairs);
    const unreached: string[] = [];
    for (const p of pairs.filter((q) => q.same && !result.get(q.label))) {
      // A lost first packet (neighbour discovery) is retried before it counts.
      if ((await lab.ping(p.from.c, p.to, 3)).received === 0) unreached.push(p.label);
    }
    const leaks = pairs.filter((p) => !p.same && result.get(p.label)).map((p) => p.label);
    const count = (same: boolean, fam: string): number => pairs.filter((p) => p.same === same && p.label.startsWith(fam)).length;
    console.log(`      (same network: ${count(true, 'ip4')} IPv4 + ${count(true, 'ip6')} IPv6 pairs; other network: ${count(false, 'ip4')} IPv4 + ${count(false, 'ip6')} IPv6 pairs)`);
    expect(count(true, 'ip4')).to.equal(3 * 2 + 6 * 5 + 3 * 2); // default, dual, gw
    expect(count(true, 'ip6')).to.equal(6 * 5 + 6 * 5 + 3 * 2); // dual, six, gw
    expect(count(false, 'ip6')).to.equal(15 * 14 - (6 * 5 + 6 * 5 + 3 * 2));
    expect(unreached, 'same-network pairs without a reply').to.deep.equal([]);
    expect(leaks, 'cross-network pairs that got a reply').to.deep.equal([]);
  });

  it('a container cannot reach the node through another network\'s IPv6 gateway; its own answers', async () => {
    const x = members.find((m) => m.network === 'dual' && m.node === 0)!;
    const s = members.find((m) => m.network === 'six' && m.node === 0)!;
    expect((await lab.ping(s.c, x.gw6!, 1)).received, `six -> dual's IPv6 gateway ${x.gw6}`).to.equal(0);
    expect((await lab.ping(x.c, s.gw6!, 1)).received, `dual -> six's IPv6 gateway ${s.gw6}`).to.equal(0);
    expect((await lab.ping(s.c, s.gw6!, 2)).received).to.be.greaterThan(0);
    expect((await lab.ping(x.c, x.gw6!, 2)).received).to.be.greaterThan(0);
  });

  it('a container on dual (eth0) and six (eth1): one default route per family, both on eth0; a route to six\'s CIDR on eth1; reaches six on other nodes', async () => {
    const first = await add(0, 'two', 'dual');
    const second = await add(0, 'two', 'six', 'eth1', first.c);
    const r4 = await ipJson<Array<{ dst: string; dev: string }>>(first.c.ns, ['-4', 'route', 'show']);
    const r6 = await ipJson<Array<{ dst: string; gateway?: string; dev: string }>>(first.c.ns, ['-6', 'route', 'show']);
    expect(r4.filter((r) => r.dst === 'default').map((r) => r.dev)).to.deep.equal(['eth0']);
    expect(r6.filter((r) => r.dst === 'default').map((r) => r.dev), JSON.stringify(r6)).to.deep.equal(['eth0']);
    expect(r6.some((r) => r.dst === 'fd00:90::/56' && r.gateway === second.gw6 && r.dev === 'eth1'), JSON.stringify(r6)).to.equal(true);
    for (const to of members.filter((m) => m.node !== 0 && (m.network === 'six' || m.network === 'dual'))) {
      expect((await lab.ping(first.c, to.ip6!, 2)).received, `two -> ${to.network} ${to.ip6}`).to.be.greaterThan(0);
    }
    await del({ ...second, network: 'six' }, 'eth1');
    await del(first);
  });

  it('six masquerades IPv6 out of the cluster (ipv6Masquerade); an internal IPv6-only network reaches only itself', async () => {
    const s = members.find((m) => m.network === 'six' && m.node === 1)!;
    expect((await lab.ping(s.c, UNDERLAY_ROUTER6, 2)).received, 'six -> the underlay router (masqueraded)').to.be.greaterThan(0);
    const r = await knitctl(['network', 'create', 'quiet6', '--cidr', 'fd00:95::/56', '--internal']);
    expect(r.code, r.err).to.equal(0);
    await waitFor('quiet6 on nodes 1 and 2', async () => (await linksOf(0)).includes(networkBridgeName('quiet6')) && (await linksOf(1)).includes(networkBridgeName('quiet6')), 20_000);
    const q0 = await add(0, 'q0', 'quiet6');
    const q1 = await add(1, 'q1', 'quiet6');
    expect((await lab.ping(q0.c, q1.ip6!, 3)).received, 'quiet6 across nodes').to.be.greaterThan(0);
    expect((await lab.ping(q0.c, q0.gw6!, 2)).received, 'quiet6 -> its own gateway').to.be.greaterThan(0);
    expect((await lab.ping(q0.c, s.ip6!, 1)).received, 'quiet6 -> six').to.equal(0);
    expect((await lab.ping(s.c, q0.ip6!, 1)).received, 'six -> quiet6').to.equal(0);
    expect((await lab.ping(q0.c, lab.nodes[1]!.underlayIp6!, 1)).received, 'quiet6 -> another node').to.equal(0);
    expect((await lab.ping(q0.c, UNDERLAY_ROUTER6, 1)).received, 'quiet6 -> the underlay router').to.equal(0);
    await del(q0);
    await del(q1);
  });

  it('the gRPC API: CreateNetwork with ipv6_cidr on one knitd; GetNetwork on another lists every node\'s IPv6 subnet; an overlapping IPv6 CIDR is refused', async () => {
    const a = apiClient(knitds[0]!.apiSocket);
    const b = apiClient(knitds[2]!.apiSocket);
    try {
      const made = await apiCall<object, Network__Output>(a, 'CreateNetwork', { name: 'api6', cidr: '10.83.0.0/16', ipv6Cidr: 'fd00:83::/56', ipv6SubnetLength: 72, backend: 'host-gw' });
      expect(JSON.parse(made.configJson)).to.deep.include({ clusterCidr: '10.83.0.0/16', ipv6ClusterCidr: 'fd00:83::/56', ipv6SubnetLength: 72 });
      expect(await callStatus(apiCall(a, 'CreateNetwork', { name: 'api7', cidr: 'fd00:83:0:80::/57' }))).to.match(/^FAILED_PRECONDITION: .*overlaps network api6 \(fd00:83::\/56\)/);
      expect(await callStatus(apiCall(a, 'CreateNetwork', { name: 'api7', cidr: '10.84.0.0/16', ipv6Cidr: 'nope' }))).to.match(/^INVALID_ARGUMENT: .*ipv6ClusterCidr/);
      const { value: got } = await waitFor('three api6 leases with IPv6 subnets (GetNetwork on knitd 3)', async () => {
        const g = await apiCall<object, Network__Output>(b, 'GetNetwork', { name: 'api6' });
        return g.subnets.length === 3 ? g : false;
      }, 10_000);
      for (const s of got.subnets) {
        expect(s.ipv6Subnet).to.match(/^fd00:83::?[0-9a-f:]*\/72$/);
        expect(s.publicIpv6).to.match(/^fd77::/);
      }
      await waitFor('DeleteNetwork api6 accepted', async () => (await callStatus(apiCall(a, 'DeleteNetwork', { name: 'api6' }))) === 'OK', 10_000);
    } finally {
      a.close();
      b.close();
    }
  });

  it('rm of six and quiet6: every node drops their IPv6 routes, devices and bridges; dual and the default network keep working', async () => {
    for (const m of members.filter((x) => x.network === 'six')) await del(m);
    for (const name of ['six', 'quiet6']) {
      await waitFor(`rm ${name} accepted`, async () => (await knitctl(['network', 'rm', name])).code === 0, 10_000);
    }
    await waitFor('six gone from every node', async () => {
      for (let n = 0; n < 3; n++) {
        const links = await linksOf(n);
        if (links.includes('knit.3') || links.includes(networkBridgeName('six')) || links.includes(networkBridgeName('quiet6'))) return false;
        const routes = await ipJson<Array<{ dst: string }>>(lab.nodes[n]!.ns, ['-6', 'route', 'show']);
        if (routes.some((r) => r.dst.startsWith('fd00:90:') || r.dst.startsWith('fd00:95:'))) return false;
      }
      return true;
    }, 20_000);
    const [x0, x2] = [members.find((m) => m.network === 'dual' && m.node === 0)!, members.find((m) => m.network === 'dual' && m.node === 2)!];
    expect((await lab.ping(x0.c, x2.ip6!, 2)).received, 'dual over IPv6 across nodes').to.be.greaterThan(0);
    const [d0, d2] = [members.find((m) => m.network === 'default' && m.node === 0)!, members.find((m) => m.network === 'default' && m.node === 2)!];
    expect((await lab.ping(d0.c, d2.ip4!, 2)).received, 'default across nodes').to.be.greaterThan(0);
  });
});
