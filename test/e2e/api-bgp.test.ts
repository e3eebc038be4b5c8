/**
 * The operator surface of the bgp backend against real knitds: two nodes in
 * a full mesh (iBGP from the etcd leases). `knitctl bgp` lists the session
 * Established with the peer's address and AS, `knitctl bgp routes` the
 * peer's subnet as installed with the peer as next hop — checked against the
 * kernel's protocol-90 routes — and /metrics counts the session by state.
 * With a non-BGP backend the same calls answer that BGP is not enabled.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { createLab, type Lab } from '../lab/lab';
import { REPO_ROOT, startKnitd, type Knitd } from '../lab/knitd';
import { freePort } from '../lab/etcd';
import { routesIn, waitFor } from './bgp-lab';
import { cleanupAll } from '../lab/cleanup';

const execFileP = promisify(execFile);
const KNITCTL = join(REPO_ROOT, 'agent', 'bin', 'knitctl');

async function knitctl(socket: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [KNITCTL, '--socket', socket, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function scrape(ns: string, address: string): Promise<string> {
  const script = `require('node:http').get('http://${address}/metrics', (r) => { let d = ''; r.on('data', (c) => d += c); r.on('end', () => process.stdout.write(d)); })`;
  const { stdout } = await execFileP('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { encoding: 'utf8' });
  return stdout;
}

describe('operator surface of the bgp backend (2-node iBGP mesh, real knitd, real knitctl)', function () {
  this.timeout(120_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  let metricsAddress: string;

  before(async () => {
    lab = await createLab({ nodes: 2, etcd: true });
    metricsAddress = `127.0.0.1:${await freePort()}`;
    const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'bgp', asn: 64512 } };
    for (const node of lab.nodes) {
      knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network }, metricsAddress }));
    }
    await waitFor('the mesh installed both subnets', () => [0, 1].every((i) => routesIn(lab.nodes[i]!.ns, 4, 90).length === 1), 30_000);
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('knitctl bgp: one Established iBGP session with the other node', async () => {
    const r = await knitctl(knitds[0]!.apiSocket, ['bgp', '-o', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const { sessions } = JSON.parse(r.stdout) as { sessions: Array<{ peerAddress?: string; peer_address?: string; peerAsn?: number; peer_asn?: number; state: string }> };
    expect(sessions).to.have.length(1);
    const s = sessions[0]!;
    expect(s.peerAddress ?? s.peer_address).to.equal(lab.nodes[1]!.underlayIp);
    expect(s.peerAsn ?? s.peer_asn).to.equal(64512);
    expect(s.state).to.match(/established/i);
    const table = await knitctl(knitds[0]!.apiSocket, ['bgp']);
    expect(table.stdout).to.include(lab.nodes[1]!.underlayIp);
  });

  it('knitctl bgp routes: the peer subnet, installed, next hop = the peer, as the kernel holds it', async () => {
    const r = await knitctl(knitds[0]!.apiSocket, ['bgp', 'routes', '-o', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const { routes } = JSON.parse(r.stdout) as { routes: Array<{ prefix: string; nextHop?: string; next_hop?: string; installed: boolean }> };
    const peerRoute = routes.find((x) => x.prefix === knitds[1]!.subnet);
    expect(peerRoute, JSON.stringify(routes)).to.not.equal(undefined);
    expect(peerRoute!.nextHop ?? peerRoute!.next_hop).to.equal(lab.nodes[1]!.underlayIp);
    expect(peerRoute!.installed).to.equal(true);
    const kernel = routesIn(lab.nodes[0]!.ns, 4, 90).map((x) => `${x.dst} via ${x.gateway}`);
    expect(kernel).to.deep.equal([`${knitds[1]!.subnet} via ${lab.nodes[1]!.underlayIp}`]);
  });

  it('/metrics counts the session by state and the prefixes each way', async () => {
    const text = await scrape(lab.nodes[0]!.ns, metricsAddress);
    expect(text).to.match(/^knit_bgp_sessions\{state="Established"\} 1$/m);
    const peer = lab.nodes[1]!.underlayIp.replace(/\./g, '\\.');
    expect(text).to.match(new RegExp(`^knit_bgp_prefixes\\{peer="${peer}",direction="received"\\} 1$`, 'm'));
    expect(text).to.match(new RegExp(`^knit_bgp_prefixes\\{peer="${peer}",direction="sent"\\} [1-9]`, 'm'));
  });
});

describe('operator surface without BGP (vxlan backend)', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;

  before(async () => {
    lab = await createLab({ nodes: 1, etcd: true });
    knitd = await startKnitd(lab, lab.nodes[0]!, { cluster: { etcdEndpoints: lab.etcdEndpoints, network: { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } } } });
  });
  after(async () => {
    await cleanupAll([
      () => knitd?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('knitctl bgp says BGP is not enabled and exits non-zero', async () => {
    const r = await knitctl(knitd.apiSocket, ['bgp']);
    expect(r.code).to.not.equal(0);
    expect(r.stderr + r.stdout).to.match(/BGP is not enabled/i);
  });
});
