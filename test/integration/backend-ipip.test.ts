/**
 * The IPIP backend in real node namespaces. This kernel may lack the ipip
 * link kind (`ip link add X type ipip` → "Unknown device type"): a probe in a
 * scratch namespace decides, and the suite skips itself with that reason.
 * Where ipip exists: device as specified, onlink routes via the peer public
 * IPs, container ping across nodes, zero-write resync.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createBackend, parseNetwork } from '../../agent/src/backend';
import { detectUnderlay } from '../../agent/src/dataplane/underlay';
import { silentLogger } from '../../agent/src/log/logger';
import { openHandle } from '../../agent/src/netlink';
import { createLab } from '../lab/lab';
import { addNetns, delNetns, nsIpJson, nsRun } from '../lab/netns';
import { createOverlayLab, type OverlayLab } from './backend-overlay-lab';

/** undefined when this kernel can make an ipip link, else why not. */
function probeIpip(): string | undefined {
  const ns = addNetns('ipp');
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'add', 'probe0', 'type', 'ipip', 'local', '192.0.2.1'], { encoding: 'utf8' });
    return r.status === 0 ? undefined : `this kernel has no ipip link kind (ip link add type ipip: ${r.stderr.trim()})`;
  } finally {
    delNetns(ns);
  }
}

interface IpLink { ifname: string; mtu: number; flags: string[]; linkinfo?: { info_kind: string; info_data: Record<string, unknown> } }
interface IpRoute { dst: string; gateway?: string; dev: string; protocol?: string; flags: string[] }

describe('backend ipip: two nodes, real kernel', function () {
  this.timeout(60000);
  let ol: OverlayLab | undefined;

  before(async function () {
    const why = probeIpip();
    if (why) {
      // eslint-disable-next-line no-console
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    ol = await createOverlayLab({ nodes: 2, backend: { type: 'ipip' } });
    await ol.converge();
  });
  after(async () => { await ol?.teardown(); });

  it('device knit.ipip: local <public IP> dev eth0, <subnet .0>/32, MTU underlay − 20, up', () => {
    for (const o of ol!.nodes) {
      const [link] = nsIpJson<IpLink[]>(o.node.ns, ['link', 'show', 'knit.ipip']);
      expect(link!.linkinfo!.info_kind).to.equal('ipip');
      expect(link!.linkinfo!.info_data).to.include({ local: o.node.underlayIp, link: 'eth0' });
      expect(link!.mtu).to.equal(1480);
      expect(link!.flags).to.include('UP');
      expect(o.mtu).to.equal(1480);
    }
  });

  it('routes via the peer public IP dev knit.ipip onlink proto 89; containers reach each other', async () => {
    const [a, b] = ol!.nodes as [NonNullable<typeof ol>['nodes'][0], NonNullable<typeof ol>['nodes'][0]];
    const rs = (JSON.parse(nsRun(a.node.ns, 'ip', ['-j', 'route', 'show']) || '[]') as IpRoute[]).filter((r) => r.protocol === '89');
    expect(rs.map((r) => ({ dst: r.dst, gateway: r.gateway, dev: r.dev, flags: r.flags })))
      .to.deep.equal([{ dst: b.lease.subnet, gateway: b.node.underlayIp, dev: 'knit.ipip', flags: ['onlink'] }]);
    expect((await ol!.lab.ping(a.container, b.containerIp, 3)).received).to.equal(3);
    expect(await a.reconciler.reconcileNow()).to.include({ writes: 0, unchanged: 1 });
  });
});

describe('backend ipip: a kernel without the ipip kind', function () {
  this.timeout(60000);
  it('setup() fails with an error naming the device and the unsupported kind', async function () {
    if (probeIpip() === undefined) this.skip(); // this kernel has ipip: the suite above covers it
    const lab = await createLab({ nodes: 1 });
    const nl = openHandle(lab.nodes[0]!.netnsPath);
    try {
      const underlay = await detectUnderlay(nl);
      const network = parseNetwork({ clusterCidr: '10.244.0.0/16', backend: { type: 'ipip' } });
      const backend = createBackend({ nl, logger: silentLogger(), network, node: { name: 'node1', publicIp: underlay.ip, underlay: underlay.link, subnet: '10.244.1.0/24' } });
      let err: Error | undefined;
      try { await backend.setup(); } catch (e) { err = e as Error; }
      expect(err?.message).to.equal(`create ipip device knit.ipip (local ${underlay.ip}, dev eth0)`);
      expect((err?.cause as Error).message).to.match(/^link add ipip knit\.ipip: EOPNOTSUPP .*link kind 'ipip' is not supported by this kernel/);
      expect(() => backend.desired([])).to.throw(/before setup/);
    } finally {
      nl.close();
      await lab.teardown();
    }
  });
});
