/**
 * Does a family's FIB pay per route for every other route via a distinct
 * gateway? `ip -batch` writes N routes `PREFIX via GW dev D onlink`, each
 * with a gateway of its own, into a fresh namespace, for IPv4 and IPv6 and
 * several N: a cost that grows with N² shows as the time per route growing
 * with N. IPv4 does (fib_info_hashfn leaves the gateway out, so every
 * fib_info of one device shares a chain); this is the check that IPv6 does
 * not, so knit's IPv6 peer routes keep their gateways (backend/nexthop-routes.ts).
 *
 *   node dist/test/bench/gateway-routes-floor.js [--peers 5000,10000,20000] [--runs 2]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNetns, delNetns, nsRun } from '../lab/netns';
import { numArg, strArg } from './cluster-common';
import { timed } from './kernel-floor';

/** ms for `ip -batch` of n routes of `family`, each via its own gateway on one device. */
function floor(n: number, family: 4 | 6, shape: 'gateway' | 'nexthop'): number {
  const dir = mkdtempSync(join(tmpdir(), 'knit-gwfloor-'));
  const ns = addNetns('gwf');
  try {
    nsRun(ns, 'ip', ['link', 'add', 'gwf0', 'type', 'veth', 'peer', 'name', 'gwf1']);
    nsRun(ns, 'ip', ['link', 'set', 'gwf0', 'up']);
    nsRun(ns, 'ip', ['link', 'set', 'gwf1', 'up']);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = 1 + (i >> 8);
      const b = i & 255;
      const dst = family === 4 ? `10.${a}.${b}.0/24` : `fd00:${a.toString(16)}:${b.toString(16)}::/64`;
      const gw = family === 4 ? `10.${a}.${b}.0` : `fd00:${a.toString(16)}:${b.toString(16)}::`;
      if (shape === 'gateway') lines.push(`route add ${dst} via ${gw} dev gwf0 onlink proto 89`);
      else lines.push(`nexthop add id ${i + 1} via ${gw} dev gwf0 onlink proto 89`, `route add ${dst} nhid ${i + 1} proto 89`);
    }
    writeFileSync(join(dir, 'b'), `${lines.join('\n')}\n`);
    return timed('ip', ['-n', ns, '-batch', join(dir, 'b')]);
  } finally {
    delNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = strArg('peers', '5000,10000,20000').split(',').map(Number);
const runs = numArg('runs', 2);
for (const family of [4, 6] as const) {
  for (const shape of ['gateway', 'nexthop'] as const) {
    for (const n of sizes) {
      const ms = Array.from({ length: runs }, () => floor(n, family, shape));
      const best = Math.min(...ms);
      console.log(`IPv${family} ${shape.padEnd(7)} ${String(n).padStart(6)} routes: ${ms.map((m) => m.toFixed(0)).join(' / ')} ms (best ${(best / n * 1000).toFixed(1)} µs per route)`);
    }
  }
}
