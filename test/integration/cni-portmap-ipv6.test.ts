/**
 * IPv6 port mappings (issue 13) through the real plugin, on a dual-stack
 * node (single-node knitd with an IPv6 subnet, dual-stack underlay): a
 * mapping without hostIP is published on both families, as the CNI portmap
 * plugin does; one with hostIP "::" on IPv6 only; ::1 is refused with code 7
 * (IPv6 has no route_localnet). Reached from another host over IPv6, from
 * the node itself and from another container (hairpin); DEL removes it.
 */
import { expect } from 'chai';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { cniEnv, startKnitd, startTcpReplier, tcpGet, type Knitd } from '../lab/knitd';
import { cleanupAll } from '../lab/cleanup';

const SUBNET6 = 'fd00:10:244:1::/64';

describe('CNI IPv6 port mappings through the real plugin (dual-stack)', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;
  let server: LabContainer;
  let client: LabContainer;
  let node6: string;
  const mapped = (portMappings: Array<Record<string, unknown>>) => ({ capabilities: { portMappings: true }, runtimeConfig: { portMappings } });

  before(async () => {
    lab = await createLab({ nodes: 1, ipv6: true });
    node6 = lab.nodes[0]!.underlayIp6!;
    knitd = await startKnitd(lab, lab.nodes[0]!, { args: ['--ipv6-subnet', SUBNET6] });
    server = lab.addContainer(0, 'srv6');
    client = lab.addContainer(0, 'cli6');
    const a = await knitd.cni('ADD', cniEnv(server), knitd.conf('1.1.0', mapped([
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostPort: 8086, containerPort: 80, protocol: 'tcp', hostIP: '::' },
    ])));
    expect(a.code, a.stdout).to.equal(0);
    const b = await knitd.cni('ADD', cniEnv(client), knitd.conf('1.1.0'));
    expect(b.code, b.stdout).to.equal(0);
    await startTcpReplier(lab, server.ns, 80, 'hello from srv', '::');
  });
  after(async () => {
    await cleanupAll([
      () => knitd?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('the IPv6 mappings are in table ip6 knit', async () => {
    const t = await lab.exec(lab.nodes[0]!.ns, 'nft', ['list', 'table', 'ip6', 'knit']);
    expect(t).to.match(/tcp \. 8080 comment "[^"]+" : fd00:10:244:1::\w+ \. 80/);
    expect(t).to.match(/tcp \. 8086 comment "[^"]+" : fd00:10:244:1::\w+ \. 80/);
  });

  const from: Array<[string, () => string, () => string, number]> = [
    ['another host over IPv6, no hostIP (both families)', () => lab.underlay.ns, () => node6, 8080],
    ['another host over IPv6, hostIP ::', () => lab.underlay.ns, () => node6, 8086],
    ['another host over IPv4, no hostIP', () => lab.underlay.ns, () => lab.nodes[0]!.underlayIp, 8080],
    ['the node itself, its IPv6 address', () => lab.nodes[0]!.ns, () => node6, 8080],
    ['another container on the node over IPv6 (hairpin)', () => client.ns, () => node6, 8080],
  ];
  for (const [name, ns, host, port] of from) {
    it(`is reached from ${name}`, async () => {
      const r = await tcpGet(ns(), host(), port);
      expect(r, JSON.stringify(r)).to.deep.equal({ data: 'hello from srv' });
    });
  }

  it('hostIP :: is IPv6 only: port 8086 is not published on IPv4', async () => {
    const r = await tcpGet(lab.underlay.ns, lab.nodes[0]!.underlayIp, 8086, 1000);
    expect(r.error, JSON.stringify(r)).to.be.a('string');
  });

  it('hostIP ::1 is refused with code 7 and nothing is made', async () => {
    const c = lab.addContainer(0, 'lo6');
    const r = await knitd.cni('ADD', cniEnv(c), knitd.conf('1.1.0', mapped([{ hostPort: 8090, containerPort: 80, protocol: 'tcp', hostIP: '::1' }])));
    expect((r.json as { code?: number }).code, r.stdout).to.equal(7);
    expect(r.stdout).to.match(/IPv6 loopback cannot be forwarded/);
    expect(knitd.ipam().allocations.some((x) => x.containerId === c.containerId)).to.equal(false);
  });

  it('DEL removes the mappings: the IPv6 connection then fails and the ip6 table is gone', async () => {
    const d = await knitd.cni('DEL', cniEnv(server), knitd.conf('1.1.0', mapped([])));
    expect(d.code, d.stdout).to.equal(0);
    const r = await tcpGet(lab.underlay.ns, node6, 8080, 1000);
    expect(r.error, JSON.stringify(r)).to.be.a('string');
    expect(await lab.exec(lab.nodes[0]!.ns, 'nft', ['list', 'tables'])).to.not.contain('ip6 knit');
  });
});
