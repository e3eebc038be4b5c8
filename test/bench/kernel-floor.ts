/**
 * The kernel's own time for the objects knit's vxlan backend writes for N
 * peers, measured in the same run as knitd (cluster-scale): iproute2's batch
 * mode (`ip -batch`, `bridge -batch`: one process, requests back to back)
 * writes the same routes, neighbours and FDB entries into a fresh namespace
 * with a VXLAN device, so what is left of knitd's time is knitd's.
 *
 * Two route shapes:
 *   - gateway: `SUBNET via GW dev VX onlink`, what knit wrote before it used
 *     nexthop objects (and still writes on a kernel without them; flannel too).
 *     Every peer's route has its own gateway, so each gets its own fib_info,
 *     and the kernel's fib_info hash leaves the gateway out: every insert
 *     walks a chain of all the others (the time grows with the square of N);
 *   - nexthop: one nexthop object per peer (`ip nexthop add id N via GW dev
 *     VX onlink`) and the route by its id (`nhid N`): the hash includes the
 *     id, and the same objects go in at a cost that grows with N. This is
 *     what knit writes (backend/nexthop-routes.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNetns, delNetns, nsRun } from '../lab/netns';
import { monoMs } from './cluster-common';

/** One peer as the vxlan backend plans it. */
export interface FloorPeer {
  subnet: string;
  vtepMac: string;
  publicIp: string;
}

export interface FloorResult {
  /** routes (and, for the nexthop shape, nexthop objects) and neighbours: one `ip -batch` */
  routesNeighboursMs: number;
  /** FDB entries: one `bridge -batch` */
  fdbMs: number;
}

/** Runs a command to its end; its wall time in ms (throws on a non-zero exit). */
export function timed(cmd: string, args: string[]): number {
  const t0 = monoMs();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = monoMs() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  return ms;
}

/** Writes the peers' objects in `shape` into a fresh namespace and times it; the namespace is gone afterwards. */
export function kernelFloor(peers: readonly FloorPeer[], shape: 'gateway' | 'nexthop'): FloorResult {
  const dir = mkdtempSync(join(tmpdir(), 'knit-floor-'));
  const ns = addNetns('flr');
  try {
    nsRun(ns, 'ip', ['link', 'add', 'flr0', 'type', 'veth', 'peer', 'name', 'flr1']);
    nsRun(ns, 'ip', ['addr', 'add', '172.20.0.11/16', 'dev', 'flr0']);
    nsRun(ns, 'ip', ['link', 'set', 'flr0', 'up']);
    nsRun(ns, 'ip', ['link', 'set', 'flr1', 'up']);
    nsRun(ns, 'ip', ['link', 'add', 'flrvx', 'type', 'vxlan', 'id', '1', 'local', '172.20.0.11', 'dstport', '8472', 'nolearning']);
    nsRun(ns, 'ip', ['addr', 'add', '10.99.0.0/32', 'dev', 'flrvx']);
    nsRun(ns, 'ip', ['link', 'set', 'flrvx', 'up']);
    const l3: string[] = [];
    const l2: string[] = [];
    peers.forEach((p, i) => {
      const gw = p.subnet.split('/')[0]!;
      // neighbour first, then the route, as knit's phases order them
      l3.push(`neigh replace ${gw} lladdr ${p.vtepMac} dev flrvx nud permanent`);
      if (shape === 'gateway') {
        l3.push(`route replace ${p.subnet} via ${gw} dev flrvx onlink proto 89`);
      } else {
        l3.push(`nexthop replace id ${i + 1} via ${gw} dev flrvx onlink proto 89`);
        l3.push(`route replace ${p.subnet} nhid ${i + 1} proto 89`);
      }
      l2.push(`fdb replace ${p.vtepMac} dev flrvx dst ${p.publicIp} self permanent`);
    });
    writeFileSync(join(dir, 'l3'), `${l3.join('\n')}\n`);
    writeFileSync(join(dir, 'l2'), `${l2.join('\n')}\n`);
    const fdbMs = timed('ip', ['netns', 'exec', ns, 'bridge', '-batch', join(dir, 'l2')]);
    const routesNeighboursMs = timed('ip', ['-n', ns, '-batch', join(dir, 'l3')]);
    // (20 000 routes through nexthops print more than spawnSync's default 1 MiB buffer)
    const listed = spawnSync('ip', ['-n', ns, '-4', 'route', 'show', 'proto', '89'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (listed.status !== 0) throw new Error(`ip route show in ${ns}: exit ${listed.status}: ${listed.stderr.trim()}`, { cause: listed.error });
    const routes = listed.stdout.split('\n').filter(Boolean).length;
    if (routes !== peers.length) throw new Error(`kernel floor (${shape}): ${routes} of ${peers.length} routes in the namespace`);
    return { routesNeighboursMs, fdbMs };
  } finally {
    delNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  }
}
