/**
 * knitd's nft commands through libnftables (agent/native/src/nft.cc) instead
 * of an `nft` process. The runner acts on its own process's namespace, so
 * each case runs a child node inside a lab namespace that calls
 * `runCommand` and prints what it saw; the test then reads the kernel with
 * the nft binary. With `nft` hidden from PATH the in-process path must still
 * work (nothing was spawned), while the exec mode (knitd's `nft: exec`) must
 * then fail to start nft: that tells the two paths apart.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { addNetns, delNetns, nsRun } from '../lab/netns';

const NFT_INDEX = path.resolve(__dirname, '../../agent/src/dataplane/nft/index.js');

/** Runs `runCommand` for each [argv, input] in the namespace; prints the results as JSON. */
const CHILD = `
const { runCommand, nftLibraryUnavailable, setNftMode } = require(process.argv[1]);
const steps = JSON.parse(process.argv[2]);
setNftMode(process.argv[3]);
(async () => {
  const out = { unavailable: nftLibraryUnavailable() ?? null, results: [] };
  for (const [argv, input] of steps) out.results.push(await runCommand(argv, input ?? undefined));
  console.log(JSON.stringify(out));
})();
`;

interface Result { code: number; stdout: string; stderr: string }
interface ChildOut { unavailable: string | null; results: Result[] }

const TABLE = `table ip knit_libtest {
  set peers { type ipv4_addr; flags interval; }
  chain filter_forward { type filter hook forward priority 0; ip daddr @peers counter drop; }
}
`;

describe('nft commands through libnftables (root)', function () {
  this.timeout(60000);
  let ns: string;

  function child(steps: Array<[string[], string?]>, env: Record<string, string> = {}, mode: 'library' | 'exec' = 'library'): ChildOut {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', CHILD, NFT_INDEX, JSON.stringify(steps), mode], {
      encoding: 'utf8', env: { ...process.env, ...env },
    });
    if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as ChildOut;
  }
  const nft = (...args: string[]): string => nsRun(ns, 'nft', args);
  // A PATH with node but without nft: what the in-process path must not need.
  const noNftPath = { PATH: path.dirname(process.execPath) };

  beforeEach(() => {
    ns = addNetns('nl');
  });
  afterEach(() => {
    delNetns(ns);
  });

  it('commits a script in the namespace without starting nft, and lists it as the nft binary does', () => {
    const out = child([
      [['nft', '-f', '-'], TABLE],
      [['nft', '-f', '-'], 'add element ip knit_libtest peers { 10.1.0.0/16, 192.0.2.7 }\n'],
      [['nft', '-j', 'list', 'table', 'ip', 'knit_libtest']],
      [['nft', 'list', 'table', 'ip', 'knit_libtest']],
    ], noNftPath);
    expect(out.unavailable).to.equal(null);
    expect(out.results.map((r) => r.code)).to.deep.equal([0, 0, 0, 0]);
    expect(out.results[2].stdout.trim()).to.equal(nft('-j', 'list', 'table', 'ip', 'knit_libtest').trim());
    expect(out.results[3].stdout.trim()).to.equal(nft('list', 'table', 'ip', 'knit_libtest').trim());
    expect(nft('list', 'set', 'ip', 'knit_libtest', 'peers')).to.match(/10\.1\.0\.0\/16, 192\.0\.2\.7/);
  });

  it('a refused script changes nothing (one transaction) and returns nft\'s error', () => {
    const out = child([
      [['nft', '-f', '-'], TABLE],
      [['nft', '-f', '-'], 'add element ip knit_libtest peers { 10.9.9.9 }\nadd element ip knit_libtest nosuchset { 10.9.9.8 }\n'],
      [['nft', '-j', 'list', 'table', 'ip', 'knit_nosuchtable']],
    ], noNftPath);
    expect(out.results[0].code).to.equal(0);
    expect(out.results[1].code).to.equal(1);
    expect(out.results[1].stderr).to.match(/No such file or directory/);
    expect(out.results[2].code).to.equal(1);
    expect(out.results[2].stderr).to.match(/No such file or directory/);
    expect(nft('list', 'set', 'ip', 'knit_libtest', 'peers')).not.to.match(/10\.9\.9\.9/);
  });

  it('the exec mode spawns nft (so it fails without nft on PATH) and commits nothing', () => {
    const exec = child([[['nft', '-f', '-'], TABLE]], noNftPath, 'exec');
    expect(exec.unavailable).to.equal('nft: exec');
    expect(exec.results[0].code).to.equal(-1);
    expect(exec.results[0].stderr).to.match(/cannot run nft/);
    expect(() => nft('list', 'table', 'ip', 'knit_libtest')).to.throw();
  });

  it('forms it does not take in-process are spawned as before', () => {
    const out = child([[['nft', '--check', '-f', '-'], TABLE]], noNftPath);
    expect(out.results[0].code).to.equal(-1);
    expect(out.results[0].stderr).to.match(/cannot run nft/);
  });
});
