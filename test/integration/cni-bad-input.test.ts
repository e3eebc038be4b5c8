/**
 * Every kind of bad input through the real plugin against a real knitd:
 * exit code 1, the spec's error code on stdout, a message that names the
 * problem, and nothing left behind (no host veth, no allocation, knit's nft
 * table unchanged).
 */
import { expect } from 'chai';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { hostVeths, nftTableText, startKnitd, type CniEnv, type Knitd, type PluginRun } from '../lab/knitd';
import { cleanupAll } from '../lab/cleanup';

interface Snapshot { veths: string[]; allocations: string[]; nft: string }

function cniError(r: PluginRun, what: string): { code: number; msg: string; cniVersion: string } {
  expect(r.code, `${what}: exit code; stdout=${r.stdout} stderr=${r.stderr}`).to.equal(1);
  expect(r.json, `${what}: a JSON error on stdout, got ${r.stdout}`).to.be.an('object');
  return r.json as { code: number; msg: string; cniVersion: string };
}

describe('CNI bad input: spec error codes and nothing leaked', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;
  let c: LabContainer;

  async function snapshot(k: Knitd = knitd): Promise<Snapshot> {
    return {
      veths: await hostVeths(k.node.ns),
      allocations: k.ipam().allocations.map((a) => `${a.containerId}/${a.ifname}=${a.ip}`),
      nft: await nftTableText(k.node.ns),
    };
  }

  before(async () => {
    lab = await createLab({ nodes: 2 });
    knitd = await startKnitd(lab, lab.nodes[0]!);
    c = lab.addContainer(0, 'bad');
    // One live container with a port mapping, so "unchanged" is checked against a non-empty state.
    const live = lab.addContainer(0, 'live');
    const r = await knitd.cni('ADD', { CNI_CONTAINERID: live.containerId, CNI_NETNS: live.netnsPath, CNI_IFNAME: 'eth0' },
      knitd.conf('1.1.0', { capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80 }] } }));
    expect(r.code, r.stdout).to.equal(0);
  });
  after(async () => {
    await cleanupAll([
      () => knitd?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  const good = (): CniEnv => ({ CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' });
  const pm = { capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 9090, containerPort: 90 }] } };

  interface Case {
    name: string;
    command?: string | undefined;
    env?: (e: CniEnv) => CniEnv;
    conf?: () => Record<string, unknown> | string;
    code: number;
    msg: RegExp | string;
  }
  const without = (k: keyof CniEnv) => (e: CniEnv): CniEnv => ({ ...e, [k]: undefined });
  const cases: Case[] = [
    { name: 'malformed JSON', conf: () => '{"cniVersion": "1.1.0", "name": ', code: 6, msg: /decoding the network configuration/ },
    { name: 'a JSON array instead of an object', conf: () => '[]', code: 6, msg: /not a JSON object/ },
    { name: 'CNI_COMMAND missing', command: undefined, code: 4, msg: 'CNI_COMMAND' },
    { name: 'CNI_COMMAND unknown', command: 'ATTACH', code: 4, msg: 'CNI_COMMAND' },
    { name: 'CNI_CONTAINERID missing', env: without('CNI_CONTAINERID'), code: 4, msg: 'CNI_CONTAINERID' },
    { name: 'CNI_CONTAINERID "../x"', env: (e) => ({ ...e, CNI_CONTAINERID: '../x' }), code: 4, msg: 'CNI_CONTAINERID' },
    { name: 'CNI_NETNS missing', env: without('CNI_NETNS'), code: 4, msg: 'CNI_NETNS' },
    { name: 'CNI_IFNAME missing', env: without('CNI_IFNAME'), code: 4, msg: 'CNI_IFNAME' },
    { name: 'CNI_IFNAME "eth0/x"', env: (e) => ({ ...e, CNI_IFNAME: 'eth0/x' }), code: 4, msg: 'CNI_IFNAME' },
    { name: 'CNI_IFNAME of 16 chars', env: (e) => ({ ...e, CNI_IFNAME: 'abcdefghijklmnop' }), code: 4, msg: 'CNI_IFNAME' },
    { name: 'CNI_IFNAME with a space', env: (e) => ({ ...e, CNI_IFNAME: 'eth 0' }), code: 4, msg: 'CNI_IFNAME' },
    { name: 'unsupported cniVersion', conf: () => knitd.conf('9.9.9'), code: 1, msg: /9\.9\.9/ },
    { name: 'invalid mtu', conf: () => knitd.conf('1.1.0', { mtu: 'big' }), code: 7, msg: 'mtu' },
    { name: 'invalid route dst', conf: () => knitd.conf('1.1.0', { routes: [{ dst: 'nowhere' }] }), code: 7, msg: 'routes[0].dst' },
    {
      name: 'invalid port mapping', conf: () => knitd.conf('1.1.0', { runtimeConfig: { portMappings: [{ hostPort: 70000, containerPort: 80 }] } }),
      code: 7, msg: 'runtimeConfig.portMappings[0].hostPort',
    },
    { name: 'missing name', conf: () => ({ cniVersion: '1.1.0', type: 'knit', agentSocket: knitd.socket }), code: 7, msg: 'name' },
    {
      name: 'netns path that does not exist', env: (e) => ({ ...e, CNI_NETNS: `/var/run/netns/${lab.prefix}nope` }), conf: () => knitd.conf('1.1.0', pm),
      code: 4, msg: /CNI_NETNS \/var\/run\/netns\/\S+nope does not exist/,
    },
  ];

  for (const tc of cases) {
    it(`${tc.name} → code ${tc.code}, nothing leaked`, async () => {
      const before = await snapshot();
      const env = (tc.env ?? ((e) => e))(good());
      const command = 'command' in tc ? tc.command : 'ADD';
      const conf = tc.conf ? tc.conf() : knitd.conf('1.1.0', pm);
      const r = command === undefined
        ? await knitd.cni('ADD', { ...env, CNI_COMMAND: undefined }, conf)
        : await knitd.cni(command, env, conf);
      const e = cniError(r, tc.name);
      expect(e.code, e.msg).to.equal(tc.code);
      if (typeof tc.msg === 'string') expect(e.msg).to.include(tc.msg);
      else expect(e.msg).to.match(tc.msg);
      expect(await snapshot()).to.deep.equal(before);
    });
  }

  it('ADD into a namespace where CNI_IFNAME already exists is refused (4) before anything is made', async () => {
    const busy = lab.addContainer(0, 'busy');
    await lab.exec(busy, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
    const before = await snapshot();
    const r = await knitd.cni('ADD', { CNI_CONTAINERID: busy.containerId, CNI_NETNS: busy.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0', pm));
    const e = cniError(r, 'ADD into a namespace that has eth0');
    expect(e.code).to.equal(4);
    expect(e.msg).to.include('already has an interface named eth0; CNI_IFNAME must name a new interface');
    expect(await snapshot()).to.deep.equal(before);
    // and the same container can be attached under another name afterwards
    const ok = await knitd.cni('ADD', { CNI_CONTAINERID: busy.containerId, CNI_NETNS: busy.netnsPath, CNI_IFNAME: 'eth1' }, knitd.conf('1.1.0'));
    expect(ok.code, ok.stdout).to.equal(0);
    expect((await knitd.cni('DEL', { CNI_CONTAINERID: busy.containerId, CNI_NETNS: busy.netnsPath, CNI_IFNAME: 'eth1' }, knitd.conf('1.1.0'))).code).to.equal(0);
    expect(await snapshot()).to.deep.equal(before);
  });

  it('knitd unreachable: ADD → 11, STATUS → 50, both naming the socket', async () => {
    const socket = `/tmp/${lab.prefix}no-knitd.sock`;
    const conf = { ...knitd.conf('1.1.0'), agentSocket: socket };
    const add = cniError(await knitd.cni('ADD', good(), conf), 'ADD');
    expect(add.code).to.equal(11);
    expect(add.msg).to.include(socket);
    const status = cniError(await knitd.cni('STATUS', {}, conf), 'STATUS');
    expect(status.code).to.equal(50);
    expect(status.msg).to.include(socket);
  });

  describe('pool exhausted (a /29: 5 usable addresses)', () => {
    let small: Knitd;
    const made: LabContainer[] = [];
    before(async () => {
      small = await startKnitd(lab, lab.nodes[1]!, { subnet: '10.244.2.0/29' });
    });
    after(async () => {
      await small?.destroy();
    });

    it('the 6th ADD fails with 101 and a clear message, leaves nothing, and STATUS reports 50', async () => {
      expect((await small.cni('STATUS', {}, small.conf('1.1.0'))).code, 'STATUS before').to.equal(0);
      const ips: string[] = [];
      for (let i = 0; i < 5; i++) {
        const x = lab.addContainer(1, `p${i}`);
        made.push(x);
        const r = await small.cni('ADD', { CNI_CONTAINERID: x.containerId, CNI_NETNS: x.netnsPath, CNI_IFNAME: 'eth0' }, small.conf('1.1.0'));
        expect(r.code, r.stdout).to.equal(0);
        ips.push(String((r.json!.ips as Array<{ address: string }>)[0]!.address));
      }
      expect(ips).to.have.members(['10.244.2.2/29', '10.244.2.3/29', '10.244.2.4/29', '10.244.2.5/29', '10.244.2.6/29']);
      const sixth = lab.addContainer(1, 'p6');
      const before = await snapshot(small);
      const e = cniError(await small.cni('ADD', { CNI_CONTAINERID: sixth.containerId, CNI_NETNS: sixth.netnsPath, CNI_IFNAME: 'eth0' }, small.conf('1.1.0', pm)), '6th ADD');
      expect(e.code).to.equal(101);
      expect(e.msg).to.include('no free address left in 10.244.2.0/29');
      expect(await snapshot(small)).to.deep.equal(before);
      const status = cniError(await small.cni('STATUS', {}, small.conf('1.1.0')), 'STATUS when full');
      expect(status.code).to.equal(50);
      expect(status.msg).to.include('10.244.2.0/29 is exhausted');
      // One DEL makes room again.
      const first = made[0]!;
      expect((await small.cni('DEL', { CNI_CONTAINERID: first.containerId, CNI_NETNS: first.netnsPath, CNI_IFNAME: 'eth0' }, small.conf('1.1.0'))).code).to.equal(0);
      expect((await small.cni('STATUS', {}, small.conf('1.1.0'))).code, 'STATUS after a DEL').to.equal(0);
    });
  });
});
