/**
 * Concurrent ADDs of one attachment (same container ID and ifname) through
 * the real plugin: 20 plugin processes, each with its own namespace, start
 * and block on stdin; then all get their configuration at once. Exactly one
 * wins; the others get code 102 and leave the winner untouched: its address
 * stays allocated, recorded and in the kernel, and is never handed to a
 * later container. A later ADD of the attachment never touches it either.
 */
import { expect } from 'chai';
import type { Lab, LabContainer } from '../lab/lab';
import { cniEnv, hostVeths, ipJson, startBlockedPlugin, type Knitd, type PluginRun, withOneNodeKnitd } from '../lab/knitd';

interface IpAddr { ifname: string; addr_info: Array<{ family: string; local: string }> }

const addressOf = (r: Record<string, unknown>): string => String((r.ips as Array<{ address: string }>)[0]!.address).split('/')[0]!;

/** IPv4 addresses on eth0 inside `c`'s namespace ([] when there is no eth0). */
async function eth0Addresses(c: LabContainer): Promise<string[]> {
  const links = await ipJson<IpAddr[]>(c.ns, ['addr', 'show']);
  return links.filter((l) => l.ifname === 'eth0').flatMap((l) => l.addr_info.filter((a) => a.family === 'inet').map((a) => a.local));
}

describe('CNI: 20 racing ADDs of one attachment through the real plugin', function () {
  this.timeout(120_000);
  let lab: Lab;
  let knitd: Knitd;
  withOneNodeKnitd((l, k) => { lab = l; knitd = k; });

  it('exactly one wins; the losers get 102 and release nothing of the winner', async () => {
    const containerId = `${lab.prefix}race`;
    const racers = Array.from({ length: 20 }, (_, i) => lab.addContainer(0, `race${i}`));
    const conf = JSON.stringify(knitd.conf('1.1.0'));
    const blocked = [];
    for (const c of racers) {
      blocked.push(await startBlockedPlugin(knitd.dir, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }));
    }
    expect(new Set(blocked.map((b) => b.pid)).size, 'twenty plugin processes blocked on stdin').to.equal(20);
    for (const b of blocked) b.release(conf);
    const runs: PluginRun[] = await Promise.all(blocked.map((b) => b.done));

    const winners = runs.map((r, i) => ({ r, i })).filter(({ r }) => r.code === 0);
    expect(winners, runs.map((r) => r.stdout).join('\n')).to.have.length(1);
    const w = winners[0]!;
    const ip = addressOf(w.r.json!);
    for (const [i, r] of runs.entries()) {
      if (i === w.i) continue;
      expect(r.code, `racer ${i}: ${r.stdout}${r.stderr}`).to.equal(1);
      expect(r.json?.code, `racer ${i}: ${r.stdout}`).to.equal(102);
      expect(String(r.json?.msg)).to.include(`container ${containerId} already has interface eth0`);
    }

    // The winner's address is allocated, recorded and in its namespace; nobody else got anything.
    expect(knitd.ipam().allocations.map((a) => [a.containerId, a.ifname, a.ip])).to.deep.equal([[containerId, 'eth0', ip]]);
    expect(knitd.endpoints().map((e) => [e.containerId, e.address, e.netns])).to.deep.equal([[containerId, `${ip}/24`, racers[w.i]!.netnsPath]]);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.have.length(1);
    for (const [i, c] of racers.entries()) {
      expect(await eth0Addresses(c), `namespace of racer ${i}`).to.deep.equal(i === w.i ? [ip] : []);
    }
    expect((await lab.ping(racers[w.i]!, '10.244.1.1', 1)).received, 'winner reaches its gateway').to.equal(1);

    // A later ADD of the same attachment (even into the winner's own
    // namespace) is refused and touches nothing.
    const again = await knitd.cni('ADD', { CNI_CONTAINERID: containerId, CNI_NETNS: racers[w.i]!.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0'));
    expect(again.json?.code, again.stdout).to.equal(102);
    expect(knitd.ipam().allocations.map((a) => a.ip)).to.deep.equal([ip]);
    expect(await eth0Addresses(racers[w.i]!)).to.deep.equal([ip]);

    // The next containers get other addresses (the winner's was never freed).
    const others = [lab.addContainer(0, 'after1'), lab.addContainer(0, 'after2')];
    for (const c of others) {
      const r = await knitd.cni('ADD', cniEnv(c), knitd.conf('1.1.0'));
      expect(r.code, r.stdout).to.equal(0);
      expect(addressOf(r.json!)).to.not.equal(ip);
    }

    for (const c of others) expect((await knitd.cni('DEL', cniEnv(c), knitd.conf('1.1.0'))).code).to.equal(0);
    const del = await knitd.cni('DEL', { CNI_CONTAINERID: containerId, CNI_NETNS: racers[w.i]!.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0'));
    expect(del.code, del.stdout).to.equal(0);
    expect(knitd.ipam().allocations).to.deep.equal([]);
    expect(knitd.endpoints()).to.deep.equal([]);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.deep.equal([]);
  });
});
