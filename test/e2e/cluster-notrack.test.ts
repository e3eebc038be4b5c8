/**
 * Cluster-internal traffic skips conntrack (knit's raw_prerouting chain), and
 * everything that needs conntrack still works: a real etcd, a real knitd per
 * node in cluster mode, containers attached through the real plugin, one
 * published host port. For each flow the test checks that it works AND
 * whether the nodes tracked it (`conntrack -L` in the node namespace; knit's
 * nat chains turn conntrack on there, so a tracked flow leaves an entry):
 *   - pod → pod across nodes: works, keeps its source, no conntrack entry,
 *     and neither do its outer VXLAN packets (UDP 8472 between the nodes);
 *   - pod → outside: masqueraded to the node address (tracked);
 *   - outside → node:hostPort → pod (DNAT, tracked);
 *   - pod → another node's hostPort → pod, and pod → its own node's hostPort →
 *     pod (hairpin);
 *   - the node itself → a pod (its replies must match the node's connection);
 *   - with masquerade off, pod → another node's hostPort → pod: here the
 *     DNATed request and its replies look pod-to-pod by address, and only the
 *     published-ports set keeps them tracked so the reply is un-DNATed.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { PEER_ADDRESS, startKnitd, startTcpReplier, tcpGet, type Knitd } from '../lab/knitd';
import { cleanupAll } from '../lab/cleanup';

const execFileP = promisify(execFile);

interface Attached { c: LabContainer; ip: string }

/** conntrack entries in `ns` for `proto` (TCP by default) to `dport` from `src` (any source when undefined), as text lines. */
async function tracked(ns: string, dport: number, src?: string, proto: 'tcp' | 'udp' = 'tcp'): Promise<string[]> {
  const args = ['netns', 'exec', ns, 'conntrack', '-L', '-p', proto, '--dport', String(dport), ...(src ? ['-s', src] : [])];
  const { stdout } = await execFileP('ip', args, { encoding: 'utf8' });
  return stdout.split('\n').filter((l) => l.trim() !== '');
}

/** A server port no mapping targets (80 is published as host port 8080). */
const UNPUBLISHED = 81;

const MAPPED = {
  capabilities: { portMappings: true },
  runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
};

/** Two nodes; on node 2 a server container publishing 80 as host port 8080 and a second container; on node 1 a client. */
async function cluster(backend: string, masquerade: boolean): Promise<{ lab: Lab; knitds: Knitd[]; client: Attached; server: Attached; neighbour: Attached }> {
  const lab = await createLab({ nodes: 2, etcd: true });
  const knitds: Knitd[] = [];
  const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: backend }, masquerade };
  for (const node of lab.nodes) knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
  const attach = async (n: number, tag: string, extra: Record<string, unknown> = {}): Promise<Attached> => {
    const c = lab.addContainer(n, tag);
    const r = await knitds[n]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitds[n]!.conf('1.1.0', extra));
    expect(r.code, `ADD ${tag}: ${r.stdout} ${r.stderr}`).to.equal(0);
    return { c, ip: (r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]! };
  };
  const client = await attach(0, 'cli');
  const server = await attach(1, 'srv', MAPPED);
  const neighbour = await attach(1, 'nbr');
  await startTcpReplier(lab, server.c.ns, 80, PEER_ADDRESS);
  // An unpublished port of the same server: plain pod-to-pod traffic.
  await startTcpReplier(lab, server.c.ns, UNPUBLISHED, PEER_ADDRESS);
  return { lab, knitds, client, server, neighbour };
}

