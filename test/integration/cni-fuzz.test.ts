/**
 * CNI fuzz through the real plugin against one real knitd: 2000 requests
 * built from valid ones by seeded mutations of the environment (CNI_*
 * variables) and of stdin (the network configuration), run a few at a time
 * so that requests on the same containers race. Every run must end (no
 * hang), exit 0 or 1 (no crash), and answer JSON (an empty stdout only for
 * a successful DEL/CHECK/GC/STATUS); knitd must stay up. After a DEL of
 * every attachment the fuzz created, nothing may be left: no host veth, no
 * allocation, no endpoint record, no nft element beyond the baseline, no
 * interface in the containers' namespaces, the node's routes unchanged.
 *
 * Reproduce a failure with the printed seed (KNIT_FUZZ_SEED).
 */
import { expect } from 'chai';
import type { Lab } from '../lab/lab';
import { addNetnsBatch, delNetnsBatch, netnsPath } from '../lab/netns';
import { KNIT_PLUGIN, REF_CNI_DIR, hostVeths, ipJson, nftCounts, runPlugin, type CniEnv, type Knitd, type PluginRun, withOneNodeKnitd } from '../lab/knitd';
import { prng } from '../support/prng';

const SEED = Number(process.env.KNIT_FUZZ_SEED ?? 0x11a);
const CASES = 2000;
const PARALLEL = 6;
/** A run that takes longer than this is a hang (the plugin's own timeout is 60 s). */
const HANG_MS = 45_000;

type Conf = Record<string, unknown>;
interface Case { env: CniEnv; stdin: string; command: string }

