/**
 * IPv6 masquerade (`ipv6Masquerade` in the network config, issue 13): a real
 * knitd in cluster mode on a dual-stack underlay, a container attached
 * through the real plugin, a TCP server on the underlay router's IPv6
 * address that answers with the source address it sees. With the option on,
 * the container's IPv6 connection arrives from the node's IPv6 underlay
 * address (`table ip6 knit`); with it off (the default, as in flannel), from
 * the container's own routable address, and no ip6 table exists.
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import { PEER_ADDRESS, startKnitd, startTcpReplier, tcpGet, type Knitd } from '../lab/knitd';
import { cleanupAll } from '../lab/cleanup';

const ROUTER6 = 'fd77::1';
const PORT = 7076;

for (const on of [true, false]) {
  describe(`cluster: ipv6Masquerade ${on ? 'on' : 'off (default)'}, dual-stack, real knitd and plugin`, function () {
    this.timeout(120_000);
    let lab: Lab;
    let knitd: Knitd;
    let ip6: string;
    let containerNs: string;

    before(async () => {
      lab = await createLab({ nodes: 1, etcd: true, ipv6: true });
      const network = {
        clusterCidr: '10.244.0.0/16', subnetLength: 24, ipv6ClusterCidr: 'fd00:10:244::/56',
        backend: { type: 'host-gw' }, ...(on ? { ipv6Masquerade: true } : {}),
      };
      knitd = await startKnitd(lab, lab.nodes[0]!, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } });
      const c = lab.addContainer(0, 'v6m');
      const r = await knitd.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0'));
      expect(r.code, r.stdout).to.equal(0);
      const ips = (r.json as { ips: Array<{ address: string }> }).ips.map((x) => x.address.split('/')[0]!);
      ip6 = ips.find((a) => a.includes(':'))!;
      await startTcpReplier(lab, lab.underlay.ns, PORT, PEER_ADDRESS, '::');
      // The container reaches the router over IPv6 only through the node: the router routes the pod range back to it when not masqueraded.
      if (!on) await lab.exec(lab.underlay.ns, 'ip', ['-6', 'route', 'replace', 'fd00:10:244::/56', 'via', lab.nodes[0]!.underlayIp6!]);
      containerNs = c.ns;
    });
    after(async () => {
      await cleanupAll([
        () => knitd?.destroy(),
        () => lab?.teardown(),
      ]);
    });

    it(on ? 'an IPv6 connection to the outside arrives from the node\'s IPv6 address' : 'an IPv6 connection to the outside keeps the container\'s own address; no ip6 table', async () => {
      const got = await tcpGet(containerNs, ROUTER6, PORT);
      expect(got.error, JSON.stringify(got)).to.equal(undefined);
      expect(got.data).to.equal(on ? lab.nodes[0]!.underlayIp6 : ip6);
      const tables = await lab.exec(lab.nodes[0]!.ns, 'nft', ['list', 'tables']);
      expect(tables.includes('table ip6 knit'), tables).to.equal(on);
      // IPv4 masquerade is unaffected: the IPv4 connection arrives from the node's IPv4 address.
      await startTcpReplier(lab, lab.underlay.ns, PORT + 1, PEER_ADDRESS);
      expect(await tcpGet(containerNs, lab.underlay.plan.routerIp, PORT + 1)).to.deep.equal({ data: lab.nodes[0]!.underlayIp });
    });
  });
}

describe('cluster: ipv6Masquerade on an IPv6-only network (no IPv4 anywhere in the pod)', function () {
  this.timeout(120_000);
  let lab: Lab;
  let knitd: Knitd;

  before(async () => {
    lab = await createLab({ nodes: 1, etcd: true, ipv6: true });
    const network = { clusterCidr: 'fd00:10:244::/56', subnetLength: 64, backend: { type: 'host-gw' }, ipv6Masquerade: true };
    knitd = await startKnitd(lab, lab.nodes[0]!, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } });
    await startTcpReplier(lab, lab.underlay.ns, PORT, PEER_ADDRESS, '::');
  });
  after(async () => {
    await cleanupAll([
      () => knitd?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('an IPv6 connection to the outside arrives from the node\'s IPv6 address; the ip table has no masquerade', async () => {
    const c = lab.addContainer(0, 'v6o');
    const r = await knitd.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0'));
    expect(r.code, r.stdout).to.equal(0);
    expect((r.json as { ips: Array<{ address: string }> }).ips.map((x) => x.address.includes(':'))).to.deep.equal([true]);
    expect(await tcpGet(c.ns, ROUTER6, PORT)).to.deep.equal({ data: lab.nodes[0]!.underlayIp6 });
    const v4 = await lab.exec(lab.nodes[0]!.ns, 'nft', ['list', 'table', 'ip', 'knit']);
    expect(v4).to.not.include('masquerade fully-random');
    expect(await lab.exec(lab.nodes[0]!.ns, 'nft', ['list', 'table', 'ip6', 'knit'])).to.include('ip6 saddr fd00:10:244::/56');
  });
});
