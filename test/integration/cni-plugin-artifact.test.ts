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
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, closeSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { createLab, type Lab } from '../lab/lab';
import { REPO_ROOT, hostVeths, ipJson, runPlugin, startKnitd, type Knitd } from '../lab/knitd';
import { makeTempDir } from '../lab/run-dir';
import type { PluginRequest } from '../../cni-wire/protocol';
import { cleanupAll } from '../lab/cleanup';

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
    await cleanupAll([
      () => knitd?.destroy(),
      () => lab?.teardown(),
    ]);
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

  it('loads no module at start-up: node:fs and node:net stay out of the Bun build (each costs more than the exchange)', () => {
    // The artifact's own bundle, as build-plugin.sh compiles it: a static
    // import would be loaded before main() runs, a require() inside a
    // function only on the path that needs it (the checkout script's).
    const bundle = execFileSync(join(REPO_ROOT, 'node_modules', 'bun', 'bin', 'bun.exe'), ['build', '--target=bun', '--minify', join(REPO_ROOT, 'cni-plugin', 'src', 'cli.ts')], { encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(bundle.length, 'a bundle was printed').to.be.greaterThan(1000);
    expect(bundle.match(/(?:^|[;\n])\s*import\b[^;\n]*?\bfrom\s*["'][^"']+["']/g) ?? [], 'static imports').to.deep.equal([]);
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

/**
 * The artifact talks to knitd through Bun's own socket client (forward.ts),
 * not the `node:net` the script uses: the same outcomes, tested here against
 * small servers that misbehave on purpose.
 */
describe('knit plugin artifact: the socket exchange with knitd (Bun\'s client)', function () {
  this.timeout(60_000);
  let dir: string;
  const servers: Server[] = [];
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent', ...extra,
  });
  const confFor = (socket: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'knit', agentSocket: socket, ...extra });
  /** A unix-socket server at a fresh path; `onLine` gets each request line. */
  const serve = async (name: string, onConn: (c: Socket) => void): Promise<string> => {
    const path = join(dir, name);
    const srv = createServer(onConn);
    servers.push(srv);
    await new Promise<void>((res) => srv.listen(path, res));
    return path;
  };
  const errorOf = (r: { code: number | null; stdout: string }): { code: number; msg: string } => {
    expect(r.code, r.stdout).to.equal(1);
    return JSON.parse(r.stdout) as { code: number; msg: string };
  };

  before(() => {
    expect(existsSync(ARTIFACT), `${ARTIFACT} (npm run build:plugin)`).to.equal(true);
    dir = makeTempDir('artifact-sock');
  });
  after(() => {
    for (const s of servers) s.close();
  });

  it('no socket file: ADD → 11 and STATUS → 50, the errno named as the script names it', async () => {
    const missing = join(dir, 'missing.sock');
    const add = errorOf(await runPlugin(ARTIFACT, env(), confFor(missing)));
    expect(add.code).to.equal(11);
    expect(add.msg).to.equal(`knitd unreachable at ${missing}: connect ENOENT ${missing}`);
    const status = errorOf(await runPlugin(ARTIFACT, env({ CNI_COMMAND: 'STATUS' }), confFor(missing).replace('1.0.0', '1.1.0')));
    expect(status.code).to.equal(50);
  });

  it('a socket file nobody listens on → 11 (ECONNREFUSED)', async () => {
    // A leftover socket file: bound by a child that is then SIGKILLed (a clean close would unlink it).
    const path = join(dir, 'dead.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    const e = errorOf(await runPlugin(ARTIFACT, env(), confFor(path)));
    expect(e.code).to.equal(11);
    expect(e.msg).to.include('ECONNREFUSED');
  });

  it('knitd hangs up without an answer → 11, "connection closed without a reply"', async () => {
    const path = await serve('hangup.sock', (c) => c.once('data', () => c.end()));
    const e = errorOf(await runPlugin(ARTIFACT, env(), confFor(path)));
    expect(e.code).to.equal(11);
    expect(e.msg).to.include('connection closed without a reply');
  });

  it('no answer in KNIT_PLUGIN_TIMEOUT_MS → 11, "no reply within"', async () => {
    const path = await serve('silent.sock', () => undefined);
    const e = errorOf(await runPlugin(ARTIFACT, env({ KNIT_PLUGIN_TIMEOUT_MS: '300' }), confFor(path)));
    expect(e.code).to.equal(11);
    expect(e.msg).to.include('no reply within 300 ms');
  });

  it('a garbled answer → 6 (failed to decode content)', async () => {
    const path = await serve('garbled.sock', (c) => c.once('data', () => c.end('not json\n')));
    const e = errorOf(await runPlugin(ARTIFACT, env(), confFor(path)));
    expect(e.code).to.equal(6);
    expect(e.msg).to.include('reply is not JSON');
  });

  it('a request far larger than one socket write arrives whole, and the answer split across writes is read whole', async () => {
    // ~2 MB of config: Bun's write takes part of it, the rest goes out on drain.
    const big = 'x'.repeat(2 << 20);
    const path = await serve('big.sock', (c) => {
      let got = '';
      c.setEncoding('utf8');
      c.on('data', (d: string) => {
        got += d;
        const nl = got.indexOf('\n');
        if (nl < 0) return;
        const req = JSON.parse(got.slice(0, nl)) as PluginRequest;
        const pad = (JSON.parse(req.config) as { pad?: string }).pad;
        const reply = JSON.stringify({ ok: true, result: { cniVersion: '1.0.0', padLength: pad?.length ?? -1 } }) + '\n';
        c.write(reply.slice(0, 10));
        setTimeout(() => c.end(reply.slice(10)), 20);
      });
    });
    const r = await runPlugin(ARTIFACT, env({ KNIT_PLUGIN_TIMEOUT_MS: '10000' }), confFor(path, { pad: big }));
    expect(r.code, r.stdout).to.equal(0);
    expect(r.json).to.deep.equal({ cniVersion: '1.0.0', padLength: big.length });
  });
});