describe('cluster: pod-to-pod traffic without conntrack, NAT flows still tracked (vxlan, masquerade on)', function () {
  this.timeout(120_000);
  let lab: Lab;
  let knitds: Knitd[] = [];
  let client: Attached;
  let server: Attached;
  let neighbour: Attached;

  before(async () => {
    ({ lab, knitds, client, server, neighbour } = await cluster('vxlan', true));
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('pod → pod across nodes: answered, source kept, and neither node tracks it', async () => {
    expect(await tcpGet(client.c.ns, server.ip, UNPUBLISHED)).to.deep.equal({ data: client.ip });
    for (const k of knitds) expect(await tracked(k.node.ns, UNPUBLISHED, client.ip), `conntrack on ${k.node.name}`).to.deep.equal([]);
    expect((await lab.ping(client.c, server.ip, 2)).received).to.be.greaterThan(0);
  });

  it('the outer VXLAN packets (UDP 8472 between the node addresses) are not tracked either, on the sending or the receiving node', async () => {
    // Traffic both ways: the client's request leaves node 1 (raw output) and arrives at node 2 (raw prerouting), the answer the other way.
    for (let i = 0; i < 3; i++) expect(await tcpGet(client.c.ns, server.ip, UNPUBLISHED)).to.deep.equal({ data: client.ip });
    expect((await lab.ping(client.c, server.ip, 3)).received).to.be.greaterThan(0);
    for (const k of knitds) {
      expect(await tracked(k.node.ns, 8472, undefined, 'udp'), `VXLAN conntrack entries on ${k.node.name}`).to.deep.equal([]);
      const rules = (await execFileP('ip', ['netns', 'exec', k.node.ns, 'nft', 'list', 'chain', 'ip', 'knit', 'raw_output'], { encoding: 'utf8' })).stdout;
      expect(rules, `raw_output on ${k.node.name}`).to.contain(`ip saddr ${k.node.underlayIp} udp dport 8472 notrack`);
    }
  });

  it('pod → outside the cluster: masqueraded to the node address (tracked)', async () => {
    const echo = await startTcpReplier(lab, lab.underlay.ns, 7071, PEER_ADDRESS);
    try {
      expect(await tcpGet(client.c.ns, lab.underlay.plan.routerIp, 7071)).to.deep.equal({ data: lab.nodes[0]!.underlayIp });
      expect(await tracked(knitds[0]!.node.ns, 7071, client.ip)).to.have.length(1);
    } finally {
      await echo.stop();
    }
  });

  it('outside → node:hostPort → pod (DNAT, tracked)', async () => {
    expect(await tcpGet(lab.underlay.ns, lab.nodes[1]!.underlayIp, 8080)).to.deep.equal({ data: lab.underlay.plan.routerIp });
    expect((await tracked(knitds[1]!.node.ns, 8080, lab.underlay.plan.routerIp)).join('\n')).to.contain(`src=${server.ip}`);
  });

  it('pod → another node:hostPort → pod (masqueraded on the way out, DNAT at the target)', async () => {
    expect(await tcpGet(client.c.ns, lab.nodes[1]!.underlayIp, 8080)).to.deep.equal({ data: lab.nodes[0]!.underlayIp });
  });

  it('pod → its own node:hostPort → pod on the same node (hairpin)', async () => {
    const r = await tcpGet(neighbour.c.ns, lab.nodes[1]!.underlayIp, 8080);
    expect(r.error, JSON.stringify(r)).to.equal(undefined);
    // Hairpin masquerade: the server sees the bridge address, which is in the cluster CIDR.
    expect(r.data).to.match(/^10\.244\.\d+\.1$/);
    expect(await tracked(knitds[1]!.node.ns, 8080, neighbour.ip)).to.have.length(1);
  });

  it('the node itself → a pod on it (tracked: the reply is for the node)', async () => {
    const r = await tcpGet(lab.nodes[1]!.ns, server.ip, 80);
    expect(r.error, JSON.stringify(r)).to.equal(undefined);
    expect(await tracked(knitds[1]!.node.ns, 80, r.data)).to.have.length(1);
  });
});

describe('cluster: with masquerade off, a hostPort reached from a pod on another node (host-gw)', function () {
  this.timeout(120_000);
  let lab: Lab;
  let knitds: Knitd[] = [];
  let client: Attached;
  let server: Attached;

  before(async () => {
    ({ lab, knitds, client, server } = await cluster('host-gw', false));
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('pod → pod is still untracked', async () => {
    expect(await tcpGet(client.c.ns, server.ip, UNPUBLISHED)).to.deep.equal({ data: client.ip });
    for (const k of knitds) expect(await tracked(k.node.ns, UNPUBLISHED, client.ip), `conntrack on ${k.node.name}`).to.deep.equal([]);
  });

  it('pod → node:hostPort → pod: the request arrives with the pod source and the pod-to-pod-looking reply is un-DNATed', async () => {
    // Without the published-ports exception the reply (server pod → client pod)
    // would skip conntrack, leave with the server's own address and be dropped
    // by the client, which talks to node:8080.
    expect(await tcpGet(client.c.ns, lab.nodes[1]!.underlayIp, 8080)).to.deep.equal({ data: client.ip });
    // One entry on the target node: client → node:8080, reply from the server pod.
    const entries = await tracked(knitds[1]!.node.ns, 8080, client.ip);
    expect(entries).to.have.length(1);
    expect(entries[0]).to.contain(`dst=${lab.nodes[1]!.underlayIp}`).and.to.contain(`src=${server.ip} dst=${client.ip} sport=80`);
  });

  it('the published port reached directly by pod address stays tracked', async () => {
    expect(await tcpGet(client.c.ns, server.ip, 80)).to.deep.equal({ data: client.ip });
    expect(await tracked(knitds[1]!.node.ns, 80, client.ip)).to.have.length(1);
  });
});
