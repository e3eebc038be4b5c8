/**
 * knit's own port mappings (capability `portMappings`, runtimeConfig from the
 * runtime) through the real plugin: a TCP server in a container is reached
 * through hostIP:hostPort from another host (the underlay namespace), from
 * the node itself, from another container on the same node and from itself
 * (hairpin). DEL removes the mapping: the connection then fails.
 */
import { expect } from 'chai';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { cniEnv, nftCounts, startKnitd, startTcpReplier, tcpGet, type Knitd } from '../lab/knitd';
import { cleanupAll } from '../lab/cleanup';

describe('CNI port mappings through the real plugin', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;
  let server: LabContainer;
  let client: LabContainer;
  let nodeIp: string;
  const mapped = {
    capabilities: { portMappings: true },
    runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
  };
  const env = cniEnv;

  before(async () => {
    lab = await createLab({ nodes: 1 });
    nodeIp = lab.nodes[0]!.underlayIp;
    knitd = await startKnitd(lab, lab.nodes[0]!);
    server = lab.addContainer(0, 'srv');
    client = lab.addContainer(0, 'cli');
    const a = await knitd.cni('ADD', env(server), knitd.conf('1.1.0', mapped));
    expect(a.code, a.stdout).to.equal(0);
    const b = await knitd.cni('ADD', env(client), knitd.conf('1.1.0'));
    expect(b.code, b.stdout).to.equal(0);
    await startTcpReplier(lab, server.ns, 80, 'hello from srv');
  });
  after(async () => {
    await cleanupAll([
      () => knitd?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('knit puts the mapping into its nft table', async () => {
    expect((await nftCounts(lab.nodes[0]!.ns)).elements).to.equal(1);
  });

  const from: Array<[string, () => string, () => string]> = [
    ['another host (the underlay namespace)', () => lab.underlay.ns, () => nodeIp],
    ['the node itself, its underlay address', () => lab.nodes[0]!.ns, () => nodeIp],
    ['the node itself, 127.0.0.1', () => lab.nodes[0]!.ns, () => '127.0.0.1'],
    ['another container on the node (hairpin through the bridge)', () => client.ns, () => nodeIp],
    ['the server container itself (hairpin on its own veth)', () => server.ns, () => nodeIp],
  ];
  for (const [name, ns, host] of from) {
    it(`is reached from ${name}`, async () => {
      const r = await tcpGet(ns(), host(), 8080);
      expect(r, JSON.stringify(r)).to.deep.equal({ data: 'hello from srv' });
    });
  }

  it('DEL removes the mapping: the connection then fails', async () => {
    const d = await knitd.cni('DEL', env(server), knitd.conf('1.1.0', mapped));
    expect(d.code, d.stdout).to.equal(0);
    expect((await nftCounts(lab.nodes[0]!.ns)).elements).to.equal(0);
    const r = await tcpGet(lab.underlay.ns, nodeIp, 8080, 1000);
    expect(r.data, 'no answer after DEL').to.equal(undefined);
    // Refused (the node's own stack answers with RST), not a timeout: the
    // packet is no longer DNATed towards the vanished container address.
    expect(r.error).to.match(/ECONNREFUSED/);
    const local = await tcpGet(lab.nodes[0]!.ns, '127.0.0.1', 8080, 1000);
    expect(local.error).to.match(/ECONNREFUSED/);
  });
});
