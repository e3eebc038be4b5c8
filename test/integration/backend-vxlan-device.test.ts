/**
 * VXLAN device convergence in a real node namespace: a knit.1 with other
 * parameters is recreated, a link of another kind under that name is never
 * touched, and drift (MAC, MTU, stray address) is repaired by setup() with
 * exactly the writes needed, then none.
 */
import { expect } from 'chai';
import { createBackend, vtepMac, type Backend, parseNetwork } from '../../agent/src/backend';
import { detectUnderlay } from '../../agent/src/dataplane/underlay';
import { silentLogger } from '../../agent/src/log/logger';
import { openHandle, type Handle } from '../../agent/src/netlink';
import { createLab, type Lab, type LabNode } from '../lab/lab';
import { nsIpJson, nsRun } from '../lab/netns';
import { cleanupAll } from '../lab/cleanup';

interface IpLink { ifname: string; mtu: number; address: string; linkinfo?: { info_kind: string; info_data: Record<string, unknown> } }
interface IpAddr { addr_info: Array<{ local: string; prefixlen: number }> }

describe('backend vxlan: device convergence', function () {
  this.timeout(60000);
  let lab: Lab;
  let node: LabNode;
  let nl: Handle;
  let backend: Backend;

  before(async () => {
    lab = await createLab({ nodes: 1 });
    node = lab.nodes[0]!;
    nl = openHandle(node.netnsPath);
    const u = await detectUnderlay(nl);
    const network = parseNetwork({ clusterCidr: '10.244.0.0/16', backend: { type: 'vxlan' } });
    backend = createBackend({ nl, logger: silentLogger(), network, node: { name: node.name, publicIp: u.ip, underlay: u.link, subnet: '10.244.1.0/24' } });
  });
  after(async () => {
    await cleanupAll([
      () => nl?.close(),
      () => lab?.teardown(),
    ]);
  });
  const link = (): IpLink => nsIpJson<IpLink[]>(node.ns, ['link', 'show', 'knit.1'])[0]!;
  const addrs = (): string[] => nsIpJson<IpAddr[]>(node.ns, ['-4', 'addr', 'show', 'dev', 'knit.1'])[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`);

  it('a link of another kind named knit.1 is refused and left alone', async () => {
    nsRun(node.ns, 'ip', ['link', 'add', 'knit.1', 'type', 'veth', 'peer', 'name', 'knitp']);
    let err: Error | undefined;
    try { await backend.setup(); } catch (e) { err = e as Error; }
    expect(err?.message).to.equal('link knit.1 exists with kind veth; refusing to touch a link knit did not make');
    expect(link().linkinfo!.info_kind).to.equal('veth');
    nsRun(node.ns, 'ip', ['link', 'del', 'knit.1']);
  });

  it('a knit.1 with another UDP port is recreated with the configured one', async () => {
    nsRun(node.ns, 'ip', ['link', 'add', 'knit.1', 'type', 'vxlan', 'id', '1', 'dstport', '4789', 'dev', 'eth0', 'local', node.underlayIp, 'nolearning']);
    const r = await backend.setup();
    expect(link().linkinfo!.info_data).to.include({ port: 8472, id: 1, learning: false });
    expect(r.writes).to.equal(4); // del, add, address, up
    expect(link().address).to.equal(vtepMac(node.name, 1));
  });

  it('drift (MAC, MTU, a stray address) is repaired with one write each; then setup writes nothing', async () => {
    nsRun(node.ns, 'ip', ['link', 'set', 'knit.1', 'address', '0a:00:00:00:00:01', 'mtu', '1400']);
    nsRun(node.ns, 'ip', ['addr', 'add', '10.244.7.0/32', 'dev', 'knit.1']);
    const r = await backend.setup();
    expect(r.writes).to.equal(3);
    expect(link()).to.include({ address: vtepMac(node.name, 1), mtu: 1450 });
    expect(addrs()).to.deep.equal(['10.244.1.0/32']);
    expect((await backend.setup()).writes).to.equal(0);
  });
});
