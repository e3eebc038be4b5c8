/**
 * The network config in etcd is untrusted: a cluster CIDR of 0.0.0.0/0,
 * loopback, multicast, or one over the node's own underlay subnet is refused
 * by a real knitd before it changes anything (no lease, no state file, no
 * bridge, no VXLAN device, no nft table), with a log line naming the field
 * and the conflict. And a start-up that fails part-way (here: the bridge
 * name is taken by a veth, found after the lease and the VXLAN device were
 * made) removes what it made, so the next start is a clean one.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../lab/lab';
import { ipJson, nftTableText, startKnitd, type Knitd } from '../lab/knitd';
import { etcdctl, logRecords, VXLAN_NETWORK } from './cluster-lab';
import { networkBridgeName } from '../../agent/src/store/named-networks';
import { cleanupAll } from '../lab/cleanup';

const NETWORK_KEY = '/knit/v1/network';
const SUBNETS = '/knit/v1/subnets/';

describe('cluster start-up refuses a hostile network config and leaves nothing behind', function () {
  this.timeout(120_000);
  let lab: Lab;
  const started: Knitd[] = [];

  before(async () => {
    lab = await createLab({ nodes: 1, etcd: true });
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(started, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  /** Starts knitd without a seed, waits for it to exit, returns it. */
  async function startToExit(args: string[] = []): Promise<{ k: Knitd; code: number | null }> {
    const k = await startKnitd(lab, lab.nodes[0]!, { cluster: { etcdEndpoints: lab.etcdEndpoints }, waitReady: false, args });
    started.push(k);
    const exit = await Promise.race([
      k.proc.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`knitd still running after 20 s:\n${k.proc.logTail()}`)), 20_000)),
    ]);
    return { k, code: exit.code };
  }

  /** Everything a start could have left: links, leases, state files, nft table. */
  async function leftovers(k: Knitd): Promise<string[]> {
    const node = lab.nodes[0]!;
    const links = (await ipJson<Array<{ ifname: string }>>(node.ns, ['link', 'show'])).map((l) => l.ifname);
    const out = links.filter((n) => n === 'knit0' || n.startsWith('knit.')).map((n) => `link ${n}`);
    const addrs = await ipJson<Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }>>(node.ns, ['addr', 'show']);
    for (const a of addrs) for (const i of a.addr_info) if (a.ifname === 'knit0') out.push(`address ${i.local}/${i.prefixlen} on knit0`);
    const keys = (await etcdctl(lab, ['get', '--prefix', '--keys-only', SUBNETS])).split('\n').filter((l) => l.trim() !== '');
    out.push(...keys.map((key) => `etcd ${key}`));
    for (const f of ['subnet.json', 'ipam.json', 'endpoints.json']) if (existsSync(join(k.stateDir, f))) out.push(`file ${f}`);
    if ((await nftTableText(node.ns)) !== '') out.push('nft table ip knit');
    return out;
  }

  const underlayOverlap = '192.168.0.0/16'; // holds the lab's underlay 192.168.77.0/24
  const cases: Array<{ cidr: string; subnetLength?: number; match: RegExp }> = [
    { cidr: '0.0.0.0/0', match: /network config: field "clusterCidr": 0\.0\.0\.0\/0 is the whole IPv4 address space/ },
    { cidr: '127.0.0.0/8', match: /network config: field "clusterCidr": 127\.0\.0\.0\/8 overlaps the loopback range 127\.0\.0\.0\/8/ },
    { cidr: '224.0.0.0/4', subnetLength: 24, match: /network config: field "clusterCidr": 224\.0\.0\.0\/4 overlaps the multicast range 224\.0\.0\.0\/4/ },
    { cidr: '169.254.0.0/16', match: /field "clusterCidr": 169\.254\.0\.0\/16 overlaps the link-local range/ },
    { cidr: underlayOverlap, match: /network config: field "clusterCidr": 192\.168\.0\.0\/16 overlaps the node's address 192\.168\.77\.\d+\/24 on eth0/ },
  ];
  for (const tc of cases) {
    it(`refuses clusterCidr ${tc.cidr} before any side effect`, async () => {
      await etcdctl(lab, ['put', NETWORK_KEY, JSON.stringify({ clusterCidr: tc.cidr, ...(tc.subnetLength ? { subnetLength: tc.subnetLength } : {}), backend: { type: 'vxlan' } })]);
      const { k, code } = await startToExit();
      expect(code, k.proc.logTail()).to.equal(1);
      const failed = logRecords(k).filter((r) => r.message === 'knitd failed to start');
      expect(failed, k.proc.logTail()).to.have.length(1);
      expect(failed[0]!.level).to.equal('error');
      expect(String(failed[0]!.error)).to.match(tc.match);
      expect(await leftovers(k)).to.deep.equal([]);
    });
  }

  // The backend section is checked by its backend (backend/<type>/config.ts), still before anything is made.
  const backendCases: Array<{ name: string; backend: Record<string, unknown>; match: RegExp }> = [
    { name: 'an unknown backend', backend: { type: 'udp' }, match: /network config: field "backend\.type": unknown backend "udp" \(known: vxlan, host-gw, ipip, bgp\)/ },
    { name: 'VNI 0', backend: { type: 'vxlan', vni: 0 }, match: /network config: field "backend\.vni": must be an integer 1\.\.16777215, got 0/ },
    { name: 'a mistyped vxlan field', backend: { type: 'vxlan', VNI: 2 }, match: /network config: field "backend\.VNI": unknown field/ },
    { name: 'a bgp peer without an AS', backend: { type: 'bgp', asn: 65001, peers: [{ address: '192.168.77.1' }] }, match: /network config: field "backend\.peers\.0\.asn": is required/ },
  ];
  for (const tc of backendCases) {
    it(`refuses a backend section with ${tc.name} before any side effect`, async () => {
      await etcdctl(lab, ['put', NETWORK_KEY, JSON.stringify({ clusterCidr: '10.244.0.0/16', backend: tc.backend })]);
      const { k, code } = await startToExit();
      expect(code, k.proc.logTail()).to.equal(1);
      const failed = logRecords(k).filter((r) => r.message === 'knitd failed to start');
      expect(failed, k.proc.logTail()).to.have.length(1);
      expect(String(failed[0]!.error)).to.match(tc.match);
      expect(await leftovers(k)).to.deep.equal([]);
    });
  }

  it('a start that fails part-way (bridge name taken by a veth) removes its lease, state file and VXLAN device', async () => {
    const node = lab.nodes[0]!;
    await etcdctl(lab, ['put', NETWORK_KEY, JSON.stringify(VXLAN_NETWORK)]);
    await lab.exec(node.ns, 'ip', ['link', 'add', 'knit0', 'type', 'veth', 'peer', 'name', 'knit0-peer']);
    try {
      const { k, code } = await startToExit();
      expect(code, k.proc.logTail()).to.equal(1);
      const logs = logRecords(k);
      // It got far: a lease was held and the VXLAN device made before the bridge step failed.
      expect(logs.some((r) => r.message === 'subnet lease held'), k.proc.logTail()).to.equal(true);
      expect(String(logs.find((r) => r.message === 'knitd failed to start')?.error)).to.match(/ensure bridge knit0: a link of kind veth already has that name/);
      const undone = logs.filter((r) => r.message === 'start-up failed: undone').map((r) => String(r.what));
      expect(undone.join('\n')).to.match(/subnet lease 10\.244\.\d+\.0\/24/).and.to.match(/subnet state file/).and.to.match(/links made at start-up/);
      // Nothing of knit's is left; the operator's veth is untouched.
      const left = (await leftovers(k)).filter((l) => l !== 'link knit0');
      expect(left).to.deep.equal([]);
      const kinds = await ipJson<Array<{ ifname: string; linkinfo?: { info_kind?: string } }>>(node.ns, ['-d', 'link', 'show', 'knit0']);
      expect(kinds[0]?.linkinfo?.info_kind).to.equal('veth');
    } finally {
      await lab.exec(node.ns, 'ip', ['link', 'del', 'knit0']);
    }
  });

  it('a start that fails at its last step (the conflist) takes back the gateway address it put on a bridge it found, and everything else, named networks included', async () => {
    const node = lab.nodes[0]!;
    await lab.exec(node.ns, 'ip', ['link', 'add', 'knit0', 'type', 'bridge']);
    // A named network in etcd: this start leases a subnet of it and makes its bridge and VXLAN device too.
    await etcdctl(lab, ['put', '/knit/v1/networks/blue/network', JSON.stringify({ clusterCidr: '10.50.0.0/16', backend: { type: 'vxlan', vni: 50 } })]);
    try {
      // /dev/null is no directory: writing the conflist is the one step left after the CNI socket and the API.
      const { k, code } = await startToExit(['--cni-conf-dir', '/dev/null']);
      expect(code, k.proc.logTail()).to.equal(1);
      const logs = logRecords(k);
      expect(logs.some((r) => r.message === 'bridge gateway address added'), k.proc.logTail()).to.equal(true);
      const undone = logs.filter((r) => r.message === 'start-up failed: undone').map((r) => String(r.what)).join('\n');
      expect(undone).to.match(/addresses added to bridge knit0/).and.to.match(/CNI socket/).and.to.match(/nft table ip knit/).and.to.match(/subnet lease/);
      expect(logs.some((r) => r.message === 'network up on this node' && r.network === 'blue'), 'blue came up before the failure').to.equal(true);
      expect(undone).to.contain(`bridge ${networkBridgeName('blue')}`);
      expect(undone).to.match(/subnet lease 10\.50\./).and.to.match(/state directory of network blue/);
      expect((await leftovers(k)).filter((l) => l !== 'link knit0')).to.deep.equal([]);
      const links = (await ipJson<Array<{ ifname: string }>>(node.ns, ['link', 'show'])).map((l) => l.ifname);
      expect(links.filter((n) => n === networkBridgeName('blue') || n === 'knit.50'), 'named network devices').to.deep.equal([]);
      expect((await etcdctl(lab, ['get', '--prefix', '--keys-only', '/knit/v1/networks/blue/subnets/'])).trim()).to.equal('');
      expect(existsSync(join(k.stateDir, 'networks', 'blue')), 'blue state directory').to.equal(false);
      expect(existsSync(k.socket), 'CNI socket removed').to.equal(false);
    } finally {
      await lab.exec(node.ns, 'ip', ['link', 'del', 'knit0']);
      await etcdctl(lab, ['del', '--prefix', '/knit/v1/networks/']);
    }
  });

  it('starts cleanly once the obstacles are gone', async () => {
    const node = lab.nodes[0]!;
    const k = await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints } });
    started.push(k);
    expect(k.subnet).to.match(/^10\.244\.\d+\.0\/24$/);
  });
});
