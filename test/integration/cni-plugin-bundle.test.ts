/**
 * The single-file build of the plugin (cni-plugin/src/bundle.ts), copied
 * alone into a fresh "CNI bin dir" the way an installer does on a host
 * without a knit checkout: it must answer VERSION and forward ADD, loading
 * nothing but itself and Node built-ins.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CniServer } from '../../agent/src/cni/server';
import { formatResult } from '../../agent/src/cni/result';
import { silentLogger } from '../../agent/src/log/logger';
import { writeBundle } from '../../cni-plugin/src/bundle';
import { FakeHandlers, REPO, SAMPLE_RESULT, conf, moduleRecorder, recordedModules, runKnit, tempDir } from '../support/cni-fakes';

describe('knit plugin single-file bundle', () => {
  let dir: string;
  let bin: string;
  let socketPath: string;
  let server: CniServer;

  before(() => {
    dir = tempDir('cni-bundle');
    const build = path.join(dir, 'build', 'knit');
    fs.mkdirSync(path.dirname(build));
    writeBundle(path.join(REPO, 'dist', 'cni-plugin', 'src'), build);
    // copy (not link) into a bin dir: nothing of the checkout is reachable from there
    const binDir = path.join(dir, 'opt', 'cni', 'bin');
    fs.mkdirSync(binDir, { recursive: true });
    bin = path.join(binDir, 'knit');
    fs.copyFileSync(build, bin);
    fs.chmodSync(bin, fs.statSync(build).mode & 0o777);
  });
  beforeEach(async () => {
    socketPath = path.join(dir, 'cni.sock');
    server = new CniServer({ socketPath, handlers: new FakeHandlers(), logger: silentLogger() });
    await server.start();
  });
  afterEach(async () => {
    await server.close();
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is written executable (0755)', () => {
    expect(fs.statSync(bin).mode & 0o777).to.equal(0o755);
  });

  it('answers VERSION loading only itself, without net', async () => {
    const out = path.join(dir, 'version.json');
    const r = await runKnit({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.3.1"}', bin, ['--require', moduleRecorder(dir, out)]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('{"cniVersion":"0.3.1","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n');
    expect(recordedModules(out)).to.deep.equal({ files: [bin], net: false });
  });

  it('forwards ADD and prints the result, loading only itself plus net', async () => {
    const out = path.join(dir, 'add.json');
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0' };
    const r = await runKnit(env, JSON.stringify(conf('1.0.0', { agentSocket: socketPath })), bin, ['--require', moduleRecorder(dir, out)]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.equal(JSON.stringify(formatResult(SAMPLE_RESULT, '1.0.0')) + '\n');
    expect(recordedModules(out)).to.deep.equal({ files: [bin], net: true });
  });

  it('runs directly through its shebang and reports an unreachable knitd', async () => {
    const r = await runKnit({ CNI_COMMAND: 'STATUS' }, JSON.stringify(conf('1.1.0', { agentSocket: path.join(dir, 'gone.sock') })), bin);
    expect(r.code).to.equal(1);
    expect(JSON.parse(r.stdout)).to.include({ code: 50, cniVersion: '1.1.0' });
  });
});
