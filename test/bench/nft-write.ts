/**
 * Benchmark: one policy change's nft write, through libnftables inside the
 * process (what knitd does) against the nft binary (what it did), on the
 * policy table of `--policies` policies over `--endpoints` endpoints (the
 * policy-convergence bench's set, policy-groups.ts). Each change rewrites
 * p0's port: a two-line difference.
 * Rounds interleave the two ways. Also timed: compiling and rendering the
 * change (knitd's own CPU before the write), and nft's `list ruleset` as
 * JSON on that table (what knitd's forward-policy check read every
 * interval before it listed only the chains).
 *
 *   node dist/test/bench/nft-write.js [--policies 100] [--endpoints 1000] [--changes 40]
 *
 * libnftables acts on its own process's namespace, so the bench runs itself
 * again inside a scratch namespace (`ip netns exec`), removed at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { compileNetwork, CompileMemo, parsePolicyFile, type Policy, type PolicyEndpoint } from '../../agent/src/policy';
import { nftLibraryUnavailable, policyRuleset, renderPolicyRuleset, renderPolicyUpdate, runCommand, spawnCommand, type CommandRunner } from '../../agent/src/dataplane/nft';
import { fmt, numArg, percentile, printTable } from './cluster-common';
import { endpointAddress, groupOf, groupPolicy } from './policy-groups';

const POLICIES = numArg('policies', 100);
const ENDPOINTS = numArg('endpoints', 1000);
const CHANGES = numArg('changes', 40);
const INSIDE = process.env.KNIT_BENCH_NFT_INSIDE === '1';

const policy = (k: number, port = 80): Policy => parsePolicyFile(groupPolicy(k, POLICIES, port))[0]!;

async function timed(run: CommandRunner, argv: string[], input?: string): Promise<number> {
  const t = process.hrtime.bigint();
  const r = await run(argv, input);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function inside(): Promise<void> {
  const why = nftLibraryUnavailable();
  if (why !== undefined) throw new Error(`libnftables not usable here: ${why}`);
  const endpoints: PolicyEndpoint[] = Array.from({ length: ENDPOINTS }, (_, i) => ({
    id: `e${i}`, network: 'default', labels: { app: groupOf(i, POLICIES) }, addresses: [endpointAddress(i)],
  }));
  const policies = Array.from({ length: POLICIES }, (_, k) => policy(k));
  const memo = new CompileMemo();
  let prev = policyRuleset([compileNetwork('default', policies, endpoints, memo)]);
  const whole = renderPolicyRuleset(prev);
  let interval = 0;
  let elements = 0;
  for (const s of prev.sets.values()) {
    elements += s.elements.length;
    if (s.interval) interval += s.elements.length;
  }
  const tableMs = await timed(runCommand, ['nft', '-f', '-'], whole);
  const compile: number[] = [];
  const ways: Record<'library' | 'binary', number[]> = { library: [], binary: [] };
  for (let i = 1; i <= CHANGES; i++) {
    const t = process.hrtime.bigint();
    policies[0] = policy(0, 1000 + i);
    const next = policyRuleset([compileNetwork('default', policies, endpoints, memo)]);
    const diff = renderPolicyUpdate(prev, next);
    compile.push(Number(process.hrtime.bigint() - t) / 1e6);
    prev = next;
    const way = i % 2 === 0 ? 'library' : 'binary';
    ways[way].push(await timed(way === 'library' ? runCommand : spawnCommand, ['nft', '-f', '-'], diff));
  }
  const list: Record<'library' | 'binary', number[]> = { library: [], binary: [] };
  for (let i = 0; i < 6; i++) {
    list.library.push(await timed(runCommand, ['nft', '-j', 'list', 'ruleset']));
    list.binary.push(await timed(spawnCommand, ['nft', '-j', 'list', 'ruleset']));
  }
  console.log(`\nnft write of one policy change: ${POLICIES} policies, ${ENDPOINTS} endpoints; table ${whole.length} bytes, ${prev.sets.size} sets/maps (${elements} elements, ${interval} in interval sets), ${prev.chains.size + prev.groups.size} chains; whole table written in ${fmt(tableMs)} ms\n`);
  const row = (name: string, v: number[]): Array<string | number> => [name, v.length, fmt(percentile(v, 50), 2), fmt(percentile(v, 90), 2), fmt(Math.max(...v), 2)];
  printTable(['measure', 'n', 'p50 ms', 'p90 ms', 'max ms'], [
    row('compile + render the difference (in process)', compile),
    row('write the difference: libnftables in process', ways.library),
    row('write the difference: nft binary (spawn)', ways.binary),
    row('nft -j list ruleset: libnftables', list.library),
    row('nft -j list ruleset: nft binary', list.binary),
  ]);
  console.log(`\nbinary / library, write p50: ${fmt(percentile(ways.binary, 50) / percentile(ways.library, 50), 2)} x`);
}

function outside(): void {
  const ns = `knit-nftb-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, __filename, ...process.argv.slice(2)], {
      stdio: 'inherit', env: { ...process.env, KNIT_BENCH_NFT_INSIDE: '1' },
    });
    process.exitCode = r.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

if (INSIDE) {
  inside().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  outside();
}
