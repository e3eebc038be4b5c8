/**
 * Keep the cluster-dataplane bench's labs up for inspection (issue 16B: what
 * differs between knit's lab and the hand-built one with knit's table):
 *
 *   node dist/test/bench/dataplane-lab-hold.js --state FILE [--backends vxlan,host-gw] [--no-plain] [--family 4|6]
 *
 * Per backend it builds the knit lab, the hand-built lab with knit's nftables
 * table copied in, and (unless --no-plain) the plain hand-built lab, exactly
 * as the bench does (cluster-dataplane-labs.ts); starts a sockperf server in
 * each node-2 container; writes FILE (JSON: per lab its namespaces, devices,
 * client/server namespaces, server IP, knitd PIDs) and waits. SIGINT/SIGTERM
 * tears everything down. --family 6 holds the IPv6-only labs of the bench's
 * --family 6 (issue 13).
 */
import { writeFileSync } from 'node:fs';
import { numArg, runBench, SOCKPERF_PORT, sleep, strArg } from './cluster-common';
import { destroyLabs, handLab, knitLab, type LabSet } from './cluster-dataplane-labs';

const STATE = strArg('state', '');
const BACKENDS = strArg('backends', 'vxlan,host-gw').split(',') as Array<'vxlan' | 'host-gw'>;
const PLAIN = !process.argv.includes('--no-plain');
const labSet: LabSet = { v6: numArg('family', 4) === 6, verbose: false, labs: [], knitds: [] };

interface Held {
  name: string;
  backend: string;
  kind: 'knit' | 'hand-nft' | 'hand';
  underlay: string;
  nodes: string[];
  containers: string[];
  serverIp: string;
  knitdPids: number[];
}

async function body(): Promise<void> {
  if (!STATE) throw new Error('--state FILE is required');
  const held: Held[] = [];
  for (const backend of BACKENDS) {
    const before = labSet.knitds.length;
    const k = await knitLab(labSet, backend);
    const hn = await handLab(labSet, backend, k.mirror, true);
    const h = PLAIN ? await handLab(labSet, backend, k.mirror, false) : undefined;
    const entries: Array<[Held['kind'], typeof hn]> = [['knit', k], ['hand-nft', hn], ...(h ? [['hand', h] as [Held['kind'], typeof hn]] : [])];
    for (const [kind, l] of entries) {
      l.lab.spawn(l.containers[1]!.ns, 'sockperf', ['server', '--tcp', '-i', l.ips[1]!, '-p', String(SOCKPERF_PORT)], { tag: 'sockperf-server' });
      held.push({
        name: `${backend}-${kind}`, backend, kind, underlay: l.lab.underlay.ns,
        nodes: l.lab.nodes.map((n) => n.ns), containers: l.containers.map((c) => c.ns), serverIp: l.ips[1]!,
        knitdPids: kind === 'knit' ? labSet.knitds.slice(before).map((x) => x.pid) : [],
      });
    }
  }
  await sleep(500);
  writeFileSync(STATE, `${JSON.stringify(held, null, 2)}\n`);
  console.log(`labs up, state in ${STATE}; SIGINT/SIGTERM (pid ${process.pid}) tears them down`);
  // A pending promise alone does not keep Node alive: a timer does.
  setInterval(() => undefined, 60_000);
  await new Promise<never>(() => undefined);
}

runBench('dataplane-lab-hold', body, () => destroyLabs(labSet));
