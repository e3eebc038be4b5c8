/**
 * IPAM truth is not one file. 50 live containers; ipam.json is deleted (and
 * a crash's temporary file left next to it) and knitd restarts: it must
 * adopt every address in use from the endpoint records and the kernel, and
 * no new container may get any of them. With endpoints.json gone too, the
 * addresses are found inside the containers' namespaces through their host
 * veths; a DEL of such a container still releases its address.
 */
import { expect } from 'chai';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../lab/lab';
import { addNetnsBatch, delNetnsBatch, netnsPath } from '../lab/netns';
import { hostVeths, ipJson, type Knitd, type PluginRun, withOneNodeKnitd } from '../lab/knitd';

interface IpAddr { ifname: string; addr_info: Array<{ family: string; local: string }> }

const addressOf = (r: PluginRun): string => {
  expect(r.code, `${r.stdout}${r.stderr}`).to.equal(0);
  return String((r.json!.ips as Array<{ address: string }>)[0]!.address).split('/')[0]!;
};

describe('CNI: IPAM state lost while 50 containers run', function () {
  this.timeout(180_000);
  let lab: Lab;
  let knitd: Knitd;
  withOneNodeKnitd((l, k) => { lab = l; knitd = k; });

  for (const lost of [['ipam.json'], ['ipam.json', 'endpoints.json']]) {
    it(`never hands out a live container's address after losing ${lost.join(' and ')}`, async () => {
      const tag = lost.length === 1 ? 'i' : 'e';
      const names = Array.from({ length: 50 }, (_, i) => `${lab.prefix}${tag}${i}`);
      const fresh = Array.from({ length: 30 }, (_, i) => `${lab.prefix}${tag}n${i}`);
      addNetnsBatch([...names, ...fresh]);
      const env = (ns: string, id = `${ns}-id`) => ({ CNI_CONTAINERID: id, CNI_NETNS: netnsPath(ns), CNI_IFNAME: 'eth0' });
      try {
        const cfg = knitd.conf('1.1.0');
        const live = new Map<string, string>();
        for (const ns of names) live.set(ns, addressOf(await knitd.cniDirect('ADD', env(ns), cfg)));
        // Three DELs before the loss, so round-robin would come back to low addresses.
        for (const ns of names.slice(0, 3)) {
          expect((await knitd.cniDirect('DEL', env(ns), cfg)).code).to.equal(0);
          live.delete(ns);
        }

        await knitd.stop();
        for (const f of lost) rmSync(join(knitd.stateDir, f));
        const leftover = join(knitd.stateDir, '.ipam.json.tmp-4242-1');
        writeFileSync(leftover, '{"half":');
        await knitd.restart();
        expect(existsSync(leftover), 'the crash leftover is removed').to.equal(false);
        expect(knitd.proc.logTail(1 << 20)).to.include('IPAM state did not list addresses in use; adopted them');
        const held = new Set(knitd.ipam().allocations.map((a) => a.ip));
        for (const [ns, ip] of live) expect(held.has(ip), `${ns}'s ${ip} is held after the restart`).to.equal(true);
        expect(held.size).to.equal(live.size);

        // Thirty new containers (through the real plugin) get none of the live addresses.
        const liveIps = new Set(live.values());
        const got = await Promise.all(fresh.map(async (ns) => addressOf(await knitd.cni('ADD', env(ns), cfg))));
        expect(got.filter((ip) => liveIps.has(ip)), 'addresses handed out twice').to.deep.equal([]);
        expect(new Set(got).size).to.equal(30);
        // The kernel agrees: every live container still has its own address.
        for (const ns of [...live.keys()].filter((_, i) => i % 10 === 0)) {
          const links = await ipJson<IpAddr[]>(ns, ['addr', 'show', 'dev', 'eth0']);
          expect(links[0]!.addr_info.find((a) => a.family === 'inet')?.local).to.equal(live.get(ns));
        }

        // DEL releases the old containers' addresses, recovered or not.
        for (const ns of [...live.keys(), ...fresh]) expect((await knitd.cniDirect('DEL', env(ns), cfg)).code).to.equal(0);
        expect(knitd.ipam().allocations).to.deep.equal([]);
        expect(await hostVeths(lab.nodes[0]!.ns)).to.deep.equal([]);
      } finally {
        delNetnsBatch([...names, ...fresh]);
      }
    });
  }
});
