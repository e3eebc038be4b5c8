/**
 * The plugin artifact deploy/ installs (`npm run build:plugin` →
 * dist/cni-plugin/knit, a Bun-compiled executable of cni-plugin/src) runs on
 * a host without Node.js: with an empty environment (`env -i`), alone in a
 * PATH where no `node` exists, and in a private mount namespace where every
 * `node` binary on this machine is covered by an empty, non-executable file
 * (so no Node.js is installed as far as the plugin can tell), where it does a
 * real ADD/DEL round trip against a real knitd.
 *
 * The CNI suites (roundtrip, chaining, bad input, concurrency, GC) run against
 * the same artifact a second time in test/run.sh (KNIT_TEST_PLUGIN).
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, closeSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { createLab, type Lab } from '../lab/lab';
import { REPO_ROOT, hostVeths, ipJson, runPlugin, startKnitd, type Knitd } from '../lab/knitd';
import { makeTempDir } from '../lab/run-dir';

const execFileP = promisify(execFile);
const ARTIFACT = join(REPO_ROOT, 'dist', 'cni-plugin', 'knit');
const VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

/** Every `node` executable this machine has: the running one and any on PATH. */
function nodeBinaries(): string[] {
  const found = new Set<string>([realpathSync(process.execPath)]);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const f = join(dir, 'node');
    if (dir !== '' && existsSync(f)) found.add(f).add(realpathSync(f));
  }
  return [...found];
}

describe('knit plugin artifact (dist/cni-plugin/knit) without Node.js', function () {
  this.timeout(120_000);
  let lab: Lab;
  let knitd: Knitd;
  let binDir: string;
  let bin: string;
  let hidden: string;
  let unshare: string;
  let mount: string;

  before(async () => {
    expect(existsSync(ARTIFACT), `${ARTIFACT} (npm run build:plugin)`).to.equal(true);
    const dir = makeTempDir('artifact');
    binDir = join(dir, 'bin');
    mkdirSync(binDir);
    bin = join(binDir, 'knit');
    copyFileSync(ARTIFACT, bin);
    chmodSync(bin, 0o755);
    // Runs argv in a private mount namespace where every node binary is
    // covered by an empty 0644 file; refuses to run it if node still starts.
    const empty = join(dir, 'no-node');
    writeFileSync(empty, '', { mode: 0o644 });
    const nodes = nodeBinaries();
    expect(nodes.length, 'node binaries found to hide').to.be.greaterThan(0);
    // Absolute paths: the plugin runs with PATH=binDir.
    const which = (cmd: string): string => execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
    unshare = which('unshare');
    mount = which('mount');
    hidden = join(dir, 'without-node');
    writeFileSync(hidden, [
      '#!/bin/sh',
      `exec ${unshare} --mount --propagation private /bin/sh -c '`,
      ...nodes.map((n) => `${mount} --bind ${empty} ${n} || exit 96`),
      ...nodes.map((n) => `if ${n} -e 0 2>/dev/null; then echo "${n} still runs" >&2; exit 97; fi`),
      `exec ${bin}'`,
      '',
    ].join('\n'), { mode: 0o755 });
    lab = await createLab({ nodes: 1 });
    knitd = await startKnitd(lab, lab.nodes[0]!);
  });
  after(async () => {
    await knitd?.destroy();
    await lab?.teardown();
  });

  it('is one native executable, not a script', () => {
    const fd = openSync(bin, 'r');
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    closeSync(fd);
    expect(magic.toString('latin1')).to.equal('\x7fELF');
    expect(statSync(bin).size).to.be.greaterThan(1 << 20);
    const libs = execFileSync('ldd', [bin], { encoding: 'utf8' });
    expect(libs, 'links no libnode/libstdc++').to.not.match(/libnode|libstdc\+\+/);
  });

  it('answers VERSION with an empty environment (env -i)', async () => {
    const child = execFileP('env', ['-i', 'CNI_COMMAND=VERSION', bin], { encoding: 'utf8' });
    child.child.stdin!.end('{"cniVersion":"1.0.0"}');
    const { stdout, stderr } = await child;
    expect(JSON.parse(stdout)).to.deep.equal({ cniVersion: '1.0.0', supportedVersions: VERSIONS });
    expect(stderr).to.equal('');
  });

  it('reads nothing from its working directory (no .env or bunfig.toml autoload)', async () => {
    const cwd = join(binDir, '..', 'cwd');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, '.env'), 'CNI_COMMAND=VERSION\n');
    writeFileSync(join(cwd, 'bunfig.toml'), 'preload = ["./missing.ts"]\n');
    const run = execFileP('env', ['-i', bin], { encoding: 'utf8', cwd });
    run.child.stdin!.end('{"cniVersion":"1.0.0","name":"n","type":"knit"}');
    const r = await run.then(() => ({ code: 0, stdout: '' }), (e: { code: number; stdout: string }) => e);
    expect(r.code, 'exit code').to.equal(1);
    expect(JSON.parse(r.stdout)).to.include({ code: 4 }).and.to.have.property('msg').that.matches(/CNI_COMMAND/);
  });

  it('sits alone in a PATH where node cannot be found, and answers there', async () => {
    expect(readdirSync(binDir)).to.deep.equal(['knit']);
    let found = true;
    try {
      execFileSync('sh', ['-c', 'command -v node'], { env: { PATH: binDir }, stdio: 'pipe' });
    } catch {
      found = false;
    }
    expect(found, 'node resolvable with PATH=binDir').to.equal(false);
    const r = await runPlugin(bin, { PATH: binDir, CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.1.0"}');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.json).to.deep.equal({ cniVersion: '1.1.0', supportedVersions: VERSIONS });
  });

  it('the mount namespace really hides node', async () => {
    const probe = join(binDir, '..', 'probe');
    writeFileSync(probe, `#!/bin/sh\nexec ${unshare} --mount --propagation private /bin/sh -c '${mount} --bind ${join(binDir, '..', 'no-node')} ${realpathSync(process.execPath)} && exec ${realpathSync(process.execPath)} -e 0'\n`, { mode: 0o755 });
    const r = await runPlugin(probe, {}, '');
    expect(r.code, 'node started with its binary covered').to.not.equal(0);
    expect(r.stderr).to.match(/Permission denied/);
  });

  it('does an ADD/DEL round trip with a real knitd while no node binary can run', async () => {
    const c = lab.addContainer(0, 'art');
    const env = { PATH: binDir, CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0', CNI_PATH: binDir };
    const conf = JSON.stringify(knitd.conf('1.0.0'));
    const add = await runPlugin(hidden, { ...env, CNI_COMMAND: 'ADD' }, conf);
    expect(add.code, `${add.stdout} ${add.stderr}`).to.equal(0);
    const ip = (add.json as { ips: Array<{ address: string }> }).ips[0]!.address;
    expect(ip).to.match(/^10\.244\.1\.\d+\/24$/);
    const addrs = await ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>(c.ns, ['addr', 'show', 'eth0']);
    expect(addrs[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).to.include(ip);
    expect(await hostVeths(knitd.node.ns)).to.have.length(1);

    const del = await runPlugin(hidden, { ...env, CNI_COMMAND: 'DEL' }, conf);
    expect(del.code, `${del.stdout} ${del.stderr}`).to.equal(0);
    expect(await hostVeths(knitd.node.ns)).to.deep.equal([]);
    expect(knitd.ipam().allocations).to.deep.equal([]);
  });
});