describe('CNI fuzz: 2000 mutated requests through the real plugin', function () {
  this.timeout(900_000);
  let lab: Lab;
  let knitd: Knitd;
  withOneNodeKnitd((l, k) => { lab = l; knitd = k; });

  it('no crash, no hang, JSON answers only, and nothing leaked after DEL of everything added', async () => {
    const rnd = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
    const nodeNs = lab.nodes[0]!.ns;
    const names = Array.from({ length: 8 }, (_, i) => `${lab.prefix}z${i}`);
    addNetnsBatch(names);
    try {
      const paths = names.map(netnsPath);
      const ids = Array.from({ length: 12 }, (_, i) => `fz-${i}`);
      const ifnames = ['eth0', 'eth1', 'net1'];

      // Baselines after one warm-up ADD/DEL with a port mapping (table and chains exist).
      const warm = { CNI_CONTAINERID: 'fz-warm', CNI_NETNS: paths[0]!, CNI_IFNAME: 'eth0' };
      const pmConf = knitd.conf('1.1.0', { capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 18999, containerPort: 80, protocol: 'tcp' }] } });
      expect((await knitd.cni('ADD', warm, pmConf)).code).to.equal(0);
      expect((await knitd.cni('DEL', warm, pmConf)).code).to.equal(0);
      const nftBefore = await nftCounts(nodeNs);
      const routesBefore = await nodeRoutes(nodeNs);

      const validConf = (): Conf => {
        const c: Conf = knitd.conf(pick(['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']));
        if (rnd() < 0.3) c.capabilities = { portMappings: true };
        if (rnd() < 0.3) c.runtimeConfig = { portMappings: [{ hostPort: int(18000, 18010), containerPort: 80, protocol: pick(['tcp', 'udp']) }] };
        if (rnd() < 0.1) c.mtu = int(1280, 1500);
        if (rnd() < 0.1) c.routes = [{ dst: '10.96.0.0/12' }];
        return c;
      };
      const envMutations: Array<(e: CniEnv) => void> = [
        (e) => { delete e[pick(['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'])]; },
        (e) => { e[pick(['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS'])] = ''; },
        (e) => { e.CNI_CONTAINERID = 'x'.repeat(int(250, 5000)); },
        (e) => { e.CNI_CONTAINERID = pick(['-lead', '.dot', 'a/b', 'a b', 'ü', '../../etc', 'a;b', `$(id)`]); },
        (e) => { e.CNI_NETNS = pick(['/nonexistent', '/etc/hostname', '/dev/null', '/proc/self/ns/net', `/proc/${knitd.pid}/ns/net`, netnsPath(nodeNs), 'relative/path', '/proc/1/ns/mnt', '/run/netns/']); },
        (e) => { e.CNI_IFNAME = pick(['lo', 'abcdefghijklmnop', '..', 'a/b', 'eth0 ', 'a:b', 'knit0', 'ü'.repeat(8), '%s%n']); },
        (e) => { e.CNI_COMMAND = pick(['add', 'ADDX', 'RM', '', 'VERSION', 'STATUS', 'GC', 'CHECK', 'DEL ']); },
        (e) => { e.CNI_ARGS = pick(['a=b;;=c', 'IgnoreUnknown=1;K8S_POD_NAME=x', '='.repeat(100), 'x'.repeat(4000), 'a=b=c;d']); },
        (e) => { e.CNI_PATH = pick(['', '/nonexistent', 'x:'.repeat(500)]); },
      ];
      const confMutations: Array<(c: Conf) => Conf | string> = [
        (c) => JSON.stringify(c).slice(0, int(0, JSON.stringify(c).length - 1)),
        () => pick(['null', '[]', '42', '"str"', '{}', '{"cniVersion":"1.1.0"}', '']),
        (c) => { delete c[pick(['cniVersion', 'name', 'type', 'agentSocket'])]; return c; },
        (c) => { c[pick(['cniVersion', 'name', 'type', 'mtu', 'routes', 'dns', 'agentSocket', 'prevResult', 'runtimeConfig', 'capabilities'])] = pick<unknown>([1, -1, null, true, {}, [], 'x', 1e308, '9.9.9', { a: [1, { b: 2 }] }]); return c; },
        (c) => { c.cniVersion = pick(['9.9.9', '0.1.0', '0.2.0', '1.1', 'v1.0.0', '1.0.0-rc1']); return c; },
        (c) => { c.mtu = pick([0, 67, 68, 65536, 9000, -5, 1.5]); return c; },
        (c) => { c.routes = pick<unknown>([[{ dst: 'bad' }], [{ dst: '10.0.0.0/8', gw: '192.0.2.1' }], [{ dst: '0.0.0.0/0' }], [{}], 'x', [{ dst: '10.1.0.0/16', gw: 'fe80::1' }]]); return c; },
        (c) => {
          c.capabilities = { portMappings: true };
          c.runtimeConfig = { portMappings: pick<unknown>([[{ hostPort: 0, containerPort: 80, protocol: 'tcp' }], [{ hostPort: 70000, containerPort: 80, protocol: 'tcp' }],
            [{ hostPort: '80', containerPort: 80, protocol: 'tcp' }], [{ hostPort: 18001, containerPort: 80, protocol: 'icmp' }], [{ hostPort: 18002, containerPort: 80, protocol: 'tcp', hostIP: 'bad' }],
            [{ hostPort: 18003, containerPort: 80, protocol: 'tcp' }, { hostPort: 18003, containerPort: 81, protocol: 'tcp' }], 'x', null, [null]]) };
          return c;
        },
        (c) => { c.prevResult = pick<unknown>([{}, { ips: 'x' }, { interfaces: [{ name: 5 }], ips: [{ address: 'bad' }] }, { cniVersion: '1.1.0', ips: [{ address: '10.244.1.9/24' }] }]); return c; },
        (c) => { c.agentSocket = pick(['/nonexistent.sock', '/etc/hostname', 'relative.sock', '/dev/null', '/']); return c; },
        (c) => { c.padding = 'p'.repeat(int(1000, 1_200_000)); return c; },
        (c) => { let o: unknown = 1; for (let i = 0; i < int(10, 5000); i++) o = [o]; c.deep = o; return c; },
        (c) => { c['\u0000key'] = '\u0000'; c.name = pick(['', 'a b', 'ü', 'x'.repeat(300)]); return c; },
        (c) => { c.cni = { 'cni.dev/valid-attachments': pick<unknown>([[], 'x', [{ containerID: 'fz-1', ifname: 'eth0' }], [{}]]) }; return c; },
      ];

      const cases: Case[] = [];
      for (let i = 0; i < CASES; i++) {
        const command = pick(['ADD', 'ADD', 'ADD', 'DEL', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC']);
        const env: CniEnv = { CNI_COMMAND: command, CNI_CONTAINERID: pick(ids), CNI_NETNS: pick(paths), CNI_IFNAME: pick(ifnames), CNI_PATH: REF_CNI_DIR };
        let conf: Conf | string = validConf();
        // GC mostly keeps every fuzz attachment, sometimes none (then it collects what is not in flight).
        if (command === 'GC') (conf as Conf)['cni.dev/valid-attachments'] = rnd() < 0.7 ? ids.flatMap((id) => ifnames.map((ifname) => ({ containerID: id, ifname }))) : [];
        // One case in five stays valid, so attachments exist for the others to collide with.
        const mutations = rnd() < 0.2 ? 0 : int(1, 3);
        for (let m = 0; m < mutations; m++) {
          if (rnd() < 0.45) pick(envMutations)(env);
          else if (typeof conf !== 'string') conf = pick(confMutations)(conf);
        }
        cases.push({ env, command: env.CNI_COMMAND ?? '', stdin: typeof conf === 'string' ? conf : JSON.stringify(conf) });
      }

      const added = new Map<string, CniEnv>();
      const crashes: string[] = [];
      const hangs: string[] = [];
      const nonJson: string[] = [];
      let next = 0;
      let ok = 0;
      let failed = 0;
      const runOne = async (c: Case, i: number): Promise<void> => {
        const timeout = new Promise<'hang'>((r) => setTimeout(() => r('hang'), HANG_MS).unref());
        // runPlugin, not knitd.cni: a mutation may have removed CNI_COMMAND or CNI_PATH.
        const r = await Promise.race([runPlugin(KNIT_PLUGIN, c.env, c.stdin), timeout]);
        const what = `case ${i} (seed ${SEED}) ${JSON.stringify(c.env).slice(0, 300)} stdin=${c.stdin.slice(0, 200)}`;
        if (r === 'hang') {
          hangs.push(what);
          return;
        }
        if (r.code !== 0 && r.code !== 1) crashes.push(`${what}: exit ${String(r.code)} ${r.stderr.slice(0, 300)}`);
        if (!answersJson(r, c.command)) nonJson.push(`${what}: stdout=${r.stdout.slice(0, 300)}`);
        if (r.code === 0) ok++;
        else failed++;
        if (r.code === 0 && c.command === 'ADD') {
          added.set(`${c.env.CNI_CONTAINERID}/${c.env.CNI_IFNAME}`, { CNI_CONTAINERID: c.env.CNI_CONTAINERID, CNI_NETNS: c.env.CNI_NETNS, CNI_IFNAME: c.env.CNI_IFNAME });
        }
      };
      const t0 = Date.now();
      await Promise.all(Array.from({ length: PARALLEL }, async () => {
        while (next < cases.length) {
          const i = next++;
          await runOne(cases[i]!, i);
        }
      }));
      const seconds = (Date.now() - t0) / 1000;
      console.log(`      fuzz: ${CASES} runs in ${seconds.toFixed(1)} s (seed ${SEED}): ${ok} ok, ${failed} CNI errors, ${added.size} attachments created`);

      expect(crashes, 'crashes').to.deep.equal([]);
      expect(hangs, 'hangs').to.deep.equal([]);
      expect(nonJson, 'non-JSON answers').to.deep.equal([]);
      expect(knitd.proc.running(), `knitd alive:\n${knitd.proc.logTail()}`).to.equal(true);
      // The fuzz must have done real work, not only bounced off validation.
      expect(ok, 'successful runs').to.be.greaterThan(200);
      expect(added.size, 'attachments the fuzz created').to.be.greaterThan(5);

      // DEL of everything added leaves nothing.
      const conf = JSON.stringify(knitd.conf('1.1.0'));
      for (const env of added.values()) {
        const r = await knitd.cni('DEL', env, conf);
        expect(r.code, `DEL ${JSON.stringify(env)}: ${r.stdout}`).to.equal(0);
      }
      expect(knitd.ipam().allocations, 'allocations left').to.deep.equal([]);
      expect(knitd.endpoints(), 'endpoint records left').to.deep.equal([]);
      expect(await hostVeths(nodeNs), 'host veths left').to.deep.equal([]);
      expect(await nftCounts(nodeNs), 'nft rules and elements').to.deep.equal(nftBefore);
      expect(await nodeRoutes(nodeNs), "the node's routes").to.deep.equal(routesBefore);
      for (const ns of names) {
        const links = await ipJson<Array<{ ifname: string }>>(ns, ['link', 'show']);
        expect(links.map((l) => l.ifname), `interfaces left in ${ns}`).to.deep.equal(['lo']);
      }
      expect(knitd.proc.logTail(1 << 22)).to.not.match(/uncaught|unhandled/i);
    } finally {
      delNetnsBatch(names);
    }
  });
});

/** True when the run answered as the spec says: JSON on stdout, or nothing for a successful DEL/CHECK/GC/STATUS. */
function answersJson(r: PluginRun, command: string): boolean {
  if (r.code === 0 && r.stdout.trim() === '' && ['DEL', 'CHECK', 'GC', 'STATUS'].includes(command)) return true;
  const v = r.json;
  if (v === undefined) return false;
  if (r.code === 0) return typeof v === 'object';
  return typeof v.code === 'number' && typeof v.msg === 'string';
}

/** The node's routes without their flags (the bridge's carrier, hence "linkdown", follows its ports with a delay). */
async function nodeRoutes(ns: string): Promise<unknown[]> {
  const routes = await ipJson<Array<Record<string, unknown>>>(ns, ['route', 'show']);
  return routes.map(({ flags: _flags, ...rest }) => rest);
}
