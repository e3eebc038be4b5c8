/**
 * knitd killed with SIGKILL between ADD and DEL: the restarted knitd still
 * releases the right address on DEL, running containers keep their address
 * and connectivity (a ping running through the restart loses nothing), and
 * the next ADD gets a new, distinct address.
 */
import { expect } from 'chai';
import type { Lab } from '../lab/lab';
import { cniEnv, hostVeths, ipJson, type Knitd, type PluginRun, withOneNodeKnitd } from '../lab/knitd';

interface IpAddr { addr_info: Array<{ family: string; local: string; prefixlen: number }> }

function okJson(r: PluginRun, what: string): Record<string, unknown> {
  expect(r.code, `${what}: exit code; stdout=${r.stdout} stderr=${r.stderr}`).to.equal(0);
  return r.json ?? {};
}

const addressOf = (r: Record<string, unknown>): string => String((r.ips as Array<{ address: string }>)[0]!.address).split('/')[0]!;

describe('CNI across a knitd SIGKILL and restart', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;

  withOneNodeKnitd((l, k) => { lab = l; knitd = k; });

  it('keeps containers working and DEL releases the right address after the restart', async () => {
    const env = cniEnv;
    const a = lab.addContainer(0, 'ra');
    const b = lab.addContainer(0, 'rb');
    const ipA = addressOf(okJson(await knitd.cni('ADD', env(a), knitd.conf('1.1.0')), 'ADD a'));
    const ipB = addressOf(okJson(await knitd.cni('ADD', env(b), knitd.conf('1.1.0')), 'ADD b'));
    expect(knitd.ipam().allocations.map((x) => [x.containerId, x.ip])).to.have.deep.members([[a.containerId, ipA], [b.containerId, ipB]]);

    // 60 pings 50 ms apart (3 s) from a to b, while knitd dies and comes back.
    const ping = lab.ping(a, ipB, 60);
    await new Promise((r) => setTimeout(r, 500));
    const oldPid = knitd.pid;
    const ex = await knitd.kill();
    expect(ex.signal).to.equal('SIGKILL');
    // The runtime calls while knitd is down: unreachable = "try again later".
    const down = await knitd.cni('ADD', env(lab.addContainer(0, 'rx')), knitd.conf('1.1.0'));
    expect(down.code).to.equal(1);
    expect((down.json as { code: number; msg: string }).code).to.equal(11);
    expect((down.json as { msg: string }).msg).to.include(knitd.socket);
    await knitd.restart();
    expect(knitd.pid).to.not.equal(oldPid);
    const p = await ping;
    expect(p.transmitted, p.output).to.equal(60);
    expect(p.received, `ping through the restart: ${p.output}`).to.equal(60);

    // The containers still hold their addresses, and knitd still knows them.
    for (const [c, ip] of [[a, ipA], [b, ipB]] as const) {
      const [addr] = await ipJson<IpAddr[]>(c.ns, ['addr', 'show', 'dev', 'eth0']);
      expect(addr!.addr_info.filter((x) => x.family === 'inet').map((x) => x.local)).to.deep.equal([ip]);
    }
    expect(knitd.ipam().allocations.map((x) => [x.containerId, x.ip])).to.have.deep.members([[a.containerId, ipA], [b.containerId, ipB]]);

    // A new container gets a new, distinct address.
    const c = lab.addContainer(0, 'rc');
    const ipC = addressOf(okJson(await knitd.cni('ADD', env(c), knitd.conf('1.1.0')), 'ADD c'));
    expect([ipA, ipB]).to.not.include(ipC);
    const pc = await lab.ping(c, ipA, 3);
    expect(pc.received, pc.output).to.equal(3);

    // DEL after the restart releases exactly a's address.
    okJson(await knitd.cni('DEL', env(a), knitd.conf('1.1.0')), 'DEL a');
    expect(knitd.ipam().allocations.map((x) => [x.containerId, x.ip])).to.have.deep.members([[b.containerId, ipB], [c.containerId, ipC]]);
    okJson(await knitd.cni('DEL', env(b), knitd.conf('1.1.0')), 'DEL b');
    okJson(await knitd.cni('DEL', env(c), knitd.conf('1.1.0')), 'DEL c');
    expect(knitd.ipam().allocations).to.deep.equal([]);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.deep.equal([]);
  });

  it('SIGTERM stops knitd cleanly (exit 0, its link deletion socket closed) and leaves a running container as it is', async () => {
    const env = { CNI_CONTAINERID: 'term-1', CNI_NETNS: '', CNI_IFNAME: 'eth0' };
    const c = lab.addContainer(0, 'rt');
    env.CNI_NETNS = c.netnsPath;
    const ip = addressOf(okJson(await knitd.cni('ADD', env, knitd.conf('1.1.0')), 'ADD'));
    const t0 = Date.now();
    const ex = await knitd.stop();
    expect(ex, knitd.proc.logTail()).to.deep.equal({ code: 0, signal: null });
    expect(Date.now() - t0, 'stopped before the 3 s SIGKILL grace').to.be.below(3000);
    const [addr] = await ipJson<IpAddr[]>(c.ns, ['addr', 'show', 'dev', 'eth0']);
    expect(addr!.addr_info.filter((x) => x.family === 'inet').map((x) => x.local)).to.deep.equal([ip]);
    expect((await lab.ping(c, '10.244.1.1', 2)).received).to.equal(2);
    await knitd.restart();
    okJson(await knitd.cni('DEL', env, knitd.conf('1.1.0')), 'DEL after the restart');
    expect(knitd.ipam().allocations).to.deep.equal([]);
  });
});
